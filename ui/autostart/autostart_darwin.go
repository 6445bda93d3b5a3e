//go:build darwin

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// Supported reports whether this build can start a program at login: it
// can here.
func Supported() bool { return true }

// agentFile is the user's LaunchAgent, ~/Library/LaunchAgents/<ID>.plist.
func (e Entry) agentFile() (string, error) {
	if err := checkID(e.ID); err != nil {
		return "", err
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the LaunchAgents folder: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", e.ID+".plist"), nil
}

// readAgent reports whether the LaunchAgent exists and is switched off with
// Disabled=true.
func readAgent(path string) (exists, disabled bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("reading the start-at-login entry: %w", err)
	}
	disabled, err = plistDisabled(data)
	if err != nil {
		return true, false, &MalformedError{Path: path, Err: err}
	}
	return true, disabled, nil
}

// Enabled reports whether the LaunchAgent exists and is not disabled.
func (e Entry) Enabled() (bool, error) {
	path, err := e.agentFile()
	if err != nil {
		return false, err
	}
	exists, disabled, err := readAgent(path)
	return exists && !disabled, err
}

// Enable writes the LaunchAgent for binary, an absolute path. launchd reads
// it at the next login; it is not loaded now, which would start a second
// copy of the running app.
func (e Entry) Enable(binary string) error {
	if err := checkBinary(binary, filepath.IsAbs); err != nil {
		return err
	}
	path, err := e.agentFile()
	if err != nil {
		return err
	}
	if _, _, err := readAgent(path); err != nil {
		return err
	}
	data, err := renderPlist(e, binary)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the LaunchAgents folder: %w", err)
	}
	if err := config.WriteFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("writing the start-at-login entry: %w", err)
	}
	return nil
}

// writtenAs reports whether the LaunchAgent is byte for byte what Enable(binary) of was
// writes.
func (e Entry) writtenAs(was Entry, binary string) (bool, error) {
	path, err := e.agentFile()
	if err != nil {
		return false, err
	}
	want, err := renderPlist(was, binary)
	if err != nil {
		return false, err
	}
	return holds(path, want)
}

// Disable removes the LaunchAgent; a missing one is fine.
func (e Entry) Disable() error {
	path, err := e.agentFile()
	if err != nil {
		return err
	}
	if _, _, err := readAgent(path); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the start-at-login entry: %w", err)
	}
	return nil
}
