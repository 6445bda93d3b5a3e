package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/ui/model"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// fakeHost records what the app hands to the tray.
type fakeHost struct {
	menus []string // outlines
	icons []string // resource names
}

func (h *fakeHost) SetSystemTrayMenu(m *fyne.Menu)      { h.menus = append(h.menus, tray.Outline(m)) }
func (h *fakeHost) SetSystemTrayIcon(res fyne.Resource) { h.icons = append(h.icons, res.Name()) }

// fakeAutostart is an autostart that remembers.
type fakeAutostart struct {
	on       bool
	enabled  []string
	upgraded []string
	fail     error
}

func (f *fakeAutostart) Supported() bool        { return true }
func (f *fakeAutostart) Enabled() (bool, error) { return f.on, nil }
func (f *fakeAutostart) Enable(bin string) error {
	if f.fail != nil {
		return f.fail
	}
	f.on, f.enabled = true, append(f.enabled, bin)
	return nil
}
func (f *fakeAutostart) Disable() error { f.on = false; return nil }
func (f *fakeAutostart) Upgrade(bin string) (bool, error) {
	f.upgraded = append(f.upgraded, bin)
	return true, nil
}

func newTestApp(t *testing.T) (*trayApp, *fakeHost, *fakeAutostart) {
	t.Helper()
	a := test.NewTempApp(t)
	dir := t.TempDir()
	host, auto := &fakeHost{}, &fakeAutostart{}
	opts := Options{ConfigPath: filepath.Join(dir, "config.json"), Binary: "/opt/mcp-broker/mcp-broker", Log: slog.New(slog.DiscardHandler)}
	ta := newTrayApp(t.Context(), a, opts, filepath.Join(dir, "run"), host, auto)
	t.Cleanup(func() { ta.wg.Wait() })
	return ta, host, auto
}

func snapshot(bridges []status.Bridge, servers ...string) model.Snapshot {
	var ss []broker.ServerStatus
	for _, n := range servers {
		ss = append(ss, broker.ServerStatus{Name: n, URL: "https://" + n + ".example/mcp", Auth: config.AuthOAuth, State: broker.StateSignInRequired})
	}
	return model.Build(ss, bridges, time.Now())
}

// notes drains the queued notifications.
func notes(ta *trayApp) []string {
	var got []string
	for {
		select {
		case n := <-ta.notes:
			got = append(got, n.Title+" | "+n.Content)
		default:
			return got
		}
	}
}

func TestApplyRebuildsOnlyOnChange(t *testing.T) {
	ta, host, _ := newTestApp(t)
	if len(host.menus) != 1 || !slices.Equal(host.icons, []string{"tray-empty.png"}) {
		t.Fatalf("start: %d menus, icons %q", len(host.menus), host.icons)
	}

	ta.apply(snapshot(nil)) // the same empty state: nothing to redo
	if len(host.menus) != 1 || len(host.icons) != 1 {
		t.Errorf("an unchanged state rebuilt the tray: %d menus, icons %q", len(host.menus), host.icons)
	}

	ta.apply(snapshot(nil, "studio"))
	ta.apply(snapshot(nil, "studio"))
	if len(host.menus) != 2 || !strings.Contains(host.menus[1], "studio · sign-in required") {
		t.Errorf("menus after adding studio: %q", host.menus)
	}
	if !slices.Equal(host.icons, []string{"tray-empty.png", "tray-signin.png"}) {
		t.Errorf("icons = %q", host.icons)
	}

	// A bridge starts waiting: the menu says so, and one notification goes out, not one per poll.
	waiting := []status.Bridge{{Server: "studio", PID: 1, State: status.StateNeedsSignIn, Client: "claude-code 2.0.0"}}
	ta.apply(snapshot(waiting, "studio"))
	ta.apply(snapshot(waiting, "studio"))
	if last := host.menus[len(host.menus)-1]; !strings.HasPrefix(last, "⚠ Sign in to studio — Claude Code is waiting") {
		t.Errorf("menu while waiting:\n%s", last)
	}
	if got := notes(ta); !slices.Equal(got, []string{"Claude Code is waiting for you to sign in to studio | Choose “Sign in to studio” in the MCP Broker menu or window."}) {
		t.Errorf("notifications = %q", got)
	}
}

