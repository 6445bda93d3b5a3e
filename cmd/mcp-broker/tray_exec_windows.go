//go:build !tray && windows

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// startTray starts the tray build with args and returns: Windows has no exec.
func startTray(path string, args ...string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the tray app %s: %w", path, err)
	}
	return cmd.Process.Release()
}

// handOver runs the build at path with args on our stdio and waits for it: Windows has no
// exec. Its failure is ours.
func handOver(path string, args ...string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s exited with status %d", path, exit.ExitCode())
		}
		return fmt.Errorf("starting %s: %w", path, err)
	}
	return nil
}
