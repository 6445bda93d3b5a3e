package windows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/model"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// Status is the status window: every configured server with its sign-in
// state, whose account it is, token expiry and scopes, and every live bridge (a Claude Code
// session) with its client, start time, transport, counts and last error.
//
// The tray keeps one Status for its whole life and calls Update whenever the
// state changes; closing the window only hides it, so it can be shown again
// with what it knew.
//
// With Actions set it is the app's main window: each server has the tray
// menu's actions as buttons (and Remove, behind a confirmation), a server an
// MCP client waits on is named first with a button to sign in, the empty
// state offers the demo, a configuration that cannot be read is said with
// what to do, a failed action is said under its server, and the bottom has
// the menu's Start at login and Quit. It can be worked with the keyboard
// alone: Tab moves between the buttons, Space or Enter presses one (Space
// ticks Start at login), Escape closes the confirmation.
type Status struct {
	// OnAddServer, when set, is what the "Add server…" button of the empty
	// state does. Set it before the first Update.
	OnAddServer func()
	// Actions, when set, makes this the main window (see above). Set it
	// before the first Update.
	Actions Actions
	// OnCopyReport, when set, is what the "Copy bug report" button at the bottom does (a
	// report on every server); the button shows only then. Set it before the first Update.
	OnCopyReport func()
	// OnTraffic, when set, is what the "Traffic…" button at the bottom does (the Timeline
	// window); the button shows only then. Set it before the first Update.
	OnTraffic func()

	win     fyne.Window
	report  *keyButton
	traffic *keyButton
	// footer is the bottom line; the main window puts Start at login and Quit above it, once
	// (mainFooter).
	footer     *fyne.Container
	mainFooter bool
	login      *widget.Check
	quit       *keyButton
	servers    *fyne.Container // the servers section's rows
	bridges    *fyne.Container // the sessions section's rows
	asOf       *widget.RichText

	// What the last Update showed, drawn again when the app's own state
	// (SetActivity, SetProblem) changes.
	last struct {
		servers []broker.ServerStatus
		bridges []status.Bridge
		now     time.Time
	}
	signingIn    map[string]bool
	demoStarting bool
	problems     map[string]string // a failed action's sentence, by server
	confirm      *dialog.CustomDialog
	// startAtLogin is what the app last said (SetStartAtLogin): the check shows it, and a
	// change of the check that the app did not make is the person's.
	startAtLogin bool
	// configErr is the configuration file that cannot be read and why (SetConfigError).
	configErr struct{ path, msg string }
}

// MainWidth is the main window's width: three buttons to a row, "Configure
// Claude Code…" among them, fit without an ellipsis.
const MainWidth = 640

// NewStatus builds the status window, hidden and empty until Update.
func NewStatus(a fyne.App) *Status {
	s := &Status{
		win:     a.NewWindow("MCP Broker status"),
		servers: container.NewVBox(),
		bridges: container.NewVBox(),
		asOf:    quiet("", theme.SizeNameCaptionText, fyne.TextAlignTrailing),
	}
	s.report = newKeyButton(tray.LabelCopyReport, theme.ContentCopyIcon(), func() {
		if s.OnCopyReport != nil {
			s.OnCopyReport()
		}
	})
	s.report.Hide()
	s.traffic = newKeyButton("Traffic…", theme.ListIcon(), func() {
		if s.OnTraffic != nil {
			s.OnTraffic()
		}
	})
	s.traffic.Hide()
	s.login = widget.NewCheck(tray.LabelStartAtLogin, func(on bool) {
		if on != s.startAtLogin && s.Actions != nil {
			s.Actions.SetStartAtLogin(on)
		}
	})
	s.quit = newKeyButton(tray.LabelQuit, theme.LogoutIcon(), func() {
		if s.Actions != nil {
			s.Actions.Quit()
		}
	})

	content := container.NewVBox(
		heading("Servers"),
		s.servers,
		gap(),
		heading("Claude Code sessions"),
		s.bridges,
	)
	// Compact: the status window is a dense list to scan, not a form.
	s.footer = container.NewBorder(nil, nil, s.report, s.traffic, s.asOf)
	s.win.SetContent(page(compact(content), s.footer))
	s.win.Resize(fyne.NewSize(560, 640))
	// The tray shows this window again and again: keep it, and what it knows.
	s.win.SetCloseIntercept(s.win.Hide)
	// Escape with nothing focused (a dialog's buttons handle it themselves).
	s.win.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape && s.confirm != nil {
			s.confirm.Hide()
		}
	})
	s.render(nil, nil, time.Time{})
	return s
}

