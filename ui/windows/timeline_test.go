package windows

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
)

// someTraffic is two sessions: a sign-in and a few calls on studio, an error on docs.
func someTraffic() []traffic.Event {
	at := func(ms int) time.Time { return now.Add(time.Duration(ms) * time.Millisecond) }
	return []traffic.Event{
		{Time: at(0), Server: "studio", PID: 4242, Kind: traffic.KindStep, Step: "discovery", Outcome: traffic.OutcomeOK},
		{Time: at(180), Server: "studio", PID: 4242, Kind: traffic.KindStep, Step: "token", Outcome: traffic.OutcomeOK},
		{Time: at(300), Server: "studio", PID: 4242, Kind: traffic.KindMessage, Dir: traffic.ToServer, Type: "request", Method: "tools/call", ID: "7", Size: 212},
		{Time: at(338), Server: "studio", PID: 4242, Kind: traffic.KindMessage, Dir: traffic.ToClient, Type: "response", Method: "tools/call", ID: "7", Size: 1331, ElapsedMS: 37.9,
			Body: json.RawMessage(`{"id":7,"jsonrpc":"2.0","result":{"content":[{"text":"Authorization: Bearer REDACTED","type":"text"}]}}`)},
		{Time: at(400), Server: "docs", PID: 4250, Kind: traffic.KindMessage, Dir: traffic.ToServer, Type: "request", Method: "resources/read", ID: "3", Size: 96},
		{Time: at(404), Server: "docs", PID: 4250, Kind: traffic.KindMessage, Dir: traffic.ToClient, Type: "response", Method: "resources/read", ID: "3", Size: 120, ElapsedMS: 4.1,
			ErrorCode: -32002, ErrorMessage: "Resource not found"},
	}
}

func TestTimelineWindow(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewTimeline(a)
	w.zone = time.UTC
	w.Window().Resize(fyne.NewSize(640, 560))
	if !hasTextContaining(w.Window().Content(), "Nothing yet") {
		t.Errorf("an empty timeline does not say so: %q", texts(w.Window().Content()))
	}
	w.Add(someTraffic())
	assertMarkup(t, "timeline.xml", w.Window())
	assertImage(t, "timeline.png", w.Window())

	shown := func(part string) bool { return hasTextContaining(w.Window().Content(), part) }
	test.Type(w.method, "tools/")
	if !shown("→ tools/call #7") || shown("resources/read") || shown("• token ok") {
		t.Errorf("method filter tools/: %q", texts(w.Window().Content()))
	}
	w.method.SetText("")
	test.Tap(w.errors)
	if !shown("error -32002: Resource not found") || shown("tools/call") {
		t.Errorf("errors only: %q", texts(w.Window().Content()))
	}
	assertMarkup(t, "timeline_errors.xml", w.Window())
	test.Tap(w.errors)
	if got := w.server.Options; strings.Join(got, ",") != allServers+",docs,studio" {
		t.Errorf("server choices = %q", got)
	}
	w.server.SetSelected("docs")
	if shown("studio") || !shown("docs — session 4250") {
		t.Errorf("server docs: %q", texts(w.Window().Content()))
	}
	w.method.SetText("ping")
	if !shown("No event matches the filter.") {
		t.Errorf("a filter that matches nothing does not say so: %q", texts(w.Window().Content()))
	}
}

