package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/report"
	"github.com/mcp-broker/mcp-broker/internal/demo"
	"github.com/mcp-broker/mcp-broker/ui/model"
	"github.com/mcp-broker/mcp-broker/ui/tray"
	"github.com/mcp-broker/mcp-broker/ui/windows"
)

// shutdownTimeout bounds the wait for background work (a sign-in, a keychain call) after the
// window loop has ended: quitting must not hang on a keychain that does not answer.
const shutdownTimeout = 5 * time.Second

// lapseWarning is how long before a sign-in lapses (broker.ServerStatus.SignInBy) the app
// says so: time to finish what Claude Code is doing and sign in again.
const lapseWarning = 10 * time.Minute

// unreachableWarning is how long a bridge must have been unable to reach its server before
// the app says so: a bridge retries by itself, and a short outage passes unnoticed.
const unreachableWarning = 3 * time.Minute

// newToolsListed is how many new tools a notification names; the rest it counts.
const newToolsListed = 5

// trayApp is the running app: it implements tray.Actions, and owns every goroutine it starts
// (wg; each ends with ctx, which Run cancels once Fyne's loop is over).
//
// Fields below "UI thread" are read and written only on Fyne's UI thread (menu handlers, and
// functions passed to fyne.Do), so they need no lock.
type trayApp struct {
	ctx     context.Context
	opts    Options
	log     *slog.Logger
	fyne    fyne.App
	desk    trayHost // nil without a tray
	watcher *model.Watcher
	notes   chan *fyne.Notification
	auto    startAtLogin
	wg      sync.WaitGroup
	// openURL opens a URL with the system's opener (Fyne's, which waits for it: call it off
	// the UI thread); tests record it.
	openURL func(*url.URL) error

	// runtimeDir is where bridges and the tray announce themselves, and where a second start
	// asks for the main window (showRequestFile).
	runtimeDir string

	// UI thread.
	// root is the one tray menu given to Fyne, refilled on every change: Fyne's tray, once
	// ready, re-reads the menu it was first given, so a new menu passed before then would be
	// replaced by the stale first one.
	root         *fyne.Menu
	snap         model.Snapshot
	haveSnap     bool
	outline      string
	icon         model.State
	iconSet      bool
	signIns      map[string]*signIn
	startAtLogin bool
	demo         *demo.Demo
	demoStarting bool
	status       *windows.Status
	// timeline is the open Timeline window (the bridges' traffic), nil when closed.
	timeline *windows.Timeline
	// lapseWarned maps a server to the expiry the person was warned about (model.LapseDue);
	// lapseTimer fires when the next warning falls due.
	lapseWarned map[string]time.Time
	lapseTimer  *time.Timer
	// unreachableTold holds the servers the person was told cannot be reached, until they can
	// again (model.Unreachable); unreachableTimer fires when the next outage becomes news.
	unreachableTold  map[string]bool
	unreachableTimer *time.Timer
	// toolsKnown maps a server to the tool names the app last saw of it (model.NewTools).
	toolsKnown map[string][]string
	// signingOut holds the servers this app is signing out of or removing: their sign-in
	// ending is no failed renewal.
	signingOut map[string]bool
}

// signIn is a sign-in under way.
type signIn struct {
	cancel context.CancelFunc
	win    *windows.SignIn // nil until the browser has been asked to open
}

// trayHost is the part of Fyne's desktop.App the tray uses; tests record it.
type trayHost interface {
	SetSystemTrayMenu(menu *fyne.Menu)
	SetSystemTrayIcon(icon fyne.Resource)
}

