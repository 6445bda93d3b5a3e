// Package keychaintest holds the tests of package secrets that talk to a
// real OS keychain. They live apart because go-keyring's MockInit swaps a
// process-wide provider for good: real and mocked keychain tests must never
// share a test binary.
//
// The session-keychain test runs under scripts/with-desktop.sh (or with
// MCP_BROKER_TEST_KEYRING=1) and skips elsewhere, failing instead when
// CI=true. The Linux scenario tests start their own private session bus and
// gnome-keyring (and Xvfb for the with-display cases) to check the locked,
// no-keyring and no-provider cases for real.
package keychaintest
