package windows

import (
	"context"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/traffic"
)

// timelinePoll is how often the Timeline reads the bridges' events files, and timelineKeep
// how many events it keeps (the oldest go first).
const (
	timelinePoll = 250 * time.Millisecond
	timelineKeep = 500
)

// allServers is the server filter's choice that keeps every server.
const allServers = "All servers"

// Timeline is the window of the bridges' live traffic (package traffic): per Claude Code
// session, the messages relayed and the steps of sign-ins and refreshes, filterable by
// server, method and errors, as `mcp-broker traffic --follow` prints them. While it is open,
// the bridges know someone watches and write their events; closing it stops that.
//
// The events show in a virtualized list (widget.List) over a flat model of rows (see
// timelineRow), so that a bridge under load costs the window the few rows on
// screen, not every kept event: the model is rebuilt only when the events, the filter or
// the width change, and the list creates and updates only the visible rows.
type Timeline struct {
	// OnClosed, when set, is called when the window closes, after the watching stopped.
	OnClosed func()

	win    fyne.Window
	server *widget.Select
	method *widget.Entry
	errors *widget.Check
	list   *widget.List
	// bottom is the list's scroll offset at the end of the rows, after it last followed them.
	bottom float32
	// empty says why the list is empty, above it.
	empty *widget.RichText
	// problem says why the window cannot watch.
	problem *widget.Label
	// zone is where times are shown: the local zone (tests fix it).
	zone *time.Location

	// On Fyne's goroutine only:
	events  []traffic.Event
	rows    []timelineRow
	servers []string       // the server filter's options
	shown   traffic.Filter // the filter rows was built with
	cols    int            // the columns rows was wrapped at, 0 for none
	built   bool           // rows matches events, shown and cols
	builds  int            // how many times rows was built, for tests

	cancel context.CancelFunc
	bg     sync.WaitGroup
}

// NewTimeline returns the Timeline window, empty and not watching: Watch starts that.
func NewTimeline(a fyne.App) *Timeline {
	t := &Timeline{win: a.NewWindow("MCP Broker traffic"), problem: errorLabel(), zone: time.Local, servers: []string{allServers}}
	t.empty = note("")
	t.list = newTimelineList(t)
	t.server = widget.NewSelect(t.servers, func(string) { t.render() })
	t.server.SetSelected(allServers)
	t.method = widget.NewEntry()
	t.method.SetPlaceHolder("Method, or a prefix such as tools/")
	t.method.OnChanged = func(string) { t.render() }
	t.errors = widget.NewCheck("Errors only", func(bool) { t.render() })
	filters := container.New(layout.NewFormLayout(),
		widget.NewLabel("Server"), t.server,
		widget.NewLabel("Method"), t.method,
		layout.NewSpacer(), t.errors)
	top := container.NewVBox(
		heading("Traffic"),
		note("The messages between Claude Code and your servers, and the steps of sign-ins and refreshes, as they happen. Nothing shown holds a secret; bodies appear only when turned on (mcp-broker traffic --bodies on), with every credential removed."),
		filters,
		t.problem,
		gap(),
		t.empty,
	)
	// Not page(): the list scrolls itself, and inside another scroll area it would be laid
	// out at its full height, every row created.
	p := theme.Padding()
	body := container.NewBorder(top, nil, nil, nil, container.New(&timelineLayout{t: t}, container.NewThemeOverride(t.list, rowsTheme{})))
	t.win.SetContent(container.New(layout.NewCustomPaddedLayout(p, 2*p, 2*p, 2*p), compact(body)))
	t.win.Resize(fyne.NewSize(640, 640))
	t.win.SetOnClosed(t.stop)
	t.render()
	return t
}

// ShowTimeline opens the Timeline window watching the traffic folder dir (traffic.Dir).
func ShowTimeline(a fyne.App, dir string) *Timeline {
	t := NewTimeline(a)
	if err := t.Watch(dir); err != nil {
		setMessage(t.problem, explain("The traffic cannot be watched.", err))
	}
	t.win.Show()
	return t
}