// Window is the status window, for the tray to position or test.
func (s *Status) Window() fyne.Window { return s.win }

// Show shows the window and brings it to the front.
func (s *Status) Show() {
	s.win.Show()
	s.win.RequestFocus()
}

// Update shows servers and bridges as of now. It may be called from any
// goroutine; the window is redrawn on Fyne's.
func (s *Status) Update(servers []broker.ServerStatus, bridges []status.Bridge, now time.Time) {
	// Copy now: the caller may reuse its slices before Fyne runs the redraw.
	servers, bridges = slices.Clone(servers), slices.Clone(bridges)
	fyne.Do(func() { s.render(servers, bridges, now) })
}

// SetActivity tells the main window what the app itself is doing: the servers
// a sign-in is under way for, and whether the demo is starting. Call it on
// Fyne's goroutine.
func (s *Status) SetActivity(signingIn map[string]bool, demoStarting bool) {
	if maps.Equal(signingIn, s.signingIn) && demoStarting == s.demoStarting {
		return
	}
	s.signingIn, s.demoStarting = maps.Clone(signingIn), demoStarting
	s.render(s.last.servers, s.last.bridges, s.last.now)
}

// SetProblem shows, under the server, why an action on it failed (err worded
// for the window, with the next step as Advice gives it), or clears it when
// err is nil. Call it on Fyne's goroutine.
func (s *Status) SetProblem(name, what string, err error) {
	if err == nil {
		if _, ok := s.problems[name]; !ok {
			return
		}
		delete(s.problems, name)
	} else {
		if s.problems == nil {
			s.problems = map[string]string{}
		}
		s.problems[name] = explainHere(what, err)
	}
	s.render(s.last.servers, s.last.bridges, s.last.now)
}

// SetConfigError shows that the configuration file at path cannot be read, and why (msg, the
// error), in place of the servers; msg "" clears it. Call it on Fyne's goroutine.
func (s *Status) SetConfigError(path, msg string) {
	if s.configErr.path == path && s.configErr.msg == msg {
		return
	}
	s.configErr.path, s.configErr.msg = path, msg
	s.render(s.last.servers, s.last.bridges, s.last.now)
}

// SetStartAtLogin shows whether the app starts at login in the main window's check, which
// shows only where the platform can (supported). The app calls it whenever the setting may
// have changed, from the menu or the check, so that both say the same. Call it on Fyne's
// goroutine.
func (s *Status) SetStartAtLogin(on, supported bool) {
	s.startAtLogin = on
	// SetChecked calls OnChanged, which sees no change from the app's word and does nothing.
	s.login.SetChecked(on)
	if supported {
		s.login.Show()
	} else {
		s.login.Hide()
	}
}

