package bridge_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestSignInWithACodeWhenHeadless: a bridge that knows no browser would be before the person
// (Options.Headless) signs in with the device grant the authorization server offers: the
// address and code go to the broker's prompt (the bridge's stderr), the placeholder tool's
// answer repeats them, no browser is opened, and the server's tools appear once the person
// has approved the code on another device.
func TestSignInWithACodeWhenHeadless(t *testing.T) {
	as, m := authServers(t, authserver.Options{Device: authserver.DeviceOptions{Enabled: true, Interval: time.Second}}, mcpserver.Options{})
	srv := config.Server{Name: "remote", URL: m.URL(), Auth: config.AuthOAuth}
	env := newBrokerEnv(t, srv, "")
	stderr := &testenv.SyncBuffer{}
	rec := &opener.Recorder{}
	b, err := broker.New(broker.Options{ConfigPath: env.config, Secrets: env.store, Opener: rec, Prompt: stderr, SignInTimeout: 20 * time.Second, Log: newTestLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := run(t, bridge.Options{Server: srv, Broker: b, RuntimeDir: t.TempDir(), ToolsListWait: 300 * time.Millisecond,
		Headless: "no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set)"})
	c.initialize()
	tools := resultOf(t, c.call(1, "tools/list", ""))["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "sign_in_remote" {
		t.Fatalf("tools/list while signing in = %v", tools)
	}
	if d := tools[0].(map[string]any)["description"].(string); !contains(d, "another device", "mcp-broker login remote --device") {
		t.Errorf("placeholder description: %q", d)
	}

	shown := regexp.MustCompile(`enter the code:\s+(\S+)`)
	waitFor(t, func() bool { return shown.MatchString(stderr.String()) })
	userCode := shown.FindStringSubmatch(stderr.String())[1]
	verify := as.Issuer() + "/device"
	if !strings.Contains(stderr.String(), "To sign in to remote, open this address") || !strings.Contains(stderr.String(), verify) {
		t.Errorf("stderr:\n%s", stderr)
	}
	text := toolText(t, c.call(2, "tools/call", `{"name":"sign_in_remote","arguments":{}}`))
	if !contains(text, verify, userCode, verify+"?user_code=") {
		t.Errorf("placeholder call = %q, want the address and the code", text)
	}

	if err := authserver.DecideDevice(t.Context(), nil, verify, userCode, true); err != nil {
		t.Fatal(err)
	}
	c.recvMethod("notifications/tools/list_changed")
	if tools := resultOf(t, c.call(3, "tools/list", ""))["tools"].([]any); len(tools) != 4 {
		t.Errorf("tools/list after sign-in = %v", tools)
	}
	if len(rec.URLs()) != 0 {
		t.Errorf("a browser was opened: %v", rec.URLs())
	}
	if as.Stats().DeviceCodeGrants != 1 {
		t.Errorf("stats = %+v", as.Stats())
	}
}

// TestHeadlessWithoutADeviceGrant: where the authorization server has no device grant, a
// headless bridge signs in through the browser as before (the URL on stderr), and the
// placeholder tells the person what works from a terminal.
func TestHeadlessWithoutADeviceGrant(t *testing.T) {
	_, m := authServers(t, authserver.Options{}, mcpserver.Options{})
	srv := config.Server{Name: "remote", URL: m.URL(), Auth: config.AuthOAuth}
	store := secrets.NewMemory()
	cfg := filepath.Join(t.TempDir(), "config.json")
	rec := &opener.Recorder{}
	b, err := broker.New(broker.Options{ConfigPath: cfg, Secrets: store, Opener: rec, SignInTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddServer(t.Context(), srv, ""); err != nil {
		t.Fatal(err)
	}
	c := run(t, bridge.Options{Server: srv, Broker: b, RuntimeDir: t.TempDir(), ToolsListWait: 300 * time.Millisecond, Headless: "an SSH session (SSH_CONNECTION is set)"})
	c.initialize()
	resultOf(t, c.call(1, "tools/list", ""))
	waitFor(t, func() bool { return len(rec.URLs()) == 1 })
	text := toolText(t, c.call(2, "tools/call", `{"name":"sign_in_remote","arguments":{}}`))
	if !contains(text, "an SSH session", "mcp-broker login remote --no-browser") {
		t.Errorf("placeholder call = %q", text)
	}
	httpGet(t, rec.URLs()[0]) // the person signs in
	c.recvMethod("notifications/tools/list_changed")
}
