//go:build !darwin && !windows

package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/godbus/dbus/v5"
)

// keychainChecksBus says that this platform's keychain is reached over the
// session bus, so that there is something to check.
const keychainChecksBus = true

const secretsName = "org.freedesktop.secrets"

// keychainUsable reports why the Secret Service cannot be used, or nil.
//
// It dials DBUS_SESSION_BUS_ADDRESS itself instead of calling
// dbus.SessionBusPrivate, which would autolaunch a bus (and leak it) when the
// variable is unset, or set the variable as a side effect.
func keychainUsable(ctx context.Context) error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return errors.New("no session bus: DBUS_SESSION_BUS_ADDRESS is unset")
	}
	ctx, cancel := context.WithTimeout(ctx, keychainTimeout)
	defer cancel()
	// WithContext closes the connection when ctx ends, which unblocks an
	// authentication handshake stuck on a silent bus.
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("connecting to the session bus: %w", err)
	}
	defer conn.Close()

	bus := conn.BusObject()
	var owned bool
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned); err != nil {
		return fmt.Errorf("asking the bus for %s: %w", secretsName, err)
	}
	if !owned {
		var names []string
		if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
			return fmt.Errorf("listing activatable names: %w", err)
		}
		if !slices.Contains(names, secretsName) {
			return fmt.Errorf("no Secret Service provider: %s is neither owned nor activatable (install gnome-keyring)", secretsName)
		}
		// Activatable but not running: the provider decides on first use.
		return nil
	}
	return defaultCollectionUnlocked(ctx, conn)
}

// defaultCollectionUnlocked fails when the default collection exists and is
// locked: go-keyring would then block on an unlock prompt.
func defaultCollectionUnlocked(ctx context.Context, conn *dbus.Conn) error {
	svc := conn.Object(secretsName, "/org/freedesktop/secrets")
	var path dbus.ObjectPath
	if err := svc.CallWithContext(ctx, "org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&path); err != nil {
		return fmt.Errorf("reading the default collection alias: %w", err)
	}
	if path == "/" {
		// No default collection yet; the provider creates one on first use.
		return nil
	}
	locked, err := conn.Object(secretsName, path).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil {
		return fmt.Errorf("reading whether %s is locked: %w", path, err)
	}
	if v, ok := locked.Value().(bool); ok && v {
		return fmt.Errorf("the default keyring %s is locked", path)
	}
	return nil
}