// run builds the app and runs Fyne's loop until the user quits or ctx ends. withTray enables
// the tray icon; trayShown says a tray host will show it, else the main window opens at start.
func run(ctx context.Context, opts Options, withTray, trayShown bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	runtimeDir := opts.RuntimeDir
	if runtimeDir == "" {
		d, err := status.RuntimeDir()
		if err != nil {
			return err
		}
		runtimeDir = d
	}
	if withTray && status.TrayRunning(runtimeDir) {
		// Started again (from the app launcher) while the tray runs: one app, its window shown.
		if opts.Background {
			opts.Log.Info("the app is running already")
			return nil
		}
		if err := requestShow(runtimeDir, opts.Show); err != nil {
			return err
		}
		opts.Log.Info("the app is running already: asked it to show its window", "window", opts.Show)
		return nil
	}
	app.SetMetadata(fyne.AppMetadata{ID: AppID, Name: appName, Version: opts.Version, Icon: tray.AppIcon(), Release: true})
	a := app.NewWithID(AppID)
	a.SetIcon(tray.AppIcon())

	var host trayHost
	if desk, ok := a.(desktop.App); ok && withTray {
		host = desk
	}
	t := newTrayApp(ctx, a, opts, runtimeDir, host, systemStartAtLogin())
	if host == nil || !trayShown {
		// No tray, or no one to show it: the main window stands in for it (without a tray,
		// with the tray's menu as its menu), and closing it ends the app.
		t.status.Window().SetCloseIntercept(a.Quit)
		t.status.Show()
	} else if !opts.Background {
		// Started by a person (the app launcher, the command typed), not at login: they
		// want to see the app, not only its icon.
		t.status.Show()
	}
	if opts.Show == ShowTimeline {
		t.showTraffic()
	}
	if host != nil {
		// Bridges leave interactive sign-in to a live tray (which tells the user); without a
		// tray icon to click there is no one to leave it to.
		withdraw, err := status.AnnounceTray(runtimeDir)
		if err != nil {
			t.log.Warn("announcing the tray to bridges failed: bridges will open the browser themselves", "err", err)
		} else {
			defer func() {
				if err := withdraw(); err != nil {
					t.log.Warn("withdrawing the tray announcement", "err", err)
				}
			}()
		}
	}

	t.start()
	// ctx ending (SIGINT, SIGTERM via the command's context) quits the app like the menu does.
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()

	a.Run()

	cancel()
	t.shutdown()
	return nil
}

// upgradeStartAtLogin rewrites a start-at-login entry an earlier release wrote, which starts
// the app without autostart.BackgroundFlag and so would open the main window at every login.
func (t *trayApp) upgradeStartAtLogin() {
	exe, err := os.Executable()
	if err == nil {
		var done bool
		if done, err = t.auto.Upgrade(exe); done {
			t.log.Info("rewrote the start-at-login entry to start with the icon alone")
		}
	}
	if err != nil {
		t.log.Warn("updating the start-at-login entry", "err", err)
	}
}

// newTrayApp builds the app's state, its status window and, with a host, the first tray menu
// and icon. Nothing runs in the background until start.
func newTrayApp(ctx context.Context, a fyne.App, opts Options, runtimeDir string, host trayHost, auto startAtLogin) *trayApp {
	t := &trayApp{
		ctx: ctx, opts: opts, runtimeDir: runtimeDir, log: opts.Log, fyne: a, desk: host,
		watcher: model.NewWatcher(model.Paths{Config: opts.ConfigPath, Bridges: status.BridgesDir(runtimeDir), Tools: opts.ToolsDir}, opts.PollInterval, nil),
		notes:   make(chan *fyne.Notification, 16),
		auto:    auto,
		signIns: map[string]*signIn{},

		lapseWarned:     map[string]time.Time{},
		signingOut:      map[string]bool{},
		unreachableTold: map[string]bool{},
		toolsKnown:      map[string][]string{},
		openURL:         a.OpenURL,
	}
	if on, err := t.auto.Enabled(); err != nil {
		t.log.Warn("reading the start-at-login setting", "err", err)
	} else {
		t.startAtLogin = on
		if on {
			t.upgradeStartAtLogin()
		}
	}
	// The status window is the main window: every server with its actions.
	t.status = windows.NewStatus(a)
	t.status.OnAddServer = t.AddServer
	t.status.Actions = t
	t.status.Window().SetTitle(appName)
	t.status.Window().Resize(fyne.NewSize(windows.MainWidth, 720))
	t.status.OnCopyReport = func() { t.CopyBugReport("") }
	t.status.OnTraffic = t.showTraffic
	t.status.SetStartAtLogin(t.startAtLogin, t.auto.Supported())
	if host != nil {
		// The menu first: Fyne starts the tray with it, and the icon can only be set after.
		t.root = tray.Menu(model.Snapshot{}, t.menuOptions(), t)
		t.outline = tray.Outline(t.root)
		host.SetSystemTrayMenu(t.root)
		t.setIcon(model.Empty)
	}
	return t
}

// start starts the background work: the watcher, whose snapshots reach the UI thread through
// fyne.Do, and, with a tray, the notification sender.
func (t *trayApp) start() {
	if t.desk != nil {
		t.wg.Go(t.sendNotifications)
		interval := t.opts.PollInterval
		if interval <= 0 {
			interval = model.DefaultInterval
		}
		t.wg.Go(func() { t.watchShowRequests(t.ctx, interval) })
	}
	t.wg.Go(func() {
		_ = t.watcher.Run(t.ctx, func(s model.Snapshot) { fyne.Do(func() { t.apply(s) }) })
	})
}

