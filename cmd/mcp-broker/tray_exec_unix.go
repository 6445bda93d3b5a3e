//go:build !tray && !windows

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// startTray replaces this process with the tray build, run with args.
func startTray(path string, args ...string) error { return handOver(path, args...) }

// handOver replaces this process with the build at path, run with args: it keeps our pid,
// stdio and environment, so a terminal (or a script) waits for it, and sees its exit status,
// as it would for us.
func handOver(path string, args ...string) error {
	argv := append([]string{filepath.Base(path)}, args...)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("starting %s: %w", path, err)
	}
	return nil
}
