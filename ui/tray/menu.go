// Package tray builds the tray menu and chooses the tray icon from a model.Snapshot.
//
// The menu is a pure function of the snapshot and the app's own state (Options): the app
// rebuilds it in full on every change, the way tailscale's systray does, rather than patching
// items, so there is no stale item to forget. Handlers are closures bound to a server's name,
// never to a position, so a click on a menu built a moment ago still acts on the right server.
// Everything a click does goes through Actions, which the app implements; tests pass a
// recording fake.
//
// The package uses fyne.Menu only, not the Fyne app or driver, so it builds and tests without
// cgo.
package tray

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/model"
)

// Actions is what the menu's items do. The app implements it; every method is called on the
// Fyne UI thread and must not block (long work goes to a goroutine).
type Actions interface {
	// SignIn starts a sign-in to the server, or shows the one under way.
	SignIn(name string)
	// SignOut forgets the server's tokens.
	SignOut(name string)
	// SignInIdP signs in to the identity provider of that name, once for every server
	// configured with it (enterprise-managed authorization).
	SignInIdP(name string)
	// ConfigureClaude opens the Configure Claude Code window for the server.
	ConfigureClaude(name string)
	// CopyClaudeCommand puts the `claude mcp add …` command for the server on the clipboard.
	CopyClaudeCommand(name string)
	// Diagnose opens the diagnosis window for the server's URL.
	Diagnose(name string)
	// ShowTools opens the window of the server's tools, where they are hidden or shown.
	ShowTools(name string)
	// CopyBugReport puts a bug report about the server (package report), without secrets, on
	// the clipboard.
	CopyBugReport(name string)
	// EditServer opens the server form filled in with the server.
	EditServer(name string)
	// AddServer opens an empty server form.
	AddServer()
	// ShowStatus opens the status window.
	ShowStatus()
	// TryDemo starts the built-in demo server and adds it as server "demo".
	TryDemo()
	// SetStartAtLogin turns starting at login on or off.
	SetStartAtLogin(on bool)
	// OpenConfigFolder opens the folder of the configuration file in the file manager, for a
	// person to mend a file that cannot be read.
	OpenConfigFolder()
	// Quit ends the app.
	Quit()
}

// Options is the app's own state that the menu shows besides the snapshot.
type Options struct {
	// StartAtLogin checks "Start at login".
	StartAtLogin bool
	// NoStartAtLogin leaves "Start at login" out, where the platform has no autostart.
	NoStartAtLogin bool
	// SigningIn holds the servers a sign-in is under way for, and, as IdPKey(name), the
	// identity providers.
	SigningIn map[string]bool
	// DemoStarting replaces "Try the demo server" while the demo starts.
	DemoStarting bool
	// Location is the time zone expiry times are shown in; nil means time.Local.
	Location *time.Location
	// Now decides whether an expiry is today (shown as 14:32) or later (Mar 5 14:32); zero
	// means time.Now().
	Now time.Time
}

// Labels of the fixed items, for the app and the tests (which find items by label: dbusmenu ids
// change with every rebuild).
const (
	LabelAddServer = "Add server…"
	LabelStatus    = "Status…"
	LabelTryDemo   = "Try the demo server"
	// LabelOpenConfigFolder opens the folder of a configuration file that cannot be read.
	LabelOpenConfigFolder = "Open the configuration folder"
	LabelDemoStarting     = "Starting the demo server…"
	LabelStartAtLogin     = "Start at login"
	LabelQuit             = "Quit"
	LabelNoServers        = "No servers yet"
	LabelSignIn           = "Sign in"
	LabelSignInAgain      = "Sign in again"
	LabelSigningIn        = "Signing in…"
	LabelSignOut          = "Sign out"
	LabelForgetToken      = "Forget the stored token"
	LabelConfigure        = "Configure Claude Code…"
	LabelCopyCommand      = "Copy Claude Code command"
	LabelDiagnose         = "Diagnose…"
	LabelTools            = "Tools…"
	LabelCopyReport       = "Copy bug report"
	LabelEdit             = "Edit server…"
	// LabelSignInIdP signs in to a company's identity provider, once for all its servers.
	LabelSignInIdP = "Sign in with your company account"
)

