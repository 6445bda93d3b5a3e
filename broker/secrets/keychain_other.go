//go:build !linux

package secrets

import "context"

// probeKeychain has nothing to check here: the macOS Keychain and the
// Windows Credential Manager are part of the OS, and a locked macOS keychain
// is caught by the timeout or by classify.
func probeKeychain(context.Context, bool) error { return nil }

// classifyDBus recognises nothing: there is no D-Bus here.
func classifyDBus(error) (kind error, hint string, ok bool) { return nil, "", false }

// useSessionBus has nothing to do: there is no D-Bus here.
func useSessionBus() {}
