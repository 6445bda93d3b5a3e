//go:build !(linux || freebsd || openbsd || netbsd || dragonfly || solaris || darwin || windows)

package autostart

import (
	"errors"
	"fmt"
)

// Supported reports whether this build can start a program at login: not on
// this platform, which has no mechanism this package knows.
func Supported() bool { return false }

// errUnsupported says that this platform has no start-at-login mechanism.
var errUnsupported = fmt.Errorf("start at login on this system: %w", errors.ErrUnsupported)

// Enabled is always false here.
func (e Entry) Enabled() (bool, error) { return false, nil }

// Enable fails: there is nothing to write.
func (e Entry) Enable(string) error { return errUnsupported }

// Disable has nothing to do.
func (e Entry) Disable() error { return nil }

// writtenAs: there is no entry here.
func (e Entry) writtenAs(Entry, string) (bool, error) { return false, nil }
