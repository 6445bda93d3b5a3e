package status

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/runtimedir"
)

// EnvRuntimeDir names the environment variable that overrides the runtime folder; tests and
// side-by-side installs use it. It must be an absolute path.
const EnvRuntimeDir = "MCP_BROKER_RUNTIME_DIR"

// RuntimeDir returns mcp-broker's per-user runtime folder: $MCP_BROKER_RUNTIME_DIR if set, else
// <user runtime folder>/mcp-broker, else os.TempDir()/mcp-broker-<uid>. The user runtime
// folder is $XDG_RUNTIME_DIR (a private tmpfs on most Linux desktops), or /run/user/<uid> when
// that variable is missing but the folder is the user's (see package runtimedir): a bridge
// started with a bare environment, by a host that passes only a few variables, and a tray
// started with the desktop's must find each other in the same folder. It does not create the
// folder (see Ensure).
func RuntimeDir() (string, error) { return RuntimeDirFrom(os.Getenv) }

// RuntimeDirFrom is RuntimeDir with the environment read through getenv, for a caller that runs
// mcp-broker in an environment other than its process's: the command line's tests run it in
// process, each with its own folders.
func RuntimeDirFrom(getenv func(string) string) (string, error) {
	if dir := getenv(EnvRuntimeDir); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("%s must be an absolute path, got %q", EnvRuntimeDir, dir)
		}
		return filepath.Clean(dir), nil
	}
	f := runtimedir.System()
	f.Getenv = getenv
	return runtimeDir(f)
}

// runtimeDir is RuntimeDir without $MCP_BROKER_RUNTIME_DIR, finding the user runtime folder
// with f.
func runtimeDir(f runtimedir.Finder) (string, error) {
	if dir, ok := f.Dir(); ok {
		return filepath.Join(dir, "mcp-broker"), nil
	}
	name := "mcp-broker"
	if f.UID >= 0 {
		// The temp folder is shared by every user on Unix: the uid keeps users apart, and
		// Ensure refuses a folder someone else made.
		name += "-" + strconv.Itoa(f.UID)
	}
	return filepath.Join(os.TempDir(), name), nil
}

// BridgesDir returns the folder of bridge status files in the runtime folder runtimeDir
// (normally RuntimeDir()): bridges publish there, and the tray and `mcp-broker status` read it.
func BridgesDir(runtimeDir string) string {
	return filepath.Join(runtimeDir, "bridges")
}

// Ensure creates dir (and its parents) with mode 0700 and checks that it is a folder that
// belongs to the current user and that no one else can read or write, fixing the mode of
// one it owns. In a shared temp folder another user could otherwise create our folder first
// and read or plant status files.
func Ensure(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	// The runtime folder above bridges/ is ours too; the temp folder above that is not.
	if parent := filepath.Dir(dir); isOurs(parent) {
		return checkDir(parent)
	}
	return nil
}

func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	return checkOwner(dir, fi)
}

// checkPrivate is Ensure's check without its repairs, for readers that must not trust what
// they find otherwise: dir, and its parent when this package names it, must be folders (not
// symlinks) of ours that no one else may read or write.
func checkPrivate(dir string) error {
	if err := privateDir(dir); err != nil {
		return err
	}
	if parent := filepath.Dir(dir); isOurs(parent) {
		return privateDir(parent)
	}
	return nil
}

func privateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	return ownedPrivately(dir, fi)
}

// isOurs reports whether dir is a folder this package names (so Ensure checks it too).
func isOurs(dir string) bool {
	base := filepath.Base(dir)
	return base == "mcp-broker" || strings.HasPrefix(base, "mcp-broker-")
}

// errNotOurs is wrapped when a runtime folder belongs to another user.
var errNotOurs = errors.New("belongs to another user")
