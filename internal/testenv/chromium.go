package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// chromiumCandidates are tried in order after MCP_BROKER_CHROMIUM: Debian's
// package first (what CI installs), then the names other distributions use.
var chromiumCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser"}

// RequireChromium returns the Chromium binary to drive: $MCP_BROKER_CHROMIUM,
// else /usr/bin/chromium, else chromium or chromium-browser on PATH. It skips
// t when none is found, and fails it instead when CI=true. A set but unusable
// MCP_BROKER_CHROMIUM always fails: it is a mistake, not a missing tool.
func RequireChromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(ChromiumEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("%s=%q is not an executable: %v", ChromiumEnv, p, err)
		}
		return path
	}
	for _, c := range chromiumCandidates {
		if path, err := exec.LookPath(c); err == nil {
			return path
		}
	}
	skipOrFail(t, false, "no Chromium found (set %s, or install Debian's chromium)", ChromiumEnv)
	return ""
}

// ChromiumArgs returns the command-line flags headless Chromium needs on a
// root, display-less, network-less test machine, with userDataDir as its
// profile (give each browser a new empty directory). A test that starts the
// browser itself (for example from a fake xdg-open) passes these; chromedp
// users get them through chrometest.
func ChromiumArgs(userDataDir string) []string {
	return []string{
		"--headless",
		// Chromium refuses to run as root with its sandbox.
		"--no-sandbox",
		"--disable-gpu",
		"--no-first-run",
		"--no-default-browser-check",
		// Without these three it floods a closed network with refused
		// connections (component updates, sync, variations).
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		// /dev/shm is 64 MB in a default container; Chromium crashes when
		// it fills up.
		"--disable-dev-shm-usage",
		// Keep Chromium away from the test's Secret Service: its own
		// password store would otherwise create items in the test keyring.
		"--password-store=basic",
		"--user-data-dir=" + userDataDir,
	}
}
