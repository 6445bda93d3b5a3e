package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// perOperation is the server of the MCP conformance suite's auth/scope-step-up, in-repo: it lets
// initialize through without a token (so discovery's probe sees no challenge), its 401 names
// mcp:basic, its metadata lists only mcp:profile, and admin_action's 403 names only the scope
// it lacks, mcp:admin.
func perOperation() envOptions {
	return envOptions{
		as:  authserver.Options{Scopes: []string{"mcp:basic", "mcp:profile", "mcp:admin"}},
		mcp: mcpserver.Options{OpenInitialize: true, ChallengeScope: "mcp:basic", Scopes: []string{"mcp:profile"}, StepUpScope: "mcp:admin", StepUpMissingOnly: true},
	}
}

// authorizeScopes returns the scope of every authorization request the AS received, in order.
func (e *env) authorizeScopes() []string {
	var out []string
	for _, r := range e.requests(authserver.EndpointAuthorize) {
		out = append(out, r.Form.Get("scope"))
	}
	return out
}

// stepUp runs a step-up for admin_action with challenge, following the browser.
func (e *env) stepUp(challenge string) (*broker.LoginResult, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 30*time.Second)
	defer cancel()
	res, err := e.b.StepUp(ctx, "demo", "tools/call admin_action", challenge, broker.LoginOptions{})
	e.browser.Wait()
	return res, err
}

// TestChallengeScopeOfTheRefusedRequest: the scope of the challenge that made the sign-in
// necessary (LoginOptions.ChallengeScope, from a bridge's 401) comes first in the MCP scope
// selection order, also when discovery's own probe saw no challenge at all; scopes the user
// configured still come before it.
func TestChallengeScopeOfTheRefusedRequest(t *testing.T) {
	tests := []struct {
		name      string
		o         envOptions
		challenge string
		want      string
	}{
		{"the probe saw no challenge", perOperation(), "mcp:basic", "mcp:basic"},
		{"before the probe's challenge", envOptions{mcp: mcpserver.Options{ChallengeScope: "mcp:read", Scopes: []string{"mcp:read"}}}, "mcp:write", "mcp:write offline_access"},
		{"without one, the metadata's", perOperation(), "", "mcp:profile"},
		{"configured scopes first", envOptions{server: config.Server{Scopes: []string{"mcp:read"}}}, "mcp:write", "mcp:read offline_access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.o)
			if _, err := e.login(broker.LoginOptions{ChallengeScope: tt.challenge}); err != nil {
				t.Fatal(err)
			}
			if got := e.authorizeScopes(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("authorization requests asked for %q, want [%q]", got, tt.want)
			}
		})
	}
}

// TestStepUpAsksForHeldAndChallenged: a step-up asks for the union of the scopes held and the
// scopes challenged, and not for the metadata's (SEP-2350): the 403 names only what the
// operation lacks, so asking for that alone, or for the metadata's scopes instead of the held
// ones, would lose the access the first sign-in got.
func TestStepUpAsksForHeldAndChallenged(t *testing.T) {
	e := newEnv(t, perOperation())
	if _, err := e.login(broker.LoginOptions{ChallengeScope: "mcp:basic"}); err != nil {
		t.Fatal(err)
	}
	if got := e.callTool("admin_action"); got != 403 {
		t.Fatalf("admin_action before the step-up: HTTP %d, want 403", got)
	}
	res, err := e.stepUp("mcp:admin")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mcp:basic", "mcp:basic mcp:admin"}
	if got := e.authorizeScopes(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("authorization requests asked for %q, want %q", got, want)
	}
	if got := res.Scopes; len(got) != 2 {
		t.Errorf("granted %v after the step-up", got)
	}
	if got := e.callTool("admin_action"); got != 200 {
		t.Errorf("admin_action after the step-up: HTTP %d", got)
	}
}

// TestClientCredentialsStepUp: a client-credentials server steps up the same way, in its token
// request: the scopes held plus the challenged ones.
func TestClientCredentialsStepUp(t *testing.T) {
	o := perOperation()
	o.as.ClientCredentials = true
	o.server = config.Server{Auth: config.AuthClientCredentials, ClientID: "bot"}
	o.secret = "bot-secret"
	e := newEnv(t, o)
	e.as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})
	if _, err := e.login(broker.LoginOptions{ChallengeScope: "mcp:basic"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stepUp("mcp:admin"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range e.requests(authserver.EndpointToken) {
		got = append(got, r.Form.Get("scope"))
	}
	if want := []string{"mcp:basic", "mcp:basic mcp:admin"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("token requests asked for %q, want %q", got, want)
	}
	if got := e.callTool("admin_action"); got != 200 {
		t.Errorf("admin_action after the step-up: HTTP %d", got)
	}
}
