//go:build !tray && windows

package main

import (
	"fmt"
	"os"
	"os/exec"
)

// startTray starts the tray build and returns: Windows has no exec.
func startTray(path string) error {
	cmd := exec.Command(path)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the tray app %s: %w", path, err)
	}
	return cmd.Process.Release()
}
