package broker_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

func TestURLServerName(t *testing.T) {
	tests := []struct {
		url, prefix string
	}{
		{"https://mcp.example.com/mcp", "url-mcp.example.com-"},
		{"http://127.0.0.1:8080/mcp", "url-127.0.0.1-"},
		{"http://[::1]:9/sse", "url---1-"},
		{"https://" + strings.Repeat("a", 80) + ".example/mcp", "url-" + strings.Repeat("a", 51) + "-"},
	}
	for _, tt := range tests {
		name := broker.URLServerName(tt.url)
		if !strings.HasPrefix(name, tt.prefix) || len(name) != len(tt.prefix)+8 {
			t.Errorf("URLServerName(%q) = %q, want %q + 8 hex digits", tt.url, name, tt.prefix)
		}
		if err := config.ValidateName(name); err != nil {
			t.Errorf("URLServerName(%q) = %q: %v", tt.url, name, err)
		}
		if again := broker.URLServerName(tt.url); again != name {
			t.Errorf("URLServerName is not stable: %q then %q", name, again)
		}
	}
	if broker.URLServerName("https://h.example/a") == broker.URLServerName("https://h.example/b") {
		t.Error("two URLs on one host share a name")
	}
}

func TestEnsureURLServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	b, err := broker.New(broker.Options{ConfigPath: path, Secrets: secrets.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const u = "https://mcp.example.com/mcp"
	srv, err := b.EnsureURLServer(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Name != broker.URLServerName(u) || srv.URL != u || srv.Auth != config.AuthOAuth || srv.Transport != config.TransportAuto {
		t.Errorf("EnsureURLServer = %+v", srv)
	}
	if got, err := b.Server(srv.Name); err != nil || got.URL != u {
		t.Errorf("the server is not in the configuration: %+v, %v", got, err)
	}
	if again, err := b.EnsureURLServer(ctx, u); err != nil || again.Name != srv.Name || again.URL != srv.URL {
		t.Errorf("second EnsureURLServer = %+v, %v", again, err)
	}

	// A configured server with that URL is used as it is.
	const v = "https://other.example.com/mcp"
	mine := config.Server{Name: "mine", URL: v, Auth: config.AuthBearer, Transport: config.TransportSSE}
	if err := b.AddServer(ctx, mine, "tok"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.EnsureURLServer(ctx, v); err != nil || got.Name != "mine" || got.Auth != config.AuthBearer {
		t.Errorf("EnsureURLServer(configured URL) = %+v, %v", got, err)
	}
	if all, _ := b.Servers(); len(all) != 2 {
		t.Errorf("servers = %+v, want 2", all)
	}

	for _, bad := range []string{"http://mcp.example.com/mcp", "ftp://x/y", "not a url"} {
		if _, err := b.EnsureURLServer(ctx, bad); err == nil {
			t.Errorf("EnsureURLServer(%q) accepted", bad)
		}
	}
}

func TestLoginIfNeeded(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	opened := len(e.browser.URLs())
	cred, err := e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	// Signed in meanwhile (by another process): no second browser tab.
	if _, err := e.login(broker.LoginOptions{IfNeeded: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.browser.URLs()); n != opened {
		t.Errorf("IfNeeded opened the browser with a usable token stored (%d -> %d)", opened, n)
	}
	// The stored token is the one the server refused: sign in for real.
	if _, err := e.login(broker.LoginOptions{IfNeeded: true, Rejected: cred.Value}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.browser.URLs()); n != opened+1 {
		t.Errorf("IfNeeded with the rejected token did not sign in (%d -> %d)", opened, n)
	}
	if after, err := e.b.Credential(t.Context(), "demo"); err != nil || after.Value == cred.Value {
		t.Errorf("the token was not replaced: %v", err)
	}
}
