package traffic

import "testing"

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
