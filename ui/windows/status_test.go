package windows

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// now is the fixed "now" of every status test, so goldens are stable.
var now = time.Date(2026, 3, 14, 13, 50, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := now.Add(d); return &t }

// A server in every sign-in state, and bridges in every state.
var (
	someServers = []broker.ServerStatus{
		{Name: "studio", URL: "https://studio.example.com/mcp", Auth: config.AuthOAuth, Transport: config.TransportAuto,
			SignedIn: true, State: broker.StateSignedIn, Expiry: at(42 * time.Minute),
			Scopes: []string{"mcp:read", "mcp:write", "offline_access"}, Issuer: "https://auth.example.com",
			Client: &broker.ClientStatus{ID: "mcpb-7f3a9c", Kind: "dynamic"}},
		{Name: "ci-robot", URL: "https://ci.example.com/mcp", Auth: config.AuthClientCredentials, Transport: config.TransportStreamableHTTP,
			SignedIn: true, State: broker.StateExpired, Expiry: at(-5 * time.Minute), Scopes: []string{"builds"}, Issuer: "https://auth.example.com"},
		{Name: "notion", URL: "https://mcp.notion.com/mcp", Auth: config.AuthOAuth, Transport: config.TransportAuto,
			State: broker.StateSignInRequired},
		{Name: "search", URL: "https://search.example.com/sse", Auth: config.AuthBearer, Transport: config.TransportSSE,
			SignedIn: true, State: broker.StateStaticToken},
		{Name: "weather", URL: "https://weather.example.com/mcp", Auth: config.AuthBearer, Transport: config.TransportAuto,
			State: broker.StateNoToken},
		{Name: "demo", URL: "http://127.0.0.1:8123/mcp", Auth: config.AuthNone, Transport: config.TransportAuto,
			SignedIn: true, State: broker.StateNoAuth},
	}
	someBridges = []status.Bridge{
		{Server: "studio", PID: 4242, Started: now.Add(-95 * time.Minute), Since: now.Add(-94 * time.Minute),
			Transport: "streamable-http", ProtocolVersion: "2025-06-18", State: status.StateConnected,
			Messages: status.Counts{FromClient: 34, ToClient: 36}, Client: "claude-code 2.0.14"},
		{Server: "notion", PID: 4243, Started: now.Add(-3 * time.Minute), Since: now.Add(-3 * time.Minute),
			Transport: "auto", State: status.StateNeedsSignIn, Messages: status.Counts{FromClient: 1, ToClient: 1},
			Client: "claude-code 2.0.14"},
		{Server: "search", PID: 4250, Started: now.Add(-26 * time.Hour), Since: now.Add(-2 * time.Minute),
			Transport: "sse", ProtocolVersion: "2024-11-05", State: status.StateReconnecting,
			Messages: status.Counts{FromClient: 812, ToClient: 815}, LastError: "search.example.com did not answer: connection refused; retrying",
			Client: "mcp-inspector 0.16.2"},
		{Server: "nope", PID: 4251, Started: now.Add(-10 * time.Second), State: status.StateError,
			LastError: `no server named "nope" is configured: add it with mcp-broker servers add`},
		{Server: "weather", PID: 4252, Started: now.Add(-2 * time.Second), Transport: "auto", State: status.StateStarting},
	}
)

func TestStatusEmpty(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	added := 0
	s.OnAddServer = func() { added++ }
	s.Update(nil, nil, now)
	w := s.Window()
	w.Resize(fyne.NewSize(560, 420))
	assertMarkup(t, "status_empty.xml", w)

	test.Tap(findButton(t, w.Content(), "Add server…"))
	if added != 1 {
		t.Errorf("Add server… called OnAddServer %d times, want 1", added)
	}
}

