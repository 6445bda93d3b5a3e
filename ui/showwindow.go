package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
)

// showRequestFile is what a second start of the app (the app launcher, while the tray runs)
// leaves in the runtime folder to ask the running tray to show its main window; a start with
// Options.Show leaves showRequestPrefix+window instead. The folder is the user's own (0700,
// status.Ensure), so no one else can ask; the file holds nothing.
const (
	showRequestFile   = "show-window"
	showRequestPrefix = "show-"
)

// requestFile is the request file for window: "" the main window, else an Options.Show name.
func requestFile(runtimeDir, window string) string {
	if window == "" {
		return filepath.Join(runtimeDir, showRequestFile)
	}
	return filepath.Join(runtimeDir, showRequestPrefix+window)
}

// requestShow asks the tray running in runtimeDir to show window ("" the main window).
func requestShow(runtimeDir, window string) error {
	if err := os.WriteFile(requestFile(runtimeDir, window), nil, 0o600); err != nil {
		return fmt.Errorf("asking the running app to show its window: %w", err)
	}
	return nil
}

// takeShowRequest reports whether a request to show window was waiting, and removes it.
func takeShowRequest(runtimeDir, window string) bool {
	return os.Remove(requestFile(runtimeDir, window)) == nil
}

// watchShowRequests shows the main window, or the Timeline, whenever another start of the
// app asks for it, checking every interval until ctx ends. Requests left from before this
// start are dropped.
func (t *trayApp) watchShowRequests(ctx context.Context, interval time.Duration) {
	wins := []struct {
		name string
		show func()
	}{{"", t.ShowStatus}, {ShowTimeline, t.showTraffic}}
	for _, w := range wins {
		takeShowRequest(t.runtimeDir, w.name)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, w := range wins {
				if takeShowRequest(t.runtimeDir, w.name) {
					fyne.Do(w.show)
				}
			}
		}
	}
}
