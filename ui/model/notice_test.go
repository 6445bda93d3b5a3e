package model

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
)

// since is a bridge of server in state st since at, for client.
func since(server string, pid int, st status.State, at time.Time, client string) status.Bridge {
	b := bridge(server, pid, st, "")
	b.Since, b.Client = at, client
	if st == status.StateReconnecting {
		b.LastError = "dial tcp: connection refused"
	}
	return b
}

// TestUnreachable: a server a bridge has been reconnecting to for longer than the delay is
// due, once per episode (told); a short outage, a working bridge, a bridge that cannot work
// for another reason and a server without bridges are not; the earliest pending one sets next.
func TestUnreachable(t *testing.T) {
	const after = 3 * time.Minute
	snap := Build([]broker.ServerStatus{signedIn("down"), signedIn("blip"), signedIn("up"), signedIn("broken"), signedIn("idle")},
		[]status.Bridge{
			since("down", 1, status.StateConnected, t0.Add(-time.Hour), "claude-code 2.0"),
			since("down", 2, status.StateReconnecting, t0.Add(-4*time.Minute), "claude-code 2.0"),
			since("down", 3, status.StateReconnecting, t0.Add(-5*time.Minute), "cursor 1.0"),
			since("blip", 4, status.StateReconnecting, t0.Add(-time.Minute), "claude-code 2.0"),
			since("up", 5, status.StateConnected, t0.Add(-time.Hour), "claude-code 2.0"),
			since("broken", 6, status.StateError, t0.Add(-time.Hour), "claude-code 2.0"),
		}, t0)

	due, next := Unreachable(snap, t0, after, map[string]bool{})
	if !slices.Equal(due, []string{"down"}) {
		t.Errorf("due %q, want [down]", due)
	}
	if want := t0.Add(2 * time.Minute); !next.Equal(want) {
		t.Errorf("next at %v, want %v (blip's outage plus %v)", next, want, after)
	}
	srv, _ := snap.Server("down")
	if b, ok := srv.Unreachable(); !ok || b.PID != 3 {
		t.Errorf("down's longest unreachable bridge: %+v, %v; want pid 3", b, ok)
	}
	if _, ok := (Server{}).Unreachable(); ok {
		t.Error("a server without bridges is unreachable")
	}

	told := map[string]bool{"down": true}
	if due, _ := Unreachable(snap, t0.Add(time.Minute), after, told); len(due) != 0 {
		t.Errorf("told twice: %q", due)
	}
	due, next = Unreachable(snap, t0.Add(2*time.Minute), after, told)
	if !slices.Equal(due, []string{"blip"}) || !next.IsZero() {
		t.Errorf("at blip's moment: due %q, next %v", due, next)
	}
}

// TestNewTools: names a server gained since the app last looked are new, sorted, unless its
// settings hide them; a server the app looks at for the first time, one with fewer tools, one
// unchanged, one whose tools are not known and one whose new tools are all hidden have none.
func TestNewTools(t *testing.T) {
	snap := Build([]broker.ServerStatus{signedIn("grew"), signedIn("first"), signedIn("shrank"), signedIn("same"), signedIn("unknown"),
		signedIn("partly"), signedIn("hid")}, nil, t0)
	tools := map[string][]string{
		"grew":   {"a", "b", "c", "search", "fetch"},
		"first":  {"a"},
		"shrank": {"a"},
		"same":   {"a", "b"},
		"partly": {"a", "delete", "read"},
		"hid":    {"a", "delete", "write"},
	}
	hidden := map[string][]string{
		"partly": {"delete"},
		"hid":    {"a", "delete", "write"},
	}
	for i := range snap.Servers {
		snap.Servers[i].Tools = tools[snap.Servers[i].Name]
		snap.Servers[i].Hidden = hidden[snap.Servers[i].Name]
	}
	known := map[string][]string{
		"grew":    {"a", "b", "c"},
		"shrank":  {"a", "b"},
		"same":    {"a", "b"},
		"unknown": {"a"},
		"partly":  {"a"},
		"hid":     {"a"},
	}
	want := []Added{{Server: "grew", Tools: []string{"fetch", "search"}}, {Server: "partly", Tools: []string{"read"}}}
	if got := NewTools(known, snap); !reflect.DeepEqual(got, want) {
		t.Errorf("NewTools = %+v, want %+v", got, want)
	}
	if got := NewTools(tools, snap); len(got) != 0 {
		t.Errorf("nothing changed, yet %+v", got)
	}
}

// TestWatcherReadsTools: a Watcher with Paths.Tools fills in the tools the bridges listed of
// each server with a live bridge, and reports a change of them.
func TestWatcherReadsTools(t *testing.T) {
	f := newFixture(t)
	f.paths.Tools = filepath.Join(t.TempDir(), "tools")
	f.servers(t, "studio", "idle")
	for _, name := range []string{"studio", "idle"} {
		if err := toolpolicy.Save(f.paths.Tools, toolpolicy.Seen{Server: name, Tools: []toolpolicy.Tool{{Name: "search"}, {Name: "fetch"}}}); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := status.Publish(f.paths.Bridges, status.Bridge{Server: "studio", State: status.StateConnected}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	waitFor(t, func() bool { _, err := os.Stat(pub.Path()); return err == nil }) // written in the background

	w := NewWatcher(f.paths, time.Hour, nil)
	snaps := make(chan Snapshot, 10)
	go func() { _ = w.Run(t.Context(), func(s Snapshot) { snaps <- s }) }()
	s := <-snaps
	studio, _ := s.Server("studio")
	idle, _ := s.Server("idle")
	if !slices.Equal(studio.Tools, []string{"fetch", "search"}) || idle.Tools != nil {
		t.Errorf("tools: studio %q, idle %q; want [fetch search] and none (no live bridge)", studio.Tools, idle.Tools)
	}

	if err := toolpolicy.Save(f.paths.Tools, toolpolicy.Seen{Server: "studio", Tools: []toolpolicy.Tool{{Name: "search"}, {Name: "fetch"}, {Name: "delete"}}}); err != nil {
		t.Fatal(err)
	}
	w.Kick()
	s = <-snaps
	if studio, _ = s.Server("studio"); !slices.Equal(studio.Tools, []string{"delete", "fetch", "search"}) {
		t.Errorf("after the server gained a tool: %q", studio.Tools)
	}
}
