package bridge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// recordingFront stands before an MCP server: it records the credentials it receives and, once
// told to, refuses every one with 401 (as a server does after a restart that lost its sessions
// and tokens).
type recordingFront struct {
	srv    *httptest.Server
	refuse atomic.Bool

	mu   sync.Mutex
	seen []string
}

func newRecordingFront(t *testing.T, next http.Handler) *recordingFront {
	f := &recordingFront{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Header.Get("Authorization"))
		f.mu.Unlock()
		if f.refuse.Load() {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "unknown token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *recordingFront) saw(value string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.seen {
		if v == value {
			return true
		}
	}
	return false
}

func (f *recordingFront) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// A bridge started for a server's old URL never sends the sign-in made for its new URL to the
// old one: when it next needs a credential it finds the URL changed, stops relaying, and
// answers this request and every later one with an error that says so and what to do.
func TestBridgeStopsWhenTheServerURLChanges(t *testing.T) {
	as, moved := authServers(t, authserver.Options{}, mcpserver.Options{})
	// The old server is reached through the front only: its metadata names the front's URL.
	old := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}})
	front := newRecordingFront(t, old.Handler())
	srv := config.Server{Name: "demo", URL: front.srv.URL + mcpserver.PathMCP, Auth: config.AuthOAuth}
	env := newBrokerEnv(t, srv, "")
	b := env.broker(t, nil)
	login(t, b, "demo")
	statusDir := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: b, StatusDir: statusDir})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"one"}}`)); got != "one" {
		t.Fatalf("echo = %q", got)
	}

	// Meanwhile, another process (the tray, `servers add`) moves the server and signs in there.
	tray := env.broker(t, nil)
	if err := tray.AddServer(t.Context(), config.Server{Name: "demo", URL: moved.URL(), Auth: config.AuthOAuth}, ""); err != nil {
		t.Fatal(err)
	}
	login(t, tray, "demo")
	cred, err := tray.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	// The old server refuses the old token: the bridge asks the broker for a new credential.
	front.refuse.Store(true)

	for id := 2; id <= 3; id++ {
		e := errorOf(t, c.call(id, "tools/call", `{"name":"echo","arguments":{"message":"two"}}`))
		msg, _ := e["message"].(string)
		if !contains(msg, "demo", srv.URL, moved.URL(), "changed", "Claude Code") {
			t.Errorf("request %d: error %q does not say that the URL changed, from what to what, and what to do", id, msg)
		}
	}
	if front.saw(cred.Value) {
		t.Fatal("the old URL received the credential of the new one")
	}
	before := front.requests()
	c.call(4, "tools/list", "")
	if n := front.requests() - before; n != 0 {
		t.Errorf("%d requests reached the old URL after the bridge stopped relaying", n)
	}
	waitFor(t, func() bool {
		bridges, _ := status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateError && strings.Contains(bridges[0].LastError, "changed")
	})
	if err, _ := c.closeStdin(); err != nil {
		t.Errorf("bridge.Run = %v", err)
	}
}

// A bridge waiting for a sign-in when the server moves does not sign in to the new URL: the
// requests waiting get the error, and the sign-in it started for the old URL is abandoned, so
// that it does not hold the server's lock against a sign-in for the new one.
func TestBridgeWaitingForSignInStopsWhenTheServerURLChanges(t *testing.T) {
	as, old := authServers(t, authserver.Options{}, mcpserver.Options{})
	moved := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}})
	if _, err := moved.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { moved.Close() })
	srv := config.Server{Name: "demo", URL: old.URL(), Auth: config.AuthOAuth}
	env := newBrokerEnv(t, srv, "")
	rec := &opener.Recorder{} // the person has not signed in yet
	c := run(t, bridge.Options{Server: srv, Broker: env.broker(t, rec)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"waits"}}}`)
	waitFor(t, func() bool { return len(rec.URLs()) == 1 })

	if err := env.broker(t, nil).AddServer(t.Context(), config.Server{Name: "demo", URL: moved.URL(), Auth: config.AuthOAuth}, ""); err != nil {
		t.Fatal(err)
	}
	msg, _ := errorOf(t, decode(t, c.recvID("1")))["message"].(string)
	if !contains(msg, moved.URL(), "changed") {
		t.Errorf("the waiting request got %q", msg)
	}
	// The bridge's sign-in for the old URL is over: a sign-in for the new one goes through at once.
	tray := env.broker(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := tray.Login(ctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatalf("signing in to the new URL while the bridge waited for the old one: %v", err)
	}
	if n := len(rec.URLs()); n != 1 {
		t.Errorf("the bridge opened %d sign-in pages, want only the first", n)
	}
}

// A bridge whose cached credential is still good notices a URL change by itself, within a few
// seconds, rather than keep relaying to the old URL until the cache runs out (most of the
// token's life).
func TestBridgeNoticesAURLChangeWithACachedCredential(t *testing.T) {
	as, moved := authServers(t, authserver.Options{}, mcpserver.Options{})
	old := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}})
	front := newRecordingFront(t, old.Handler())
	srv := config.Server{Name: "demo", URL: front.srv.URL + mcpserver.PathMCP, Auth: config.AuthOAuth}
	env := newBrokerEnv(t, srv, "")
	b := env.broker(t, nil)
	login(t, b, "demo")
	statusDir := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: b, StatusDir: statusDir})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"one"}}`)); got != "one" {
		t.Fatalf("echo = %q", got)
	}

	if err := env.broker(t, nil).AddServer(t.Context(), config.Server{Name: "demo", URL: moved.URL(), Auth: config.AuthOAuth}, ""); err != nil {
		t.Fatal(err)
	}
	// No request in between: the bridge must find out on its own.
	waitFor(t, func() bool {
		bridges, _ := status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateError && strings.Contains(bridges[0].LastError, "changed")
	})
	before := front.requests()
	msg, _ := errorOf(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"two"}}`))["message"].(string)
	if !contains(msg, moved.URL(), "changed") {
		t.Errorf("after the URL changed, a call got %q", msg)
	}
	if n := front.requests() - before; n != 0 {
		t.Errorf("%d requests reached the old URL after its server moved", n)
	}
}

// A bridge that finds its server's URL changed before the client has said anything (it reads
// the credential ahead, at start) still answers the client's initialize, once and well formed,
// and then every request with the error that says what to do.
func TestURLChangedBeforeInitialize(t *testing.T) {
	was, now := demoServer(t), demoServer(t)
	env := newBrokerEnv(t, config.Server{Name: "demo", URL: now.URL()}, "")
	// The bridge was started for the old URL; the configuration already holds the new one.
	statusDir := t.TempDir()
	c := run(t, bridge.Options{Server: config.Server{Name: "demo", URL: was.URL()}, Broker: env.broker(t, nil), StatusDir: statusDir})
	waitFor(t, func() bool {
		bridges, _ := status.List(statusDir)
		return len(bridges) == 1 && bridges[0].State == status.StateError && strings.Contains(bridges[0].LastError, "changed")
	})
	c.send(initializeMsg)
	first := c.recv()
	if rawID(first) != "0" {
		t.Fatalf("the first message after the URL changed is %.300q, want the answer to initialize", first)
	}
	resultOf(t, decode(t, first))
	msg, _ := errorOf(t, c.call(1, "tools/list", ""))["message"].(string)
	if !contains(msg, now.URL(), "changed") {
		t.Errorf("tools/list after the URL changed got %q", msg)
	}
}