// shutdown stops what the app started, once the window loop is over.
func (t *trayApp) shutdown() {
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		t.log.Warn("background work did not stop in time; quitting anyway")
	}
	if t.lapseTimer != nil {
		t.lapseTimer.Stop()
	}
	if t.unreachableTimer != nil {
		t.unreachableTimer.Stop()
	}
	if t.demo != nil {
		if err := t.demo.Close(); err != nil {
			t.log.Warn("stopping the demo server", "err", err)
		}
	}
}

// notifyRefused says that the authorization server refused a background renewal of srv
// (broker.RenewalRefused), with the next step for how it signs in: a person signs in again;
// a machine's grant (client credentials, a workload's JWT) needs its setup looked at, since
// the same grant would be refused again; an enterprise server's, the company account's
// sign-in.
func (t *trayApp) notifyRefused(srv model.Server) {
	name, f := srv.Name, srv.RenewalFailure
	switch srv.Auth {
	case config.AuthClientCredentials, config.AuthWorkload:
		t.notify("The sign-in server refused "+name+"'s credentials",
			capitalize(f.Reason)+" at "+f.At.Local().Format("15:04")+". Check its client, secret, key or JWT with "+tray.LabelEdit+" for "+name+" in the MCP Broker menu or window.")
	case config.AuthEnterprise:
		t.notify("Could not renew the sign-in to "+name,
			capitalize(f.Reason)+" at "+f.At.Local().Format("15:04")+". Choose “"+tray.LabelSignInIdP+"” in the MCP Broker menu or window.")
	default:
		t.notify("Signed out of "+name+": sign in again",
			"The sign-in server refused to renew its access token. Choose "+tray.LabelSignIn+" for "+name+" in the MCP Broker menu or window.")
	}
}

// apply shows a new snapshot: menu, icon, status window, and a notification for each server
// a client has just started waiting on.
func (t *trayApp) apply(s model.Snapshot) {
	t.log.Debug("state", "servers", len(s.Servers), "bridges", len(s.Bridges), "state", s.State.String(), "config_error", s.ConfigError)
	prev := t.snap
	if !t.haveSnap {
		prev = model.Snapshot{}
	}
	t.snap, t.haveSnap = s, true
	servers := make([]broker.ServerStatus, len(s.Servers))
	for i, srv := range s.Servers {
		servers[i] = srv.ServerStatus
	}
	t.status.SetConfigError(t.opts.ConfigPath, s.ConfigError)
	t.status.Update(servers, s.Bridges, s.At)
	t.refresh()
	for _, name := range model.NewlyWaiting(prev, s) {
		srv, _ := s.Server(name)
		t.notify(capitalize(srv.WaitingClient())+" is waiting for you to sign in to "+name,
			"Choose “Sign in to "+name+"” in the MCP Broker menu or window.")
	}
	for _, name := range model.RenewalFailed(prev, s) {
		if t.signingOut[name] || t.signIns[name] != nil {
			continue
		}
		srv, _ := s.Server(name)
		if f := srv.RenewalFailure; f.Kind == broker.RenewalFailed {
			t.notify("Could not renew the sign-in to "+name,
				capitalize(f.Reason)+" at "+f.At.Local().Format("15:04")+". It is tried again at the next request; nothing to do unless it keeps failing.")
			continue
		}
		t.notifyRefused(srv)
	}
	for name := range t.signingOut {
		if srv, ok := s.Server(name); !ok || !srv.SignedIn {
			delete(t.signingOut, name)
		}
	}
	t.warnLapses()
	t.warnUnreachable()
	t.noteNewTools(s)
}

// warnUnreachable notifies, once per outage, of each server a bridge has been unable to reach
// for unreachableWarning, and sets a timer for the next one: a bridge retrying does not change
// its status file, so no snapshot comes as that moment passes.
func (t *trayApp) warnUnreachable() {
	for name := range t.unreachableTold {
		if srv, ok := t.snap.Server(name); !ok {
			delete(t.unreachableTold, name)
		} else if _, down := srv.Unreachable(); !down {
			delete(t.unreachableTold, name)
		}
	}
	now := time.Now()
	due, next := model.Unreachable(t.snap, now, unreachableWarning, t.unreachableTold)
	for _, name := range due {
		srv, _ := t.snap.Server(name)
		b, _ := srv.Unreachable()
		t.unreachableTold[name] = true
		msg := capitalize(model.ClientName(b.Client)) + " has been trying to reach it since " + b.Since.Local().Format("15:04")
		if b.LastError != "" {
			msg += " (" + b.LastError + ")"
		}
		t.notify(name+" cannot be reached",
			msg+". Choose "+tray.LabelDiagnose+" for "+name+" in the MCP Broker menu or window to find out why.")
	}
	if t.unreachableTimer != nil {
		t.unreachableTimer.Stop()
		t.unreachableTimer = nil
	}
	if !next.IsZero() && t.ctx.Err() == nil {
		t.unreachableTimer = time.AfterFunc(next.Sub(now), func() { fyne.Do(t.warnUnreachable) })
	}
}