// render rebuilds both sections. Rebuilding is simpler than diffing and the
// lists are short; it happens only when the state changed.
func (s *Status) render(servers []broker.ServerStatus, bridges []status.Bridge, now time.Time) {
	s.last.servers, s.last.bridges, s.last.now = servers, bridges, now
	sessions := map[string]int{}
	waiting := map[string]string{} // the MCP client waiting for a sign-in, by server
	trouble := map[string]string{} // a bridge's last error, while it cannot reach its server
	for _, b := range bridges {
		sessions[b.Server]++
		switch b.State {
		case status.StateNeedsSignIn:
			if waiting[b.Server] == "" {
				waiting[b.Server] = model.ClientName(b.Client)
			}
		case status.StateReconnecting, status.StateError:
			if trouble[b.Server] == "" {
				trouble[b.Server] = sentence(b.LastError)
			}
		}
	}

	s.servers.RemoveAll()
	if s.Actions != nil {
		s.addWaiting(servers, waiting)
	}
	switch {
	case s.configErr.msg != "" && s.Actions != nil:
		s.servers.Add(s.configError())
	case len(servers) == 0:
		s.servers.Add(s.emptyServers())
	}
	for i, srv := range servers {
		if i > 0 {
			s.servers.Add(widget.NewSeparator())
		}
		block := serverBlock(srv, sessions[srv.Name], now)
		if s.Actions != nil {
			block.Add(indented(s.serverFooter(srv, waiting[srv.Name], trouble[srv.Name])))
		}
		s.servers.Add(block)
	}
	if s.Actions != nil && len(servers) > 0 && s.configErr.msg == "" {
		add := newKeyButton(tray.LabelAddServer, theme.ContentAddIcon(), s.Actions.AddServer)
		s.servers.Add(gap())
		s.servers.Add(container.NewHBox(fullPadding(add), layout.NewSpacer()))
	}

	s.bridges.RemoveAll()
	if len(bridges) == 0 {
		s.bridges.Add(container.NewVBox(
			section("No Claude Code sessions running"),
			note("A session shows here while Claude Code runs a server through mcp-broker: which server, since when, and how it is going."),
		))
	}
	for i, b := range bridges {
		if i > 0 {
			s.bridges.Add(widget.NewSeparator())
		}
		s.bridges.Add(bridgeBlock(b, now))
	}

	if s.OnCopyReport != nil {
		s.report.Show()
	}
	if s.OnTraffic != nil {
		s.traffic.Show()
	}
	if s.Actions != nil && !s.mainFooter {
		s.mainFooter = true
		// The main window: the menu's Start at login and Quit, on a line above the bottom one
		// (whose corner stays Traffic…'s).
		bottom := container.NewBorder(nil, nil, s.report, s.traffic, s.asOf)
		s.footer.Layout = layout.NewVBoxLayout()
		s.footer.Objects = []fyne.CanvasObject{container.NewBorder(nil, nil, s.login, s.quit), bottom}
	}
	if now.IsZero() {
		setQuiet(s.asOf, "")
	} else {
		setQuiet(s.asOf, "As of "+now.Format("15:04:05"))
	}
	s.servers.Refresh()
	s.bridges.Refresh()
}

// emptyServers is what a newcomer sees first: what to do, and a button to do it.
func (s *Status) emptyServers() fyne.CanvasObject {
	box := container.NewVBox(
		section("No servers yet"),
		note("Add an MCP server: mcp-broker signs in to it once, keeps the tokens in your keychain, and lets Claude Code use it."),
	)
	if s.Actions != nil {
		demo := newKeyButton(tray.LabelTryDemo, theme.MediaPlayIcon(), s.Actions.TryDemo)
		demo.Importance = widget.HighImportance
		if s.demoStarting {
			demo.SetText(tray.LabelDemoStarting)
			demo.Disable()
		}
		add := newKeyButton(tray.LabelAddServer, theme.ContentAddIcon(), s.Actions.AddServer)
		box.Add(note("New to MCP? The demo server runs inside this app and asks you to sign in, like a real one."))
		box.Add(container.NewHBox(fullPadding(container.NewHBox(demo, add)), layout.NewSpacer()))
	} else if s.OnAddServer != nil {
		add := widget.NewButtonWithIcon("Add server…", theme.ContentAddIcon(), s.OnAddServer)
		add.Importance = widget.HighImportance
		// The button keeps the full theme: with compact's half inner padding Fyne 2.7 sizes
		// it too small for its label, which ends in an ellipsis.
		box.Add(container.NewHBox(container.NewThemeOverride(add, current()), layout.NewSpacer()))
	}
	return box
}

// addWaiting puts first, as the menu does, each server an MCP client waits on to be signed
// in to, with a button to sign in: it is the one thing to do now.
func (s *Status) addWaiting(servers []broker.ServerStatus, waiting map[string]string) {
	var buttons []fyne.CanvasObject
	for _, srv := range servers {
		client, ok := waiting[srv.Name]
		if !ok || s.signingIn[srv.Name] || (srv.Auth == config.AuthEnterprise && s.signingIn[tray.IdPKey(srv.IdP)]) {
			continue
		}
		name := srv.Name
		b := newKeyButton(waitingLabel(name, client), theme.WarningIcon(), func() { s.Actions.SignIn(name) })
		b.Importance = widget.WarningImportance
		buttons = append(buttons, b)
	}
	if len(buttons) > 0 {
		s.servers.Add(container.NewHBox(fullPadding(container.NewVBox(buttons...)), layout.NewSpacer()))
	}
}