// IdPKey is the key of an identity provider in Options.SigningIn: no server name has a '/'.
func IdPKey(name string) string { return "idp/" + name }

// idpItems are the identity providers' lines: "Sign in with your company account" for each
// that servers are configured with, or whose sign-in it is once signed in.
func idpItems(snap model.Snapshot, opts Options, act Actions) []*fyne.MenuItem {
	var items []*fyne.MenuItem
	for _, p := range snap.IdPs {
		if len(p.Servers) == 0 {
			continue
		}
		name := p.Name
		suffix := ""
		if len(snap.IdPs) > 1 {
			suffix = " (" + name + ")"
		}
		switch {
		case opts.SigningIn[IdPKey(name)]:
			items = append(items, disabled("Signing in to your company account"+suffix+"…"))
		case p.SignedIn:
			who := p.Email
			if who == "" {
				who = p.Subject
			}
			line := "Signed in with your company account" + suffix
			if who != "" {
				line += Sep + who
			}
			items = append(items, disabled(line))
		default:
			items = append(items, fyne.NewMenuItem(LabelSignInIdP+suffix, func() { act.SignInIdP(name) }))
		}
	}
	return items
}

// Sep separates a server's name from its state in a label.
const Sep = " · "

// Menu builds the whole tray menu.
func Menu(snap model.Snapshot, opts Options, act Actions) *fyne.Menu {
	var items []*fyne.MenuItem
	add := func(it ...*fyne.MenuItem) { items = append(items, it...) }

	if snap.ConfigError != "" {
		add(disabled("⚠ The configuration cannot be read"), disabled(shorten(snap.ConfigError, 70)),
			fyne.NewMenuItem(LabelOpenConfigFolder, act.OpenConfigFolder))
		add(fyne.NewMenuItemSeparator())
	}
	// A server an MCP client is waiting on comes first and says so: that is the one thing the
	// user should do now.
	var urgent bool
	for _, srv := range snap.Servers {
		if srv.Waiting && !opts.SigningIn[srv.Name] {
			name := srv.Name
			add(fyne.NewMenuItem(WaitingLabel(srv), func() { act.SignIn(name) }))
			urgent = true
		}
	}
	if urgent {
		add(fyne.NewMenuItemSeparator())
	}

	if len(snap.Servers) == 0 && snap.ConfigError == "" {
		add(disabled(LabelNoServers))
		if opts.DemoStarting {
			add(disabled(LabelDemoStarting))
		} else {
			add(fyne.NewMenuItem(LabelTryDemo, act.TryDemo))
		}
		add(fyne.NewMenuItem(LabelAddServer, act.AddServer))
		add(fyne.NewMenuItemSeparator())
	} else {
		for _, srv := range snap.Servers {
			item := fyne.NewMenuItem(srv.Name+Sep+Headline(srv, opts), nil)
			item.ChildMenu = serverMenu(srv, opts, act)
			add(item)
		}
		if len(snap.Servers) > 0 {
			add(fyne.NewMenuItemSeparator())
		}
		if idps := idpItems(snap, opts, act); len(idps) > 0 {
			add(idps...)
			add(fyne.NewMenuItemSeparator())
		}
		if snap.ConfigError == "" {
			// With the file unreadable, adding a server would write over it, as the main
			// window knows too: it offers neither Add server nor the demo then.
			add(fyne.NewMenuItem(LabelAddServer, act.AddServer))
		}
	}
	add(fyne.NewMenuItem(LabelStatus, act.ShowStatus))
	if !opts.NoStartAtLogin {
		on := opts.StartAtLogin
		login := fyne.NewMenuItem(LabelStartAtLogin, func() { act.SetStartAtLogin(!on) })
		login.Checked = on
		add(fyne.NewMenuItemSeparator(), login)
	}
	quit := fyne.NewMenuItem(LabelQuit, act.Quit)
	// IsQuit keeps Fyne from appending a Quit of its own (it does unless the last item is one).
	quit.IsQuit = true
	add(quit)
	return fyne.NewMenu("MCP Broker", items...)
}

