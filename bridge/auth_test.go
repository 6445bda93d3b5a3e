package bridge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// login signs the broker in to the server, following the browser redirects.
func login(t *testing.T, b *broker.Broker, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if _, err := b.Login(ctx, name, broker.LoginOptions{}); err != nil {
		t.Fatalf("login: %v", err)
	}
}

func TestRefreshAfter401(t *testing.T) {
	as := authserver.New(authserver.Options{AutoApprove: true})
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	m := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}})
	// The resource server stops accepting one token (as if revoked) while the grant lives on.
	var revoked atomic.Value
	revoked.Store("")
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := revoked.Load().(string); tok != "" && r.Header.Get("Authorization") == tok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "revoked", http.StatusUnauthorized)
			return
		}
		m.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	srv := config.Server{Name: "demo", URL: front.URL + mcpserver.PathMCP, Auth: config.AuthOAuth}
	b := newBroker(t, srv, "", nil)
	login(t, b, "demo")
	c := run(t, bridge.Options{Server: srv, Broker: b})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"one"}}`)); got != "one" {
		t.Fatalf("echo = %q", got)
	}
	cred, err := b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	revoked.Store(cred.Value)
	if got := toolText(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"two"}}`)); got != "two" {
		t.Errorf("echo after the 401 = %q", got)
	}
	if n := as.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if n := as.Stats().CodeExchanges; n != 1 {
		t.Errorf("%d sign-ins, want 1 (a refresh, not a new sign-in)", n)
	}
}

func TestStepUp(t *testing.T) {
	_, m := authServers(t, authserver.Options{}, mcpserver.Options{StepUpScope: "mcp:admin", Scopes: []string{"mcp:read"}})
	srv := config.Server{Name: "demo", URL: m.URL(), Auth: config.AuthOAuth, Scopes: []string{"mcp:read"}}
	browser := &opener.Browser{}
	b := newBroker(t, srv, "", browser)
	login(t, b, "demo")
	c := run(t, bridge.Options{Server: srv, Broker: b})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"admin_action","arguments":{}}`)); got != "admin action done" {
		t.Errorf("admin_action = %q", got)
	}
	if n := len(browser.URLs()); n != 2 {
		t.Errorf("%d sign-ins, want 2 (the first, then the step-up)", n)
	}
	if h := m.Hits(); h.Forbidden != 1 {
		t.Errorf("hits = %+v, want one 403", h)
	}
}

// perOperationServers start the in-repo servers as the MCP conformance suite's
// auth/scope-step-up has them: initialize needs no token (discovery's probe sees no challenge),
// the 401 of any other request names mcp:basic, the metadata lists only mcp:profile, and
// admin_action's 403 names only the scope it lacks, mcp:admin.
func perOperationServers(t *testing.T) (*authserver.Server, *mcpserver.Server) {
	return authServers(t, authserver.Options{Scopes: []string{"mcp:basic", "mcp:profile", "mcp:admin"}},
		mcpserver.Options{OpenInitialize: true, ChallengeScope: "mcp:basic", Scopes: []string{"mcp:profile"}, StepUpScope: "mcp:admin", StepUpMissingOnly: true})
}

// authorizeScopes returns the scope of every authorization request as received, in order.
func authorizeScopes(as *authserver.Server) []string {
	var out []string
	for _, r := range as.Requests() {
		if r.Endpoint == authserver.EndpointAuthorize {
			out = append(out, r.Form.Get("scope"))
		}
	}
	return out
}

// TestChallengeScopeReachesTheSignIn: the scope of the 401 that makes the bridge sign in is what
// its sign-in asks for, and the step-up after a 403 asks for it plus the challenged scope
// (SEP-2350), never the metadata's scopes.
func TestChallengeScopeReachesTheSignIn(t *testing.T) {
	as, m := perOperationServers(t)
	srv := config.Server{Name: "demo", URL: m.URL(), Auth: config.AuthOAuth}
	b := newBroker(t, srv, "", nil)
	c := run(t, bridge.Options{Server: srv, Broker: b})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"one"}}`)); got != "one" {
		t.Fatalf("echo = %q", got)
	}
	if got := toolText(t, c.call(2, "tools/call", `{"name":"admin_action","arguments":{}}`)); got != "admin action done" {
		t.Fatalf("admin_action = %q", got)
	}
	want := []string{"mcp:basic", "mcp:basic mcp:admin"}
	if got := authorizeScopes(as); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("the sign-ins asked for %q, want %q", got, want)
	}
}

