package broker_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// workloadEnv is an env whose authorization server takes the JWT bearer grant from the
// client "wl" with JWTs of platform (a workload's platform, such as Kubernetes), and whose
// server "demo" is configured with auth workload and the JWT file jwtFile.
type workloadEnv struct {
	*env
	platform *authserver.Server
	clock    *clock
	jwtFile  string
}

func newWorkloadEnv(t *testing.T, asOpts authserver.Options) *workloadEnv {
	t.Helper()
	c := newClock()
	asOpts.Now = c.now
	jwtFile := filepath.Join(t.TempDir(), "token")
	e := newEnv(t, envOptions{as: asOpts, server: config.Server{Auth: config.AuthWorkload, ClientID: "wl", AssertionFile: jwtFile}})
	e.b = e.brokerWithClock(c)
	platform := authserver.New(authserver.Options{Now: c.now})
	if _, err := platform.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { platform.Close() })
	e.as.Trust(platform.Issuer(), platform.PublicKey())
	e.as.RegisterClient(authserver.Client{ID: "wl", GrantTypes: []string{authserver.GrantJWTBearer}})
	return &workloadEnv{env: e, platform: platform, clock: c, jwtFile: jwtFile}
}

// issue writes a JWT for subject, valid for life, to the workload's file, as its platform
// rotates it; it returns the JWT.
func (w *workloadEnv) issue(subject, audience string, life time.Duration) string {
	w.t.Helper()
	now := w.clock.now()
	jwt, err := w.platform.SignJWT(authserver.TypeJWT, map[string]any{
		"iss": w.platform.Issuer(), "sub": subject, "aud": audience, "iat": now.Unix(), "exp": now.Add(life).Unix(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(w.jwtFile, []byte(jwt+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return jwt
}

// subject is the subject the AS issued the server's current credential to.
func (w *workloadEnv) subject() string {
	w.t.Helper()
	cred, err := w.b.Credential(w.t.Context(), "demo")
	if err != nil {
		w.t.Fatalf("credential: %v", err)
	}
	info, ok := w.as.Verify(strings.TrimPrefix(cred.Value, "Bearer "))
	if !ok {
		w.t.Fatal("the credential does not verify at the authorization server")
	}
	return info.Subject
}

// TestWorkloadIdentity: a workload server gets its token with the JWT bearer grant, from the
// JWT in its file read at that moment, without a browser or a registration; at expiry it
// repeats the grant with the JWT the file holds then; the JWT is never stored.
func TestWorkloadIdentity(t *testing.T) {
	w := newWorkloadEnv(t, authserver.Options{JWTBearer: true, AccessTokenTTL: time.Hour})
	first := w.issue("ci-runner", w.as.Issuer(), 10*time.Minute)

	// No sign-in first: the first request for a credential makes the grant.
	if got := w.callTool("whoami"); got != 200 {
		t.Fatalf("tools/call: HTTP %d", got)
	}
	reqs := w.requests(authserver.EndpointToken)
	if len(reqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(reqs))
	}
	f := reqs[0].Form
	if f.Get("grant_type") != oauth.GrantJWTBearer || f.Get("assertion") != authserver.Redacted || reqs[0].ClientID != "wl" ||
		reqs[0].AuthMethod != authserver.AuthNone || f.Get("resource") != w.mcp.URL() || f.Has("scope") {
		t.Errorf("token request = %v (client %q, %s)", f, reqs[0].ClientID, reqs[0].AuthMethod)
	}
	if n := len(w.requests(authserver.EndpointAuthorize)) + len(w.requests(authserver.EndpointRegister)); n != 0 || len(w.browser.URLs()) != 0 {
		t.Errorf("a workload opened a browser or registered: %d requests, browser %v", n, w.browser.URLs())
	}
	if got := w.subject(); got != "ci-runner" {
		t.Errorf("token subject = %q", got)
	}
	st, _ := w.b.Status()
	if !st[0].SignedIn || st[0].State != broker.StateSignedIn || st[0].Client == nil || st[0].Client.ID != "wl" || st[0].Client.Kind != oauth.KindPreRegistered {
		t.Errorf("status = %+v", st[0])
	}

	// The platform rotates the JWT; the token expires; the grant is repeated with the new JWT.
	w.issue("ci-runner-rotated", w.as.Issuer(), 2*time.Hour)
	w.clock.advance(time.Hour + time.Minute)
	if st, _ := w.b.Status(); st[0].State != broker.StateExpired || !st[0].SignedIn {
		t.Errorf("status of an expired workload token = %+v", st[0])
	}
	if got := w.subject(); got != "ci-runner-rotated" {
		t.Errorf("after expiry, token subject = %q: the JWT file was not read again", got)
	}
	if n := w.as.Stats().JWTBearerGrants; n != 2 {
		t.Errorf("JWT bearer grants = %d, want 2", n)
	}
	// Login makes a grant too (a person checking the setup).
	if _, err := w.login(broker.LoginOptions{}); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, v := range tokensIn(w.env) {
		if strings.Contains(v, first) || strings.Contains(v, strings.TrimSpace(readFile(t, w.jwtFile))) {
			t.Error("the secret store holds the workload's JWT")
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWorkloadCommand: the JWT comes from a command's standard output, run for each grant.
func TestWorkloadCommand(t *testing.T) {
	w := newWorkloadEnv(t, authserver.Options{JWTBearer: true})
	w.issue("from-command", w.as.Issuer(), 10*time.Minute)
	srv, err := w.b.Server("demo")
	if err != nil {
		t.Fatal(err)
	}
	srv.AssertionFile, srv.AssertionCommand = "", "cat '"+w.jwtFile+"'"
	if err := w.b.AddServer(t.Context(), srv, ""); err != nil {
		t.Fatal(err)
	}
	if got := w.subject(); got != "from-command" {
		t.Errorf("token subject = %q", got)
	}
}

// TestWorkloadErrors: a JWT that cannot be read, or that the authorization server refuses, is
// reported with what went wrong and the hint to check the workload's setup; the refusal is
// not retried, nor answered with another grant (no browser, no registration), and no JWT
// appears in the error.
func TestWorkloadErrors(t *testing.T) {
	t.Run("no file", func(t *testing.T) {
		w := newWorkloadEnv(t, authserver.Options{JWTBearer: true})
		_, err := w.b.Credential(t.Context(), "demo")
		if err == nil || !strings.Contains(err.Error(), w.jwtFile+" does not exist") || hint.Of(err) != hint.WorkloadAssertion {
			t.Fatalf("Credential = %v (hint %v)", err, hint.Of(err))
		}
		if errors.Is(err, broker.ErrSignInRequired) {
			t.Error("a missing JWT file is not a sign-in a person could do")
		}
		if n := len(w.requests(authserver.EndpointToken)); n != 0 {
			t.Errorf("%d token requests without a JWT", n)
		}
	})
	t.Run("refused", func(t *testing.T) {
		w := newWorkloadEnv(t, authserver.Options{JWTBearer: true})
		jwt := w.issue("ci-runner", "https://another-as.example", 10*time.Minute)
		_, err := w.login(broker.LoginOptions{})
		var te *oauth.TokenError
		if !errors.As(err, &te) || te.Code != "invalid_grant" || hint.Of(err) != hint.WorkloadAssertion {
			t.Fatalf("Login = %v (hint %v)", err, hint.Of(err))
		}
		if strings.Contains(err.Error(), jwt) {
			t.Error("the error holds the JWT")
		}
		if n := len(w.as.Requests()); n != 1 {
			t.Errorf("%d requests to the authorization server after a refusal, want the one token request", n)
		}
		if len(w.browser.URLs()) != 0 {
			t.Error("a browser opened after the refusal")
		}
		w.assertNothingStored()
		// Asked again (a bridge reconnecting), the same JWT is not sent again: the refusal
		// stands until the platform rotates it.
		_, err = w.b.Credential(t.Context(), "demo")
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "refused this same JWT") || len(w.as.Requests()) != 1 {
			t.Errorf("Credential with the refused JWT = %v; %d requests", err, len(w.as.Requests()))
		}
		w.issue("ci-runner", w.as.Issuer(), 10*time.Minute)
		if _, err := w.b.Credential(t.Context(), "demo"); err != nil || len(w.as.Requests()) != 2 {
			t.Errorf("Credential with a new JWT = %v; %d requests", err, len(w.as.Requests()))
		}
	})
	t.Run("grant not offered", func(t *testing.T) {
		w := newWorkloadEnv(t, authserver.Options{})
		w.issue("ci-runner", w.as.Issuer(), 10*time.Minute)
		_, err := w.login(broker.LoginOptions{})
		if err == nil || !strings.Contains(err.Error(), "does not offer the JWT bearer grant") || hint.Of(err) != hint.Diagnose {
			t.Fatalf("Login = %v (hint %v)", err, hint.Of(err))
		}
		if n := len(w.requests(authserver.EndpointToken)); n != 0 {
			t.Errorf("%d token requests", n)
		}
	})
}
