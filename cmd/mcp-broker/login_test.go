package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestCLILoginAsksForTheWaitingBridgesScope: `mcp-broker login`, which a waiting bridge tells
// the person to run, asks for the scope the bridge's server refused it for (its status file's
// challenge_scope), not the metadata's scopes.
func TestCLILoginAsksForTheWaitingBridgesScope(t *testing.T) {
	t.Parallel()
	as, m := servers(t, authserver.Options{AutoApprove: true, Scopes: []string{"mcp:basic", "mcp:profile"}},
		mcpserver.Options{Scopes: []string{"mcp:profile"}})
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("", "servers", "add", "demo", m.URL())
	// A bridge of demo waiting for a sign-in (this process stands in for it: it is alive).
	bridges := status.BridgesDir(c.runtime)
	if err := status.Ensure(bridges); err != nil {
		t.Fatal(err)
	}
	waiting, _ := json.Marshal(status.Bridge{Server: "demo", PID: os.Getpid(), State: status.StateNeedsSignIn, ChallengeScope: "mcp:basic"})
	if err := os.WriteFile(filepath.Join(bridges, "demo."+strconv.Itoa(os.Getpid())+".json"), waiting, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	var scopes []string
	for _, r := range as.Requests() {
		if r.Endpoint == authserver.EndpointAuthorize {
			scopes = append(scopes, r.Form.Get("scope"))
		}
	}
	if len(scopes) != 1 || scopes[0] != "mcp:basic" {
		t.Errorf("the sign-in asked for %q, want [mcp:basic]", scopes)
	}
}