// waitingLabel is the button that stands out while client waits for a sign-in to the server:
// the menu's item (tray.WaitingLabel), whose ⚠ the button's icon is.
func waitingLabel(server, client string) string {
	return "Sign in to " + server + " — " + client + " is waiting"
}

// configError is what the main window shows when the configuration file cannot be read: no
// server can be shown, added or used until it is mended, so it says that, why, where the
// file is, and offers to open its folder. The window follows the file: once it reads, the
// servers show again.
func (s *Status) configError() fyne.CanvasObject {
	why := errorLabel()
	setMessage(why, sentence(s.configErr.msg))
	box := container.NewVBox(
		section("The configuration cannot be read"),
		why,
		note("Until it can, MCP Broker shows no servers, Claude Code cannot use them through it, and adding a server is not possible. Correct the file (or move it away to start over): this window follows it and shows your servers as soon as it reads."),
	)
	if s.configErr.path != "" {
		box.Add(rows("File", s.configErr.path))
	}
	open := newKeyButton(tray.LabelOpenConfigFolder, theme.FolderOpenIcon(), s.Actions.OpenConfigFolder)
	box.Add(container.NewHBox(fullPadding(open), layout.NewSpacer()))
	return box
}

// serverBlock is one server: name and state, then its details.
func serverBlock(srv broker.ServerStatus, sessions int, now time.Time) *fyne.Container {
	state, imp := srv.State.Badge(), toneImportance(srv.State.Tone())
	url := quiet(srv.URL, theme.SizeNameText, fyne.TextAlignLeading)
	url.Wrapping, url.Truncation = fyne.TextWrapOff, fyne.TextTruncateEllipsis

	var token, scopes, issuer string
	if srv.Expiry != nil || srv.Issuer != "" {
		token = expiry(now, srv.Expiry)
	}
	if len(srv.Scopes) > 0 {
		scopes = strings.Join(srv.Scopes, " ")
	}
	issuer = srv.Issuer
	client := ""
	if c := srv.Client; c != nil {
		client = c.ID + " (" + clientKind(c.Kind) + ")"
	}
	running := "none"
	if sessions > 0 {
		running = fmt.Sprintf("%d running", sessions)
	}
	details := rows(
		"Sign-in", authName(srv.Auth),
		"Account", srv.Account.String(),
		"Same URL as", strings.Join(srv.SameURLAs, ", "),
		"Token", token,
		"Renews", renews(srv, now),
		"Sign in again", signInAgain(srv, now),
	)
	renewal, rimp := lastRenewal(srv, now)
	addRow(details, "Last renewal", renewal, rimp)
	for _, kv := range [][2]string{
		{"Scopes", scopes},
		{"Issuer", issuer},
		{"Client", client},
		{"Transport", transportName(string(srv.Transport))},
		{"Sessions", running},
	} {
		addRow(details, kv[0], kv[1], widget.MediumImportance)
	}
	return container.NewVBox(titleRow(srv.Name, badge(state, imp)), url, indented(details))
}

// bridgeBlock is one live bridge: the client and server, state, details.
func bridgeBlock(b status.Bridge, now time.Time) fyne.CanvasObject {
	state, imp := bridgeState(b.State)
	client := b.Client
	if client == "" {
		client = "An MCP client" // before its initialize request arrives
	}
	transport := transportName(b.Transport)
	if b.ProtocolVersion != "" {
		transport += ", protocol " + b.ProtocolVersion
	}
	stateSince := ""
	if !b.Since.IsZero() && b.Since.After(b.Started) {
		stateSince = state + " since " + since(now, b.Since)
	}
	details := rows(
		"Started", since(now, b.Started),
		"State", stateSince,
		"Transport", transport,
		"Messages", fmt.Sprintf("%d from the client, %d to it", b.Messages.FromClient, b.Messages.ToClient),
		"Process", fmt.Sprintf("pid %d", b.PID),
	)
	addRow(details, "Last error", sentence(b.LastError), widget.DangerImportance)
	return container.NewVBox(titleRow(fmt.Sprintf("%s · %s", client, b.Server), badge(state, imp)), indented(details))
}

