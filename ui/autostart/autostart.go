// Package autostart starts MCP Broker when the user logs in, with each
// platform's own mechanism:
//
//   - Linux and other freedesktop systems: an entry in the user's autostart
//     folder, $XDG_CONFIG_HOME/autostart/<ID>.desktop (default
//     ~/.config/autostart), as the freedesktop Desktop Application Autostart
//     Specification describes;
//   - macOS: a LaunchAgent, ~/Library/LaunchAgents/<ID>.plist, with
//     RunAtLoad;
//   - Windows: a value named <ID> under
//     HKCU\Software\Microsoft\Windows\CurrentVersion\Run.
//
// It has no GUI dependency and builds without cgo everywhere, so the tray's
// "Start at login" item is a thin switch over Enabled, Enable and Disable
// (shown where Supported says the platform has a mechanism).
//
// Each mechanism can be switched off outside MCP Broker (GNOME's "Startup
// Applications", a Hidden=true entry, launchd's Disabled key, Task Manager's
// Startup tab): such an entry reads as disabled, and Enable switches it back
// on. An entry that starts another copy of the program (an older install,
// another path) still reads as enabled, since something does start at
// login; Enable rewrites it to the binary it is given.
package autostart

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// AppID is MCP Broker's reverse-DNS application id, the name of its
// autostart entry on every platform. The tray's FyneApp.toml uses the same
// id. (GitHub's namespace for the mcp-broker organisation, io.github.mcp-broker,
// with the hyphen replaced by an underscore: desktop file ids and D-Bus names
// advise against hyphens.)
const AppID = "io.github.mcp_broker.mcp_broker"

// AppName is the name people see in their desktop's list of startup
// applications.
const AppName = "MCP Broker"

// comment describes the program in that list.
const comment = "Sign in to remote MCP servers and see their state from the menu bar"

// Entry is a program's start-at-login entry.
type Entry struct {
	// ID names the entry (see the package comment); a reverse-DNS id.
	ID string
	// Name is the program's name as people see it.
	Name string
	// Comment says in a few words what the program is (desktop entries).
	Comment string
	// Icon is the desktop entry's icon: an icon name from the theme (`make
	// package` installs share/pixmaps/<AppID>.png) or an absolute path.
	Icon string
	// Args follow the binary on the command line.
	Args []string
}

// BackgroundFlag is the argument MCP Broker's entry starts the app with: a start at login
// puts the tray icon up and opens no window, while any other start (the app launcher, the
// command typed) opens the main window too. Entries written before it existed start the app
// without it; Upgrade rewrites them.
const BackgroundFlag = "--background"

// Default returns MCP Broker's entry.
func Default() Entry {
	return Entry{ID: AppID, Name: AppName, Comment: comment, Icon: AppID, Args: []string{BackgroundFlag}}
}

// Enabled reports whether MCP Broker's entry starts something at login.
func Enabled() (bool, error) { return Default().Enabled() }

// Enable makes binary, an absolute path, start at login.
func Enable(binary string) error { return Default().Enable(binary) }

// Disable stops MCP Broker from starting at login.
func Disable() error { return Default().Disable() }

// Upgrade rewrites MCP Broker's entry for binary when an earlier release wrote it (see
// Entry.Upgrade), and reports whether it did.
func Upgrade(binary string) (bool, error) { return Default().Upgrade(binary) }

// Upgrade rewrites the user's entry as Enable(binary) writes it now when it is exactly what
// Enable wrote for binary without e.Args (MCP Broker's entries before BackgroundFlag), and
// reports whether it did. Any other entry is left alone: one switched off, one that starts
// another copy of the program, one the person edited.
func (e Entry) Upgrade(binary string) (bool, error) {
	if len(e.Args) == 0 {
		return false, nil
	}
	was := e
	was.Args = nil
	old, err := e.writtenAs(was, binary)
	if err != nil || !old {
		return false, err
	}
	return true, e.Enable(binary)
}

// MalformedError reports an entry file that cannot be read as what it should
// be. It is left as it is: the user is told where it is and what to do.
type MalformedError struct {
	// Path is the file.
	Path string
	// Err says what is wrong with it.
	Err error
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("the start-at-login entry %s cannot be read (%v): fix or delete it, then try again", e.Path, e.Err)
}

func (e *MalformedError) Unwrap() error { return e.Err }

// checkBinary refuses what cannot be started at login reliably: a relative
// path depends on the working folder of whatever starts it.
func checkBinary(binary string, isAbs func(string) bool) error {
	if binary == "" {
		return errors.New("enabling start at login: no program path given")
	}
	if !isAbs(binary) {
		return fmt.Errorf("enabling start at login: %q is not an absolute path", binary)
	}
	if fi, err := os.Stat(binary); err != nil {
		return fmt.Errorf("enabling start at login: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("enabling start at login: %s is a folder, not a program", binary)
	}
	return nil
}

// checkID refuses an id that would not make a file name in one folder.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." {
		return fmt.Errorf("autostart entry id %q is not usable", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("autostart entry id %q: only letters, digits, '.', '_' and '-' are allowed", id)
		}
	}
	return nil
}

// holds reports whether the file at path holds exactly want; a missing file does not.
func holds(path string, want []byte) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the start-at-login entry: %w", err)
	}
	return bytes.Equal(data, want), nil
}
