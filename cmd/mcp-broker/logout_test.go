package main

import (
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// `logout` revokes the grant at the authorization server and says so; when it cannot, it still
// signs out, and warns on standard error that the tokens stay valid there.
func TestCLILogoutRevokes(t *testing.T) {
	t.Parallel()
	as, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("", "servers", "add", "demo", m.URL())
	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	r := c.ok("", "logout", "demo")
	if !strings.Contains(r.stdout, "revoked") || r.stderr != "" && strings.Contains(r.stderr, "warning") {
		t.Errorf("logout:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if n := as.Stats().Revocations; n == 0 {
		t.Error("the authorization server revoked nothing")
	}

	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	as.Close()
	r = c.ok("", "logout", "demo")
	if !strings.Contains(r.stdout, "Signed out of demo") || !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "could not be revoked") {
		t.Errorf("logout with the authorization server down:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if st := c.status(); st.Servers[0].SignedIn {
		t.Errorf("status after logout = %+v", st.Servers[0])
	}
}
