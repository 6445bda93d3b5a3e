// Package secrets is the only place mcp-broker keeps secrets: access and
// refresh tokens, client secrets, client registrations, static API keys.
//
// The default Store is the OS keychain (Secret Service on Linux, the macOS
// Keychain, the Windows Credential Manager) through go-keyring, with every
// call bounded by a timeout because a locked keychain can block forever.
// A value bigger than one macOS or Windows keychain item holds is kept in
// parts behind a manifest item written last (parts.go), so a crash mid-write
// leaves the old value or the new one. Writes are waited for until the OS
// answers (see Keychain). Indexed keeps an index item per group of keys,
// because a keychain cannot be listed.
// An unencrypted FileStore exists for machines without a keychain, only when
// the user opts in; it is never a silent fallback. Memory is a fake for tests.
//
// Keys name a secret, like "oauth-token/studio"; they are not secret and may
// appear in errors and logs. Values never appear in errors.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Service is the keychain service name under which every item is stored;
// the key is the item's account (user) name.
const Service = "mcp-broker"

// Store keeps secrets by key. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the secret stored under key, or an error wrapping
	// ErrNotFound when there is none.
	Get(ctx context.Context, key string) (string, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key, value string) error
	// Delete removes the secret under key; a missing secret is not an error.
	Delete(ctx context.Context, key string) error
	// Describe says in words where secrets are kept, for status output and
	// warnings, e.g. "OS keychain (Secret Service)".
	Describe() string
}

// Errors a Store wraps, with context, so callers can tell the cases apart with
// errors.Is. The next step (unlock the keychain, choose the file store...) is
// attached as a hint (package hint), for the command line and the tray to put
// in their own words.
var (
	// ErrNotFound means no secret is stored under the key.
	ErrNotFound = errors.New("secret not found")
	// ErrNoKeychain means there is no usable OS keychain (no session bus, no
	// Secret Service provider, or no default keyring).
	ErrNoKeychain = errors.New("no keychain is available")
	// ErrLocked means the keychain is locked and was not unlocked.
	ErrLocked = errors.New("the keychain is locked")
	// ErrTimeout means the keychain did not answer in time, most often
	// because it is waiting for an unlock prompt nobody sees.
	ErrTimeout = errors.New("the keychain did not answer")
	// ErrTooBig means the value is larger than the platform's keychain holds
	// in one item.
	ErrTooBig = errors.New("secret too big for the keychain")
)

// maxKeyLen bounds keys: they become keychain account names and file names.
const maxKeyLen = 256

// validateKey rejects keys that no store can hold faithfully. Keys are not
// secret, so the error may quote them.
func validateKey(key string) error {
	switch {
	case key == "":
		return errors.New("invalid secret key: empty")
	case len(key) > maxKeyLen:
		return fmt.Errorf("invalid secret key %q: longer than %d bytes", key, maxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("invalid secret key %q: not UTF-8", key)
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Errorf("invalid secret key %q: contains a control character", key)
		}
	}
	return nil
}
