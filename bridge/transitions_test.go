package bridge_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// The status file follows the bridge through its states: starting until the client speaks,
// needs sign-in without a credential, connected once signed in, reconnecting while the server
// cannot be reached, and connected again when it can.
func TestStatusFollowsTheStates(t *testing.T) {
	as := authserver.New(authserver.Options{AutoApprove: true})
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	// Not started: served only behind the front, it names the front's URL as the resource.
	m := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}})
	// In front of the server, a switch that makes it unreachable: every connection is cut.
	var down atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		m.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	srv := config.Server{Name: "states", URL: front.URL + mcpserver.PathMCP, Auth: config.AuthOAuth}
	rec := &opener.Recorder{} // the person signs in when the test says so
	statusDir := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", rec), StatusDir: statusDir, RuntimeDir: t.TempDir()})

	var last status.Bridge
	// reaches waits until the status file shows state, checks that its last error contains
	// errText, and that the state's start moved on from the previous one.
	reaches := func(state status.State, errText string) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			bridges, _ := status.List(statusDir)
			if len(bridges) == 1 && bridges[0].State == state {
				got := bridges[0]
				if !strings.Contains(got.LastError, errText) {
					t.Errorf("%s: last error %q, want one with %q", state, got.LastError, errText)
				}
				if !last.Since.IsZero() && !got.Since.After(last.Since) {
					t.Errorf("%s: since %s, not after the %s state's %s", state, got.Since, last.State, last.Since)
				}
				last = got
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the status never showed %q after %q: %+v", state, last.State, bridges)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// Until the client speaks, the bridge opens nothing.
	reaches(status.StateStarting, "")
	if last.LastError != "" {
		t.Errorf("starting: last error %q", last.LastError)
	}

	c.initialize()
	reaches(status.StateNeedsSignIn, "sign")
	waitFor(t, func() bool { return len(rec.URLs()) == 1 })

	httpGet(t, rec.URLs()[0]) // the person signs in
	// The last error stays: the status shows the latest.
	reaches(status.StateConnected, "")
	if last.Transport != string(config.TransportStreamableHTTP) || last.ProtocolVersion == "" {
		t.Errorf("connected: transport %q, protocol %q", last.Transport, last.ProtocolVersion)
	}
	if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"up"}}`)); got != "up" {
		t.Errorf("echo once connected = %q", got)
	}

	down.Store(true)
	msg, _ := errorOf(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"down"}}`))["message"].(string)
	if !contains(msg, `"states"`, "unreachable") {
		t.Errorf("a call while the server is unreachable got %q", msg)
	}
	reaches(status.StateReconnecting, "reach")

	down.Store(false)
	reaches(status.StateConnected, "")
	// The session is a new one: the client is told to refetch its lists.
	c.recvMethod("notifications/tools/list_changed")
	if got := toolText(t, c.call(3, "tools/call", `{"name":"echo","arguments":{"message":"again"}}`)); got != "again" {
		t.Errorf("echo after reconnecting = %q", got)
	}
}

// A sign-in that fails shows as an error, and requests get it at once rather than wait for a
// person who is not coming; calling the placeholder tool starts a new sign-in (needs sign-in
// again), and once it is done the bridge is connected.
func TestStatusAfterAFailedSignIn(t *testing.T) {
	_, m := authServers(t, authserver.Options{}, mcpserver.Options{})
	srv := config.Server{Name: "denied", URL: m.URL(), Auth: config.AuthOAuth}
	rec := &opener.Recorder{}
	statusDir := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", rec), StatusDir: statusDir, RuntimeDir: t.TempDir(), ToolsListWait: 300 * time.Millisecond})
	state := func(want status.State, errText string) {
		t.Helper()
		waitFor(t, func() bool {
			bridges, _ := status.List(statusDir)
			return len(bridges) == 1 && bridges[0].State == want && strings.Contains(bridges[0].LastError, errText)
		})
	}

	c.initialize()
	state(status.StateNeedsSignIn, "")
	tools := resultOf(t, c.call(1, "tools/list", ""))["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "sign_in_denied" {
		t.Fatalf("tools/list while signing in = %v", tools)
	}
	waitFor(t, func() bool { return len(rec.URLs()) == 1 })

	// The person refuses: the authorization server sends the browser back with an error.
	auth, err := url.Parse(rec.URLs()[0])
	if err != nil {
		t.Fatal(err)
	}
	back, err := url.Parse(auth.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	back.RawQuery = url.Values{"error": {"access_denied"}, "state": {auth.Query().Get("state")}}.Encode()
	httpGet(t, back.String())
	state(status.StateError, "access_denied")
	msg, _ := errorOf(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"x"}}`))["message"].(string)
	if !strings.Contains(msg, "access_denied") {
		t.Errorf("a call after the sign-in failed got %q", msg)
	}

	// Calling the placeholder tool signs in again.
	if text := toolText(t, c.call(3, "tools/call", `{"name":"sign_in_denied","arguments":{}}`)); !strings.Contains(text, "browser") {
		t.Errorf("placeholder call = %q", text)
	}
	state(status.StateNeedsSignIn, "")
	waitFor(t, func() bool { return len(rec.URLs()) == 2 })
	httpGet(t, rec.URLs()[1])
	state(status.StateConnected, "")
	c.recvMethod("notifications/tools/list_changed")
	if got := toolText(t, c.call(4, "tools/call", `{"name":"echo","arguments":{"message":"in"}}`)); got != "in" {
		t.Errorf("echo after signing in = %q", got)
	}
}
