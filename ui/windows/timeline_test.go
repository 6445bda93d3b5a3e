package windows

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

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
