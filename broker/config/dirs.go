package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// EnvConfigDir names the environment variable that overrides the config
// folder; tests and side-by-side installs use it.
const EnvConfigDir = "MCP_BROKER_CONFIG_DIR"

// appName is the folder name under the user config folder.
const appName = "mcp-broker"

// Dir returns mcp-broker's config folder: $MCP_BROKER_CONFIG_DIR if set,
// else $XDG_CONFIG_HOME/mcp-broker (honoured on every OS, so a macOS user
// who sets it gets what they asked for), else os.UserConfigDir()/mcp-broker.
// It does not create the folder.
func Dir() (string, error) { return DirFrom(os.Getenv) }

// DirFrom is Dir with MCP_BROKER_CONFIG_DIR and XDG_CONFIG_HOME read through getenv, for a
// caller that runs mcp-broker in an environment other than its process's: the command line's
// tests run it in process, many at once, each with its own folders. Only the last resort, the
// OS's user config folder, still comes from the process (os.UserConfigDir).
func DirFrom(getenv func(string) string) (string, error) {
	if dir := getenv(EnvConfigDir); dir != "" {
		// A relative path would resolve against whatever folder Claude Code
		// starts the bridge in, so refuse it rather than guess.
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("%s must be an absolute path, got %q", EnvConfigDir, dir)
		}
		return filepath.Clean(dir), nil
	}
	// The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be
	// ignored.
	if xdg := getenv("XDG_CONFIG_HOME"); xdg != "" && filepath.IsAbs(xdg) {
		return filepath.Join(xdg, appName), nil
	}
	base, err := userConfigDir(getenv)
	if err != nil {
		return "", fmt.Errorf("finding the user config folder: %w", err)
	}
	return filepath.Join(base, appName), nil
}

// userConfigDir is os.UserConfigDir, with a relative XDG_CONFIG_HOME ignored as if unset, as the
// XDG spec asks: on Unix os.UserConfigDir refuses one instead of falling back to $HOME/.config.
func userConfigDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9": // XDG_CONFIG_HOME means nothing to os.UserConfigDir there
	default:
		if xdg := getenv("XDG_CONFIG_HOME"); xdg != "" && !filepath.IsAbs(xdg) {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			return filepath.Join(home, ".config"), nil
		}
	}
	return os.UserConfigDir()
}

// Path returns the config file's path, Dir()/config.json.
func Path() (string, error) { return PathFrom(os.Getenv) }

// PathFrom is Path with the environment read through getenv (see DirFrom).
func PathFrom(getenv func(string) string) (string, error) {
	dir, err := DirFrom(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.json"), nil
}

// LockDir returns the folder for lock files, Dir()/locks. It lives here
// rather than in package lock because this package imports lock (for Update).
func LockDir() (string, error) { return LockDirFrom(os.Getenv) }

// LockDirFrom is LockDir with the environment read through getenv (see DirFrom).
func LockDirFrom(getenv func(string) string) (string, error) {
	dir, err := DirFrom(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "locks"), nil
}
