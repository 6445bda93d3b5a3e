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
// leaves in the runtime folder to ask the running tray to show its main window. The folder is
// the user's own (0700, status.Ensure), so no one else can ask; the file holds nothing.
const showRequestFile = "show-window"

// requestShow asks the tray running in runtimeDir to show its main window.
func requestShow(runtimeDir string) error {
	if err := os.WriteFile(filepath.Join(runtimeDir, showRequestFile), nil, 0o600); err != nil {
		return fmt.Errorf("asking the running app to show its window: %w", err)
	}
	return nil
}

// takeShowRequest reports whether a show request was waiting, and removes it.
func takeShowRequest(runtimeDir string) bool {
	return os.Remove(filepath.Join(runtimeDir, showRequestFile)) == nil
}

// watchShowRequests shows the main window whenever another start of the app asks for it,
// checking every interval until ctx ends. A request left from before this start is dropped.
func (t *trayApp) watchShowRequests(ctx context.Context, interval time.Duration) {
	takeShowRequest(t.runtimeDir)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if takeShowRequest(t.runtimeDir) {
				fyne.Do(t.ShowStatus)
			}
		}
	}
}
