package windows

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
)

// ToolSettings is what the Tools window needs of the broker: a server's tools as a bridge last
// saw them, with its tool settings, and a way to change those (broker.ChangeTools). Tools
// returns toolpolicy.ErrNotSeen, with the settings, when no bridge has listed the tools yet.
type ToolSettings interface {
	Tools(server string) (toolpolicy.Seen, toolpolicy.Policy, error)
	ChangeTools(ctx context.Context, server string, change broker.ToolChange) error
}

// Tools is the window of a server's tools: a switch per tool that hides it from Claude Code,
// each with an estimate of what its definition costs in Claude Code's context, and the switch
// of read-only mode. A change is saved at once, and the bridges running for the server apply
// it within a second.
type Tools struct {
	win    fyne.Window
	server string
	ts     ToolSettings

	ctx    context.Context // cancelled when the window closes
	cancel context.CancelFunc
	bg     sync.WaitGroup

	readOnly *widget.Check
	list     *fyne.Container
	summary  *widget.RichText
	problem  *widget.Label
	checks   map[string]*widget.Check // the switch of each tool, by name
}

// ShowTools opens the Tools window of server.
func ShowTools(a fyne.App, server string, ts ToolSettings) *Tools {
	w := &Tools{win: a.NewWindow("Tools of " + server), server: server, ts: ts, list: container.NewVBox(),
		summary: hint(""), problem: errorLabel()}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.readOnly = widget.NewCheck("Read-only: show only the tools the server marks read-only", nil)
	body := container.NewVBox(
		heading("Tools of "+server),
		note("Each tool shown takes room in Claude Code's context. Hidden tools are left out of what Claude Code lists, and a call of one is refused; running sessions follow a change within a second."),
		w.readOnly,
		gap(),
		w.list,
		w.summary,
		w.problem,
	)
	closeBtn := widget.NewButton("Close", w.win.Close)
	w.win.SetContent(page(body, container.NewHBox(layout.NewSpacer(), closeBtn)))
	w.win.SetOnClosed(w.cancel)
	w.win.Resize(fyne.NewSize(560, 560))
	seen, policy, err := ts.Tools(server)
	w.render(seen, policy, err)
	w.win.Show()
	return w
}

// Window is the window.
func (w *Tools) Window() fyne.Window { return w.win }

// render shows the tools seen under the settings, or why it cannot.
func (w *Tools) render(seen toolpolicy.Seen, policy toolpolicy.Policy, err error) {
	w.readOnly.OnChanged = nil
	w.readOnly.SetChecked(policy.ReadOnly)
	w.readOnly.OnChanged = func(on bool) { w.change(broker.ToolChange{ReadOnly: &on}) }
	w.list.RemoveAll()
	w.checks = map[string]*widget.Check{}
	switch {
	case errors.Is(err, toolpolicy.ErrNotSeen):
		w.list.Add(section("No tools seen yet"))
		w.list.Add(note("The tools show here once Claude Code has used " + w.server + " through mcp-broker: open a Claude Code session, then this window again."))
		w.readOnly.Enable()
		setQuiet(w.summary, "")
		w.list.Refresh()
		return
	case err != nil:
		w.readOnly.Disable()
		setMessage(w.problem, explain("The tools could not be read.", err))
		w.list.Refresh()
		return
	}
	w.readOnly.Enable()
	shown, shownTokens := 0, 0
	for _, t := range seen.Tools {
		name := t.Name
		check := widget.NewCheck(name, nil)
		check.SetChecked(!policy.Hides(t.Name, t.ReadOnly))
		check.OnChanged = func(on bool) {
			if on {
				w.change(broker.ToolChange{Show: []string{name}})
			} else {
				w.change(broker.ToolChange{Hide: []string{name}})
			}
		}
		about := fmt.Sprintf("~%d tokens", t.Tokens())
		switch {
		case t.ReadOnly:
			about += " · read-only"
		case policy.ReadOnly:
			about += " · hidden by read-only mode"
			check.Disable()
		}
		if check.Checked {
			shown++
			shownTokens += t.Tokens()
		}
		w.checks[name] = check
		cost := quiet(about, theme.SizeNameCaptionText, fyne.TextAlignTrailing)
		cost.Wrapping = fyne.TextWrapOff
		w.list.Add(container.NewBorder(nil, nil, nil, cost, check))
	}
	setQuiet(w.summary, fmt.Sprintf("Shown: %d of %d tools, about %d tokens, as a bridge last saw them at %s. A tool's tokens are estimated as the bytes of its definition (name, description, input schema, annotations) divided by 4.",
		shown, len(seen.Tools), shownTokens, seen.Saved.Local().Format("2006-01-02 15:04")))
	w.list.Refresh()
}

// change saves a change of the settings in a goroutine, then shows the settings as saved.
func (w *Tools) change(c broker.ToolChange) {
	setMessage(w.problem, "")
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		err := w.ts.ChangeTools(w.ctx, w.server, c)
		seen, policy, readErr := w.ts.Tools(w.server)
		fyne.Do(func() {
			if w.ctx.Err() != nil {
				return
			}
			w.render(seen, policy, readErr)
			if err != nil {
				setMessage(w.problem, explain("The change could not be saved.", err))
			}
		})
	}()
}
