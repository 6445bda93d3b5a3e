package windows

import (
	"strconv"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mcp-broker/mcp-broker/bridge/traffic"
)

// BenchmarkTimelineBatch is one poll's worth of events (100) reaching a Timeline that keeps
// timelineKeep already, and the window drawn: what the open window costs a machine under
// load, four times a second.
func BenchmarkTimelineBatch(b *testing.B) {
	a := test.NewTempApp(b)
	w := NewTimeline(a)
	w.Window().Resize(fyne.NewSize(640, 640))
	id := 0
	batch := func() []traffic.Event {
		events := make([]traffic.Event, 100)
		for i := range events {
			id++
			events[i] = traffic.Event{Time: now, Server: "studio", PID: 1, Kind: traffic.KindMessage, Dir: traffic.ToServer,
				Type: "request", Method: "tools/call", ID: strconv.Itoa(id), Size: 99}
		}
		return events
	}
	for range timelineKeep / 100 {
		w.Add(batch())
	}
	for b.Loop() {
		w.Add(batch())
		w.Window().Canvas().Capture()
	}
}
