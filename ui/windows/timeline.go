package windows

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
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
type Timeline struct {
	// OnClosed, when set, is called when the window closes, after the watching stopped.
	OnClosed func()

	win    fyne.Window
	server *widget.Select
	method *widget.Entry
	errors *widget.Check
	list   *fyne.Container
	// problem says why the window cannot watch.
	problem *widget.Label
	// zone is where times are shown: the local zone (tests fix it).
	zone *time.Location

	events []traffic.Event // on Fyne's goroutine only

	cancel context.CancelFunc
	bg     sync.WaitGroup
}

// NewTimeline returns the Timeline window, empty and not watching: Watch starts that.
func NewTimeline(a fyne.App) *Timeline {
	t := &Timeline{win: a.NewWindow("MCP Broker traffic"), list: container.NewVBox(), problem: errorLabel(), zone: time.Local}
	t.server = widget.NewSelect([]string{allServers}, func(string) { t.render() })
	t.server.SetSelected(allServers)
	t.method = widget.NewEntry()
	t.method.SetPlaceHolder("Method, or a prefix such as tools/")
	t.method.OnChanged = func(string) { t.render() }
	t.errors = widget.NewCheck("Errors only", func(bool) { t.render() })
	filters := container.New(layout.NewFormLayout(),
		widget.NewLabel("Server"), t.server,
		widget.NewLabel("Method"), t.method,
		layout.NewSpacer(), t.errors)
	body := container.NewVBox(
		heading("Traffic"),
		note("The messages between Claude Code and your servers, and the steps of sign-ins and refreshes, as they happen. Nothing shown holds a secret; bodies appear only when turned on (mcp-broker traffic --bodies on), with every credential removed."),
		filters,
		t.problem,
		gap(),
		t.list,
	)
	t.win.SetContent(page(compact(body), nil))
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
	events = slices.Clone(events)
	fyne.Do(func() {
		t.events = append(t.events, events...)
		if over := len(t.events) - timelineKeep; over > 0 {
			t.events = slices.Delete(t.events, 0, over)
		}
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

// render rebuilds the list: one block per session (bridge process), newest session last.
func (t *Timeline) render() {
	if t.list == nil || t.errors == nil {
		return // still being built
	}
	servers := []string{allServers}
	for _, e := range t.events {
		if !slices.Contains(servers, e.Server) {
			servers = append(servers, e.Server)
		}
	}
	slices.Sort(servers[1:])
	t.server.Options = servers

	f := t.filter()
	type session struct {
		server string
		pid    int
	}
	var order []session
	by := map[session][]traffic.Event{}
	for _, e := range t.events {
		if !f.Keep(e) {
			continue
		}
		s := session{e.Server, e.PID}
		if _, ok := by[s]; !ok {
			order = append(order, s)
		}
		by[s] = append(by[s], e)
	}
	t.list.RemoveAll()
	if len(order) == 0 {
		text := "Nothing yet. Bridges record while this window is open: use Claude Code, and its messages show here."
		if len(t.events) > 0 {
			text = "No event matches the filter."
		}
		t.list.Add(note(text))
	}
	for i, s := range order {
		if i > 0 {
			t.list.Add(widget.NewSeparator())
		}
		t.list.Add(section(s.server + " — session " + strconv.Itoa(s.pid)))
		for _, e := range by[s] {
			row := mono(e.Time.In(t.zone).Format("15:04:05.000") + "  " + e.Summary())
			if e.Failed() {
				row.Importance = widget.DangerImportance
			}
			t.list.Add(row)
			switch {
			case len(e.Body) > 0:
				t.list.Add(indented(mono(string(e.Body))))
			case e.Omitted != "":
				t.list.Add(indented(note("Body not shown: " + e.Omitted + ".")))
			}
		}
	}
	t.list.Refresh()
}