// noteNewTools notifies of the tools a server lists that it did not when the app last looked:
// Claude Code offers them to the model from now on, and the person may rather hide them.
func (t *trayApp) noteNewTools(s model.Snapshot) {
	for _, a := range model.NewTools(t.toolsKnown, s) {
		shown := a.Tools
		more := ""
		if len(shown) > newToolsListed {
			shown, more = shown[:newToolsListed], " and "+strconv.Itoa(len(a.Tools)-newToolsListed)+" more"
		}
		noun := " new tools"
		if len(a.Tools) == 1 {
			noun = " new tool"
		}
		t.notify(a.Server+" offers "+strconv.Itoa(len(a.Tools))+noun+": "+strings.Join(shown, ", ")+more,
			"To keep any of them from Claude Code, choose "+tray.LabelTools+" for "+a.Server+" in the MCP Broker menu or window.")
	}
	for _, srv := range s.Servers {
		if srv.Tools != nil {
			t.toolsKnown[srv.Name] = srv.Tools
		}
	}
}

// warnLapses notifies, once per sign-in, of each sign-in that lapses within lapseWarning, and
// sets a timer for the next one: the snapshot does not change as that moment comes near.
func (t *trayApp) warnLapses() {
	now := time.Now()
	due, next := model.LapseDue(t.snap, now, lapseWarning, t.lapseWarned)
	for _, name := range due {
		srv, _ := t.snap.Server(name)
		t.lapseWarned[name] = *srv.SignInBy
		t.notify("Sign in to "+name+" again soon",
			lapseWhy(srv.ServerStatus)+": choose "+tray.LabelSignIn+" then, or now.")
	}
	if t.lapseTimer != nil {
		t.lapseTimer.Stop()
		t.lapseTimer = nil
	}
	if !next.IsZero() && t.ctx.Err() == nil {
		t.lapseTimer = time.AfterFunc(next.Sub(now), func() { fyne.Do(t.warnLapses) })
	}
}

// lapseWhy says when and why a sign-in ends, for the warning ahead of it.
func lapseWhy(srv broker.ServerStatus) string {
	at := srv.SignInBy.Local().Format("15:04")
	switch srv.SignInByReason {
	case broker.SignInByNoRefreshToken:
		return "Its access token expires at " + at + " and the server gave no refresh token"
	case broker.SignInByRefreshExpiry:
		return "Its sign-in ends at " + at + ", when the refresh token expires"
	}
	return "Its sign-in ends at about " + at + ": " + srv.SignInByReason.Why(srv.SessionLimit())
}

// refresh rebuilds the menu from the current snapshot and the app's own state, and hands it
// to the tray only when it reads differently (a rebuild makes some tray hosts flicker).
func (t *trayApp) refresh() {
	opts := t.menuOptions()
	t.status.SetActivity(opts.SigningIn, t.demoStarting)
	t.status.SetStartAtLogin(opts.StartAtLogin, !opts.NoStartAtLogin)
	m := tray.Menu(t.snap, opts, t)
	out := tray.Outline(m)
	if out == t.outline {
		t.setIcon(t.snap.State)
		return
	}
	t.outline = out
	if t.desk == nil {
		t.status.Window().SetMainMenu(fyne.NewMainMenu(m))
		return
	}
	t.root.Items = m.Items
	t.desk.SetSystemTrayMenu(t.root)
	t.setIcon(t.snap.State)
}

func (t *trayApp) setIcon(s model.State) {
	if t.desk == nil || (t.iconSet && s == t.icon) {
		return
	}
	t.icon, t.iconSet = s, true
	t.desk.SetSystemTrayIcon(tray.Icon(s))
}

func (t *trayApp) menuOptions() tray.Options {
	signing := map[string]bool{}
	for name := range t.signIns {
		signing[name] = true
	}
	return tray.Options{
		StartAtLogin:   t.startAtLogin,
		NoStartAtLogin: !t.auto.Supported(),
		SigningIn:      signing,
		DemoStarting:   t.demoStarting,
	}
}

// notify queues a desktop notification. Sending is a D-Bus round trip, done off the UI thread;
// a full queue drops the note rather than block the UI.
func (t *trayApp) notify(title, content string) {
	t.log.Info("notification", "title", title, "content", content)
	if t.desk == nil {
		return
	}
	select {
	case t.notes <- fyne.NewNotification(title, content):
	default:
	}
}