// TestSignInAsksForTheBridgesScope: the tray's sign-in asks for the scope the server's
// waiting bridges were refused for (their status files' challenge_scope), and for no other
// server's.
func TestSignInAsksForTheBridgesScope(t *testing.T) {
	ta, _, _ := newTestApp(t)
	ta.apply(snapshot([]status.Bridge{
		{Server: "studio", PID: 1, State: status.StateNeedsSignIn, ChallengeScope: "mcp:basic"},
		{Server: "studio", PID: 2, State: status.StateNeedsSignIn, ChallengeScope: "mcp:read"},
		{Server: "files", PID: 3, State: status.StateNeedsSignIn, ChallengeScope: "files:read"},
	}, "studio", "files"))
	if got := ta.signInOptions("studio").ChallengeScope; got != "mcp:basic mcp:read" {
		t.Errorf("the sign-in to studio asks for %q, want mcp:basic mcp:read", got)
	}
	ta.apply(snapshot(nil, "studio", "files"))
	if got := ta.signInOptions("studio").ChallengeScope; got != "" {
		t.Errorf("without waiting bridges the sign-in asks for %q, want nothing in particular", got)
	}
}

func TestCopyClaudeCommand(t *testing.T) {
	ta, _, _ := newTestApp(t)
	ta.CopyClaudeCommand("studio")
	want := claudeconfig.Command("studio", "/opt/mcp-broker/mcp-broker")
	if got := ta.fyne.Clipboard().Content(); got != want {
		t.Errorf("clipboard = %q, want %q", got, want)
	}
	if !strings.Contains(want, "claude mcp add studio") || !strings.Contains(want, "MCP_BROKER_SERVER=studio") || !strings.Contains(want, "/opt/mcp-broker/mcp-broker bridge") {
		t.Errorf("the command %q is not the one the issue asks for", want)
	}
	if got := notes(ta); len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("notifications = %q", got)
	}
}

func TestSetStartAtLogin(t *testing.T) {
	ta, host, auto := newTestApp(t)
	ta.SetStartAtLogin(true)
	ta.wg.Wait()
	exe, _ := os.Executable()
	if !auto.on || !slices.Equal(auto.enabled, []string{exe}) {
		t.Errorf("autostart: on %v, enabled %q (want this executable, the tray build)", auto.on, auto.enabled)
	}
	// The menu follows on the UI thread (fyne.Do); the test driver runs it at once or soon.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(host.menus[len(host.menus)-1], "[x] Start at login") {
		if time.Now().After(deadline) {
			t.Fatalf("the menu never showed Start at login checked:\n%s", host.menus[len(host.menus)-1])
		}
		time.Sleep(10 * time.Millisecond)
	}

	auto.fail = errors.New("the autostart folder is read-only")
	ta.SetStartAtLogin(false)
	ta.wg.Wait()
	ta.SetStartAtLogin(true)
	ta.wg.Wait()
	got := notes(ta)
	if len(got) != 1 || !strings.Contains(got[0], "Start at login could not be changed | The autostart folder is read-only.") {
		t.Errorf("notifications = %q", got)
	}
}

// TestStartAtLoginUpgradedAtStart: with start at login on, the app rewrites the entry an
// earlier release wrote for this executable (autostart.Upgrade: without the flag that keeps a
// start at login to the icon); with it off, the entry is not touched.
func TestStartAtLoginUpgradedAtStart(t *testing.T) {
	for _, on := range []bool{true, false} {
		a := test.NewTempApp(t)
		dir := t.TempDir()
		auto := &fakeAutostart{on: on}
		opts := Options{ConfigPath: filepath.Join(dir, "config.json"), Binary: "/opt/mcp-broker/mcp-broker", Log: slog.New(slog.DiscardHandler)}
		ta := newTrayApp(t.Context(), a, opts, filepath.Join(dir, "run"), &fakeHost{}, auto)
		ta.wg.Wait()
		exe, _ := os.Executable()
		if want := []string{exe}; on && !slices.Equal(auto.upgraded, want) || !on && auto.upgraded != nil {
			t.Errorf("start at login %v: upgraded %q", on, auto.upgraded)
		}
	}
}

