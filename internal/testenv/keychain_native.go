//go:build darwin || windows

package testenv

import "context"

// keychainChecksBus says that this platform's keychain needs no bus.
const keychainChecksBus = false

// keychainUsable returns nil: the macOS Keychain and the Windows Credential
// Manager are part of the OS.
func keychainUsable(context.Context) error { return nil }
