package broker_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// wantFailure fails the test unless the status of server "demo" records a renewal failure of
// kind, at at, whose reason holds reason.
func (e *env) wantFailure(what string, kind broker.RenewalFailureKind, at time.Time, reason string) {
	e.t.Helper()
	f := e.demoStatus().RenewalFailure
	if f == nil || f.Kind != kind || !f.At.Equal(at) || !strings.Contains(f.Reason, reason) {
		e.t.Fatalf("%s: renewal failure %+v, want %s at %v, %q", what, f, kind, at, reason)
	}
}

// TestClientCredentialsRenewalFailure: a client-credentials server whose token is renewed in
// the background records a token service that is down as failed, once for the episode, a
// refused client (its secret rotated at the server) as refused, and a renewal that works again
// clears the record; a person's login that fails records nothing.
func TestClientCredentialsRenewalFailure(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{
		as:     authserver.Options{ClientCredentials: true, AccessTokenTTL: time.Hour, Now: clock.now},
		server: config.Server{Auth: config.AuthClientCredentials, ClientID: "bot"},
		secret: "bot-secret",
	})
	e.b = e.brokerWithClock(clock)
	e.as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})

	// A login that fails is a person's, who sees the error: no background renewal failed.
	e.as.SetTokenOutage(503)
	if _, err := e.login(broker.LoginOptions{}); err == nil {
		t.Fatal("a login got through the outage")
	}
	if f := e.demoStatus().RenewalFailure; f != nil {
		t.Fatalf("a failed login was recorded as a renewal failure: %+v", f)
	}
	e.as.SetTokenOutage(0)
	e.mustLogin()

	e.as.SetTokenOutage(503)
	clock.advance(time.Hour)
	failedAt := clock.now()
	if _, err := e.b.Credential(t.Context(), "demo"); err == nil {
		t.Fatal("a renewal got through the outage")
	}
	e.wantFailure("outage", broker.RenewalFailed, failedAt, "503")
	first, _ := e.stateFile()
	clock.advance(time.Minute)
	if _, err := e.b.Refresh(t.Context(), "demo", ""); err == nil {
		t.Fatal("a renewal got through the outage")
	}
	if text, _ := e.stateFile(); text != first {
		t.Errorf("the state file changed while the outage went on:\n%s\nwas:\n%s", text, first)
	}

	// The server rotated the client's secret: it refuses the client.
	e.as.SetTokenOutage(0)
	e.as.RegisterClient(authserver.Client{ID: "bot", Secret: "rotated", GrantTypes: []string{"client_credentials"}})
	refusedAt := clock.now()
	if _, err := e.b.Credential(t.Context(), "demo"); err == nil {
		t.Fatal("a renewal with the old secret got through")
	}
	e.wantFailure("refused client", broker.RenewalRefused, refusedAt, "invalid_client")
	text, _ := e.stateFile()
	e.noSecretIn("state.json", text)

	e.as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if f := e.demoStatus().RenewalFailure; f != nil {
		t.Errorf("a renewal that worked kept the failure: %+v", f)
	}
}

// TestWorkloadRenewalFailure: a workload whose JWT the authorization server refuses at a
// background renewal records the refusal; a JWT file gone missing is this machine's error, not
// the server's, and records nothing.
func TestWorkloadRenewalFailure(t *testing.T) {
	w := newWorkloadEnv(t, authserver.Options{JWTBearer: true, AccessTokenTTL: time.Hour})
	w.issue("ci-runner", w.as.Issuer(), 2*time.Hour)
	if _, err := w.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	// The platform now writes JWTs for another audience.
	w.issue("ci-runner", "https://another-as.example", 2*time.Hour)
	w.clock.advance(time.Hour)
	refusedAt := w.clock.now()
	if _, err := w.b.Credential(t.Context(), "demo"); err == nil {
		t.Fatal("a JWT for another audience was taken")
	}
	w.wantFailure("refused JWT", broker.RenewalRefused, refusedAt, "invalid_grant")

	w.issue("ci-runner", w.as.Issuer(), 2*time.Hour)
	if _, err := w.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if f := w.demoStatus().RenewalFailure; f != nil {
		t.Errorf("a renewal that worked kept the failure: %+v", f)
	}
	w.clock.advance(time.Hour)
	if err := os.Remove(w.jwtFile); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.Credential(t.Context(), "demo"); err == nil {
		t.Fatal("a renewal without a JWT file worked")
	}
	if f := w.demoStatus().RenewalFailure; f != nil {
		t.Errorf("a missing JWT file was recorded as the server's failure: %+v", f)
	}
}

// TestEnterpriseRenewalFailure: an enterprise server's background renewal that meets its
// authorization server down records the failure, and the next renewal that works clears it.
func TestEnterpriseRenewalFailure(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{IDTokenTTL: 8 * time.Hour, AccessTokenTTL: 8 * time.Hour})
	if _, err := e.idpLogin(broker.IdPLoginOptions{}); err != nil {
		t.Fatalf("IdP login: %v", err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	e.as.SetTokenOutage(502)
	e.clock.advance(time.Hour + time.Minute)
	failedAt := e.clock.now()
	if _, err := e.b.Credential(t.Context(), "demo"); err == nil || errors.Is(err, broker.ErrSignInRequired) {
		t.Fatalf("a renewal while the token service is down: %v, want a failure that is no sign-in", err)
	}
	e.wantFailure("outage", broker.RenewalFailed, failedAt, "502")
	e.as.SetTokenOutage(0)
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if f := e.status().RenewalFailure; f != nil {
		t.Errorf("a renewal that worked kept the failure: %+v", f)
	}
}

// TestEnterpriseIdPRefused: when the identity provider refuses to renew its sign-in (revoked),
// the enterprise server's renewal is recorded as refused, so the app says to sign in with the
// company account; the error still asks for that sign-in, not a server's.
func TestEnterpriseIdPRefused(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{IDTokenTTL: time.Hour, AccessTokenTTL: time.Hour})
	if _, err := e.idpLogin(broker.IdPLoginOptions{}); err != nil {
		t.Fatalf("IdP login: %v", err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	e.idp.RevokeAll()
	e.clock.advance(time.Hour + time.Minute)
	refusedAt := e.clock.now()
	_, err := e.b.Credential(t.Context(), "demo")
	if !errors.Is(err, broker.ErrSignInRequired) || hint.Of(err) != hint.SignInIdP {
		t.Fatalf("a renewal after the identity provider revoked the sign-in: %v (hint %v), want its sign-in asked for", err, hint.Of(err))
	}
	e.wantFailure("revoked", broker.RenewalRefused, refusedAt, "invalid_grant")
}
