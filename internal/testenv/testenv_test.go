package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// recorder is a testing.TB that records Skip and Fatal instead of stopping
// the goroutine, so the skip-or-fail decisions can be asserted.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Skip(args ...any) { r.skipped, r.msg = true, fmt.Sprint(args...) }
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

func TestInCI(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"true", true},
		{"1", true},
		{"TRUE", true},
		{"", false},
		{"false", false},
		{"0", false},
		{"yes-please", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Setenv("CI", tt.value)
			if got := InCI(); got != tt.want {
				t.Errorf("CI=%q: InCI() = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestSkipOrFail(t *testing.T) {
	tests := []struct {
		name       string
		ci         string
		required   bool
		wantFailed bool
	}{
		{"laptop skips", "", false, false},
		{"CI fails", "true", false, true},
		{"promised by the environment fails", "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			skipOrFail(r, tt.required, "no %s", "thing")
			if r.failed != tt.wantFailed || r.skipped == tt.wantFailed {
				t.Errorf("failed=%v skipped=%v, want failed=%v", r.failed, r.skipped, tt.wantFailed)
			}
			if !strings.Contains(r.msg, "no thing") {
				t.Errorf("message %q does not say what is missing", r.msg)
			}
		})
	}
}

func TestRequireChromium(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "fake-chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")

	tests := []struct {
		name       string
		env        string
		candidates []string
		ci         string
		want       string
		wantFailed bool
		wantSkip   bool
	}{
		{name: "env wins", env: exe, candidates: []string{missing}, want: exe},
		{name: "env not executable fails even locally", env: missing, wantFailed: true},
		{name: "first candidate found", candidates: []string{missing, exe}, want: exe},
		{name: "none found locally skips", candidates: []string{missing}, wantSkip: true},
		{name: "none found in CI fails", candidates: []string{missing}, ci: "true", wantFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(ChromiumEnv, tt.env)
			t.Setenv("CI", tt.ci)
			old := chromiumCandidates
			chromiumCandidates = tt.candidates
			t.Cleanup(func() { chromiumCandidates = old })

			r := &recorder{TB: t}
			got := RequireChromium(r)
			if r.failed != tt.wantFailed || r.skipped != tt.wantSkip {
				t.Fatalf("failed=%v skipped=%v (%s), want failed=%v skipped=%v", r.failed, r.skipped, r.msg, tt.wantFailed, tt.wantSkip)
			}
			if got != tt.want {
				t.Errorf("RequireChromium() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChromiumArgsProfile(t *testing.T) {
	args := ChromiumArgs("/tmp/profile-x")
	if !containsArg(args, "--user-data-dir=/tmp/profile-x") || !containsArg(args, "--headless") {
		t.Errorf("ChromiumArgs = %v, want headless with the given profile", args)
	}
	// Each call returns its own slice: callers append to it.
	args[0] = "changed"
	if ChromiumArgs("p")[0] == "changed" {
		t.Error("ChromiumArgs shares its backing array between calls")
	}
}

func containsArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}

func TestRequireKeychainOptIn(t *testing.T) {
	// Without the opt-in and outside CI, the test must not even look at
	// the session's keychain, whatever the machine has.
	t.Setenv(KeyringEnv, "")
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	RequireKeychain(r)
	if !r.skipped || r.failed {
		t.Errorf("skipped=%v failed=%v, want a skip", r.skipped, r.failed)
	}
}

func TestKeychainUnreachable(t *testing.T) {
	if !keychainChecksBus {
		t.Skip("the native keychain needs no bus")
	}
	tests := []struct {
		name, addr, want string
	}{
		{"no address", "", "DBUS_SESSION_BUS_ADDRESS is unset"},
		{"dead socket", "unix:path=" + filepath.Join(t.TempDir(), "no-bus"), "connecting to the session bus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", tt.addr)
			start := time.Now()
			err := keychainUsable(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("keychainUsable() = %v, want an error containing %q", err, tt.want)
			}
			if d := time.Since(start); d > 2*keychainTimeout {
				t.Errorf("took %v, want it bounded by %v", d, keychainTimeout)
			}

			// And RequireKeychain turns it into a failure when promised.
			t.Setenv(KeyringEnv, "1")
			t.Setenv("CI", "")
			r := &recorder{TB: t}
			RequireKeychain(r)
			if !r.failed {
				t.Errorf("RequireKeychain with %s=1 and no keychain: failed=%v skipped=%v, want a failure", KeyringEnv, r.failed, r.skipped)
			}
		})
	}
}

// TestRealKeychainRoundTrip proves the keychain that scripts/with-desktop.sh
// provides works end to end with the library the product uses.
func TestRealKeychainRoundTrip(t *testing.T) {
	RequireKeychain(t)
	service := "mcp-broker-testenv"
	user := fmt.Sprintf("roundtrip-%d", time.Now().UnixNano())
	const secret = "not-a-real-secret"

	// go-keyring has no context: run each call with a deadline so a
	// wedged keychain fails the test instead of hanging it. On timeout
	// the call's goroutine is left behind until the test binary exits.
	call := func(what string, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no answer from the keychain within 20s", what)
		}
	}
	call("set", func() error { return keyring.Set(service, user, secret) })
	var got string
	call("get", func() (err error) { got, err = keyring.Get(service, user); return err })
	if got != secret {
		t.Errorf("get returned %q, want the stored value", got)
	}
	call("delete", func() error { return keyring.Delete(service, user) })
	call("get after delete", func() error {
		if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("want ErrNotFound, got %v", err)
		}
		return nil
	})
}