// Window is the Timeline window, for tests.
func (t *Timeline) Window() fyne.Window { return t.win }

// Watch marks the traffic folder dir as watched (see traffic.Watch) and shows what the
// bridges write there, until the window closes.
func (t *Timeline) Watch(dir string) error {
	ctx, cancel := context.WithCancel(context.Background())
	if err := traffic.Watch(ctx, dir); err != nil {
		cancel()
		return err
	}
	t.cancel = cancel
	r := traffic.NewReader(dir)
	t.bg.Go(func() {
		tick := time.NewTicker(timelinePoll)
		defer tick.Stop()
		for {
			if events, err := r.Next(); err == nil && len(events) > 0 {
				t.Add(events)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return nil
}

// stop ends the watching, when the window closes.
func (t *Timeline) stop() {
	if t.cancel != nil {
		t.cancel()
		t.bg.Wait()
	}
	if t.OnClosed != nil {
		t.OnClosed()
	}
}

// Add shows more events. It may be called from any goroutine.
func (t *Timeline) Add(events []traffic.Event) {
	if len(events) == 0 {
		return
	}
	events = slices.Clone(events)
	fyne.Do(func() {
		t.events = append(t.events, events...)
		if over := len(t.events) - timelineKeep; over > 0 {
			t.events = slices.Delete(t.events, 0, over)
		}
		t.built = false
		t.render()
	})
}

// filter is the filter the fields say.
func (t *Timeline) filter() traffic.Filter {
	f := traffic.Filter{Method: t.method.Text, Errors: t.errors.Checked}
	if s := t.server.Selected; s != allServers {
		f.Server = s
	}
	return f
}

// render brings the window up to date with the events and the filter: the server choices
// when the set of servers changed, and the rows when the events, the filter or the width
// changed. The list follows the newest row while it shows the bottom, like a terminal;
// scrolled up, it stays where the user put it.
func (t *Timeline) render() {
	if t.list == nil || t.errors == nil {
		return // still being built
	}
	f := t.filter()
	cols := columns(t.list, 0)
	if t.built && f == t.shown && cols == t.cols {
		return
	}
	if servers := serversOf(t.events); !slices.Equal(servers, t.servers) {
		t.servers = servers
		t.server.SetOptions(servers)
	}
	follow := t.following()
	t.rows = timelineRows(t.events, f, t.zone, cols, columns(t.list, 3*theme.Padding()))
	t.shown, t.cols, t.built = f, cols, true
	t.builds++

	switch {
	case len(t.rows) > 0:
		t.empty.Hide()
	case len(t.events) > 0:
		setNote(t.empty, "No event matches the filter.")
		t.empty.Show()
	default:
		setNote(t.empty, "Nothing yet. Bridges record while this window is open: use Claude Code, and its messages show here.")
		t.empty.Show()
	}
	t.list.Refresh() // also makes the list's renderer, which scrolling needs
	if follow {
		t.toBottom()
	}
}

// following reports whether the list shows the newest rows, as it does until the user
// scrolls up from them (and again once they scroll back down).
func (t *Timeline) following() bool {
	return t.list.GetScrollOffset() >= t.bottom-1
}

// toBottom scrolls the list to its newest rows.
func (t *Timeline) toBottom() {
	t.list.ScrollToBottom()
	t.bottom = t.list.GetScrollOffset()
}

// setNote sets the text of a note (see note).
func setNote(rt *widget.RichText, text string) {
	if seg, ok := rt.Segments[0].(*widget.TextSegment); ok && seg.Text != text {
		seg.Text = text
		rt.Refresh()
	}
}

// serversOf is the server filter's options for events: every server, sorted, after
// allServers.
func serversOf(events []traffic.Event) []string {
	servers := []string{allServers}
	for _, e := range events {
		if !slices.Contains(servers, e.Server) {
			servers = append(servers, e.Server)
		}
	}
	slices.Sort(servers[1:])
	return servers
}
