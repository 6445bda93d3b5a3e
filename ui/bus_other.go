//go:build !(linux || freebsd || openbsd || netbsd)

package ui

import "context"

// checkSessionBus always succeeds where the tray does not use D-Bus (macOS, Windows).
func checkSessionBus(context.Context) error { return nil }
