package windows

import (
	"image/color"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// Actions is what the main window's buttons do: the tray menu's actions (tray.Actions; the
// window never calls ShowStatus, which opens the window itself), plus removing a server, behind
// a confirmation, which only the window offers. The app implements it; every method is called
// on Fyne's goroutine and must not block.
type Actions interface {
	tray.Actions
	// RemoveServer removes the server, its tokens and its client registration. The window
	// asks first.
	RemoveServer(name string)
}

// Labels of the window's own buttons; the others are the menu's (tray.Label…), so that
// Advice ("Choose Sign in") names what both show.
const (
	LabelRemove        = "Remove…"
	LabelCopyShort     = "Copy command"
	LabelConfirmRemove = "Remove"
	LabelCancel        = "Cancel"
)

// keyButton is a button that keyboard users can work: Space (as every Fyne button) and Enter
// press it, and Escape, inside a dialog, closes the dialog. Fyne 2.7's buttons answer Space
// only, and its dialogs no key at all.
type keyButton struct {
	widget.Button
	onEscape func()
}

func newKeyButton(label string, icon fyne.Resource, tapped func()) *keyButton {
	b := &keyButton{}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey implements fyne.Focusable.
func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		b.Tapped(nil)
	case fyne.KeyEscape:
		if b.onEscape != nil {
			b.onEscape()
		}
	default:
		b.Button.TypedKey(ev)
	}
}

// serverActions are a server's buttons in the main window, in the menu's order: sign in or
// out (as its auth mode allows), then what can be done with it.
func (s *Status) serverActions(srv broker.ServerStatus, waiting bool) fyne.CanvasObject {
	name, act := srv.Name, s.Actions
	var buttons []fyne.CanvasObject
	idpFirst := false
	add := func(label string, icon fyne.Resource, fn func(string)) *keyButton {
		b := newKeyButton(label, icon, func() { fn(name) })
		buttons = append(buttons, b)
		return b
	}
	switch {
	case s.signingIn[name]:
		// Shows the sign-in under way (its window, with the link to open again).
		add(tray.LabelSigningIn, theme.ViewRefreshIcon(), act.SignIn)
	case srv.Auth == config.AuthEnterprise && !srv.SignedIn && srv.IdP != "":
		// Its tokens come with the sign-in at the company's identity provider, which signs in
		// every server configured with it: the menu's "Sign in with your company account",
		// here on each server that waits for it.
		idp := srv.IdP
		if s.signingIn[tray.IdPKey(idp)] {
			add(tray.LabelSigningIn, theme.ViewRefreshIcon(), func(string) { act.SignInIdP(idp) })
			break
		}
		add(tray.LabelSignInIdP, theme.LoginIcon(), func(string) { act.SignInIdP(idp) }).Importance = widget.HighImportance
		idpFirst = true
	case srv.Auth == config.AuthNone:
	case srv.Auth == config.AuthBearer:
		if srv.SignedIn {
			add(tray.LabelForgetToken, theme.LogoutIcon(), act.SignOut)
		}
	case waiting && srv.SignedIn:
		// The state file says signed in, but the server refused the token.
		add(tray.LabelSignInAgain, theme.LoginIcon(), act.SignIn).Importance = widget.HighImportance
		add(tray.LabelSignOut, theme.LogoutIcon(), act.SignOut)
	case srv.SignedIn:
		add(tray.LabelSignOut, theme.LogoutIcon(), act.SignOut)
	default:
		add(tray.LabelSignIn, theme.LoginIcon(), act.SignIn).Importance = widget.HighImportance
	}
	add(tray.LabelConfigure, theme.SettingsIcon(), act.ConfigureClaude)
	add(LabelCopyShort, theme.ContentCopyIcon(), act.CopyClaudeCommand)
	add(tray.LabelTools, theme.ListIcon(), act.ShowTools)
	add(tray.LabelDiagnose, theme.SearchIcon(), act.Diagnose)
	add(tray.LabelCopyReport, theme.ContentCopyIcon(), act.CopyBugReport)
	add(tray.LabelEdit, theme.DocumentCreateIcon(), act.EditServer)
	add(LabelRemove, theme.DeleteIcon(), func(string) { s.confirmRemove(name) })
	// Two rows, each button as wide as its label: signing in and Claude Code, then the five
	// that every server has; a window MainWidth wide fits both. The company sign-in's long
	// label takes a row of its own.
	mid := len(buttons) - 5
	lines := container.NewVBox(container.NewHBox(buttons[:mid]...), container.NewHBox(buttons[mid:]...))
	if idpFirst {
		lines.Objects = slices.Insert(lines.Objects, 0, fyne.CanvasObject(container.NewHBox(buttons[0])))
		lines.Objects[1] = container.NewHBox(buttons[1:mid]...)
	}
	return fullPadding(lines)
}

// fullPadding gives buttons inside a compact list the theme's full inner padding: with
// compact's half, Fyne 2.7 sizes a button too small for its label, which ends in an ellipsis.
func fullPadding(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(o, fullTheme{})
}

// fullTheme is the app's current theme, looked up at each use (so a change of theme, or a
// test's, applies), undoing compact.
type fullTheme struct{}

func (fullTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return current().Color(n, v)
}
func (fullTheme) Font(s fyne.TextStyle) fyne.Resource     { return current().Font(s) }
func (fullTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return current().Icon(n) }
func (fullTheme) Size(n fyne.ThemeSizeName) float32       { return current().Size(n) }

// confirmRemove asks before removing a server: it cannot be undone, and it signs out.
// Cancel has the focus, so Enter or Escape straight away keeps the server.
func (s *Status) confirmRemove(name string) {
	msg := widget.NewLabel("Remove " + name + "? Its tokens and its client registration are deleted from your keychain, and Claude Code can no longer use it through MCP Broker.")
	msg.Wrapping = fyne.TextWrapWord
	var d *dialog.CustomDialog
	remove := newKeyButton(LabelConfirmRemove, theme.DeleteIcon(), func() {
		d.Hide()
		s.Actions.RemoveServer(name)
	})
	remove.Importance = widget.DangerImportance
	cancel := newKeyButton(LabelCancel, theme.CancelIcon(), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Remove "+name+"?", msg, s.win)
	remove.onEscape = func() { d.Hide() }
	cancel.onEscape = func() { d.Hide() }
	d.SetButtons([]fyne.CanvasObject{cancel, remove})
	d.SetOnClosed(func() {
		if s.confirm == d {
			s.confirm = nil
		}
	})
	d.Resize(fyne.NewSize(420, 0))
	s.confirm = d
	d.Show()
	s.win.Canvas().Focus(cancel)
}
