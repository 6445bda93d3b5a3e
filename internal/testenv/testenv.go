// Package testenv lets tests that need a real desktop service (the OS
// keychain, a headless Chromium) say so in one line.
//
// Such a test skips on a developer's machine that lacks the service, so that
// `go test ./...` stays useful anywhere, but fails when CI=true: in CI a
// missing service is a broken environment, and a skip there would hide every
// test that depends on it. `make test` runs the tests inside
// scripts/with-desktop.sh, which provides both services.
//
// The package imports no browser driver, so any test may import it cheaply;
// the chromedp helper lives in the sub-package chrometest.
package testenv

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// KeyringEnv names the variable that scripts/with-desktop.sh sets to "1" once
// it has started and unlocked a private, throw-away keychain. RequireKeychain
// touches a keychain only when this is set or CI is true, so a plain
// `go test ./...` never writes into a developer's own login keychain.
const KeyringEnv = "MCP_BROKER_TEST_KEYRING"

// ChromiumEnv names the variable that, when set, holds the browser binary
// RequireChromium returns, before any search.
const ChromiumEnv = "MCP_BROKER_CHROMIUM"

// keychainTimeout bounds the whole keychain check: a wedged bus must turn
// into a skip or a failure, never into a hung test.
const keychainTimeout = 2 * time.Second

// InCI reports whether the tests run in CI, that is whether CI is set to a
// true value ("true", as GitHub Actions and most CI systems set it, or "1").
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// keyringOptIn reports whether a throw-away keychain was provided for tests.
func keyringOptIn() bool {
	return os.Getenv(KeyringEnv) == "1"
}

// skipOrFail skips t, or fails it when a missing dependency cannot be
// excused: in CI, or when the environment promised the dependency (required).
func skipOrFail(t testing.TB, required bool, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	switch {
	case InCI():
		t.Fatalf("%s (CI=true: this test must run; run it under scripts/with-desktop.sh after scripts/install-deps.sh)", msg)
	case required:
		t.Fatalf("%s (%s=1 promised a keychain)", msg, KeyringEnv)
	default:
		t.Skip(msg)
	}
}

// RequireKeychain skips t unless a real OS keychain can be used, and fails it
// instead of skipping when CI=true or when MCP_BROKER_TEST_KEYRING=1.
//
// On Linux "can be used" means: the session bus named by
// DBUS_SESSION_BUS_ADDRESS answers (no autolaunch), org.freedesktop.secrets
// is owned or activatable on it, and the default collection is not locked (a
// locked one makes go-keyring wait forever on an unlock prompt). The check is
// bounded by 2 seconds. On macOS and Windows the keychain is part of the OS.
//
// Outside CI it also skips unless MCP_BROKER_TEST_KEYRING=1, so that tests
// write only into the private keychain of scripts/with-desktop.sh and never
// into the developer's own.
func RequireKeychain(t testing.TB) {
	t.Helper()
	if !keyringOptIn() && !InCI() {
		t.Skipf("real-keychain test: run it under scripts/with-desktop.sh (or set %s=1 to use this session's keychain)", KeyringEnv)
		return
	}
	if err := keychainUsable(t.Context()); err != nil {
		skipOrFail(t, keyringOptIn(), "no usable OS keychain: %v", err)
	}
}