func (t *trayApp) sendNotifications() {
	for {
		select {
		case <-t.ctx.Done():
			return
		case n := <-t.notes:
			t.fyne.SendNotification(n)
		}
	}
}

// openBroker opens the broker for one operation. The secret store is chosen again each time
// (the config file names it), and op, when set, receives the browser's URL. The tray is
// interactive: the keychain may ask the person to unlock it.
func (t *trayApp) openBroker(ctx context.Context, op opener.Opener) (*broker.Broker, error) {
	if op == nil {
		op = opener.System(t.opts.Stderr)
	}
	return broker.Open(ctx, broker.OpenOptions{
		ConfigPath:      t.opts.ConfigPath,
		Interactive:     true,
		KeychainTimeout: t.opts.KeychainTimeout,
		Opener:          op,
		Version:         t.opts.Version,
		Log:             t.log,
	})
}

// background runs fn in a goroutine the app owns, with the app's context.
func (t *trayApp) background(fn func(ctx context.Context)) {
	t.wg.Go(func() { fn(t.ctx) })
}

// SignIn implements tray.Actions: it starts a sign-in, or shows the one under way.
func (t *trayApp) SignIn(name string) { t.startSignIn(name, t.signInOptions(name)) }

// signInOptions are the options of a sign-in the person starts for the server: it asks for
// what the server's live bridges were refused for (status.SignInScope), since a bridge waiting
// for a sign-in leaves it to the tray.
func (t *trayApp) signInOptions(name string) broker.LoginOptions {
	return broker.LoginOptions{ChallengeScope: status.SignInScope(t.snap.Bridges, name)}
}

// startSignIn starts a sign-in with opts, or shows the one under way.
func (t *trayApp) startSignIn(name string, opts broker.LoginOptions) {
	ctx, cancel, s, op, ok := t.beginSignIn(name, name)
	if !ok {
		return
	}
	t.background(func(context.Context) {
		defer cancel()
		var res *broker.LoginResult
		b, err := t.openBroker(ctx, op)
		if err == nil {
			res, err = b.Login(ctx, name, opts)
		}
		// Read now: the deferred cancel runs before the UI thread gets to the closure.
		cancelled := ctx.Err() != nil
		fyne.Do(func() { t.signInDone(name, s, res, err, cancelled) })
	})
}

// beginSignIn records a sign-in under key and returns its context, the record and the opener
// to hand the broker; ok is false when one is under way already, whose window it shows again.
// The browser is opened by the broker, once it knows the URL; the sign-in window (titled for
// what) shows then, with the URL to open again or copy.
func (t *trayApp) beginSignIn(key, what string) (ctx context.Context, cancel context.CancelFunc, s *signIn, op urlOpener, ok bool) {
	if s := t.signIns[key]; s != nil {
		if s.win != nil {
			s.win.Window().Show()
			s.win.Window().RequestFocus()
		}
		return nil, nil, nil, urlOpener{}, false
	}
	ctx, cancel = context.WithCancel(t.ctx)
	s = &signIn{cancel: cancel}
	t.signIns[key] = s
	t.refresh()
	op = urlOpener{next: opener.System(t.opts.Stderr), onURL: func(u string) {
		fyne.Do(func() {
			if t.signIns[key] == s && s.win == nil && ctx.Err() == nil {
				s.win = windows.ShowSignIn(t.fyne, what, u, cancel)
			}
		})
	}}
	return ctx, cancel, s, op, true
}

// endSignIn forgets the sign-in s recorded under key by beginSignIn, unless another has taken
// its place, and closes its window.
func (t *trayApp) endSignIn(key string, s *signIn) {
	if t.signIns[key] == s {
		delete(t.signIns, key)
	}
	if s.win != nil {
		s.win.Close()
	}
}