// serverFooter is what the main window adds under a server: what went wrong
// (an action of the app's, or a Claude Code session that cannot reach the
// server), then the server's buttons.
func (s *Status) serverFooter(srv broker.ServerStatus, waiting, trouble string) fyne.CanvasObject {
	box := container.NewVBox()
	problems := container.New(layout.NewFormLayout())
	if waiting != "" {
		addRow(problems, "Waiting", sentenceCase(waiting)+" is waiting for you to sign in.", widget.WarningImportance)
	}
	addRow(problems, "Problem", s.problems[srv.Name], widget.DangerImportance)
	addRow(problems, "Connection", trouble, widget.DangerImportance)
	if len(problems.Objects) > 0 {
		box.Add(problems)
	}
	box.Add(s.serverActions(srv, waiting != ""))
	return box
}

// renews says when an access token that renews by itself will be renewed:
// at its expiry, by the next request after it. "" for a token that does not.
func renews(srv broker.ServerStatus, now time.Time) string {
	if srv.State != broker.StateSignedIn || srv.Expiry == nil || !renewable(srv.Auth) {
		return ""
	}
	if !srv.Expiry.After(now) {
		return "on the next request"
	}
	return fmt.Sprintf("by itself at %s (in %s)", clock(now, *srv.Expiry), span(srv.Expiry.Sub(now)))
}

// signInAgain says when the person will have to sign in again, and why
// (broker.ServerStatus.SignInBy): at the expiry of a token that came without a
// refresh token, when the refresh token expires, or when a session limit the
// server showed before ends. "" when no such moment is known.
func signInAgain(srv broker.ServerStatus, now time.Time) string {
	if !srv.SignedIn || srv.SignInBy == nil {
		return ""
	}
	by, why := *srv.SignInBy, srv.SignInByReason.Why(srv.SessionLimit())
	if !by.After(now) {
		return fmt.Sprintf("now (since %s): %s", clock(now, by), why)
	}
	about := ""
	if srv.SignInByReason == broker.SignInBySessionLimit {
		about = "about " // learnt from one sign-in's end, not said by the server
	}
	return fmt.Sprintf("at %s%s (in %s): %s", about, clock(now, by), span(by.Sub(now)), why)
}

// lastRenewal says how the last background renewal failed
// (broker.ServerStatus.RenewalFailure), and in what importance: a refused
// refresh token needs a sign-in, a renewal that did not get through is tried
// again. "" when none failed since the last sign-in or renewal.
func lastRenewal(srv broker.ServerStatus, now time.Time) (string, widget.Importance) {
	f := srv.RenewalFailure
	if f == nil {
		return "", widget.MediumImportance
	}
	msg := "failed at " + since(now, f.At) + ": " + f.Reason
	if f.Kind == broker.RenewalRefused {
		// What the server was refused decides what helps: a person signs in again; a
		// machine's credentials (client secret or key, workload JWT) are mended in its settings.
		switch srv.Auth {
		case config.AuthClientCredentials, config.AuthWorkload:
			return msg + ". Check its credentials in " + tray.LabelEdit + ".", widget.DangerImportance
		case config.AuthEnterprise:
			return msg + ". Choose " + tray.LabelSignInIdP + ".", widget.DangerImportance
		}
		return msg + ". Choose " + tray.LabelSignIn + ".", widget.DangerImportance
	}
	return msg + ". Tried again at the next request.", widget.WarningImportance
}

// renewable reports whether tokens of the auth mode are renewed without a person: a refresh
// token (OAuth, enterprise) or a new grant (client credentials, workload identity).
func renewable(m config.AuthMode) bool {
	switch m {
	case config.AuthOAuth, config.AuthClientCredentials, config.AuthWorkload, config.AuthEnterprise, "":
		return true
	}
	return false
}
