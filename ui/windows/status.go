package windows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
)

// Status is the status window: every configured server with its sign-in
// state, whose account it is, token expiry and scopes, and every live bridge (a Claude Code
// session) with its client, start time, transport, counts and last error.
//
// The tray keeps one Status for its whole life and calls Update whenever the
// state changes; closing the window only hides it, so it can be shown again
// with what it knew.
type Status struct {
	// OnAddServer, when set, is what the "Add server…" button of the empty
	// state does. Set it before the first Update.
	OnAddServer func()

	win     fyne.Window
	servers *fyne.Container // the servers section's rows
	bridges *fyne.Container // the sessions section's rows
	asOf    *widget.RichText
}

// NewStatus builds the status window, hidden and empty until Update.
func NewStatus(a fyne.App) *Status {
	s := &Status{
		win:     a.NewWindow("MCP Broker status"),
		servers: container.NewVBox(),
		bridges: container.NewVBox(),
		asOf:    quiet("", theme.SizeNameCaptionText, fyne.TextAlignTrailing),
	}

	content := container.NewVBox(
		heading("Servers"),
		s.servers,
		gap(),
		heading("Claude Code sessions"),
		s.bridges,
	)
	// Compact: the status window is a dense list to scan, not a form.
	s.win.SetContent(page(compact(content), s.asOf))
	s.win.Resize(fyne.NewSize(560, 640))
	// The tray shows this window again and again: keep it, and what it knows.
	s.win.SetCloseIntercept(s.win.Hide)
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

// render rebuilds both sections. Rebuilding is simpler than diffing and the
// lists are short; it happens only when the state changed.
func (s *Status) render(servers []broker.ServerStatus, bridges []status.Bridge, now time.Time) {
	sessions := map[string]int{}
	for _, b := range bridges {
		sessions[b.Server]++
	}

	s.servers.RemoveAll()
	if len(servers) == 0 {
		s.servers.Add(s.emptyServers())
	}
	for i, srv := range servers {
		if i > 0 {
			s.servers.Add(widget.NewSeparator())
		}
		s.servers.Add(serverBlock(srv, sessions[srv.Name], now))
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
	if s.OnAddServer != nil {
		add := widget.NewButtonWithIcon("Add server…", theme.ContentAddIcon(), s.OnAddServer)
		add.Importance = widget.HighImportance
		// The button keeps the full theme: with compact's half inner padding Fyne 2.7 sizes
		// it too small for its label, which ends in an ellipsis.
		box.Add(container.NewHBox(container.NewThemeOverride(add, current()), layout.NewSpacer()))
	}
	return box
}

// serverBlock is one server: name and state, then its details.
func serverBlock(srv broker.ServerStatus, sessions int, now time.Time) fyne.CanvasObject {
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
	return container.NewVBox(
		titleRow(srv.Name, badge(state, imp)),
		url,
		indented(rows(
			"Sign-in", authName(srv.Auth),
			"Account", srv.Account.String(),
			"Same URL as", strings.Join(srv.SameURLAs, ", "),
			"Token", token,
			"Scopes", scopes,
			"Issuer", issuer,
			"Client", client,
			"Transport", transportName(string(srv.Transport)),
			"Sessions", running,
		)),
	)
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