func (t *trayApp) signInDone(name string, s *signIn, res *broker.LoginResult, err error, cancelled bool) {
	t.endSignIn(name, s)
	var moved *broker.IssuerChangedError
	if err == nil || cancelled {
		t.status.SetProblem(name, "", nil)
	}
	switch {
	case err == nil:
		title, msg := "Signed in to "+name, "Claude Code and your other MCP clients can use "+name+" now."
		if res != nil && res.Expiry != "" {
			if exp, perr := time.Parse(time.RFC3339, res.Expiry); perr == nil {
				if res.NoRefreshToken {
					msg += " The server gave no refresh token: sign in again when the token expires at " + exp.Local().Format("15:04") + "."
				} else {
					msg += " The access token renews by itself after " + exp.Local().Format("15:04") + "."
				}
			}
		}
		if res != nil && res.Account != nil {
			title += " as " + res.Account.String()
		}
		if res != nil && len(res.SameAccountAs) > 0 {
			// The browser was still signed in at the provider, which signed this one in as well.
			msg += " It is the same account as " + strings.Join(res.SameAccountAs, " and ") +
				": to use another, sign out at the provider in your browser, then sign in to " + name + " again."
		}
		t.notify(title, msg)
	case cancelled && t.ctx.Err() == nil:
		t.log.Info("sign-in cancelled", "server", name)
	case t.ctx.Err() != nil:
		// Quitting.
	case errors.As(err, &moved):
		// Only the person can say whether the server really moved: ask, rather than notify.
		t.log.Warn("sign-in refused: the sign-in server changed", "server", name, "was", moved.Was, "now", moved.Now)
		windows.ShowIssuerChanged(t.fyne, name, moved.Was, moved.Now, func() {
			opts := t.signInOptions(name)
			opts.AcceptNewIssuer = true
			t.startSignIn(name, opts)
		})
	default:
		t.log.Warn("sign-in failed", "server", name, "err", err)
		t.notify("Sign-in to "+name+" failed", sentence(err, name))
		t.status.SetProblem(name, "Signing in failed.", err)
	}
	t.watcher.Kick()
	t.refresh()
}

// SignInIdP implements tray.Actions: it signs in to the identity provider in the browser, and
// through it to every server configured with it; a sign-in under way is shown again.
func (t *trayApp) SignInIdP(name string) {
	ctx, cancel, s, op, ok := t.beginSignIn(tray.IdPKey(name), "your company account ("+name+")")
	if !ok {
		return
	}
	t.background(func(context.Context) {
		defer cancel()
		var res *broker.IdPLoginResult
		b, err := t.openBroker(ctx, op)
		if err == nil {
			res, err = b.IdPLogin(ctx, name, broker.IdPLoginOptions{})
		}
		cancelled := ctx.Err() != nil
		fyne.Do(func() { t.idpSignInDone(name, s, res, err, cancelled) })
	})
}

// idpSignInDone ends a sign-in at an identity provider: it says which servers are ready, and
// which are not and why.
func (t *trayApp) idpSignInDone(name string, s *signIn, res *broker.IdPLoginResult, err error, cancelled bool) {
	t.endSignIn(tray.IdPKey(name), s)
	switch {
	case err == nil:
		var ready []string
		for _, r := range res.Servers {
			ready = append(ready, r.Server)
		}
		msg := "Claude Code and your other MCP clients can use " + strings.Join(ready, ", ") + " now."
		if len(ready) == 0 {
			msg = "No server is configured with this identity provider yet."
		}
		for _, f := range res.Failed {
			t.log.Warn("getting a token through the identity provider failed", "server", f.Server, "err", f.Err)
			msg += " " + f.Server + ": " + sentence(f.Err, f.Server)
		}
		t.notify("Signed in with your company account", msg)
	case cancelled && t.ctx.Err() == nil:
		t.log.Info("sign-in cancelled", "idp", name)
	case t.ctx.Err() != nil:
	default:
		t.log.Warn("sign-in failed", "idp", name, "err", err)
		t.notify("Sign-in with your company account failed", sentence(err, name))
	}
	t.watcher.Kick()
	t.refresh()
}

// SignOut implements tray.Actions.
func (t *trayApp) SignOut(name string) {
	t.signingOut[name] = true
	t.background(func(ctx context.Context) {
		var res *broker.LogoutResult
		b, err := t.openBroker(ctx, nil)
		if err == nil {
			res, err = b.Logout(ctx, name)
		}
		t.settled(name, "Signing out failed.", err)
		switch {
		case err != nil:
			t.log.Warn("sign-out failed", "server", name, "err", err)
			t.notify("Signing out of "+name+" failed", sentence(err, name))
		case res.Warning != "":
			t.log.Warn("sign-out: the tokens were not revoked", "server", name, "warning", res.Warning)
			t.notify("Signed out of "+name, sentence(errors.New(res.Warning), name))
		case res.Revoked:
			t.notify("Signed out of "+name, "Its tokens are revoked at its sign-in server and deleted from your keychain.")
		default:
			t.notify("Signed out of "+name, "Its tokens are deleted from your keychain.")
		}
	})
}

// RemoveServer implements windows.Actions: the main window has asked the person first.
func (t *trayApp) RemoveServer(name string) {
	t.signingOut[name] = true
	t.background(func(ctx context.Context) {
		b, err := t.openBroker(ctx, nil)
		if err == nil {
			err = b.RemoveServer(ctx, name)
		}
		t.settled(name, "Removing the server failed.", err)
		if err != nil {
			t.log.Warn("removing the server failed", "server", name, "err", err)
			t.notify("Removing "+name+" failed", sentence(err, name))
			return
		}
		t.notify("Removed "+name, "Its tokens and client registration are deleted from your keychain.")
	})
}

