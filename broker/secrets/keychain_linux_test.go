package secrets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/broker/hint"
)

func TestClassifyDBus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error // nil: not recognised
	}{
		{"no provider", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown",
			Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, ErrNoKeychain},
		{"no owner", dbus.Error{Name: "org.freedesktop.DBus.Error.NameHasNoOwner"}, ErrNoKeychain},
		{"activation failed", dbus.Error{Name: "org.freedesktop.DBus.Error.Spawn.ChildExited"}, ErrNoKeychain},
		{"wrapped", fmt.Errorf("x: %w", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}), ErrNoKeychain},
		{"locked", dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, ErrLocked},
		{"no dbus-launch", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, ErrNoKeychain},
		{"no address", errors.New("dbus: couldn't determine address of session bus"), ErrNoKeychain},
		{"other dbus error", dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"}, nil},
		{"other error", errors.New("boom"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, next, ok := classifyDBus(tt.err)
			if ok != (tt.want != nil) || kind != tt.want {
				t.Fatalf("classifyDBus(%v) = %v, %v, %v; want %v", tt.err, kind, next, ok, tt.want)
			}
			if ok && next == hint.None {
				t.Error("recognised error without a hint")
			}
		})
	}

	// Through the Keychain, the hint and the D-Bus detail both reach the user.
	b := newFakeBackend()
	b.err = tests[0].err
	_, err := newKeychain(time.Minute, "linux", b, noProbe).Get(t.Context(), "k")
	assertHint(t, err, hint.StartKeychain)
	assertClassified(t, err, ErrNoKeychain, "not provided by any .service files")
}

// TestProbeWithoutBus checks that the probe reports ErrNoKeychain, quickly,
// when there is no session bus, and never starts one.
func TestProbeWithoutBus(t *testing.T) {
	t.Run("dead address", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
		err := probeKeychain(t.Context(), false)
		assertClassified(t, err, ErrNoKeychain, "no D-Bus session bus")
		assertHint(t, err, hint.StartKeychain)
	})
	t.Run("no address", func(t *testing.T) {
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
			t.Skip("this machine has a session bus at /run/user/<uid>/bus")
		}
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
		// A fake dbus-launch that leaves a mark shows whether the probe
		// tried to start a bus.
		bin := t.TempDir()
		mark := filepath.Join(bin, "launched")
		script := "#!/bin/sh\ntouch " + mark + "\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

		err := probeKeychain(t.Context(), false)
		assertClassified(t, err, ErrNoKeychain, "no D-Bus session bus")
		if _, err := os.Stat(mark); err == nil {
			t.Fatal("the probe ran dbus-launch")
		}
	})
}
