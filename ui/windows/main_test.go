package windows

import (
	"errors"
	"fmt"
	"image"
	"image/png"
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
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	hints "github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/ui/model"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// fakeActions records what the main window's buttons asked for, as "Action name".
type fakeActions struct{ calls []string }

func (f *fakeActions) rec(what, name string) { f.calls = append(f.calls, what+" "+name) }

func (f *fakeActions) SignIn(name string)            { f.rec("SignIn", name) }
func (f *fakeActions) SignOut(name string)           { f.rec("SignOut", name) }
func (f *fakeActions) ConfigureClaude(name string)   { f.rec("ConfigureClaude", name) }
func (f *fakeActions) CopyClaudeCommand(name string) { f.rec("CopyClaudeCommand", name) }
func (f *fakeActions) Diagnose(name string)          { f.rec("Diagnose", name) }
func (f *fakeActions) ShowTools(name string)         { f.rec("ShowTools", name) }
func (f *fakeActions) EditServer(name string)        { f.rec("EditServer", name) }
func (f *fakeActions) RemoveServer(name string)      { f.rec("RemoveServer", name) }
func (f *fakeActions) AddServer()                    { f.rec("AddServer", "") }
func (f *fakeActions) TryDemo()                      { f.rec("TryDemo", "") }
func (f *fakeActions) SignInIdP(name string)         { f.rec("SignInIdP", name) }
func (f *fakeActions) CopyBugReport(name string)     { f.rec("CopyBugReport", name) }
func (f *fakeActions) SetStartAtLogin(on bool)       { f.rec("SetStartAtLogin", fmt.Sprint(on)) }
func (f *fakeActions) OpenConfigFolder()             { f.rec("OpenConfigFolder", "") }
func (f *fakeActions) Quit()                         { f.rec("Quit", "") }
func (f *fakeActions) ShowStatus()                   { f.rec("ShowStatus", "") }

// newMain is the main window as the app builds it, at the app's size.
func newMain(t *testing.T, height float32) (*Status, *fakeActions, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	act := &fakeActions{}
	s := NewStatus(fyne.CurrentApp())
	s.Actions = act
	// As the app: the bottom line's buttons show.
	s.OnCopyReport, s.OnTraffic = func() {}, func() {}
	w := s.Window()
	w.Resize(fyne.NewSize(MainWidth, height))
	return s, act, w
}

// findKeyButton finds the visible main-window button labelled text under o, the nth (from 0)
// of that label, or fails.
func findKeyButton(t *testing.T, o fyne.CanvasObject, text string, nth int) *keyButton {
	t.Helper()
	var found []*keyButton
	walk(o, func(obj fyne.CanvasObject) bool {
		if b, ok := obj.(*keyButton); ok && b.Text == text {
			found = append(found, b)
		}
		return true
	})
	if nth >= len(found) {
		t.Fatalf("no button %q number %d (found %d); texts %q", text, nth, len(found), texts(o))
	}
	return found[nth]
}

// press sends a key to what has the focus, as the GL driver does.
func press(t *testing.T, c fyne.Canvas, key fyne.KeyName) {
	t.Helper()
	f := c.Focused()
	if f == nil {
		t.Fatalf("pressing %s: nothing has the focus", key)
	}
	f.TypedKey(&fyne.KeyEvent{Name: key})
}

// focusOn moves the focus with Tab until b has it, as a keyboard user does, and fails if
// it never does.
func focusOn(t *testing.T, c fyne.Canvas, b fyne.Focusable) {
	t.Helper()
	for range 60 {
		test.FocusNext(c)
		if c.Focused() == b {
			return
		}
	}
	t.Fatalf("Tab never reaches the button")
}

// signedIn is a server signed in as someone, whose token renews by itself, and one whose
// sign-in lapses at the token's expiry (no refresh token).
var (
	signedIn = broker.ServerStatus{Name: "studio", URL: "https://studio.example.com/mcp", Auth: "oauth", Transport: "auto",
		SignedIn: true, State: broker.StateSignedIn, Expiry: at(42 * time.Minute), Issuer: "https://auth.example.com",
		Account: &broker.Account{Subject: "a1", Email: "ada@example.com", Source: broker.AccountFromIDToken}}
	noRefresh = broker.ServerStatus{Name: "linear", URL: "https://mcp.linear.app/mcp", Auth: "oauth", Transport: "auto",
		SignedIn: true, State: broker.StateSignedInNoRefresh, Expiry: at(3*time.Hour + 10*time.Minute), Issuer: "https://linear.app",
		SignInBy: at(3*time.Hour + 10*time.Minute), SignInByReason: broker.SignInByNoRefreshToken,
		Account: &broker.Account{Subject: "u7", Username: "ada", Source: broker.AccountFromIntrospection}}
)

// TestMainEmpty: a newcomer is offered the demo and Add server, and reaches both with Tab,
// pressing one with Space and the other with Enter.
func TestMainEmpty(t *testing.T) {
	s, act, w := newMain(t, 360)
	s.Update(nil, nil, now)
	assertImage(t, "main_empty.png", w)

	c := w.Canvas()
	focusOn(t, c, findKeyButton(t, w.Content(), tray.LabelTryDemo, 0))
	press(t, c, fyne.KeySpace)
	focusOn(t, c, findKeyButton(t, w.Content(), tray.LabelAddServer, 0))
	press(t, c, fyne.KeyReturn)
	if want := []string{"TryDemo ", "AddServer "}; !slices.Equal(act.calls, want) {
		t.Errorf("calls %q, want %q", act.calls, want)
	}

	// While the demo starts, its button says so and does nothing.
	s.SetActivity(nil, true)
	b := findKeyButton(t, w.Content(), tray.LabelDemoStarting, 0)
	test.Tap(b)
	if len(act.calls) != 2 || !b.Disabled() {
		t.Errorf("a starting demo's button is live: calls %q", act.calls)
	}
}

// TestMainSignedIn: each server says who it is signed in as, when its token renews, and when
// a person must sign in again; every button acts on its own server.
func TestMainSignedIn(t *testing.T) {
	s, act, w := newMain(t, 900)
	s.Update([]broker.ServerStatus{noRefresh, signedIn}, []status.Bridge{someBridges[0]}, now)
	assertImage(t, "main_signedin.png", w)
	for _, want := range []string{
		"ada@example.com", "ada",
		"by itself at 14:32 (in 42 min)",
		"at 17:00 (in 3 h 10 min): the server gave no refresh token",
		"Signed in until the token expires (no refresh token)",
	} {
		if !hasText(w.Content(), want) {
			t.Errorf("main window lacks %q; it shows %q", want, texts(w.Content()))
		}
	}
	for i, name := range []string{"linear", "studio"} {
		for _, label := range []string{tray.LabelSignOut, tray.LabelConfigure, LabelCopyShort, tray.LabelTools, tray.LabelDiagnose, tray.LabelCopyReport, tray.LabelEdit} {
			test.Tap(findKeyButton(t, w.Content(), label, i))
		}
		want := []string{"SignOut " + name, "ConfigureClaude " + name, "CopyClaudeCommand " + name, "ShowTools " + name, "Diagnose " + name, "CopyBugReport " + name, "EditServer " + name}
		if !slices.Equal(act.calls, want) {
			t.Errorf("server %s: calls %q, want %q", name, act.calls, want)
		}
		act.calls = nil
	}
	test.Tap(findKeyButton(t, w.Content(), tray.LabelAddServer, 0))
	if !slices.Equal(act.calls, []string{"AddServer "}) {
		t.Errorf("Add server: calls %q", act.calls)
	}
}

// TestMainLapse: a server says when its sign-in ends, for each reason the broker knows
// (a refresh token that expires, a session limit the server showed), and how its last
// background renewal failed: refused, it needs a sign-in; not got through, it is tried again.
func TestMainLapse(t *testing.T) {
	s, _, w := newMain(t, 1240)
	keycloak := signedIn
	keycloak.Name, keycloak.Account = "keycloak", nil
	keycloak.SignInBy, keycloak.SignInByReason = at(25*time.Minute), broker.SignInByRefreshExpiry
	keycloak.RenewalFailure = &broker.RenewalFailure{At: now.Add(-12 * time.Minute), Kind: broker.RenewalFailed, Reason: "the sign-in server answered HTTP 503"}
	corp := signedIn
	corp.Name = "corp"
	corp.SignInBy, corp.SignInByReason, corp.SessionLimitSeconds = at(7*time.Hour+30*time.Minute), broker.SignInBySessionLimit, 8*3600
	gone := broker.ServerStatus{Name: "gone", URL: "https://gone.example.com/mcp", Auth: "oauth", Transport: "auto", State: broker.StateSignInRequired,
		SessionLimitSeconds: 8 * 3600,
		RenewalFailure:      &broker.RenewalFailure{At: now.Add(-3 * time.Minute), Kind: broker.RenewalRefused, Reason: "the sign-in server refused the refresh token"}}
	s.Update([]broker.ServerStatus{corp, gone, keycloak}, nil, now)
	assertImage(t, "main_lapse.png", w)
	for _, want := range []string{
		"at 14:15 (in 25 min): the refresh token expires",
		"at about 21:20 (in 7 h 30 min): the server ended the last sign-in after 8 hours",
		"failed at 13:38 (12 min ago): the sign-in server answered HTTP 503. Tried again at the next request.",
		"failed at 13:47 (3 min ago): the sign-in server refused the refresh token. Choose Sign in.",
	} {
		if !hasText(w.Content(), want) {
			t.Errorf("main window lacks %q; it shows %q", want, texts(w.Content()))
		}
	}
}

// TestLastRenewalAdvice: a refused renewal points to what helps for the server's kind of
// sign-in: a person signs in again, a machine's credentials are mended in its settings.
func TestLastRenewalAdvice(t *testing.T) {
	refused := &broker.RenewalFailure{At: now.Add(-time.Minute), Kind: broker.RenewalRefused, Reason: "the sign-in server refused the grant"}
	for _, tt := range []struct {
		auth config.AuthMode
		want string
	}{
		{config.AuthOAuth, "Choose " + tray.LabelSignIn + "."},
		{config.AuthClientCredentials, "Check its credentials in " + tray.LabelEdit + "."},
		{config.AuthWorkload, "Check its credentials in " + tray.LabelEdit + "."},
		{config.AuthEnterprise, "Choose " + tray.LabelSignInIdP + "."},
	} {
		got, imp := lastRenewal(broker.ServerStatus{Auth: tt.auth, RenewalFailure: refused}, now)
		if !strings.HasSuffix(got, tt.want) || imp != widget.DangerImportance {
			t.Errorf("%s: %q (%v), want it to end %q, in danger", tt.auth, got, imp, tt.want)
		}
	}
}

// TestMainRemove: Remove asks first. From the keyboard: Enter on Remove… opens the question
// with Cancel focused, Escape closes it and keeps the server, Tab to Remove and Enter removes.
func TestMainRemove(t *testing.T) {
	s, act, w := newMain(t, 900)
	s.Update([]broker.ServerStatus{noRefresh, signedIn}, nil, now)
	c := w.Canvas()

	focusOn(t, c, findKeyButton(t, w.Content(), LabelRemove, 1))
	press(t, c, fyne.KeyReturn)
	if s.confirm == nil {
		t.Fatal("Remove… asked nothing")
	}
	assertImage(t, "main_remove.png", w)
	if b, ok := c.Focused().(*keyButton); !ok || b.Text != LabelCancel {
		t.Fatalf("the question opens with %v focused, want Cancel", c.Focused())
	}
	press(t, c, fyne.KeyEscape)
	if s.confirm != nil || len(act.calls) != 0 {
		t.Fatalf("Escape: dialog open %v, calls %q", s.confirm != nil, act.calls)
	}

	// Escape with nothing focused closes it too.
	test.Tap(findKeyButton(t, w.Content(), LabelRemove, 1))
	c.Unfocus()
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if s.confirm != nil || len(act.calls) != 0 {
		t.Fatalf("Escape unfocused: dialog open %v, calls %q", s.confirm != nil, act.calls)
	}

	test.Tap(findKeyButton(t, w.Content(), LabelRemove, 1))
	test.FocusNext(c)
	if b, ok := c.Focused().(*keyButton); !ok || b.Text != LabelConfirmRemove {
		t.Fatalf("Tab from Cancel reaches %v, want Remove", c.Focused())
	}
	press(t, c, fyne.KeyReturn)
	if s.confirm != nil || !slices.Equal(act.calls, []string{"RemoveServer studio"}) {
		t.Errorf("Remove: dialog open %v, calls %q", s.confirm != nil, act.calls)
	}
}

// TestMainSigningIn: a sign-in under way replaces Sign in with "Signing in…", which shows it.
func TestMainSigningIn(t *testing.T) {
	s, act, w := newMain(t, 520)
	s.Update([]broker.ServerStatus{someServers[2]}, []status.Bridge{someBridges[1]}, now)
	test.Tap(findKeyButton(t, w.Content(), tray.LabelSignIn, 0))
	s.SetActivity(map[string]bool{"notion": true}, false)
	assertImage(t, "main_signingin.png", w)
	if hasText(w.Content(), tray.LabelSignIn) {
		t.Error("Sign in still offered while signing in")
	}
	test.Tap(findKeyButton(t, w.Content(), tray.LabelSigningIn, 0))
	if want := []string{"SignIn notion", "SignIn notion"}; !slices.Equal(act.calls, want) {
		t.Errorf("calls %q, want %q", act.calls, want)
	}
}

// TestMainError: a failed action is said under its server in the window's words (choose
// Sign in, never a command), and a session that cannot reach its server is shown there too;
// a later success clears the action's error.
func TestMainError(t *testing.T) {
	s, _, w := newMain(t, 640)
	search := someServers[3]
	s.Update([]broker.ServerStatus{someServers[2], search}, []status.Bridge{someBridges[2]}, now)
	refused := &broker.OpError{Op: broker.OpSignIn, Server: "notion", Err: hints.With(errors.New("the authorization server refused the sign-in: access_denied"), hints.SignIn)}
	s.SetProblem("notion", "Signing in failed.", refused)
	assertImage(t, "main_error.png", w)
	want := "Signing in failed. The authorization server refused the sign-in: access_denied. Choose Sign in."
	if !hasText(w.Content(), want) {
		t.Errorf("no %q; the window shows %q", want, texts(w.Content()))
	}
	if !hasText(w.Content(), "search.example.com did not answer: connection refused; retrying.") {
		t.Errorf("the session's trouble is not shown under its server: %q", texts(w.Content()))
	}
	for _, s := range texts(w.Content()) {
		if slices.Contains([]string{"mcp-broker login", "mcp-broker"}, s) {
			t.Errorf("the window tells a desktop user to type a command: %q", s)
		}
	}
	s.SetProblem("notion", "", nil)
	if hasText(w.Content(), want) {
		t.Error("the error stays after it was cleared")
	}
}

// TestMainMany: many servers, each with its own buttons, scroll in one window.
func TestMainMany(t *testing.T) {
	s, act, w := newMain(t, 2600)
	var many []broker.ServerStatus
	many = append(many, someServers...)
	work := signedIn
	work.Name, work.SameURLAs = "studio-work", []string{"studio"}
	many = append(many, work, noRefresh)
	s.Update(many, someBridges, now)
	assertImage(t, "main_many.png", w)
	// Sign in on notion (sign-in required), Forget the stored token on search (bearer, stored).
	test.Tap(findKeyButton(t, w.Content(), tray.LabelSignIn, 0))
	test.Tap(findKeyButton(t, w.Content(), tray.LabelForgetToken, 0))
	test.Tap(findKeyButton(t, w.Content(), LabelRemove, len(many)-1))
	test.Tap(findKeyButton(t, w.Canvas().Overlays().Top(), LabelConfirmRemove, 0))
	if want := []string{"SignIn notion", "SignOut search", "RemoveServer linear"}; !slices.Equal(act.calls, want) {
		t.Errorf("calls %q, want %q", act.calls, want)
	}
}

// TestMainArtifact writes the main window, signed in, as main-window-states.png to
// $MCP_BROKER_ARTIFACTS (dist/artifacts under make), beside the screenshots of the desktop
// tests, for people to look at.
func TestMainArtifact(t *testing.T) {
	dir := os.Getenv("MCP_BROKER_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	s, _, w := newMain(t, 900)
	s.Update([]broker.ServerStatus{noRefresh, signedIn}, []status.Bridge{someBridges[0]}, now)
	test.ApplyTheme(t, lightTheme{})
	settle(w)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "main-window-states.png")
	if err := writePNG(path, w.Canvas().Capture()); err != nil {
		t.Fatal(fmt.Errorf("writing the screenshot: %w", err))
	}
	t.Logf("screenshot: %s", path)
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TestMainConfigError: a configuration that cannot be read is said in the window's words,
// with the file and a button to open its folder, and neither the demo nor Add server is
// offered (both would write the file); once it reads, the servers show again.
func TestMainConfigError(t *testing.T) {
	s, act, w := newMain(t, 520)
	s.SetStartAtLogin(false, true)
	// The error as model.Read has it from config.Load.
	s.SetConfigError("/home/ada/.config/mcp-broker/config.json", `config file /home/ada/.config/mcp-broker/config.json is not valid: line 3, column 2: invalid character '}' looking for beginning of object key string`)
	s.Update(nil, nil, now)
	assertImage(t, "main_configerror.png", w)
	for _, want := range []string{
		"The configuration cannot be read",
		"Config file /home/ada/.config/mcp-broker/config.json is not valid: line 3, column 2: invalid character '}' looking for beginning of object key string.",
		"/home/ada/.config/mcp-broker/config.json",
	} {
		if !hasText(w.Content(), want) {
			t.Errorf("no %q; the window shows %q", want, texts(w.Content()))
		}
	}
	if !hasTextContaining(w.Content(), "adding a server is not possible") {
		t.Errorf("the window does not say a server cannot be added: %q", texts(w.Content()))
	}
	for _, gone := range []string{tray.LabelTryDemo, tray.LabelAddServer, "No servers yet"} {
		if hasText(w.Content(), gone) {
			t.Errorf("%q offered while the configuration cannot be read", gone)
		}
	}
	c := w.Canvas()
	focusOn(t, c, findKeyButton(t, w.Content(), tray.LabelOpenConfigFolder, 0))
	press(t, c, fyne.KeyReturn)
	if want := []string{"OpenConfigFolder "}; !slices.Equal(act.calls, want) {
		t.Errorf("calls %q, want %q", act.calls, want)
	}

	s.SetConfigError("", "")
	s.Update([]broker.ServerStatus{signedIn}, nil, now)
	if hasText(w.Content(), "The configuration cannot be read") || !hasText(w.Content(), tray.LabelAddServer) {
		t.Errorf("after the file reads again the window shows %q", texts(w.Content()))
	}
}

// TestMainEnterprise: an enterprise server whose company sign-in is missing offers the menu's
// "Sign in with your company account", for its identity provider; while that sign-in is under
// way it says so (pressing it shows the sign-in), and once signed in it offers Sign out.
func TestMainEnterprise(t *testing.T) {
	wiki := broker.ServerStatus{Name: "wiki", URL: "https://wiki.corp.example/mcp", Auth: config.AuthEnterprise, IdP: "corp",
		Transport: config.TransportAuto, State: broker.StateSignInRequired}
	jira := wiki
	jira.Name, jira.URL, jira.IdP = "jira", "https://jira.lab.example/mcp", "lab"
	s, act, w := newMain(t, 640)
	s.Update([]broker.ServerStatus{jira, wiki}, nil, now)
	assertImage(t, "main_enterprise.png", w)
	if hasText(w.Content(), tray.LabelSignIn) {
		t.Errorf("plain Sign in offered beside the company sign-in: %q", texts(w.Content()))
	}
	c := w.Canvas()
	focusOn(t, c, findKeyButton(t, w.Content(), tray.LabelSignInIdP, 1))
	press(t, c, fyne.KeySpace)
	test.Tap(findKeyButton(t, w.Content(), tray.LabelSignInIdP, 0))
	if want := []string{"SignInIdP corp", "SignInIdP lab"}; !slices.Equal(act.calls, want) {
		t.Errorf("calls %q, want %q", act.calls, want)
	}
	act.calls = nil

	s.SetActivity(map[string]bool{tray.IdPKey("corp"): true}, false)
	test.Tap(findKeyButton(t, w.Content(), tray.LabelSigningIn, 0))
	findKeyButton(t, w.Content(), tray.LabelSignInIdP, 0) // jira's, through another provider
	if want := []string{"SignInIdP corp"}; !slices.Equal(act.calls, want) {
		t.Errorf("Signing in…: calls %q, want %q", act.calls, want)
	}
	act.calls = nil

	wiki.SignedIn, wiki.State = true, broker.StateSignedInIdP
	wiki.Account = &broker.Account{Subject: "u1", Email: "ada@corp.example", Source: broker.AccountFromIdP}
	s.SetActivity(nil, false)
	s.Update([]broker.ServerStatus{wiki}, nil, now)
	if hasText(w.Content(), tray.LabelSignInIdP) || !hasText(w.Content(), "ada@corp.example") {
		t.Errorf("signed in: the window shows %q", texts(w.Content()))
	}
	test.Tap(findKeyButton(t, w.Content(), tray.LabelSignOut, 0))
	if want := []string{"SignOut wiki"}; !slices.Equal(act.calls, want) {
		t.Errorf("Sign out: calls %q, want %q", act.calls, want)
	}
}

// TestMainWaiting: a server an MCP client waits on comes first, as in the menu, with a
// button to sign in, and says so under the server; the button goes while signing in.
func TestMainWaiting(t *testing.T) {
	s, act, w := newMain(t, 900)
	s.Update([]broker.ServerStatus{someServers[0], someServers[2]}, []status.Bridge{someBridges[0], someBridges[1]}, now)
	// The menu's words, whose ⚠ is the button's icon.
	label := strings.TrimPrefix(tray.WaitingLabel(model.Server{ServerStatus: someServers[2], Bridges: someBridges[1:2]}), "⚠ ")
	c := w.Canvas()
	test.FocusNext(c)
	if b, ok := c.Focused().(*keyButton); !ok || b.Text != label {
		t.Fatalf("the first button is %v, want %q", c.Focused(), label)
	}
	press(t, c, fyne.KeyReturn)
	if want := []string{"SignIn notion"}; !slices.Equal(act.calls, want) {
		t.Errorf("calls %q, want %q", act.calls, want)
	}
	if !hasText(w.Content(), "Claude Code is waiting for you to sign in.") {
		t.Errorf("the server does not say a client waits: %q", texts(w.Content()))
	}
	s.SetActivity(map[string]bool{"notion": true}, false)
	if hasText(w.Content(), label) {
		t.Error("the waiting button stays while signing in")
	}
}

// TestMainAppRow: the menu's Start at login and Quit are at the bottom of the main window.
// The check shows what the app says, whichever of menu and window changed it; ticking it
// (Tab, Space) asks the app, and a change that failed shows as the app's word comes back.
func TestMainAppRow(t *testing.T) {
	s, act, w := newMain(t, 360)
	s.SetStartAtLogin(false, true)
	s.Update(nil, nil, now)
	c := w.Canvas()
	focusOn(t, c, s.login)
	s.login.TypedRune(' ')
	if want := []string{"SetStartAtLogin true"}; !slices.Equal(act.calls, want) {
		t.Fatalf("Space on Start at login: calls %q, want %q", act.calls, want)
	}
	// The app could not turn it on: the check shows it off again, asking nothing.
	s.SetStartAtLogin(false, true)
	if s.login.Checked || len(act.calls) != 1 {
		t.Errorf("after a failed change: checked %v, calls %q", s.login.Checked, act.calls)
	}
	// The menu turned it on: the check follows, asking nothing.
	s.SetStartAtLogin(true, true)
	if !s.login.Checked || len(act.calls) != 1 {
		t.Errorf("after the menu's change: checked %v, calls %q", s.login.Checked, act.calls)
	}
	s.login.TypedRune(' ')
	if want := []string{"SetStartAtLogin true", "SetStartAtLogin false"}; !slices.Equal(act.calls, want) {
		t.Errorf("unticking: calls %q, want %q", act.calls, want)
	}
	s.SetStartAtLogin(false, false)
	if s.login.Visible() {
		t.Error("Start at login shows where the platform has none")
	}
	act.calls = nil
	focusOn(t, c, findKeyButton(t, w.Content(), tray.LabelQuit, 0))
	press(t, c, fyne.KeyReturn)
	if want := []string{"Quit "}; !slices.Equal(act.calls, want) {
		t.Errorf("Quit: calls %q, want %q", act.calls, want)
	}
}
