// Package xwin lets the tray's tests act on X11 windows as a window manager would: find a
// window by its title and ask it to close (WM_DELETE_WINDOW), which is what the close button
// of a real desktop does. Under a bare Xvfb there is no window manager to do it, and xdotool
// in Debian 12 can only destroy a window, which is not the same thing.
//
// It is for tests only; it needs cgo and Xlib (libx11-dev, which Fyne needs anyway).
package xwin

import "errors"

// ErrNotFound means no window has the title.
var ErrNotFound = errors.New("no window with that title")
