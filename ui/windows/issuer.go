package windows

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// IssuerChanged asks whether to trust the sign-in server a server now names, when the client
// the person set up for it (a client ID and secret) belongs to another one: the broker refused
// the sign-in (broker.IssuerChangedError) and sent nothing to the new server. Trusting it is
// a decision only a person who knows the server moved can make, so it is a button of its own,
// and not the highlighted one; closing the window keeps the old sign-in server.
type IssuerChanged struct {
	win   fyne.Window
	trust *widget.Button
	keep  *widget.Button
	once  sync.Once
}

// ShowIssuerChanged opens the window for server, whose client was set up with the sign-in
// server was and which now names now. trust is called once if the person trusts the new one.
func ShowIssuerChanged(a fyne.App, server, was, now string, trust func()) *IssuerChanged {
	w := &IssuerChanged{win: a.NewWindow("The sign-in server of " + server + " changed")}
	w.trust = widget.NewButton("Trust the new sign-in server", func() {
		w.once.Do(trust)
		w.win.Close()
	})
	w.trust.Importance = widget.WarningImportance
	w.keep = widget.NewButton("Keep the old one", func() { w.win.Close() })
	body := container.NewVBox(
		heading(server+" now sends you to another sign-in server"),
		note("It used to be:"),
		note("    "+was),
		note("It is now:"),
		note("    "+now),
		gap(),
		note("The client ID and secret you gave for "+server+" were set up with the first, so mcp-broker has sent nothing to the new one. "+
			"Trust it only if the people who run "+server+" told you it moved: a sign-in server that changes without notice can also be someone after your client secret."),
	)
	w.win.SetContent(page(body, container.NewHBox(layout.NewSpacer(), w.keep, w.trust)))
	w.win.Resize(fyne.NewSize(520, 340))
	w.win.Show()
	return w
}

// Window is the window.
func (w *IssuerChanged) Window() fyne.Window { return w.win }
