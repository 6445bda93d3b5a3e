package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// RequireDisplay skips t unless an X11 or Wayland display is named (DISPLAY or
// WAYLAND_DISPLAY), and fails it instead when CI=true. Tests that open windows
// or a tray run under Xvfb: `xvfb-run -a scripts/with-desktop.sh go test …`.
// macOS and Windows always have a display.
func RequireDisplay(t testing.TB) {
	t.Helper()
	switch runtime.GOOS {
	case "darwin", "windows":
		return
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		skipOrFail(t, false, "no display (DISPLAY and WAYLAND_DISPLAY are unset): run the test under xvfb-run")
	}
}

// RequireSessionBus skips t unless the session bus named by
// DBUS_SESSION_BUS_ADDRESS answers (connect, authenticate, Hello, within 2
// seconds; never an autolaunched bus), and fails it instead when CI=true. It
// returns the connection, closed when t's cleanup runs, for the test to use.
func RequireSessionBus(t testing.TB) *dbus.Conn {
	t.Helper()
	conn, err := sessionBus(t.Context())
	if err != nil {
		skipOrFail(t, false, "no usable session bus: %v (run the test under scripts/with-desktop.sh)", err)
		return nil
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func sessionBus(ctx context.Context) (*dbus.Conn, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return nil, errors.New("DBUS_SESSION_BUS_ADDRESS is unset")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// A connection opened WithContext closes when ctx ends; the test needs it longer, so the
	// timeout only bounds the dial, through a goroutine.
	type result struct {
		conn *dbus.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := dbus.Connect(addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connecting to the session bus: %w", r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		// The dial goroutine ends with the dial; close what it opens late.
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("the session bus did not answer within 2 s: %w", ctx.Err())
	}
}

// RequireTool returns the path of the named program on PATH, skipping t when
// it is missing and failing it instead when CI=true. hint says how to get it
// (for example "apt-get install xdotool").
func RequireTool(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, false, "%s is not installed (%s)", name, hint)
		return ""
	}
	return path
}