func TestSentence(t *testing.T) {
	tests := []struct {
		err    error
		server string
		want   string
	}{
		{&broker.OpError{Op: broker.OpSignIn, Server: "studio", Err: errors.New("the browser sign-in did not finish within 5m0s")}, "studio", "The browser sign-in did not finish within 5m0s."},
		{&broker.OpError{Op: broker.OpSignIn, Server: "studio", Err: errors.New("x")}, "other", "Studio: x."},
		{errors.New("studio: x"), "studio", "Studio: x."}, // not the broker's: its text as it is
		{errors.New("already a sentence."), "", "Already a sentence."},
		{fmt.Errorf("wrapped: %w", &broker.SignInRequiredError{Server: "s", Reason: "the sign-in has expired"}), "s", "The sign-in has expired. Choose Sign in for s in the MCP Broker menu or window."},
		{&broker.OpError{Op: broker.OpSignIn, Server: "k", Err: hint.With(errors.New("the server uses a static token: there is nothing to sign in to"), hint.StoreToken)}, "k",
			"The server uses a static token: there is nothing to sign in to. Enter its token in the server's settings (Edit server…)."},
		{errors.New("évidemment"), "", "Évidemment."},
	}
	for _, tt := range tests {
		if got := sentence(tt.err, tt.server); got != tt.want {
			t.Errorf("sentence(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestCopyBugReport: the menu's and the status window's "Copy bug report" put the report that
// `mcp-broker report` prints on the clipboard, and say so; a server that is not configured
// gets a notification instead.
func TestCopyBugReport(t *testing.T) {
	ta, _, _ := newTestApp(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	cfg := `{"version":1,"servers":[{"name":"studio","url":"` + srv.URL + `/mcp?key=QuerySecret123","auth":"oauth"}]}`
	if err := os.WriteFile(ta.opts.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ta.CopyBugReport("studio")
	ta.wg.Wait()
	got := ta.fyne.Clipboard().Content()
	for _, want := range []string{"## mcp-broker bug report", "### Status", "#### studio", srv.URL + "/mcp?REDACTED"} {
		if !strings.Contains(got, want) {
			t.Errorf("the clipboard lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "QuerySecret123") {
		t.Errorf("the report holds the URL's key:\n%s", got)
	}
	if n := notes(ta); len(n) != 1 || !strings.Contains(n[0], "Copied the bug report") {
		t.Errorf("notifications = %q", n)
	}

	ta.CopyBugReport("nope")
	ta.wg.Wait()
	if n := notes(ta); len(n) != 1 || !strings.Contains(n[0], "could not be made") {
		t.Errorf("notifications = %q", n)
	}
	if ta.fyne.Clipboard().Content() != got {
		t.Error("a failed report replaced the clipboard")
	}
}

// TestShowTraffic: the main window's "Traffic…" opens one Timeline window, which watches the
// bridges' traffic folder while it is open.
func TestShowTraffic(t *testing.T) {
	ta, _, _ := newTestApp(t)
	dir := traffic.Dir(ta.runtimeDir)
	ta.showTraffic()
	first := ta.timeline
	if first == nil || first.Window().Title() != "MCP Broker traffic" {
		t.Fatalf("no Timeline window opened: %v", first)
	}
	if !traffic.Watched(dir, time.Now()) {
		t.Error("the bridges' traffic is not watched while the window is open")
	}
	ta.showTraffic()
	if ta.timeline != first {
		t.Error("a second Traffic… opened a second window")
	}
	first.Window().Close()
	if ta.timeline != nil {
		t.Error("the closed window is still kept")
	}
}

// windowCheck is the main window's check box labelled text, or nil.
func windowCheck(ta *trayApp, text string) *widget.Check {
	var found *widget.Check
	eachObject(ta.status.Window().Content(), func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok && c.Text == text {
			found = c
		}
	})
	return found
}

// eachObject calls fn with o and everything drawn inside it: the objects of containers and
// of widgets' renderers, depth first.
func eachObject(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch o := o.(type) {
	case *fyne.Container:
		for _, c := range o.Objects {
			eachObject(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(o).Objects() {
			eachObject(c, fn)
		}
	}
}

// TestWindowStartAtLogin: the main window's Start at login and the menu's say the same,
// whichever changed it, and ticking the window's turns it on.
func TestWindowStartAtLogin(t *testing.T) {
	ta, host, auto := newTestApp(t)
	ta.apply(snapshot(nil, "studio"))
	check := windowCheck(ta, tray.LabelStartAtLogin)
	if check == nil || check.Checked {
		t.Fatalf("the window's Start at login: %v", check)
	}
	check.SetChecked(true) // as a click or Space does
	ta.wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(host.menus[len(host.menus)-1], "[x] Start at login") {
		if time.Now().After(deadline) {
			t.Fatalf("the window's check did not reach the menu:\n%s", host.menus[len(host.menus)-1])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !auto.on {
		t.Error("ticking the window's Start at login left it off")
	}

	// The menu turns it off: the window follows.
	ta.SetStartAtLogin(false)
	ta.wg.Wait()
	for check.Checked {
		if time.Now().After(deadline) {
			t.Fatal("the window's check did not follow the menu")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if auto.on {
		t.Error("Start at login still on")
	}
}

// TestWindowConfigError: a configuration that cannot be read is said in the main window, with
// its file, and the Open the configuration folder button opens the file's folder.
func TestWindowConfigError(t *testing.T) {
	ta, _, _ := newTestApp(t)
	if err := os.WriteFile(ta.opts.ConfigPath, []byte("{\n  \"servers\": [\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := model.Read(ta.opts.ConfigPath, filepath.Join(t.TempDir(), "bridges"), time.Now())
	if snap.ConfigError == "" {
		t.Fatal("the broken file reads")
	}
	ta.apply(snap)
	var shown []string
	eachObject(ta.status.Window().Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			shown = append(shown, l.Text)
		}
	})
	joined := strings.Join(shown, "\n")
	for _, want := range []string{"The configuration cannot be read", ta.opts.ConfigPath} {
		if !strings.Contains(joined, want) {
			t.Errorf("the window lacks %q; it shows:\n%s", want, joined)
		}
	}

	var opened []string
	ta.openURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	ta.OpenConfigFolder()
	ta.wg.Wait()
	if want := "file://" + filepath.ToSlash(filepath.Dir(ta.opts.ConfigPath)); !slices.Equal(opened, []string{want}) {
		t.Errorf("opened %q, want %q", opened, want)
	}
	ta.openURL = func(*url.URL) error { return errors.New("no file manager") }
	ta.OpenConfigFolder()
	ta.wg.Wait()
	if got := notes(ta); len(got) != 1 || !strings.Contains(got[0], "The configuration folder could not be opened | It is "+filepath.Dir(ta.opts.ConfigPath)) {
		t.Errorf("notifications = %q", got)
	}
}

// TestDiagnoseConfiguredServer: the menu's and the window's Diagnose judge the server as
// `mcp-broker doctor NAME` does, with what the broker recorded of its sign-ins: a refused
// renewal in state.json is a finding, which the diagnosis of the URL alone cannot know.
func TestDiagnoseConfiguredServer(t *testing.T) {
	ta, _, _ := newTestApp(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(gone.Close)
	cfg := `{"version": 1, "servers": [{"name": "studio", "url": "` + gone.URL + `/mcp", "auth": "oauth"}]}`
	if err := os.WriteFile(ta.opts.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	state := `{"servers": {"studio": {"renewal_failure": {"at": "2026-12-06T10:02:00Z", "kind": "refused", "reason": "the sign-in server refused the refresh token"}}}}`
	if err := os.WriteFile(filepath.Join(filepath.Dir(ta.opts.ConfigPath), "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := ta.diagnoseServer(t.Context(), "studio")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(r.Findings, func(f doctor.Finding) bool {
		return strings.Contains(f.Detail, "the sign-in server refused the refresh token")
	}) {
		t.Errorf("the diagnosis lacks the refused renewal: %+v", r.Findings)
	}
	if _, err := ta.diagnoseServer(t.Context(), "nope"); err == nil {
		t.Error("diagnosing a server that is not configured gave no error")
	}
}
