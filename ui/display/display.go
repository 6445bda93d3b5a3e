// Package display tells whether there is a desktop session to show the tray on. It has no Fyne
// and no cgo, so the command-line build of mcp-broker can give the same answer as the tray
// before starting it.
package display

import (
	"errors"
	"fmt"
	"runtime"
)

// ErrNoDisplay is wrapped by Check's error when there is no display to show the tray on.
var ErrNoDisplay = errors.New("the MCP Broker tray needs a desktop session")

// Check returns an error wrapping ErrNoDisplay, with a sentence that points to the command
// line, when the platform needs a display server (X11 or Wayland) and getenv names none.
// GLFW would otherwise panic at the first window. macOS and Windows always have a desktop.
func Check(getenv func(string) string) error {
	return check(runtime.GOOS, getenv)
}

func check(goos string, getenv func(string) string) error {
	switch goos {
	case "darwin", "windows", "android", "ios":
		return nil
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	return fmt.Errorf("%w (neither DISPLAY nor WAYLAND_DISPLAY is set). Use the command line instead: "+
		"`mcp-broker status` shows every server, `mcp-broker login NAME` signs in, and `mcp-broker --help` lists the rest",
		ErrNoDisplay)
}