// settled ends a sign-out or removal of the server, from any goroutine: it reads the state
// again and shows err, if any, in the main window under the server. After a success the
// server stays in signingOut until apply sees its sign-in gone, so that it is not taken for
// a failed renewal.
func (t *trayApp) settled(name, what string, err error) {
	t.watcher.Kick()
	fyne.Do(func() {
		t.status.SetProblem(name, what, err)
		if err != nil {
			delete(t.signingOut, name)
		}
	})
}

// ConfigureClaude implements tray.Actions.
func (t *trayApp) ConfigureClaude(name string) {
	windows.ShowConfigureClaude(t.fyne, claudeWriter{ctx: t.ctx, w: claudeconfig.Writer{Binary: t.opts.Binary}}, name)
}

// CopyClaudeCommand implements tray.Actions.
func (t *trayApp) CopyClaudeCommand(name string) {
	cmd := claudeconfig.Command(name, t.opts.Binary)
	t.fyne.Clipboard().SetContent(cmd)
	t.notify("Copied the Claude Code command", cmd)
}

// Diagnose implements tray.Actions.
func (t *trayApp) Diagnose(name string) {
	srv, ok := t.snap.Server(name)
	if !ok {
		return
	}
	windows.ShowDiagnosis(t.fyne, name, srv.URL, func(ctx context.Context) (*doctor.Report, error) { return t.diagnoseServer(ctx, name) })
}

