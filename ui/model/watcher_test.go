package model

import (
	"context"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
)

// TestWatcher follows a server being added, a bridge starting, waiting for sign-in and
// stopping, through a real Watcher on real files. It checks that each change is emitted and
// that nothing is emitted while nothing changes.
func TestWatcher(t *testing.T) {
	f := newFixture(t)
	w := NewWatcher(f.paths, 20*time.Millisecond, nil)
	snaps := make(chan Snapshot, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(s Snapshot) { snaps <- s }) }()
	defer func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}()

	next := func(what string, cond func(Snapshot) bool) Snapshot {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case s := <-snaps:
				if cond(s) {
					return s
				}
			case <-timeout:
				t.Fatalf("no snapshot with %s within 10 s", what)
			}
		}
	}

	first := next("the first snapshot", func(Snapshot) bool { return true })
	if first.State != Empty {
		t.Fatalf("first snapshot: %+v", first)
	}
	// Nothing changes: nothing is emitted, over many ticks.
	select {
	case s := <-snaps:
		t.Fatalf("emitted without a change: %+v", s)
	case <-time.After(200 * time.Millisecond):
	}

	f.servers(t, "studio")
	next("studio configured", func(s Snapshot) bool { return len(s.Servers) == 1 && s.State == SignInNeeded })

	p, err := status.Publish(f.paths.Bridges, status.Bridge{Server: "studio", State: status.StateStarting}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	next("the bridge", func(s Snapshot) bool { srv, _ := s.Server("studio"); return srv.Sessions() == 1 })

	p.Update(func(b *status.Bridge) { b.State = status.StateNeedsSignIn })
	next("the bridge waiting", func(s Snapshot) bool { return len(s.Waiting()) == 1 })

	// Kick polls at once: with an hour-long interval, only the kick can show the change.
	slow := NewWatcher(f.paths, time.Hour, nil)
	slowSnaps := make(chan Snapshot, 10)
	sctx, scancel := context.WithCancel(t.Context())
	sdone := make(chan struct{})
	go func() { defer close(sdone); _ = slow.Run(sctx, func(s Snapshot) { slowSnaps <- s }) }()
	defer func() { scancel(); <-sdone }()
	<-slowSnaps

	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	next("the bridge gone", func(s Snapshot) bool { return len(s.Bridges) == 0 && len(s.Waiting()) == 0 })

	slow.Kick()
	slow.Kick() // merges with the first: never blocks
	select {
	case s := <-slowSnaps:
		if len(s.Bridges) != 0 {
			t.Errorf("kicked snapshot still has the bridge: %+v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Kick did not poll")
	}
}
