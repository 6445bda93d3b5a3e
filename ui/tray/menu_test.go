package tray

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the tests' clock: expiries on the same day show as 14:32.
var now = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// recorder is a fake Actions that records each call as "Method(arg)".
type recorder struct{ calls []string }

func (r *recorder) rec(format string, args ...any) {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *recorder) SignIn(name string)            { r.rec("SignIn(%s)", name) }
func (r *recorder) SignOut(name string)           { r.rec("SignOut(%s)", name) }
func (r *recorder) SignInIdP(name string)         { r.rec("SignInIdP(%s)", name) }
func (r *recorder) ConfigureClaude(name string)   { r.rec("ConfigureClaude(%s)", name) }
func (r *recorder) CopyClaudeCommand(name string) { r.rec("CopyClaudeCommand(%s)", name) }
func (r *recorder) Diagnose(name string)          { r.rec("Diagnose(%s)", name) }
func (r *recorder) ShowTools(name string)         { r.rec("ShowTools(%s)", name) }
func (r *recorder) CopyBugReport(name string)     { r.rec("CopyBugReport(%s)", name) }
func (r *recorder) EditServer(name string)        { r.rec("EditServer(%s)", name) }
func (r *recorder) AddServer()                    { r.rec("AddServer()") }
func (r *recorder) ShowStatus()                   { r.rec("ShowStatus()") }
func (r *recorder) TryDemo()                      { r.rec("TryDemo()") }
func (r *recorder) SetStartAtLogin(on bool)       { r.rec("SetStartAtLogin(%v)", on) }
func (r *recorder) Quit()                         { r.rec("Quit()") }
func (r *recorder) OpenConfigFolder()             { r.rec("OpenConfigFolder()") }

func oauth(name string, state broker.SignInState, expiry *time.Time) broker.ServerStatus {
	return broker.ServerStatus{Name: name, URL: "https://" + name + ".example/mcp", Auth: config.AuthOAuth,
		SignedIn: state == broker.StateSignedIn || state == broker.StateExpired || state == broker.StateSignedInNoRefresh, State: state, Expiry: expiry}
}

// account is an OAuth server at url signed in as email, from its ID token.
func account(name, url, email string, state broker.SignInState, expiry *time.Time) broker.ServerStatus {
	s := oauth(name, state, expiry)
	s.URL, s.Account = url, &broker.Account{Subject: strings.TrimSuffix(email, "@example.com"), Email: email, Source: broker.AccountFromIDToken}
	return s
}

func enterprise(name string, signedIn bool) broker.ServerStatus {
	st := broker.StateSignInRequired
	if signedIn {
		st = broker.StateSignedInIdP
	}
	return broker.ServerStatus{Name: name, Auth: config.AuthEnterprise, IdP: "corp", SignedIn: signedIn, State: st}
}

func idp(name string, signedIn bool, servers ...string) broker.IdPStatus {
	p := broker.IdPStatus{IdP: config.IdP{Name: name, Issuer: "https://" + name + ".example", ClientID: "c"}, SignedIn: signedIn, Servers: servers}
	if signedIn {
		p.Email = "alice@" + name + ".example"
	}
	return p
}

// TestSignInWithCompanyAccount: one item signs in to the identity provider for all its servers.
func TestSignInWithCompanyAccount(t *testing.T) {
	snap := model.Build([]broker.ServerStatus{enterprise("wiki", false), enterprise("jira", false)}, nil, now)
	snap.IdPs = []broker.IdPStatus{idp("corp", false, "wiki", "jira")}
	r := &recorder{}
	find(t, Menu(snap, Options{}, r), LabelSignInIdP).Action()
	if !slices.Equal(r.calls, []string{"SignInIdP(corp)"}) {
		t.Errorf("calls = %v", r.calls)
	}
}

