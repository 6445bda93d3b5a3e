package doctor

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// TestLapseFindings: `doctor NAME` says what the broker recorded of the server's sign-ins: the
// last background renewal that failed (its kind, time and reason, and the next step, which
// for a refusal depends on how the server signs in), and when the person must sign in again
// if that is within a day. A healthy server with a refused renewal recorded never reads "No
// problems found".
func TestLapseFindings(t *testing.T) {
	now := time.Date(2026, 3, 14, 10, 30, 0, 0, time.Local)
	at := func(d time.Duration) *time.Time { e := now.Add(d); return &e }
	refused := &broker.RenewalFailure{At: *at(-28 * time.Minute), Kind: broker.RenewalRefused, Reason: "the sign-in server refused the refresh token"}
	failed := &broker.RenewalFailure{At: *at(-28 * time.Minute), Kind: broker.RenewalFailed, Reason: "the sign-in server answered HTTP 503"}
	tests := []struct {
		name   string
		auth   config.AuthMode
		status broker.ServerStatus
		want   []Finding // the findings of the recorded facts, in order
	}{
		{"nothing recorded", config.AuthOAuth, broker.ServerStatus{SignedIn: true}, nil},
		{"refused", config.AuthOAuth, broker.ServerStatus{RenewalFailure: refused}, []Finding{
			{Item: itemRenewal, Severity: Warn, Detail: "refused at 10:02: the sign-in server refused the refresh token", Hint: hint.SignIn}}},
		{"refused client", config.AuthClientCredentials, broker.ServerStatus{RenewalFailure: &broker.RenewalFailure{At: *at(-26 * time.Hour), Kind: broker.RenewalRefused, Reason: "the sign-in server answered invalid_client"}}, []Finding{
			{Item: itemRenewal, Severity: Warn, Detail: "refused at Mar 13 08:30: the sign-in server answered invalid_client", Hint: hint.ClientSecret}}},
		{"refused workload", config.AuthWorkload, broker.ServerStatus{RenewalFailure: refused}, []Finding{
			{Item: itemRenewal, Severity: Warn, Detail: "refused at 10:02: the sign-in server refused the refresh token", Hint: hint.WorkloadAssertion}}},
		{"failed", config.AuthOAuth, broker.ServerStatus{SignedIn: true, RenewalFailure: failed}, []Finding{
			{Item: itemRenewal, Severity: Warn, Detail: "failed at 10:02: the sign-in server answered HTTP 503\nthe next request tries again; it matters if it keeps failing", Hint: hint.TryAgain}}},
		{"sign in again within a day", config.AuthOAuth, broker.ServerStatus{SignedIn: true, SignInBy: at(3*time.Hour + 32*time.Minute), SignInByReason: broker.SignInByRefreshExpiry}, []Finding{
			{Item: itemSignInAgain, Severity: Info, Detail: "by 14:02 (in 3 hours): the refresh token expires"}}},
		{"sign in again in two days", config.AuthOAuth, broker.ServerStatus{SignedIn: true, SignInBy: at(49 * time.Hour), SignInByReason: broker.SignInByRefreshExpiry}, nil},
		{"sign in again overdue", config.AuthOAuth, broker.ServerStatus{SignedIn: true, SignInBy: at(-time.Hour), SignInByReason: broker.SignInBySessionLimit, SessionLimitSeconds: 8 * 3600}, []Finding{
			{Item: itemSignInAgain, Severity: Warn, Detail: "due since 09:30: the server ended the last sign-in after 8 hours", Hint: hint.SignIn}}},
	}
	u := demoServer(t, authserver.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			r := RunFor(t.Context(), nil, Setup{Server: config.Server{Name: "s", URL: u, Auth: tt.auth}, Status: &status, Now: now})
			var got []Finding
			for _, f := range r.Findings {
				if f.Item == itemRenewal || f.Item == itemSignInAgain {
					got = append(got, f)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings:\n%+v\nwant:\n%+v", got, tt.want)
			}
			var text bytes.Buffer
			r.WriteText(&text)
			if tt.status.RenewalFailure != nil && strings.Contains(text.String(), "No problems found") {
				t.Errorf("a recorded renewal failure, and the report says:\n%s", text.String())
			}
		})
	}
	// Without a setup's status (doctor URL), nothing of the kind is said.
	r := Run(t.Context(), nil, u)
	if slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Item == itemRenewal || f.Item == itemSignInAgain }) {
		t.Errorf("doctor URL said what only a configured server has: %+v", r.Findings)
	}
}
