//go:build !tray && !windows

package main

import (
	"fmt"
	"os"
	"syscall"
)

// startTray replaces this process with the tray build: the tray keeps our pid, stdio and
// environment, and a terminal that started `mcp-broker` waits for the tray as it would for
// any app.
func startTray(path string) error {
	if err := syscall.Exec(path, []string{trayName}, os.Environ()); err != nil {
		return fmt.Errorf("starting the tray app %s: %w", path, err)
	}
	return nil
}