// WaitingLabel is the item that stands out when a client waits for a sign-in to srv.
func WaitingLabel(srv model.Server) string {
	return fmt.Sprintf("⚠ Sign in to %s — %s is waiting", srv.Name, srv.WaitingClient())
}

// serverMenu is a server's submenu: what it is doing, then what can be done with it.
func serverMenu(srv model.Server, opts Options, act Actions) *fyne.Menu {
	name := srv.Name
	items := []*fyne.MenuItem{disabled(SignInLine(srv, opts))}
	if n := srv.Sessions(); n > 0 {
		items = append(items, disabled(sessionsLine(srv)))
	}
	if srv.State == model.Error {
		items = append(items, disabled("error: "+shorten(srv.Problem, 70)))
	}
	if line := signInByLine(srv, opts); line != "" {
		items = append(items, disabled(line))
	}
	if line := renewalLine(srv, opts); line != "" {
		items = append(items, disabled(line))
	}
	items = append(items, fyne.NewMenuItemSeparator())

	switch {
	case opts.SigningIn[name]:
		items = append(items, fyne.NewMenuItem(LabelSigningIn, func() { act.SignIn(name) }))
	case srv.Auth == config.AuthNone:
		// Nothing to sign in to.
	case srv.Auth == config.AuthBearer:
		if srv.SignedIn {
			items = append(items, fyne.NewMenuItem(LabelForgetToken, func() { act.SignOut(name) }))
		}
	case srv.Waiting && srv.SignedIn:
		// The state file says signed in, but the server refused the token.
		items = append(items, fyne.NewMenuItem(LabelSignInAgain, func() { act.SignIn(name) }),
			fyne.NewMenuItem(LabelSignOut, func() { act.SignOut(name) }))
	case srv.SignedIn:
		items = append(items, fyne.NewMenuItem(LabelSignOut, func() { act.SignOut(name) }))
	default:
		items = append(items, fyne.NewMenuItem(LabelSignIn, func() { act.SignIn(name) }))
	}
	items = append(items,
		fyne.NewMenuItem(LabelConfigure, func() { act.ConfigureClaude(name) }),
		fyne.NewMenuItem(LabelCopyCommand, func() { act.CopyClaudeCommand(name) }),
		fyne.NewMenuItem(LabelDiagnose, func() { act.Diagnose(name) }),
		fyne.NewMenuItem(LabelTools, func() { act.ShowTools(name) }),
		fyne.NewMenuItem(LabelCopyReport, func() { act.CopyBugReport(name) }),
		fyne.NewMenuItem(LabelEdit, func() { act.EditServer(name) }),
	)
	return fyne.NewMenu(name, items...)
}

// Headline is the state shown after a server's name at the top level of the menu: the most
// pressing of an error, a waiting client, a sign-in under way, the live sessions and the
// sign-in state. For example "connected · 2 sessions", "signed in · expires 14:32",
// "sign-in required", "error: server unreachable".
func Headline(srv model.Server, opts Options) string {
	switch {
	case opts.SigningIn[srv.Name]:
		return "signing in…"
	case srv.State == model.Error:
		return "error: " + shorten(srv.Problem, 50)
	case srv.Waiting:
		return "sign-in required · " + srv.WaitingClient() + " is waiting"
	case srv.Sessions() > 0:
		return sessionsLine(srv)
	}
	return SignInLine(srv, opts)
}

