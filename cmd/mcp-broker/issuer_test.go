package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// `login` refuses a pre-registered client at an authorization server other than its first,
// says how to accept the change, and `login --accept-new-issuer` accepts it.
func TestCLILoginAcceptNewIssuer(t *testing.T) {
	t.Parallel()
	var ases [2]*authserver.Server
	var mcps [2]*mcpserver.Server
	for i := range ases {
		ases[i] = authserver.New(authserver.Options{AutoApprove: true})
		if _, err := ases[i].Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ases[i].Close() })
		ases[i].RegisterClient(authserver.Client{ID: "pre", Secret: "pre-secret", RedirectURIs: []string{"http://127.0.0.1/callback"}})
		mcps[i] = mcpserver.New(mcpserver.Options{Verifier: ases[i], AuthServers: []string{ases[i].Issuer()}})
	}
	var current atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mcps[current.Load()].Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("pre-secret\n", "servers", "add", "demo", front.URL+mcpserver.PathMCP, "--client-id", "pre", "--client-secret-stdin")
	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("first login: exit %d\n%s", r.code, r.stderr)
	}
	current.Store(1)
	r := c.run("", "login", "demo", "--no-browser")
	if r.code != 1 || !strings.Contains(r.stderr, "mcp-broker login demo --accept-new-issuer") || !strings.Contains(r.stderr, ases[1].Issuer()) {
		t.Errorf("login after the issuer changed: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if n := len(ases[1].Requests()); n != 0 {
		t.Errorf("the new issuer received %d requests before the change was accepted", n)
	}
	if r := c.login("demo", follow(t), "--accept-new-issuer"); r.code != 0 || !strings.Contains(r.stdout, "Signed in to demo") {
		t.Fatalf("login --accept-new-issuer: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if n := ases[1].Stats().CodeExchanges; n != 1 {
		t.Errorf("%d sign-ins at the accepted issuer, want 1", n)
	}
}
