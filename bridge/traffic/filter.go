package traffic

import (
	"fmt"
	"strconv"
	"strings"
)

// Filter is what a view of the timeline shows: `mcp-broker traffic`'s flags, the tray's
// Timeline window's fields. The zero Filter keeps everything.
type Filter struct {
	// Server keeps one server's events.
	Server string
	// Method keeps the messages of one method, or of every method under a prefix ending in
	// "/" ("tools/"); steps have no method and go.
	Method string
	// Errors keeps error answers and failed steps.
	Errors bool
}

// Keep reports whether e passes the filter.
func (f Filter) Keep(e Event) bool {
	switch {
	case f.Server != "" && e.Server != f.Server:
		return false
	case f.Errors && !e.Failed():
		return false
	case f.Method == "":
		return true
	case strings.HasSuffix(f.Method, "/"):
		return strings.HasPrefix(e.Method, f.Method)
	}
	return e.Method == f.Method
}

// Summary words an event on one line, without its time, session or body: "→ tools/call #7
// 212 B", "← tools/call #7  1.3 KiB  37.9 ms  error -32602: …", "• refresh failed: …".
func (e Event) Summary() string {
	var b strings.Builder
	if e.Kind == KindStep {
		fmt.Fprintf(&b, "• %s %s", e.Step, e.Outcome)
		if e.Error != "" {
			b.WriteString(": " + e.Error)
		}
		return b.String()
	}
	arrow := "→"
	if e.Dir == ToClient {
		arrow = "←"
	}
	what := e.Method
	if what == "" {
		what = e.Type
	}
	b.WriteString(arrow + " " + what)
	if e.ID != "" {
		b.WriteString(" #" + e.ID)
	}
	b.WriteString("  " + Size(e.Size))
	if e.ElapsedMS > 0 {
		b.WriteString("  " + strconv.FormatFloat(e.ElapsedMS, 'f', 1, 64) + " ms")
	}
	if e.Failed() {
		fmt.Fprintf(&b, "  error %d: %s", e.ErrorCode, e.ErrorMessage)
	}
	return b.String()
}

// Size words a byte count for people.
func Size(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

// Session is the events of one bridge process: one Claude Code session with one server.
type Session struct {
	Server string
	PID    int
	Events []Event
}

// Sessions groups events by session, in the order each session's first event came, keeping
// the events' order within each: how the CLI and the Timeline window lay the timeline out.
func Sessions(events []Event) []Session {
	type key struct {
		server string
		pid    int
	}
	at := map[key]int{}
	var out []Session
	for _, e := range events {
		k := key{e.Server, e.PID}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, Session{Server: e.Server, PID: e.PID})
		}
		out[i].Events = append(out[i].Events, e)
	}
	return out
}