func TestStatusServersAndBridges(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	copied := 0
	s.OnCopyReport = func() { copied++ }
	s.Update(someServers, someBridges, now)
	w := s.Window()
	w.Resize(fyne.NewSize(600, 2000))
	assertMarkup(t, "status_full.xml", w)

	for _, want := range []string{
		"expires in 42 min (14:32)", // relative and absolute
		"expired 5 min ago (13:45)",
		"mcp:read mcp:write offline_access",
		"https://auth.example.com",
		"mcpb-7f3a9c (registered automatically)",
		"Sign-in required",
		"Waiting for sign-in",
		"claude-code 2.0.14 · studio",
		"12:15 (1 h 35 min ago)",
		"13 Mar 11:50 (1 day ago)",
		"Streamable HTTP, protocol 2025-06-18",
		"34 from the client, 36 to it",
		"search.example.com did not answer: connection refused; retrying.",
		"1 running",
	} {
		if !hasText(w.Content(), want) {
			t.Errorf("status window lacks %q; it shows %q", want, texts(w.Content()))
		}
	}
	if hasText(w.Content(), "No servers yet") || hasText(w.Content(), "No Claude Code sessions running") {
		t.Error("status window with servers and bridges shows an empty state")
	}
	test.Tap(findKeyButton(t, w.Content(), tray.LabelCopyReport, 0))
	if copied != 1 {
		t.Errorf("Copy bug report called OnCopyReport %d times, want 1", copied)
	}
}

func TestStatusScreenshot(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	s.OnCopyReport = func() {}
	s.Update([]broker.ServerStatus{someServers[0], someServers[2]}, []status.Bridge{someBridges[0], someBridges[2]}, now)
	w := s.Window()
	w.Resize(fyne.NewSize(560, 1000))
	assertImage(t, "status.png", w)
}

// Update replaces what the window shows, and closing the window hides it
// rather than destroying it, so the tray can show it again.
func TestStatusUpdateAndReopen(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	s.Show()
	s.Update(someServers, someBridges, now)
	s.Update(someServers[:1], nil, now.Add(time.Minute))
	w := s.Window()
	if hasText(w.Content(), "notion") {
		t.Error("a server from the previous update is still shown")
	}
	if !hasText(w.Content(), "No Claude Code sessions running") {
		t.Error("no empty state for sessions after they all ended")
	}
	if !hasText(w.Content(), "expires in 41 min (14:32)") {
		t.Errorf("expiry not relative to the new now: %q", texts(w.Content()))
	}
	if !hasText(w.Content(), "As of 13:51:00") {
		t.Errorf("no time of the update: %q", texts(w.Content()))
	}
}

func TestStatusEmptyScreenshot(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	s.OnAddServer = func() {}
	s.Update(nil, nil, now)
	w := s.Window()
	w.Resize(fyne.NewSize(560, 420))
	assertImage(t, "status_empty.png", w)
}

// Update may be called from any goroutine.
func TestStatusUpdateFromGoroutine(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Update(someServers[:1], nil, now)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Update from a goroutine did not return")
	}
	if !hasText(s.Window().Content(), "studio") {
		t.Errorf("the update from a goroutine is not shown: %q", texts(s.Window().Content()))
	}
}

// TestStatusAccounts: two servers at one URL each say whose sign-in they are, and which other
// server shares their URL.
func TestStatusAccounts(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	work, personal := someServers[0], someServers[0]
	work.Name, work.Account, work.SameURLAs = "work", &broker.Account{Subject: "a1", Email: "alice@example.com", Source: broker.AccountFromIDToken}, []string{"personal"}
	personal.Name, personal.Account, personal.SameURLAs = "personal", &broker.Account{Subject: "b2", Username: "bob", Source: broker.AccountFromIntrospection}, []string{"work"}
	s.Update([]broker.ServerStatus{personal, work, someServers[2]}, nil, now)
	w := s.Window()
	w.Resize(fyne.NewSize(600, 1200))
	for _, want := range []string{"Account", "alice@example.com", "bob", "Same URL as", "personal", "work"} {
		if !hasText(w.Content(), want) {
			t.Errorf("status window lacks %q; it shows %q", want, texts(w.Content()))
		}
	}
	// A server signed in as nobody known, at a URL of its own, has neither row.
	s.Update([]broker.ServerStatus{someServers[0]}, nil, now)
	if hasText(w.Content(), "Account") || hasText(w.Content(), "Same URL as") {
		t.Errorf("rows without values: %q", texts(w.Content()))
	}
}
