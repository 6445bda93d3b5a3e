package secrets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/runtimedir"
)

// Secret Service names (https://specifications.freedesktop.org/secret-service-spec/).
const (
	ssName            = "org.freedesktop.secrets"
	ssPath            = dbus.ObjectPath("/org/freedesktop/secrets")
	ssInterface       = "org.freedesktop.Secret.Service"
	ssCollectionIface = "org.freedesktop.Secret.Collection"
	// ssLoginPath is the collection go-keyring prefers when it exists; it
	// uses the "default" alias otherwise.
	ssLoginPath = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
)

// probeKeychain checks, over a private D-Bus connection, what go-keyring
// would run into: no session bus, no Secret Service, no default keyring, or
// a locked one. Unless allowPrompt, the last two fail here, fast, instead of
// in go-keyring, which would wait on an unlock prompt forever when a display
// is set.
//
// It never starts a bus: it only connects to one that DBUS_SESSION_BUS_ADDRESS,
// $XDG_RUNTIME_DIR/bus or /run/user/<uid>/bus names (see package runtimedir).
// That also protects go-keyring, whose shared connection would otherwise run
// dbus-launch and leave a stray bus behind.
func probeKeychain(ctx context.Context, allowPrompt bool) error {
	addr, err := runtimedir.System().SessionBus()
	if err != nil {
		return hint.With(fmt.Errorf("%w: no D-Bus session bus (%v)", ErrNoKeychain, err), hint.StartKeychain)
	}
	conn, err := dbus.Dial(addr, dbus.WithContext(ctx))
	if err != nil {
		return hint.With(fmt.Errorf("%w: no D-Bus session bus (%v)", ErrNoKeychain, err), hint.StartKeychain)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return hint.With(fmt.Errorf("%w: cannot use the D-Bus session bus (%v)", ErrNoKeychain, err), hint.StartKeychain)
	}
	if err := conn.Hello(); err != nil {
		return hint.With(fmt.Errorf("%w: cannot use the D-Bus session bus (%v)", ErrNoKeychain, err), hint.StartKeychain)
	}

	// This call also starts an activatable Secret Service, as go-keyring's
	// first call would.
	svc := conn.Object(ssName, ssPath)
	var collections dbus.Variant
	if err := svc.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, ssInterface, "Collections").Store(&collections); err != nil {
		if kind, next, ok := classifyDBus(err); ok {
			return hint.With(fmt.Errorf("%w (%v)", kind, err), next)
		}
		return fmt.Errorf("asking the Secret Service for its keyrings: %w", err)
	}
	if allowPrompt {
		return nil
	}

	path := ssLoginPath
	if paths, _ := collections.Value().([]dbus.ObjectPath); !slices.Contains(paths, ssLoginPath) {
		if err := svc.CallWithContext(ctx, ssInterface+".ReadAlias", 0, "default").Store(&path); err != nil {
			// A provider without aliases: let go-keyring find out.
			return nil
		}
		if path == "/" {
			return hint.With(fmt.Errorf("%w: the Secret Service has no default keyring", ErrNoKeychain), hint.CreateKeyring)
		}
	}
	var locked dbus.Variant
	if err := conn.Object(ssName, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, ssCollectionIface, "Locked").Store(&locked); err != nil {
		return nil // cannot tell; go-keyring's call is still bounded by the timeout
	}
	if v, _ := locked.Value().(bool); v {
		return hint.With(ErrLocked, hint.UnlockKeychain)
	}
	return nil
}

// useSessionBus points DBUS_SESSION_BUS_ADDRESS, when unset, at the session
// bus runtimedir finds, for go-keyring. Finding none is left to the probe to
// report.
func useSessionBus() { _, _ = runtimedir.UseSessionBus() }

// classifyDBus recognises D-Bus failures that mean "no usable keychain" or
// "locked", from the probe or from go-keyring, and the next step for each.
func classifyDBus(err error) (kind error, next hint.Hint, ok bool) {
	var dbusErr dbus.Error
	if errors.As(err, &dbusErr) {
		switch {
		case dbusErr.Name == "org.freedesktop.DBus.Error.ServiceUnknown",
			dbusErr.Name == "org.freedesktop.DBus.Error.NameHasNoOwner",
			strings.HasPrefix(dbusErr.Name, "org.freedesktop.DBus.Error.Spawn."):
			return ErrNoKeychain, hint.StartKeychain, true
		case dbusErr.Name == "org.freedesktop.Secret.Error.IsLocked":
			return ErrLocked, hint.UnlockKeychain, true
		}
		return nil, hint.None, false
	}
	// go-keyring's shared connection, when no bus address is known: it tries
	// dbus-launch, which may be missing or fail without a display.
	msg := err.Error()
	if strings.Contains(msg, "dbus-launch") || strings.Contains(msg, "couldn't determine address of session bus") {
		return ErrNoKeychain, hint.StartKeychain, true
	}
	return nil, hint.None, false
}
