package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// trayFile is the tray's presence file in the runtime folder.
const trayFile = "tray.json"

// Tray is the content of the tray's presence file.
type Tray struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// AnnounceTray records that this process is the tray, in runtimeDir (see RuntimeDir). Bridges
// that need a sign-in then leave the browser to the tray. withdraw removes the file; a tray that
// crashes leaves it behind, but its pid is then dead and TrayRunning says no.
func AnnounceTray(runtimeDir string) (withdraw func() error, err error) {
	if err := Ensure(runtimeDir); err != nil {
		return nil, err
	}
	data, err := json.Marshal(Tray{PID: os.Getpid(), Started: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("encoding the tray file: %w", err)
	}
	path := filepath.Join(runtimeDir, trayFile)
	if err := config.WriteFileAtomic(path, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("announcing the tray: %w", err)
	}
	return func() error {
		// Only remove our own announcement: a second tray may have replaced it.
		if t, ok := readTray(path); ok && t.PID != os.Getpid() {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the tray file: %w", err)
		}
		return nil
	}, nil
}

// TrayRunning reports whether a live tray has announced itself in runtimeDir. The announcement
// counts only in a folder Ensure would accept as it is (ours, closed to others, not a symlink):
// in any other, someone else may have planted it to keep bridges from opening the browser. And
// only when its pid is a live process of ours: one we may not signal is another user's, a
// recycled pid, never our tray.
func TrayRunning(runtimeDir string) bool {
	if checkPrivate(runtimeDir) != nil {
		return false
	}
	path := filepath.Join(runtimeDir, trayFile)
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || ownedPrivately(path, fi) != nil {
		return false
	}
	t, ok := readTray(path)
	return ok && ownProcessAlive(t.PID)
}

func readTray(path string) (Tray, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Tray{}, false
	}
	var t Tray
	if json.Unmarshal(data, &t) != nil || t.PID <= 0 {
		return Tray{}, false
	}
	return t, true
}
