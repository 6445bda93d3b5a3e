//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// busTimeout bounds the session bus check: a wedged bus means no tray, not a hung start.
const busTimeout = 3 * time.Second

// checkSessionBus reports whether a session bus answers, over a private connection that is
// closed again: connect, authenticate, Hello. It never autolaunches a bus (godbus would run
// dbus-launch, which starts a bus that outlives us). The tray (fyne.io/systray) publishes its
// icon and menu there; without one, enabling it logs an error and Quit later panics.
func checkSessionBus(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, busTimeout)
	defer cancel()
	done := make(chan error, 1)
	// The goroutine ends with the dial: a bus that does not answer at all is bounded by the
	// caller's timeout, and the connection, if it ever opens, is closed.
	go func() {
		conn, err := dbus.SessionBusPrivateNoAutoStartup(dbus.WithContext(ctx))
		if err != nil {
			done <- fmt.Errorf("connecting to the session bus: %w", err)
			return
		}
		defer conn.Close()
		if err := conn.Auth(nil); err != nil {
			done <- fmt.Errorf("authenticating to the session bus: %w", err)
			return
		}
		if err := conn.Hello(); err != nil {
			done <- fmt.Errorf("greeting the session bus: %w", err)
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("the session bus did not answer within %s: %w", busTimeout, ctx.Err())
	}
}
