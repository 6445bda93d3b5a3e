//go:build linux || freebsd || openbsd || netbsd || dragonfly || solaris

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// Supported reports whether this build can start a program at login: it
// can here.
func Supported() bool { return true }

// userFile is the entry in the user's autostart folder,
// $XDG_CONFIG_HOME/autostart (default ~/.config/autostart).
func (e Entry) userFile() (string, error) {
	if err := checkID(e.ID); err != nil {
		return "", err
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the autostart folder: %w", err)
	}
	return filepath.Join(dir, "autostart", e.ID+".desktop"), nil
}

// systemFiles are the places a system-wide entry of the same id may live,
// most important first: $XDG_CONFIG_DIRS/autostart (default
// /etc/xdg/autostart). A user entry overrides them all.
func (e Entry) systemFiles() []string {
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	var out []string
	for _, d := range strings.Split(dirs, ":") {
		if filepath.IsAbs(d) { // the spec says relative paths are invalid and ignored
			out = append(out, filepath.Join(d, "autostart", e.ID+".desktop"))
		}
	}
	return out
}

// readUser parses the user entry. exists is false when there is none.
func readUser(path string) (keys map[string]string, exists bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the start-at-login entry: %w", err)
	}
	keys, err = parseDesktop(data)
	if err != nil {
		return nil, true, &MalformedError{Path: path, Err: err}
	}
	return keys, true, nil
}

// systemStarts reports whether a system-wide entry starts the program when
// no user entry overrides it. A system file that is not a desktop entry is
// ignored, as the session manager ignores it.
func (e Entry) systemStarts() bool {
	for _, p := range e.systemFiles() {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		keys, err := parseDesktop(data)
		return err == nil && desktopStarts(keys)
	}
	return false
}

// Enabled reports whether the entry starts something at login: the user's
// entry if there is one, else a system-wide one.
func (e Entry) Enabled() (bool, error) {
	path, err := e.userFile()
	if err != nil {
		return false, err
	}
	keys, exists, err := readUser(path)
	if err != nil {
		return false, err
	}
	if exists {
		return desktopStarts(keys), nil
	}
	return e.systemStarts(), nil
}

// Enable writes the user's autostart entry for binary, an absolute path,
// replacing one that was switched off or pointed elsewhere.
func (e Entry) Enable(binary string) error {
	if err := checkBinary(binary, filepath.IsAbs); err != nil {
		return err
	}
	path, err := e.userFile()
	if err != nil {
		return err
	}
	if _, _, err := readUser(path); err != nil {
		return err
	}
	data, err := renderDesktop(e, binary)
	if err != nil {
		return err
	}
	return writeEntry(path, data)
}

// writtenAs reports whether the user's entry is byte for byte what Enable(binary) of was
// writes.
func (e Entry) writtenAs(was Entry, binary string) (bool, error) {
	path, err := e.userFile()
	if err != nil {
		return false, err
	}
	want, err := renderDesktop(was, binary)
	if err != nil {
		return false, err
	}
	return holds(path, want)
}

// Disable removes the user's autostart entry. When a system-wide entry of the
// same id would then start the program, it writes a Hidden=true user entry
// instead, which is the spec's way to switch that one off.
func (e Entry) Disable() error {
	path, err := e.userFile()
	if err != nil {
		return err
	}
	if _, _, err := readUser(path); err != nil {
		return err
	}
	if e.systemStarts() {
		return writeEntry(path, hiddenDesktop(e))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the start-at-login entry: %w", err)
	}
	return nil
}

// writeEntry writes an autostart entry atomically, creating the folder.
// Desktop entries are not secret; 0644 is what desktops write.
func writeEntry(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the autostart folder: %w", err)
	}
	if err := config.WriteFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("writing the start-at-login entry: %w", err)
	}
	return nil
}
