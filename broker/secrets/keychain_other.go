//go:build !linux

package secrets

import (
	"context"

	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// probeKeychain has nothing to check here: the macOS Keychain and the
// Windows Credential Manager are part of the OS, and a locked macOS keychain
// is caught by the timeout or by classify.
func probeKeychain(context.Context, bool) error { return nil }

// classifyDBus recognises nothing: there is no D-Bus here.
func classifyDBus(error) (kind error, next hint.Hint, ok bool) { return nil, hint.None, false }

// useSessionBus has nothing to do: there is no D-Bus here.
func useSessionBus() {}