// sessionsLine says how many MCP client sessions use the server and whether they are through.
func sessionsLine(srv model.Server) string {
	state := "connecting"
	switch {
	case srv.Connected() > 0:
		state = "connected"
	case srv.Waiting:
		state = "waiting for sign-in"
	case srv.State == model.Error:
		state = "reconnecting"
	}
	return state + Sep + plural(srv.Sessions(), "session")
}

// SignInLine describes the server's credential: "signed in · alice@example.com · expires
// 14:32", "sign-in required", "token stored", "no sign-in needed". The words are the state's
// own (broker.SignInState.MenuLine); the menu adds whose the sign-in is when the server said
// (two servers at one URL are told apart by it) and the expiry, in the user's time zone.
func SignInLine(srv model.Server, opts Options) string {
	st := srv.ServerStatus.State
	line := st.MenuLine()
	if who := srv.Account.String(); who != "" && st != broker.StateSignedInIdP {
		line += Sep + shorten(who, 40) // an enterprise server's is its company account's, shown once
	}
	if (st == broker.StateSignedIn || st == broker.StateSignedInNoRefresh) && srv.Expiry != nil {
		line += Sep + "expires " + clock(*srv.Expiry, opts.Now, opts.Location)
	}
	return line
}

// signInByLine says when the person will have to sign in again to the server, and why
// (broker.ServerStatus.SignInBy, in the reason's own words, as the main window and `status`
// say it): "Sign in again by 14:02 (the refresh token expires)". A moment learnt from one
// sign-in's end is "about" it. "" when no such moment is known.
func signInByLine(srv model.Server, opts Options) string {
	if !srv.SignedIn || srv.SignInBy == nil {
		return ""
	}
	about := ""
	if srv.SignInByReason == broker.SignInBySessionLimit {
		about = "about "
	}
	return shorten("Sign in again by "+about+clock(*srv.SignInBy, opts.Now, opts.Location)+" ("+srv.SignInByReason.Why(srv.SessionLimit())+")", 80)
}

// renewalLine says when the last background renewal failed and why
// (broker.ServerStatus.RenewalFailure): "Renewal failed at 10:02: the sign-in server answered
// HTTP 503". A refusal needs no advice here: the Sign in item follows. "" when none failed
// since the last renewal or sign-in.
func renewalLine(srv model.Server, opts Options) string {
	f := srv.RenewalFailure
	if f == nil {
		return ""
	}
	return shorten("Renewal failed at "+clock(f.At, opts.Now, opts.Location)+": "+f.Reason, 80)
}

// clock shows a time as 15:04, with the date in front when it is not today.
func clock(t, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	if now.IsZero() {
		now = time.Now()
	}
	t, now = t.In(loc), now.In(loc)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// shorten keeps a menu label to about n characters: menus do not wrap.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func disabled(label string) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, nil)
	it.Disabled = true
	return it
}

// Outline renders a menu as indented text, one item per line: "[x]" marks a checked item,
// "(disabled)" a disabled one, "---" a separator, and a submenu's items follow its parent,
// indented. The app compares outlines to skip rebuilding a tray menu that would look the
// same; tests compare them with golden files.
func Outline(m *fyne.Menu) string {
	var b strings.Builder
	outline(&b, m, "")
	return b.String()
}

func outline(b *strings.Builder, m *fyne.Menu, indent string) {
	if m == nil {
		return
	}
	for _, it := range m.Items {
		b.WriteString(indent)
		switch {
		case it.IsSeparator:
			b.WriteString("---")
		default:
			if it.Checked {
				b.WriteString("[x] ")
			}
			b.WriteString(it.Label)
			if it.Disabled {
				b.WriteString(" (disabled)")
			}
			if it.ChildMenu != nil {
				b.WriteString(" >")
			}
		}
		b.WriteString("\n")
		if it.ChildMenu != nil {
			outline(b, it.ChildMenu, indent+"    ")
		}
	}
}
