package windows

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
)

// fakeToolSettings keeps the settings as broker.ChangeTools would.
type fakeToolSettings struct {
	mu      sync.Mutex
	seen    toolpolicy.Seen
	seenErr error
	policy  toolpolicy.Policy
	changes []broker.ToolChange
	// gate, when set, holds each change until the test lets it through: the test driver runs
	// fyne.Do at once, so the window's redraw must wait for the tap to finish its own.
	gate chan struct{}
}

func (f *fakeToolSettings) Tools(string) (toolpolicy.Seen, toolpolicy.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen, toolpolicy.Policy{Hidden: slices.Clone(f.policy.Hidden), ReadOnly: f.policy.ReadOnly}, f.seenErr
}

func (f *fakeToolSettings) ChangeTools(_ context.Context, _ string, c broker.ToolChange) error {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, c)
	f.policy.Hidden = append(f.policy.Hidden, c.Hide...)
	f.policy.Hidden = slices.DeleteFunc(f.policy.Hidden, func(t string) bool { return slices.Contains(c.Show, t) })
	if c.ReadOnly != nil {
		f.policy.ReadOnly = *c.ReadOnly
	}
	return nil
}

func studioTools() *fakeToolSettings {
	return &fakeToolSettings{
		seen: toolpolicy.Seen{Server: "studio", Saved: time.Date(2026, 12, 6, 3, 43, 0, 0, time.Local), Tools: []toolpolicy.Tool{
			{Name: "read_page", ReadOnly: true, Bytes: 400},
			{Name: "search", ReadOnly: true, Bytes: 221},
			{Name: "delete_page", Bytes: 121},
		}},
		policy: toolpolicy.Policy{Hidden: []string{"search"}},
		gate:   make(chan struct{}),
	}
}

// TestToolsWindow: a switch per tool, on for the tools shown; turning one on or off and
// turning read-only mode on save the change, and the window shows the settings as saved.
func TestToolsWindow(t *testing.T) {
	a := test.NewTempApp(t)
	ts := studioTools()
	w := ShowTools(a, "studio", ts)
	w.Window().Resize(fyne.NewSize(560, 560))
	if !w.checks["read_page"].Checked || w.checks["search"].Checked || !w.checks["delete_page"].Checked || w.readOnly.Checked {
		t.Errorf("switches do not follow the settings")
	}
	if !hasTextContaining(w.Window().Content(), "Shown: 2 of 3 tools, about 131 tokens") {
		t.Errorf("no summary in %q", texts(w.Window().Content()))
	}
	assertMarkup(t, "tools.xml", w.Window())
	assertImage(t, "tools.png", w.Window())

	toggle(t, w, ts, w.checks["search"])
	toggle(t, w, ts, w.readOnly)
	if len(ts.changes) != 2 || !slices.Equal(ts.changes[0].Show, []string{"search"}) || ts.changes[1].ReadOnly == nil || !*ts.changes[1].ReadOnly {
		t.Fatalf("changes saved: %+v", ts.changes)
	}
	if !w.checks["search"].Checked || !w.readOnly.Checked || w.checks["delete_page"].Checked || !w.checks["delete_page"].Disabled() {
		t.Error("after the changes, the switches do not follow the settings saved")
	}
	assertMarkup(t, "tools_read_only.xml", w.Window())

	toggle(t, w, ts, w.readOnly)
	toggle(t, w, ts, w.checks["delete_page"])
	if got := ts.changes[len(ts.changes)-1]; !slices.Equal(got.Hide, []string{"delete_page"}) {
		t.Errorf("hiding delete_page saved %+v", got)
	}
}

func TestToolsWindowNotSeen(t *testing.T) {
	a := test.NewTempApp(t)
	ts := &fakeToolSettings{seenErr: toolpolicy.ErrNotSeen, policy: toolpolicy.Policy{ReadOnly: true}}
	w := ShowTools(a, "studio", ts)
	w.Window().Resize(fyne.NewSize(560, 560))
	if !w.readOnly.Checked || w.readOnly.Disabled() || len(w.checks) != 0 {
		t.Error("without tools seen, read-only mode must still show and switch")
	}
	assertMarkup(t, "tools_empty.xml", w.Window())
}

// tapCheck taps a check box on its box: Fyne ignores a tap above or below it, and a row may be
// taller than the box (test.Tap taps at 1,1).
func tapCheck(c *widget.Check) {
	test.TapAt(c, fyne.NewPos(4, c.Size().Height/2))
}

// toggle taps a switch of the window and waits for the change it saves.
func toggle(t *testing.T, w *Tools, ts *fakeToolSettings, c *widget.Check) {
	t.Helper()
	tapCheck(c)
	select {
	case ts.gate <- struct{}{}:
	case <-time.After(20 * time.Second):
		t.Fatalf("tapping %q saved no change", c.Text)
	}
	wait(t, &w.bg)
}
