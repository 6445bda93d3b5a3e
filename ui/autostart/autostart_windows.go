//go:build windows

package autostart

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/windows/registry"
)

// Supported reports whether this build can start a program at login: it
// can here.
func Supported() bool { return true }

const (
	// runKey holds the per-user programs Explorer starts at login.
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedKey holds Task Manager's enabled/disabled switch for each
	// value of runKey (see startupApprovedDisabled).
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Enabled reports whether the Run value exists and Task Manager has not
// disabled it.
func (e Entry) Enabled() (bool, error) {
	if err := checkID(e.ID); err != nil {
		return false, err
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the start-at-login entry: %w", err)
	}
	defer k.Close()
	_, _, err = k.GetStringValue(e.ID)
	switch {
	case errors.Is(err, registry.ErrNotExist):
		return false, nil
	case errors.Is(err, registry.ErrUnexpectedType):
		return false, &MalformedError{Path: `HKCU\` + runKey + `\` + e.ID, Err: err}
	case err != nil:
		return false, fmt.Errorf("reading the start-at-login entry: %w", err)
	}
	return !approvedDisabled(e.ID), nil
}

// approvedDisabled reports whether Task Manager disabled the value name.
func approvedDisabled(name string) bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	data, _, err := k.GetBinaryValue(name)
	return err == nil && startupApprovedDisabled(data)
}

// Enable sets the Run value to the quoted binary, an absolute path, and
// clears a "disabled" mark Task Manager may have left for it.
func (e Entry) Enable(binary string) error {
	if err := checkID(e.ID); err != nil {
		return err
	}
	if err := checkBinary(binary, filepath.IsAbs); err != nil {
		return err
	}
	cmdline, err := windowsCommandLine(append([]string{binary}, e.Args...))
	if err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("opening the start-at-login registry key: %w", err)
	}
	defer k.Close()
	// One registry write is atomic: a reader sees the old or the new value.
	if err := k.SetStringValue(e.ID, cmdline); err != nil {
		return fmt.Errorf("writing the start-at-login entry: %w", err)
	}
	return deleteValue(approvedKey, e.ID)
}

// writtenAs reports whether the Run value is the command line Enable(binary) of was writes,
// and Task Manager has not disabled it (Enable would switch it back on).
func (e Entry) writtenAs(was Entry, binary string) (bool, error) {
	if err := checkID(e.ID); err != nil {
		return false, err
	}
	want, err := windowsCommandLine(append([]string{binary}, was.Args...))
	if err != nil {
		return false, err
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the start-at-login entry: %w", err)
	}
	defer k.Close()
	got, _, err := k.GetStringValue(e.ID)
	if err != nil {
		return false, nil // none, or not a string: not ours to rewrite
	}
	return got == want && !approvedDisabled(e.ID), nil
}

// Disable deletes the Run value (and Task Manager's mark for it); a missing
// one is fine.
func (e Entry) Disable() error {
	if err := checkID(e.ID); err != nil {
		return err
	}
	if err := deleteValue(runKey, e.ID); err != nil {
		return err
	}
	return deleteValue(approvedKey, e.ID)
}

// deleteValue deletes a value under HKCU\key; a missing key or value is fine.
func deleteValue(key, name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening the start-at-login registry key: %w", err)
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("removing the start-at-login entry: %w", err)
	}
	return nil
}