// lapseServers are servers whose sign-ins end at a known moment, for each reason, and whose
// last background renewal failed: for a while (tried again), or refused (sign in again).
func lapseServers() []broker.ServerStatus {
	noRefresh := oauth("docs", broker.StateSignedInNoRefresh, at(14, 2))
	noRefresh.SignInBy, noRefresh.SignInByReason = at(14, 2), broker.SignInByNoRefreshToken
	expiring := oauth("studio", broker.StateSignedIn, at(12, 30))
	expiring.SignInBy, expiring.SignInByReason = &[]time.Time{time.Date(2026, 3, 5, 9, 5, 0, 0, time.UTC)}[0], broker.SignInByRefreshExpiry
	expiring.RenewalFailure = &broker.RenewalFailure{At: *at(10, 2), Kind: broker.RenewalFailed, Reason: "the sign-in server answered HTTP 503"}
	limited := oauth("tracker", broker.StateSignedIn, at(13, 0))
	limited.SignInBy, limited.SignInByReason, limited.SessionLimitSeconds = at(18, 0), broker.SignInBySessionLimit, 8*3600
	refused := oauth("wiki", broker.StateSignInRequired, nil)
	refused.RenewalFailure = &broker.RenewalFailure{At: *at(10, 2), Kind: broker.RenewalRefused, Reason: "the sign-in server refused the refresh token"}
	return []broker.ServerStatus{noRefresh, expiring, limited, refused}
}

func at(h, m int) *time.Time {
	t := time.Date(2026, 3, 4, h, m, 0, 0, time.UTC)
	return &t
}

func br(server string, pid int, st status.State, client, lastErr string) status.Bridge {
	return status.Bridge{Server: server, PID: pid, State: st, Client: client, LastError: lastErr}
}

