package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestCLIRefreshTokenReported is the journey of issue 11's first item on the real binary: a
// server whose authorization server is an OpenID provider (a refresh token only for
// offline_access asked with prompt=consent) gives a refresh token after `login`; a server that
// gives none is reported by `login`, `status` and `doctor`, and so is a setting that loses the
// refresh token.
func TestCLIRefreshTokenReported(t *testing.T) {
	openID := authserver.Options{AutoApprove: true, OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
		Mimic: authserver.Mimic{RefreshNeedsOfflineAccess: true, OfflineAccessNeedsConsent: true}}
	oidc, m := servers(t, openID, mcpserver.Options{Scopes: []string{"mcp:read"}})
	_, lost := servers(t, openID, mcpserver.Options{Scopes: []string{"mcp:read"}})
	_, bare := servers(t, authserver.Options{AutoApprove: true, NoRefreshTokens: true}, mcpserver.Options{Scopes: []string{"mcp:read"}})
	c := newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("", "servers", "add", "oidc", m.URL())
	c.ok("", "servers", "add", "bare", bare.URL())
	c.ok("", "servers", "add", "lost", lost.URL(), "--auth-param", "prompt=login")

	states := func() map[string]string {
		out := map[string]string{}
		for _, s := range c.status().Servers {
			out[s.Name] = s.State
		}
		return out
	}

	// The OpenID provider: offline_access with prompt=consent, a refresh token, nothing to say.
	r := c.login("oidc", follow(t))
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to oidc") || strings.Contains(r.stdout, "refresh token") {
		t.Fatalf("login oidc: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for _, az := range oidc.Requests() {
		if az.Endpoint == authserver.EndpointAuthorize && (az.Form.Get("prompt") != "consent" || !strings.Contains(az.Form.Get("scope"), "offline_access")) {
			t.Errorf("the authorization request: %v", az.Form)
		}
	}
	if st := states()["oidc"]; st != "signed in" {
		t.Errorf("status of oidc: %q", st)
	}
	d := c.run("", "doctor", "oidc")
	if d.code != 0 || !strings.Contains(d.stdout, "✔ refresh token") || !strings.Contains(d.stdout, "prompt=consent") || !strings.Contains(d.stdout, "No problems found.") {
		t.Errorf("doctor oidc: exit %d\n%s", d.code, d.stdout)
	}

	// A server that gives no refresh token, and one whose setting loses it.
	for _, name := range []string{"bare", "lost"} {
		r := c.login(name, follow(t))
		if r.code != 0 || !strings.Contains(r.stdout, "! "+name+" gave no refresh token: you will sign in again when the token expires") {
			t.Errorf("login %s: exit %d\nstdout: %s\nstderr: %s", name, r.code, r.stdout, r.stderr)
		}
		if st := states()[name]; st != "signed in, no refresh token" {
			t.Errorf("status --json of %s: %q", name, st)
		}
		d := c.run("", "doctor", name)
		t.Logf("login %s:\n%s\ndoctor %s:\n%s", name, r.stdout, name, d.stdout)
		if d.code != 0 || !strings.Contains(d.stdout, "! refresh token") || strings.Contains(d.stdout, "No problems found") {
			t.Errorf("doctor %s: exit %d\n%s", name, d.code, d.stdout)
		}
	}
	t.Logf("status:\n%s", c.ok("", "status").stdout)
	if human := c.ok("", "status").stdout; strings.Count(human, "signed in, no refresh token") != 2 {
		t.Errorf("status:\n%s", human)
	}
	if d := c.run("", "doctor", "lost").stdout; !strings.Contains(d, "prompt=login (--auth-param)") {
		t.Errorf("doctor lost does not name the setting:\n%s", d)
	}
}

// TestCLIProviderSettings: `servers add` keeps the provider settings in the configuration and
// refuses what cannot work, and `doctor NAME` names the profile and every quirk it applies.
func TestCLIProviderSettings(t *testing.T) {
	t.Parallel()
	_, m := servers(t, authserver.Options{}, mcpserver.Options{Scopes: []string{"mcp:read"}})
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("", "servers", "add", "api", m.URL(), "--provider", "auth0", "--auth-param", "organization=org_1", "--auth-param", "login_hint=ada@example.com",
		"--no-resource", "--send-token", "id")
	var list []map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "servers", "list", "--json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	got := list[0]
	params, _ := got["auth_params"].(map[string]any)
	if got["provider"] != "auth0" || got["no_resource"] != true || got["send_token"] != "id" || params["organization"] != "org_1" || params["login_hint"] != "ada@example.com" {
		t.Errorf("servers list --json: %v", got)
	}
	d := c.run("", "doctor", "api").stdout
	for _, want := range []string{"Auth0 (set with --provider auth0)", "audience=<the server's resource> instead of resource", "organization=org_1", "--no-resource", "--send-token id", "audience=" + m.URL()} {
		if !strings.Contains(d, want) {
			t.Errorf("doctor api lacks %q:\n%s", want, d)
		}
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--provider", "azure"}, 1, "unknown provider \"azure\""},
		{[]string{"--auth-param", "nokey"}, 2, "KEY=VALUE"},
		{[]string{"--auth-param", "redirect_uri=https://evil.example"}, 1, "set by the sign-in itself"},
		{[]string{"--send-token", "refresh"}, 1, "access or id"},
		{[]string{"--auth", "client-credentials", "--client-id", "x", "--no-resource"}, 1, "only with auth oauth"},
	} {
		r := c.run("", append([]string{"servers", "add", "x", m.URL()}, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("servers add %v: exit %d, want %d with %q\n%s", tt.args, r.code, tt.code, tt.want, r.stderr)
		}
	}
}
