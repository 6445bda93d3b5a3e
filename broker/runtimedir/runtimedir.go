// Package runtimedir finds the user's runtime folder and session bus when the environment
// does not say, the way sd-bus does: $XDG_RUNTIME_DIR, else /run/user/<uid>.
//
// A process started with a bare environment, such as an MCP server launched by a host built
// on the MCP TypeScript SDK's stdio transport (it passes only HOME, LOGNAME, PATH, SHELL, TERM
// and USER; the MCP Inspector is one), has neither DBUS_SESSION_BUS_ADDRESS nor
// XDG_RUNTIME_DIR. On a systemd desktop the session bus still listens at
// /run/user/<uid>/bus, and the runtime folder where the tray looks for bridges is still
// /run/user/<uid>. Nothing here starts a bus: a bus that is not running is not found.
package runtimedir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Finder looks for the runtime folder and the session bus. Tests set its fields; System is
// the real one.
type Finder struct {
	// Getenv reads the environment.
	Getenv func(string) string
	// RunUser is the folder of per-user runtime folders, "/run/user".
	RunUser string
	// UID is the user's id; negative where there is none (Windows).
	UID int
}

// System is the Finder of this process: its environment, /run/user, its uid.
func System() Finder {
	return Finder{Getenv: os.Getenv, RunUser: "/run/user", UID: os.Getuid()}
}

// Dir returns the user's runtime folder: $XDG_RUNTIME_DIR when it is an absolute path, else
// /run/user/<uid> when that is a folder of the user's; false when there is neither.
func (f Finder) Dir() (string, bool) {
	if xdg := f.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(xdg) {
		return xdg, true
	}
	if dir, ok := f.runUserDir(); ok {
		if fi, err := os.Lstat(dir); err == nil && fi.IsDir() && ownedBy(fi, f.UID) {
			return dir, true
		}
	}
	return "", false
}

func (f Finder) runUserDir() (string, bool) {
	if f.UID < 0 || f.RunUser == "" {
		return "", false
	}
	return filepath.Join(f.RunUser, strconv.Itoa(f.UID)), true
}

// SessionBus returns the D-Bus address of the user's session bus: DBUS_SESSION_BUS_ADDRESS
// when set (and not "autolaunch:"), else the first of $XDG_RUNTIME_DIR/bus and
// /run/user/<uid>/bus that is a socket the user owns (through a link, as connecting follows
// links). It never starts a bus.
func (f Finder) SessionBus() (string, error) {
	if addr := f.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return addr, nil
	}
	var tried []string
	if xdg := f.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(xdg) {
		tried = append(tried, filepath.Join(xdg, "bus"))
	}
	if dir, ok := f.runUserDir(); ok {
		tried = append(tried, filepath.Join(dir, "bus"))
	}
	for _, path := range tried {
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 && ownedBy(fi, f.UID) {
			return "unix:path=" + escape(path), nil
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are unset")
	}
	return "", fmt.Errorf("DBUS_SESSION_BUS_ADDRESS is unset and no socket of this user's is at %s", strings.Join(tried, " or "))
}

// Use sets DBUS_SESSION_BUS_ADDRESS, through setenv, to the session bus SessionBus finds
// when the environment names none, so that libraries that read only that variable (godbus,
// and go-keyring through it) reach the bus too. It returns the address in use.
func (f Finder) Use(setenv func(key, value string) error) (string, error) {
	addr, err := f.SessionBus()
	if err != nil {
		return "", err
	}
	if f.Getenv("DBUS_SESSION_BUS_ADDRESS") != addr {
		if err := setenv("DBUS_SESSION_BUS_ADDRESS", addr); err != nil {
			return "", fmt.Errorf("setting DBUS_SESSION_BUS_ADDRESS: %w", err)
		}
	}
	return addr, nil
}

// Dir is System().Dir().
func Dir() (string, bool) { return System().Dir() }

// UseSessionBus is System().Use(os.Setenv): it sets DBUS_SESSION_BUS_ADDRESS in this
// process's environment when it is unset and a session bus is found. Call it before the first
// D-Bus connection.
func UseSessionBus() (string, error) { return System().Use(os.Setenv) }

// escape makes a path a D-Bus address value: bytes other than [-0-9A-Za-z_/.\*] as %xx.
func escape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_/.\\*", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}