// TestMenuGolden builds the menu for each state the tray can be in and compares its outline
// with testdata/NAME.golden (go test ./ui/tray -update rewrites them).
func TestMenuGolden(t *testing.T) {
	tests := []struct {
		name    string
		servers []broker.ServerStatus
		bridges []status.Bridge
		opts    Options
		cfgErr  string
		idps    []broker.IdPStatus
	}{
		{name: "empty"},
		{name: "empty-demo-starting", opts: Options{DemoStarting: true, StartAtLogin: true}},
		{name: "empty-no-autostart", opts: Options{NoStartAtLogin: true}},
		{name: "signed-in", servers: []broker.ServerStatus{oauth("studio", broker.StateSignedIn, at(14, 32))}},
		{name: "signed-in-tomorrow", servers: []broker.ServerStatus{oauth("studio", broker.StateSignedIn, &[]time.Time{time.Date(2026, 3, 5, 9, 5, 0, 0, time.UTC)}[0])}},
		{name: "connected", opts: Options{StartAtLogin: true},
			servers: []broker.ServerStatus{oauth("studio", broker.StateSignedIn, at(14, 32))},
			bridges: []status.Bridge{br("studio", 10, status.StateConnected, "claude-code 2.0.0", ""), br("studio", 11, status.StateConnected, "claude-code 2.0.0", "")}},
		{name: "sign-in-required", servers: []broker.ServerStatus{oauth("studio", broker.StateSignInRequired, nil)}},
		{name: "waiting", servers: []broker.ServerStatus{oauth("docs", broker.StateSignedIn, nil), oauth("studio", broker.StateSignInRequired, nil)},
			bridges: []status.Bridge{br("studio", 10, status.StateNeedsSignIn, "claude-code 2.0.0", "")}},
		{name: "waiting-token-refused", servers: []broker.ServerStatus{oauth("studio", broker.StateSignedIn, at(14, 32))},
			bridges: []status.Bridge{br("studio", 10, status.StateNeedsSignIn, "", "")}},
		{name: "signing-in", opts: Options{SigningIn: map[string]bool{"studio": true}},
			servers: []broker.ServerStatus{oauth("studio", broker.StateSignInRequired, nil)},
			bridges: []status.Bridge{br("studio", 10, status.StateNeedsSignIn, "claude-code 2.0.0", "")}},
		{name: "error", servers: []broker.ServerStatus{oauth("studio", broker.StateSignedIn, at(14, 32))},
			bridges: []status.Bridge{br("studio", 10, status.StateReconnecting, "claude-code 2.0.0", "server unreachable")}},
		{name: "expired-refreshable", servers: []broker.ServerStatus{oauth("studio", broker.StateExpired, at(11, 0))}},
		// Two accounts on one server: each line says whose it is.
		{name: "two-accounts", servers: []broker.ServerStatus{
			account("work", "https://mcp.example/mcp", "alice@example.com", broker.StateSignedIn, at(14, 32)),
			account("personal", "https://mcp.example/mcp", "bob.with.a.very.long.address@personal-mail.example.com", broker.StateExpired, at(11, 0)),
		}},
		{name: "other-auth-modes", servers: []broker.ServerStatus{
			{Name: "open", Auth: config.AuthNone, SignedIn: true, State: broker.StateNoAuth},
			{Name: "keyed", Auth: config.AuthBearer, SignedIn: true, State: broker.StateStaticToken},
			{Name: "nokey", Auth: config.AuthBearer, State: broker.StateNoToken},
		}},
		{name: "enterprise-sign-in", servers: []broker.ServerStatus{enterprise("wiki", false), enterprise("jira", false)}, idps: []broker.IdPStatus{idp("corp", false, "wiki", "jira")}},
		{name: "enterprise-signed-in", servers: []broker.ServerStatus{enterprise("wiki", true)}, idps: []broker.IdPStatus{idp("corp", true, "wiki")}},
		{name: "enterprise-signing-in", opts: Options{SigningIn: map[string]bool{IdPKey("corp"): true}},
			servers: []broker.ServerStatus{enterprise("wiki", false)}, idps: []broker.IdPStatus{idp("corp", false, "wiki"), idp("lab", false)}},
		{name: "config-error", cfgErr: "config.json: line 3, column 2: invalid character '}' looking for beginning of object key string"},
		// Servers the state file still knows, with the configuration unreadable: no Add server,
		// as in the main window (it would write over the file).
		{name: "config-error-servers", servers: []broker.ServerStatus{oauth("studio", broker.StateSignedIn, at(14, 32))},
			cfgErr: "config.json: unexpected end of JSON input"},
		// When each sign-in ends, and the last background renewal that failed.
		{name: "lapse", servers: lapseServers()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := model.Build(tt.servers, tt.bridges, now)
			snap.IdPs = tt.idps
			if tt.cfgErr != "" {
				snap.ConfigError, snap.State = tt.cfgErr, model.Error
			}
			tt.opts.Location, tt.opts.Now = time.UTC, now
			got := Outline(Menu(snap, tt.opts, &recorder{}))
			golden(t, tt.name, got)
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui/tray -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("menu differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// find returns the item at the path of labels (a submenu's label, then an item in it). Labels
// may be given as prefixes.
func find(t *testing.T, m *fyne.Menu, path ...string) *fyne.MenuItem {
	t.Helper()
	for i, label := range path {
		var found *fyne.MenuItem
		for _, it := range m.Items {
			if !it.IsSeparator && strings.HasPrefix(it.Label, label) {
				found = it
				break
			}
		}
		if found == nil {
			t.Fatalf("no item %q in:\n%s", label, Outline(m))
		}
		if i == len(path)-1 {
			return found
		}
		m = found.ChildMenu
		if m == nil {
			t.Fatalf("%q has no submenu", label)
		}
	}
	return nil
}

// TestMenuActions clicks every item and checks what reaches Actions.
func TestMenuActions(t *testing.T) {
	snap := model.Build([]broker.ServerStatus{
		oauth("docs", broker.StateSignedIn, at(14, 32)),
		oauth("studio", broker.StateSignInRequired, nil),
	}, []status.Bridge{br("studio", 10, status.StateNeedsSignIn, "claude-code 2.0.0", "")}, now)
	tests := []struct {
		path []string
		opts Options
		want string
	}{
		{[]string{"⚠ Sign in to studio"}, Options{}, "SignIn(studio)"},
		{[]string{"studio", LabelSignIn}, Options{}, "SignIn(studio)"},
		{[]string{"studio", LabelConfigure}, Options{}, "ConfigureClaude(studio)"},
		{[]string{"studio", LabelCopyCommand}, Options{}, "CopyClaudeCommand(studio)"},
		{[]string{"studio", LabelDiagnose}, Options{}, "Diagnose(studio)"},
		{[]string{"studio", LabelCopyReport}, Options{}, "CopyBugReport(studio)"},
		{[]string{"studio", LabelEdit}, Options{}, "EditServer(studio)"},
		{[]string{"docs", LabelSignOut}, Options{}, "SignOut(docs)"},
		{[]string{"studio", LabelSigningIn}, Options{SigningIn: map[string]bool{"studio": true}}, "SignIn(studio)"},
		{[]string{LabelAddServer}, Options{}, "AddServer()"},
		{[]string{LabelStatus}, Options{}, "ShowStatus()"},
		{[]string{LabelStartAtLogin}, Options{}, "SetStartAtLogin(true)"},
		{[]string{LabelStartAtLogin}, Options{StartAtLogin: true}, "SetStartAtLogin(false)"},
		{[]string{LabelQuit}, Options{}, "Quit()"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.path, "/"), func(t *testing.T) {
			r := &recorder{}
			it := find(t, Menu(snap, tt.opts, r), tt.path...)
			if it.Action == nil || it.Disabled {
				t.Fatalf("%q cannot be clicked", it.Label)
			}
			it.Action()
			if !slices.Equal(r.calls, []string{tt.want}) {
				t.Errorf("calls = %q, want %q", r.calls, tt.want)
			}
		})
	}

	r := &recorder{}
	find(t, Menu(model.Build(nil, nil, now), Options{}, r), LabelTryDemo).Action()
	if !slices.Equal(r.calls, []string{"TryDemo()"}) {
		t.Errorf("Try the demo server: calls = %q", r.calls)
	}
	r = &recorder{}
	broken := model.Build(nil, nil, now)
	broken.ConfigError, broken.State = "config.json: invalid character", model.Error
	find(t, Menu(broken, Options{}, r), LabelOpenConfigFolder).Action()
	if !slices.Equal(r.calls, []string{"OpenConfigFolder()"}) {
		t.Errorf("%s: calls = %q", LabelOpenConfigFolder, r.calls)
	}
}

// TestMenuHandlersFollowNames clicks an item of an old menu after the servers changed: it must
// act on the server it was built for, not on whatever sits at its position now.
func TestMenuHandlersFollowNames(t *testing.T) {
	r := &recorder{}
	old := Menu(model.Build([]broker.ServerStatus{oauth("studio", broker.StateSignInRequired, nil)}, nil, now), Options{}, r)
	_ = Menu(model.Build([]broker.ServerStatus{oauth("alpha", broker.StateSignInRequired, nil), oauth("studio", broker.StateSignInRequired, nil)}, nil, now), Options{}, r)
	old.Items[0].ChildMenu.Items[2].Action() // "Sign in", first action of the first server
	if !slices.Equal(r.calls, []string{"SignIn(studio)"}) {
		t.Errorf("calls = %q", r.calls)
	}
}

func TestMenuEndsWithQuit(t *testing.T) {
	for _, snap := range []model.Snapshot{model.Build(nil, nil, now), model.Build([]broker.ServerStatus{oauth("a", broker.StateSignedIn, nil)}, nil, now)} {
		m := Menu(snap, Options{}, &recorder{})
		last := m.Items[len(m.Items)-1]
		if last.Label != LabelQuit || !last.IsQuit {
			t.Errorf("last item %+v: Fyne would append a second Quit", last)
		}
	}
}

func TestHeadline(t *testing.T) {
	tests := []struct {
		srv  broker.ServerStatus
		brs  []status.Bridge
		opts Options
		want string
	}{
		{oauth("s", broker.StateSignedIn, at(14, 32)), nil, Options{}, "signed in · expires 14:32"},
		{oauth("s", broker.StateSignedIn, nil), nil, Options{}, "signed in"},
		{account("s", "https://s.example/mcp", "alice@example.com", broker.StateSignedIn, at(14, 32)), nil, Options{}, "signed in · alice@example.com · expires 14:32"},
		{account("s", "https://s.example/mcp", "alice@example.com", broker.StateExpired, at(11, 0)), nil, Options{}, "signed in · renews on next use · alice@example.com"},
		{oauth("s", broker.StateSignedInNoRefresh, at(14, 32)), nil, Options{}, "signed in · no refresh token · expires 14:32"},
		{oauth("s", broker.StateSignInRequired, nil), nil, Options{}, "sign-in required"},
		{oauth("s", broker.StateSignedIn, nil), []status.Bridge{br("s", 1, status.StateConnected, "", "")}, Options{}, "connected · 1 session"},
		{oauth("s", broker.StateSignedIn, nil), []status.Bridge{br("s", 1, status.StateConnected, "", ""), br("s", 2, status.StateStarting, "", "")}, Options{}, "connected · 2 sessions"},
		{oauth("s", broker.StateSignedIn, nil), []status.Bridge{br("s", 1, status.StateStarting, "", "")}, Options{}, "connecting · 1 session"},
		{oauth("s", broker.StateSignedIn, nil), []status.Bridge{br("s", 1, status.StateReconnecting, "", "server unreachable")}, Options{}, "error: server unreachable"},
		{oauth("s", broker.StateSignedIn, nil), []status.Bridge{br("s", 1, status.StateError, "", strings.Repeat("very long error ", 10))}, Options{}, "error: very long error very long error very long error v…"},
		{oauth("s", broker.StateSignInRequired, nil), []status.Bridge{br("s", 1, status.StateNeedsSignIn, "claude-code 1", "")}, Options{}, "sign-in required · Claude Code is waiting"},
		{oauth("s", broker.StateSignInRequired, nil), []status.Bridge{br("s", 1, status.StateNeedsSignIn, "", "")}, Options{SigningIn: map[string]bool{"s": true}}, "signing in…"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			tt.opts.Location, tt.opts.Now = time.UTC, now
			srv := model.Build([]broker.ServerStatus{tt.srv}, tt.brs, now).Servers[0]
			if got := Headline(srv, tt.opts); got != tt.want {
				t.Errorf("Headline = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIcon(t *testing.T) {
	seen := map[string]bool{}
	for s, want := range map[model.State]string{
		model.Empty: "tray-empty.png", model.OK: "tray-ok.png", model.SignInNeeded: "tray-signin.png",
		model.Error: "tray-error.png", model.State(99): "tray-error.png",
	} {
		res := Icon(s)
		if res.Name() != want {
			t.Errorf("Icon(%v) = %s, want %s", s, res.Name(), want)
		}
		// PNG, because the Linux tray decodes nothing else.
		if !strings.HasPrefix(string(res.Content()), "\x89PNG\r\n\x1a\n") {
			t.Errorf("Icon(%v) is not a PNG", s)
		}
		seen[want] = true
	}
	if len(seen) != 4 {
		t.Errorf("the four states do not have four icons: %v", seen)
	}
	if a := AppIcon(); a.Name() != "icon.png" || len(a.Content()) == 0 {
		t.Errorf("AppIcon = %s (%d bytes)", a.Name(), len(a.Content()))
	}
}
