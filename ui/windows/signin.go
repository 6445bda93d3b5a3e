package windows

import (
	"net/url"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// SignIn is the small window shown while a sign-in waits for the browser:
// what to do, that it is waiting, and a way out. The tray closes it with
// Close when the sign-in ends, and tells the outcome in a notification.
type SignIn struct {
	win      fyne.Window
	activity *widget.Activity
	cancel   *widget.Button
	open     *widget.Button // nil without an authorization URL
	copy     *widget.Button // nil without an authorization URL
	message  *widget.Label

	onCancel   func()
	cancelOnce sync.Once
	finished   atomic.Bool // Close was called: closing the window is not a cancel
	closed     atomic.Bool // the window is closed
}

// ShowSignIn opens the window for a sign-in to server. authURL, when not
// empty, is the page the browser was sent to, offered again ("Open again",
// "Copy link") for when the browser did not open or the tab was lost; it
// carries no secret (the PKCE verifier never leaves mcp-broker). cancel is
// called once if the person cancels or closes the window; not after Close.
func ShowSignIn(a fyne.App, server, authURL string, cancel func()) *SignIn {
	s := &SignIn{win: a.NewWindow("Sign in to " + server), onCancel: cancel}
	s.activity = widget.NewActivity()
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Hide()
	s.cancel = widget.NewButton("Cancel", func() {
		s.callCancel()
		s.win.Close()
	})

	title := heading("Finish signing in to " + server + " in your browser")
	body := container.NewVBox(
		container.NewBorder(nil, nil, s.activity, nil, title),
		note("Your browser has opened the sign-in page. This window closes by itself when you are done."),
	)
	var links []fyne.CanvasObject
	if authURL != "" {
		s.open = widget.NewButtonWithIcon("Open again", theme.ViewRefreshIcon(), func() {
			u, err := url.Parse(authURL)
			if err == nil {
				err = a.OpenURL(u)
			}
			if err != nil {
				s.show(explain("The browser could not be opened.", err)+" Copy the link and paste it into your browser.", widget.DangerImportance)
				return
			}
			s.show("Opened the sign-in page again.", widget.LowImportance)
		})
		s.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() {
			a.Clipboard().SetContent(authURL)
			s.show("Link copied: paste it into your browser's address bar.", widget.LowImportance)
		})
		body.Add(gap())
		body.Add(note("No browser window? Open the page again, or copy the link into the browser you use."))
		links = append(links, s.open, s.copy)
	}
	body.Add(s.message)
	buttons := container.NewHBox(append(links, layout.NewSpacer(), s.cancel)...)
	s.win.SetContent(page(body, buttons))
	s.win.SetOnClosed(func() {
		s.closed.Store(true)
		s.activity.Stop()
		if !s.finished.Load() {
			s.callCancel() // closed by the person: the same as Cancel
		}
	})
	s.win.Resize(fyne.NewSize(500, 280))
	s.win.Show()
	s.activity.Start()
	return s
}

// Window is the window.
func (s *SignIn) Window() fyne.Window { return s.win }

// Close closes the window without calling cancel: the sign-in is over. It
// may be called from any goroutine, and more than once.
func (s *SignIn) Close() {
	if s.finished.Swap(true) {
		return
	}
	fyne.Do(func() {
		if !s.closed.Load() { // the person may have closed it already
			s.win.Close()
		}
	})
}

func (s *SignIn) callCancel() {
	s.cancelOnce.Do(func() {
		if s.onCancel != nil {
			s.onCancel()
		}
	})
}

func (s *SignIn) show(text string, imp widget.Importance) {
	s.message.Importance = imp
	setMessage(s.message, text)
}