// TestTimelineWatches opens the window on a traffic folder where a bridge's recorder runs:
// the open window is a watcher, so the recorder writes, and what it writes shows.
func TestTimelineWatches(t *testing.T) {
	a := test.NewTempApp(t)
	dir := filepath.Join(t.TempDir(), "mcp-broker", "traffic")
	rec, err := traffic.Start(traffic.Options{Dir: dir, Server: "studio"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	w := ShowTimeline(a, dir)
	deadline := time.Now().Add(30 * time.Second)
	for !rec.Watched() {
		if time.Now().After(deadline) {
			t.Fatal("the recorder did not see the window watching")
		}
		time.Sleep(10 * time.Millisecond)
	}
	msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	env, err := jsonrpc.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	rec.Message(traffic.ToServer, msg, env)
	for !hasTextContaining(w.Window().Content(), "→ tools/list #1") {
		if time.Now().After(deadline) {
			t.Fatalf("the message did not show: %q", texts(w.Window().Content()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.Window().Close()
	for traffic.Watched(dir, time.Now()) {
		if time.Now().After(deadline) {
			t.Fatal("still watched after the window closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatusTrafficButton: the status window's "Traffic…" shows only when the tray handles it,
// and does what it says.
func TestStatusTrafficButton(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewStatus(a)
	s.Update(nil, nil, now)
	if s.traffic.Visible() {
		t.Error("Traffic… shows with nothing to open")
	}
	opened := 0
	s.OnTraffic = func() { opened++ }
	s.Update(nil, nil, now)
	if !s.traffic.Visible() {
		t.Fatal("Traffic… does not show")
	}
	test.Tap(s.traffic)
	if opened != 1 {
		t.Errorf("Traffic… opened %d times, want once", opened)
	}
}

// TestTimelineBuildsRowsOnChange: the rows are built again when the events, the filter or the
// columns change, and not for a batch without events, a filter set to what it was, a refresh
// or a resize that keeps the width.
func TestTimelineBuildsRowsOnChange(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewTimeline(a)
	w.Window().Resize(fyne.NewSize(640, 560))
	w.Add(someTraffic())
	built := w.builds
	same := func(what string) {
		t.Helper()
		if w.builds != built {
			t.Errorf("%s built the rows again", what)
			built = w.builds
		}
	}
	again := func(what string) {
		t.Helper()
		if w.builds != built+1 {
			t.Errorf("%s built the rows %d times, want once", what, w.builds-built)
		}
		built = w.builds
	}
	w.Add(nil)
	same("an empty batch")
	w.method.SetText("")
	w.server.SetSelected(allServers)
	w.errors.SetChecked(false)
	same("setting the filter to what it was")
	w.Window().Content().Refresh()
	w.Window().Resize(fyne.NewSize(640, 600))
	same("a refresh and a taller window")
	options := w.server.Options
	w.Add(someTraffic()[:1])
	again("a new event")
	if &options[0] != &w.server.Options[0] {
		t.Error("the server choices were set again with the same servers")
	}
	w.Add([]traffic.Event{{Time: now, Server: "zeta", PID: 1, Kind: traffic.KindStep, Step: "token", Outcome: traffic.OutcomeOK}})
	again("an event of a new server")
	if got := w.server.Options; strings.Join(got, ",") != allServers+",docs,studio,zeta" {
		t.Errorf("server choices = %q", got)
	}
	w.method.SetText("tools/")
	again("a method filter")
	w.Window().Resize(fyne.NewSize(420, 600))
	again("a narrower window")
	if !hasTextContaining(w.Window().Content(), "→ tools/call #7") {
		t.Errorf("after the resize: %q", texts(w.Window().Content()))
	}
}

// TestTimelineManyEvents: 10,000 events keep the newest timelineKeep, one row each under their
// session's title; the list makes widgets for the rows on screen only, follows the newest
// while it shows the bottom, and stays put when the user scrolled up.
func TestTimelineManyEvents(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewTimeline(a)
	w.zone = time.UTC
	w.Window().Resize(fyne.NewSize(640, 560))
	call := func(id int) traffic.Event {
		return traffic.Event{Time: now, Server: "studio", PID: 1, Kind: traffic.KindMessage, Dir: traffic.ToServer,
			Type: "request", Method: "tools/call", ID: strconv.Itoa(id), Size: 99}
	}
	for b := range 100 {
		batch := make([]traffic.Event, 100)
		for i := range batch {
			batch[i] = call(b*100 + i)
		}
		w.Add(batch)
	}
	if len(w.events) != timelineKeep || w.events[0].ID != strconv.Itoa(10000-timelineKeep) {
		t.Fatalf("kept %d events from #%s, want %d from #%d", len(w.events), w.events[0].ID, timelineKeep, 10000-timelineKeep)
	}
	if len(w.rows) != 1+timelineKeep || w.rows[0].kind != rowSession {
		t.Errorf("%d rows, want a title and %d events", len(w.rows), timelineKeep)
	}
	shown := 0
	walk(w.Window().Content(), func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, "tools/call #") {
			shown++
		}
		return true
	})
	if shown == 0 || shown > 30 {
		t.Errorf("%d event rows have widgets, want only those on screen", shown)
	}
	if !hasTextContaining(w.Window().Content(), "→ tools/call #9999 ") {
		t.Errorf("the newest event is not on screen: %q", texts(w.Window().Content()))
	}

	w.list.ScrollToTop()
	w.Add([]traffic.Event{call(10000)})
	if off := w.list.GetScrollOffset(); off != 0 {
		t.Errorf("scrolled up, a new event moved the list to %v", off)
	}
	w.list.ScrollToBottom()
	bottom := w.list.GetScrollOffset()
	w.Add([]traffic.Event{{Time: now, Server: "docs", PID: 2, Kind: traffic.KindStep, Step: "token", Outcome: traffic.OutcomeOK}})
	if off := w.list.GetScrollOffset(); off <= bottom || !hasTextContaining(w.Window().Content(), "docs — session 2") {
		t.Errorf("at the bottom, a new session did not follow: offset %v, was %v: %q", off, bottom, texts(w.Window().Content()))
	}
}

func TestWrapLines(t *testing.T) {
	for _, c := range []struct {
		text string
		cols int
		sep  string
		want []string
	}{
		{"short", 10, "", []string{"short"}},
		{"abcdefghij", 4, "", []string{"abcd", "efgh", "ij"}},
		{"a\nbcdef\n", 3, "", []string{"a", "bcd", "ef"}},
		{"ééééé", 2, "", []string{"éé", "éé", "é"}},
		{"← call  1 KiB  error -1: gone", 16, "  ", []string{"← call  1 KiB", "error -1: gone"}},
		{"abc  defghijkl", 8, "  ", []string{"abc", "defghijk", "l"}},
		{"anything", 0, "  ", []string{"anything"}},
	} {
		if got := wrapLines(c.text, c.cols, c.sep); !slices.Equal(got, c.want) {
			t.Errorf("wrapLines(%q, %d, %q) = %q, want %q", c.text, c.cols, c.sep, got, c.want)
		}
	}
}
