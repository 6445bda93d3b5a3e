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

// sniWatcher is the bus name of the StatusNotifierWatcher, which a tray host (a panel that
// shows tray icons) owns. Stock GNOME has none: the icon is published but never shown.
const sniWatcher = "org.kde.StatusNotifierWatcher"

// checkSessionBus reports whether a session bus answers, over a private connection that is
// closed again: connect, authenticate, Hello. It never autolaunches a bus (godbus would run
// dbus-launch, which starts a bus that outlives us). The tray (fyne.io/systray) publishes its
// icon and menu there; without one, enabling it logs an error and Quit later panics.
//
// host reports whether a tray host is there to show the icon (sniWatcher has an owner); a
// failed question counts as a host, so that the app stays as it was.
func checkSessionBus(ctx context.Context) (host bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, busTimeout)
	defer cancel()
	type result struct {
		host bool
		err  error
	}
	done := make(chan result, 1)
	// The goroutine ends with the dial: a bus that does not answer at all is bounded by the
	// caller's timeout, and the connection, if it ever opens, is closed.
	go func() {
		conn, err := dbus.SessionBusPrivateNoAutoStartup(dbus.WithContext(ctx))
		if err != nil {
			done <- result{err: fmt.Errorf("connecting to the session bus: %w", err)}
			return
		}
		defer conn.Close()
		if err := conn.Auth(nil); err != nil {
			done <- result{err: fmt.Errorf("authenticating to the session bus: %w", err)}
			return
		}
		if err := conn.Hello(); err != nil {
			done <- result{err: fmt.Errorf("greeting the session bus: %w", err)}
			return
		}
		host := true
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, sniWatcher).Store(&host); err != nil {
			host = true
		}
		done <- result{host: host}
	}()
	select {
	case r := <-done:
		return r.host, r.err
	case <-ctx.Done():
		return false, fmt.Errorf("the session bus did not answer within %s: %w", busTimeout, ctx.Err())
	}
}