// TestChallengeScopeLeftToTheTray: with the tray running, the bridge's status file carries the
// challenge's scope, and a sign-in made with it (what the tray does: status.SignInScope) asks
// for that scope; once signed in, the file no longer carries it.
func TestChallengeScopeLeftToTheTray(t *testing.T) {
	as, m := perOperationServers(t)
	srv := config.Server{Name: "demo", URL: m.URL(), Auth: config.AuthOAuth}
	rec := &opener.Recorder{}
	env := newBrokerEnv(t, srv, "")
	runtimeDir, statusDir := t.TempDir(), t.TempDir()
	withdraw, err := status.AnnounceTray(runtimeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer withdraw()
	c := run(t, bridge.Options{Server: srv, Broker: env.broker(t, rec), StatusDir: statusDir, RuntimeDir: runtimeDir})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"via tray"}}}`)
	var bridges []status.Bridge
	waitFor(t, func() bool {
		bridges, _ = status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateNeedsSignIn && bridges[0].ChallengeScope != ""
	})
	if got := status.SignInScope(bridges, "demo"); got != "mcp:basic" {
		t.Fatalf("the status file asks for %q, want mcp:basic", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if _, err := env.broker(t, nil).Login(ctx, "demo", broker.LoginOptions{ChallengeScope: status.SignInScope(bridges, "demo")}); err != nil {
		t.Fatal(err)
	}
	if got := toolText(t, decode(t, c.recvID("1"))); got != "via tray" {
		t.Errorf("the call = %q", got)
	}
	if got := authorizeScopes(as); len(got) != 1 || got[0] != "mcp:basic" {
		t.Errorf("the sign-in asked for %q, want [mcp:basic]", got)
	}
	if n := len(rec.URLs()); n != 0 {
		t.Errorf("the bridge opened a browser while the tray runs")
	}
	waitFor(t, func() bool {
		bridges, _ = status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateConnected && bridges[0].ChallengeScope == ""
	})
}

func TestSignInPending(t *testing.T) {
	_, m := authServers(t, authserver.Options{}, mcpserver.Options{})
	srv := config.Server{Name: "pending.srv", URL: m.URL(), Auth: config.AuthOAuth}
	rec := &opener.Recorder{} // opens nothing: the person has not signed in yet
	b := newBroker(t, srv, "", rec)
	statusDir := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: b, StatusDir: statusDir, RuntimeDir: t.TempDir(), ToolsListWait: 300 * time.Millisecond})

	start := time.Now()
	init := c.initialize()
	if took := time.Since(start); took > time.Second {
		t.Errorf("initialize answered after %s, want < 1 s", took)
	}
	if info, _ := resultOf(t, init)["serverInfo"].(map[string]any); info["name"] != "pending.srv" {
		t.Errorf("initialize = %v", init)
	}
	tools := resultOf(t, c.call(1, "tools/list", ""))["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "sign_in_pending_srv" {
		t.Fatalf("tools/list while signing in = %v", tools)
	}
	if d := tools[0].(map[string]any)["description"].(string); !contains(d, "pending.srv", "sign in") {
		t.Errorf("placeholder description: %q", d)
	}
	waitFor(t, func() bool { return len(rec.URLs()) == 1 })
	bridges, _ := status.List(statusDir)
	if len(bridges) != 1 || bridges[0].State != status.StateNeedsSignIn || bridges[0].Client != "claude-code 2.0.0" {
		t.Errorf("status while signing in = %+v", bridges)
	}

	// A call made now waits for the sign-in and gets its real result.
	c.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"patience"}}}`)
	// Calling the placeholder says what to do, and opens no second page.
	if text := toolText(t, c.call(3, "tools/call", `{"name":"sign_in_pending_srv","arguments":{}}`)); !strings.Contains(text, "browser") {
		t.Errorf("placeholder call = %q", text)
	}
	// The bridge takes the client's messages in order: with call 3 answered, call 2 waits.
	httpGet(t, rec.URLs()[0]) // the person signs in
	if got := toolText(t, decode(t, c.recvID("2"))); got != "patience" {
		t.Errorf("the call made during sign-in = %q", got)
	}
	c.recvMethod("notifications/tools/list_changed")
	if tools := resultOf(t, c.call(4, "tools/list", ""))["tools"].([]any); len(tools) != 4 {
		t.Errorf("tools/list after sign-in = %v", tools)
	}
	if n := len(rec.URLs()); n != 1 {
		t.Errorf("%d sign-in pages opened, want 1", n)
	}
	waitFor(t, func() bool {
		bridges, _ := status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateConnected
	})
	c.closeStdin()
	if bridges, _ := status.List(statusDir); len(bridges) != 0 {
		t.Errorf("status files left after exit: %+v", bridges)
	}
}

func TestSignInLeftToTray(t *testing.T) {
	_, m := authServers(t, authserver.Options{}, mcpserver.Options{})
	srv := config.Server{Name: "demo", URL: m.URL(), Auth: config.AuthOAuth}
	rec := &opener.Recorder{}
	env := newBrokerEnv(t, srv, "")
	b := env.broker(t, rec)
	runtimeDir, statusDir := t.TempDir(), t.TempDir()
	withdraw, err := status.AnnounceTray(runtimeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer withdraw()
	c := run(t, bridge.Options{Server: srv, Broker: b, StatusDir: statusDir, RuntimeDir: runtimeDir})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"via tray"}}}`)
	waitFor(t, func() bool {
		bridges, _ := status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateNeedsSignIn
	})
	if n := len(rec.URLs()); n != 0 {
		t.Errorf("the bridge opened a browser while the tray runs")
	}
	// The tray (another broker on the same config and store) signs in; the bridge notices.
	login(t, env.broker(t, nil), "demo")
	if got := toolText(t, decode(t, c.recvID("1"))); got != "via tray" {
		t.Errorf("the call = %q", got)
	}
}