// diagnoseServer diagnoses the configured server called name as `mcp-broker doctor NAME`
// does: with its setup (doctor.Configured), so that the findings judge its sign-in method,
// its accounts and what the broker recorded of its sign-ins, and, for a private_key_jwt
// client, its key from the secret store.
func (t *trayApp) diagnoseServer(ctx context.Context, name string) (*doctor.Report, error) {
	f, err := config.Load(t.opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	setup, err := doctor.Configured(t.opts.ConfigPath, f, name, time.Now())
	if err != nil {
		return nil, err
	}
	if setup.Server.ClientAuth == config.ClientAuthPrivateKeyJWT {
		b, err := t.openBroker(ctx, nil)
		if err != nil {
			setup.WithClientKey(nil, err)
		} else {
			setup.WithClientKey(b.ClientKey(ctx, name))
		}
	}
	return diagnoseWith(t.opts.ConfigPath, setup.Server.URL, func(f *discovery.Fetcher) *doctor.Report { return doctor.RunFor(ctx, f, setup) })
}

// ShowTools implements tray.Actions.
func (t *trayApp) ShowTools(name string) {
	windows.ShowTools(t.fyne, name, toolSettings{configPath: t.opts.ConfigPath, toolsDir: t.opts.ToolsDir,
		open: func(ctx context.Context) (*broker.Broker, error) { return t.openBroker(ctx, nil) }})
}

// CopyBugReport implements tray.Actions: it makes the report `mcp-broker report [NAME]`
// prints (every server's for name ""), in the background since it diagnoses each server, and
// puts it on the clipboard.
func (t *trayApp) CopyBugReport(name string) {
	t.background(func(ctx context.Context) {
		text, err := report.Build(ctx, report.Options{ConfigPath: t.opts.ConfigPath, RuntimeDir: t.runtimeDir, Server: name,
			Version: t.opts.Version, ClientKey: report.KeyAlgorithm(func(ctx context.Context) (*broker.Broker, error) { return t.openBroker(ctx, nil) })})
		fyne.Do(func() {
			if err != nil {
				t.notify("The bug report could not be made", sentence(err, ""))
				return
			}
			t.fyne.Clipboard().SetContent(text)
			t.notify("Copied the bug report", "Paste it into an issue. Tokens and keys are taken out; read it before you post it.")
		})
	})
}

// EditServer implements tray.Actions.
func (t *trayApp) EditServer(name string) {
	f, err := config.Load(t.opts.ConfigPath)
	if err != nil {
		t.notify("The configuration cannot be read", sentence(err, ""))
		return
	}
	srv, ok := f.Server(name)
	if !ok {
		return
	}
	existing := *srv
	windows.ShowServerForm(t.fyne, t.editor(), &existing)
}

// AddServer implements tray.Actions.
func (t *trayApp) AddServer() { windows.ShowServerForm(t.fyne, t.editor(), nil) }

func (t *trayApp) editor() serverEditor {
	return serverEditor{configPath: t.opts.ConfigPath, open: func(ctx context.Context) (*broker.Broker, error) { return t.openBroker(ctx, nil) }, saved: t.watcher.Kick}
}

// ShowStatus implements tray.Actions.
func (t *trayApp) ShowStatus() { t.status.Show() }

// TryDemo implements tray.Actions: it starts the demo servers in this process (they live as
// long as the tray) and adds them as server "demo".
func (t *trayApp) TryDemo() {
	if t.demo != nil || t.demoStarting {
		return
	}
	t.demoStarting = true
	t.refresh()
	t.background(func(ctx context.Context) {
		d, err := demo.Start(ctx, demo.Options{})
		if err == nil {
			var b *broker.Broker
			if b, err = t.openBroker(ctx, nil); err == nil {
				_, err = d.AddTo(ctx, b)
			}
			if err != nil {
				_ = d.Close()
			}
		}
		t.watcher.Kick()
		fyne.Do(func() {
			t.demoStarting = false
			if err != nil {
				t.refresh()
				t.log.Warn("starting the demo failed", "err", err)
				t.notify("The demo server did not start", sentence(err, ""))
				return
			}
			t.demo = d
			t.refresh()
			msg := "Choose Sign in under demo in the MCP Broker window (or the menu's demo › Sign in), then Configure Claude Code…"
			if notes := d.Notes(); len(notes) > 0 {
				msg += " " + strings.Join(notes, " ")
			}
			t.notify("The demo server is running", msg)
		})
	})
}

// SetStartAtLogin implements tray.Actions. The entry starts this executable, the tray build,
// directly.
func (t *trayApp) SetStartAtLogin(on bool) {
	t.background(func(context.Context) {
		var err error
		if on {
			var exe string
			if exe, err = os.Executable(); err == nil {
				err = t.auto.Enable(exe)
			}
		} else {
			err = t.auto.Disable()
		}
		now, rerr := t.auto.Enabled()
		if rerr != nil {
			now = on && err == nil
		}
		fyne.Do(func() {
			t.startAtLogin = now
			t.refresh()
		})
		if err != nil {
			t.log.Warn("changing start at login failed", "on", on, "err", err)
			t.notify("Start at login could not be changed", sentence(err, ""))
		}
	})
}

// OpenConfigFolder implements tray.Actions: the menu and the main window offer it when the
// configuration cannot be read, for the person to mend or move the file.
func (t *trayApp) OpenConfigFolder() {
	dir := filepath.Dir(t.opts.ConfigPath)
	u, err := url.Parse(storage.NewFileURI(dir).String())
	if err != nil {
		t.log.Warn("opening the configuration folder", "dir", dir, "err", err)
		return
	}
	t.background(func(context.Context) {
		if err := t.openURL(u); err != nil {
			t.log.Warn("opening the configuration folder", "dir", dir, "err", err)
			t.notify("The configuration folder could not be opened", "It is "+dir+".")
		}
	})
}

// Quit implements tray.Actions.
func (t *trayApp) Quit() {
	for _, s := range t.signIns {
		s.cancel()
	}
	// Hide the main window first, and quit on a later turn of the loop: Fyne 2.7 panics when
	// the pointer's move over a window being destroyed is delivered after it is gone.
	t.status.Window().Hide()
	fyne.Do(t.fyne.Quit)
}

// urlOpener tells the tray the authorization URL, then opens the browser.
type urlOpener struct {
	next  opener.Opener
	onURL func(string)
}

// Open implements opener.Opener.
func (o urlOpener) Open(ctx context.Context, u string) error {
	o.onURL(u)
	return o.next.Open(ctx, u)
}

// sentence makes an error readable in a notification: its text without the server's name when
// it is the broker's error about server (the notification's title names the server already),
// first letter capitalised, ending with a full stop, then the next step in the tray's words.
func sentence(err error, server string) string {
	s := err.Error()
	var op *broker.OpError
	if errors.As(err, &op) && server != "" && op.Server == server {
		s = op.Err.Error()
	}
	var sir *broker.SignInRequiredError
	if errors.As(err, &sir) && sir.Reason != "" {
		s = sir.Reason
	}
	s = capitalize(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	if next := windows.Advice(err); next != "" {
		s += " " + next
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

var (
	_ tray.Actions    = (*trayApp)(nil)
	_ windows.Actions = (*trayApp)(nil)
)

// showTraffic opens the Timeline window of the bridges' traffic, or brings the open one to the
// front. While it is open the bridges write their events (see package traffic).
func (t *trayApp) showTraffic() {
	if t.timeline != nil {
		t.timeline.Window().Show()
		t.timeline.Window().RequestFocus()
		return
	}
	tl := windows.ShowTimeline(t.fyne, traffic.Dir(t.runtimeDir))
	tl.OnClosed = func() { t.timeline = nil }
	t.timeline = tl
}
