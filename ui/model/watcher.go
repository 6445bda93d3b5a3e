package model

import (
	"context"
	"time"
)

// DefaultInterval is how often a Watcher polls. A poll reads two small JSON files and one
// small file per live bridge, so twice a second costs nothing noticeable, and a bridge starting,
// stopping or waiting for sign-in shows in the tray well within the 2 s the tray promises.
const DefaultInterval = 500 * time.Millisecond

// Watcher polls the configuration and the bridges' status files and reports each change.
//
// Polling rather than file notifications: the status of a bridge also changes when its process
// dies without a word (its file stays behind until a reader notices the dead pid), and a token
// expires without any file changing, so a poll is needed anyway; it is cheap at this size.
type Watcher struct {
	paths    Paths
	interval time.Duration
	now      func() time.Time
	kick     chan struct{}
	tools    *toolsReader // nil without Paths.Tools
}

// NewWatcher returns a Watcher of paths that polls every interval (DefaultInterval when 0).
// now is the clock (time.Now when nil).
func NewWatcher(paths Paths, interval time.Duration, now func() time.Time) *Watcher {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	w := &Watcher{paths: paths, interval: interval, now: now, kick: make(chan struct{}, 1)}
	if paths.Tools != "" {
		w.tools = newToolsReader(paths.Tools, paths.Config)
	}
	return w
}

// Kick asks for a poll now rather than at the next tick, for example after the tray signed in,
// so the menu follows at once. It never blocks; kicks that arrive while one is pending merge.
func (w *Watcher) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends, calling emit with the first snapshot at once and then with each
// snapshot that differs from the previous one (see Snapshot.Equal). emit runs on Run's
// goroutine, one call at a time; it must not block for long (the tray hands the snapshot to
// the UI thread with fyne.Do). Run returns ctx's error.
func (w *Watcher) Run(ctx context.Context, emit func(Snapshot)) error {
	last := w.read()
	emit(last)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-w.kick:
		}
		next := w.read()
		if !next.Equal(last) {
			last = next
			emit(next)
		}
	}
}

// read takes one snapshot of the paths.
func (w *Watcher) read() Snapshot {
	s := Read(w.paths.Config, w.paths.Bridges, w.now())
	if w.tools != nil {
		w.tools.read(s)
	}
	return s
}
