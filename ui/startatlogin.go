package ui

import "github.com/mcp-broker/mcp-broker/ui/autostart"

// startAtLogin is what the tray needs of the platform's autostart; tests can swap it.
type startAtLogin interface {
	// Supported is false where this build cannot start the app at login: the menu item is
	// left out.
	Supported() bool
	// Enabled reports whether the app starts at login now.
	Enabled() (bool, error)
	// Enable makes binary start at login.
	Enable(binary string) error
	// Disable stops it.
	Disable() error
	// Upgrade rewrites an entry an earlier release wrote for binary, and reports whether it
	// did (autostart.Upgrade).
	Upgrade(binary string) (bool, error)
}

// systemStartAtLogin is the platform's autostart (package autostart).
func systemStartAtLogin() startAtLogin { return platformAutostart{} }

type platformAutostart struct{}

func (platformAutostart) Supported() bool            { return autostart.Supported() }
func (platformAutostart) Enabled() (bool, error)     { return autostart.Enabled() }
func (platformAutostart) Enable(binary string) error { return autostart.Enable(binary) }
func (platformAutostart) Disable() error             { return autostart.Disable() }
func (platformAutostart) Upgrade(binary string) (bool, error) {
	return autostart.Upgrade(binary)
}
