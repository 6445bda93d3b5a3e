package traffic

import (
	"fmt"
	"slices"
	"testing"
)

func TestFilterAndSummary(t *testing.T) {
	call := Event{Server: "studio", Kind: KindMessage, Dir: ToServer, Type: "request", Method: "tools/call", ID: "7", Size: 212}
	failed := Event{Server: "studio", Kind: KindMessage, Dir: ToClient, Type: "response", Method: "tools/call", ID: "7", Size: 1331,
		ElapsedMS: 37.94, ErrorCode: -32602, ErrorMessage: "bad arguments"}
	step := Event{Server: "docs", Kind: KindStep, Step: "refresh", Outcome: OutcomeFailed, Error: "the sign-in has expired"}
	for _, tc := range []struct {
		f    Filter
		want [3]bool // call, failed, step
	}{
		{Filter{}, [3]bool{true, true, true}},
		{Filter{Server: "docs"}, [3]bool{false, false, true}},
		{Filter{Method: "tools/call"}, [3]bool{true, true, false}},
		{Filter{Method: "tools/"}, [3]bool{true, true, false}},
		{Filter{Method: "tools"}, [3]bool{false, false, false}},
		{Filter{Errors: true}, [3]bool{false, true, true}},
		{Filter{Server: "studio", Errors: true}, [3]bool{false, true, false}},
	} {
		for i, e := range []Event{call, failed, step} {
			if got := tc.f.Keep(e); got != tc.want[i] {
				t.Errorf("%+v keeps %s: %v, want %v", tc.f, e.Summary(), got, tc.want[i])
			}
		}
	}
	for e, want := range map[*Event]string{
		&call:   "→ tools/call #7  212 B",
		&failed: "← tools/call #7  1.3 KiB  37.9 ms  error -32602: bad arguments",
		&step:   "• refresh failed: the sign-in has expired",
	} {
		if got := e.Summary(); got != want {
			t.Errorf("Summary = %q, want %q", got, want)
		}
	}
}

// TestSessions: events group by bridge process in the order each session first spoke, two
// servers with one pid and one server with two pids apart, and keep their order within.
func TestSessions(t *testing.T) {
	ev := func(server string, pid int, id string) Event { return Event{Server: server, PID: pid, ID: id} }
	got := Sessions([]Event{ev("a", 1, "1"), ev("b", 1, "2"), ev("a", 2, "3"), ev("a", 1, "4"), ev("b", 1, "5")})
	var sum []string
	for _, s := range got {
		ids := ""
		for _, e := range s.Events {
			ids += e.ID
		}
		sum = append(sum, fmt.Sprintf("%s/%d:%s", s.Server, s.PID, ids))
	}
	if want := []string{"a/1:14", "b/1:25", "a/2:3"}; !slices.Equal(sum, want) {
		t.Errorf("Sessions = %q, want %q", sum, want)
	}
	if Sessions(nil) != nil {
		t.Error("no events gave sessions")
	}
}
