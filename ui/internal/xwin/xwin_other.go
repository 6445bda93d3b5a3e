//go:build !cgo || !(linux || freebsd || openbsd || netbsd)

package xwin

import "errors"

var errUnsupported = errors.New("xwin needs cgo and X11")

// Exists reports whether a window titled title is on the display.
func Exists(string) (bool, error) { return false, errUnsupported }

// Close asks the window titled title to close.
func Close(string) error { return errUnsupported }
