package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
)

// TestExpiryColumn: the EXPIRES column of `status` says how long a token has left, and says
// "expired" only for a token whose expiry has passed: a token with seconds left is still good.
func TestExpiryColumn(t *testing.T) {
	now := time.Date(2026, 3, 14, 13, 50, 0, 0, time.Local)
	at := func(d time.Duration) *time.Time { e := now.Add(d); return &e }
	tests := []struct {
		name string
		at   *time.Time
		want string
	}{
		{"none", nil, "-"},
		{"25 s left", at(25 * time.Second), "13:50 (in 25s)"},
		{"1 s left", at(time.Second), "13:50 (in 1s)"},
		{"half a second left", at(500 * time.Millisecond), "13:50 (in <1s)"},
		{"59.6 s left", at(59600 * time.Millisecond), "13:50 (in 59s)"},
		{"90 s left", at(90 * time.Second), "13:51 (in 1m)"},
		{"42 min left", at(42*time.Minute + 10*time.Second), "14:32 (in 42m)"},
		{"2 h left", at(2*time.Hour + 5*time.Minute), "15:55 (in 2h5m)"},
		{"just expired", at(0), "13:50 (expired)"},
		{"expired long ago", at(-5 * time.Minute), "13:45 (expired)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expiry(tt.at, now); got != tt.want {
				t.Errorf("expiry = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSignInLines: under the table, `status` says when each sign-in must be done again and
// why, and the last renewal that failed; nothing for a server with neither.
func TestSignInLines(t *testing.T) {
	now := time.Date(2026, 3, 14, 10, 30, 0, 0, time.Local)
	at := func(d time.Duration) *time.Time { e := now.Add(d); return &e }
	servers := []broker.ServerStatus{
		{Name: "quiet"},
		{Name: "kc", SignInBy: at(3*time.Hour + 32*time.Minute), SignInByReason: broker.SignInByRefreshExpiry},
		{Name: "linear", SignInBy: at(26 * time.Hour), SignInByReason: broker.SignInByNoRefreshToken},
		{Name: "corp", SignInBy: at(time.Hour), SignInByReason: broker.SignInBySessionLimit, SessionLimitSeconds: 8 * 3600,
			RenewalFailure: &broker.RenewalFailure{At: *at(-28 * time.Minute), Kind: broker.RenewalFailed, Reason: "the sign-in server answered HTTP 503"}},
		{Name: "gone", RenewalFailure: &broker.RenewalFailure{At: *at(-28 * time.Minute), Kind: broker.RenewalRefused, Reason: "the sign-in server refused the refresh token"}},
	}
	var b strings.Builder
	printSignIns(&b, servers, now)
	want := `
Sign-ins:
  kc: sign in again by 14:02 (the refresh token expires)
  linear: sign in again by Sun 15 Mar 12:30 (the server gave no refresh token)
  corp: sign in again by 11:30 (the server ended the last sign-in after 8 hours)
  corp: renewal failed at 10:02: the sign-in server answered HTTP 503; tried again at the next request
  gone: renewal failed at 10:02: the sign-in server refused the refresh token; sign in again
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	printSignIns(&b, servers[:1], now)
	if b.Len() != 0 {
		t.Errorf("a server with nothing to say: %q", b.String())
	}
}
