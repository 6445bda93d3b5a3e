package secrets

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeBackend is an in-memory go-keyring stand-in that can fail or block.
type fakeBackend struct {
	mu    sync.Mutex
	items map[string]string
	err   error         // returned by every call when set
	block chan struct{} // when set, calls wait until it is closed
	calls int
}

func newFakeBackend() *fakeBackend { return &fakeBackend{items: map[string]string{}} }

func (f *fakeBackend) enter() error {
	f.mu.Lock()
	f.calls++
	block, err := f.block, f.err
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	return err
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, pass string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"\x00"+user] = pass
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, service+"\x00"+user)
	return nil
}

func (f *fakeBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func noProbe(context.Context, bool) error { return nil }

func TestKeychainContractWithFakeBackend(t *testing.T) {
	testStore(t, newKeychain(time.Minute, "linux", newFakeBackend(), noProbe))
}

func TestKeychainConcurrentWithFakeBackend(t *testing.T) {
	testStoreConcurrent(t, newKeychain(time.Minute, "linux", newFakeBackend(), noProbe))
}

func TestKeychainStoresUnderService(t *testing.T) {
	b := newFakeBackend()
	k := newKeychain(time.Minute, "linux", b, noProbe)
	if err := k.Set(t.Context(), "oauth-token/x", "v"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.items["mcp-broker\x00oauth-token/x"]; !ok {
		t.Fatalf("item not stored under service %q and the key as user: %v", Service, b.items)
	}
}

// exitError returns a real *exec.ExitError with the given status.
func exitError(t *testing.T, code int) error {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	err := exec.Command("sh", "-c", fmt.Sprintf("exit %d", code)).Run()
	if err == nil {
		t.Fatal("sh exited 0")
	}
	return err
}

func TestKeychainClassifiesBackendErrors(t *testing.T) {
	tests := []struct {
		name     string
		goos     string
		err      error
		want     error  // sentinel, or nil for "none of ours"
		wantText string // substring of the message
	}{
		{"not found", "linux", keyring.ErrNotFound, ErrNotFound, "secret not found"},
		{"too big", "windows", keyring.ErrSetDataTooBig, ErrTooBig, "too big"},
		{"unsupported", "plan9", keyring.ErrUnsupportedPlatform, ErrNoKeychain, "MCP_BROKER_SECRET_STORE=file"},
		{"unlock failed", "linux", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrLocked, "unlock the login keyring"},
		{"darwin locked", "darwin", exitError(t, 36), ErrLocked, "security unlock-keychain"},
		{"darwin other exit", "darwin", exitError(t, 1), nil, "exit status 1"},
		{"exit 36 elsewhere", "linux", exitError(t, 36), nil, "exit status 36"},
		{"probe said locked", "linux", fmt.Errorf("%w: %s", ErrLocked, hintUnlock), ErrLocked, "unlock the login keyring"},
		{"probe said no keychain", "linux", fmt.Errorf("%w: %s", ErrNoKeychain, hintNoService), ErrNoKeychain, "start gnome-keyring"},
		{"other", "linux", errors.New("something odd"), nil, "something odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			b.err = tt.err
			k := newKeychain(time.Minute, tt.goos, b, noProbe)
			_, err := k.Get(t.Context(), "oauth-token/x")
			assertClassified(t, err, tt.want, tt.wantText)
			if !strings.HasPrefix(err.Error(), `reading "oauth-token/x" from the keychain: `) {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

func assertClassified(t *testing.T, err, want error, wantText string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []error{ErrNotFound, ErrNoKeychain, ErrLocked, ErrTimeout, ErrTooBig} {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(%q, %v) = %v", err, s, got)
		}
	}
	if !strings.Contains(err.Error(), wantText) {
		t.Errorf("error %q does not contain %q", err, wantText)
	}
}

func TestKeychainProbeFailureSkipsBackend(t *testing.T) {
	b := newFakeBackend()
	var gotPrompt []bool
	probe := func(_ context.Context, allowPrompt bool) error {
		gotPrompt = append(gotPrompt, allowPrompt)
		return fmt.Errorf("%w: %s", ErrLocked, hintUnlock)
	}
	k := newKeychain(time.Minute, "linux", b, probe)
	assertClassified(t, k.Set(t.Context(), "k", "v"), ErrLocked, "unlock")
	WithUnlockPrompt()(k)
	_, err := k.Get(t.Context(), "k")
	assertClassified(t, err, ErrLocked, "unlock")
	if b.callCount() != 0 {
		t.Errorf("backend called %d times after the probe failed", b.callCount())
	}
	if fmt.Sprint(gotPrompt) != "[false true]" {
		t.Errorf("probe saw allowPrompt %v, want [false true]", gotPrompt)
	}
}

func TestKeychainErrorsNeverHoldTheValue(t *testing.T) {
	const value = "s3cr3t-refresh-token"
	b := newFakeBackend()
	b.err = fmt.Errorf("exec: security add-generic-password -w %s: failed", value)
	k := newKeychain(time.Minute, "darwin", b, noProbe)
	err := k.Set(t.Context(), "refresh-token/x", value)
	if err == nil || strings.Contains(err.Error(), value) {
		t.Fatalf("Set error = %v, want an error without the value", err)
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), value) {
			t.Fatalf("a wrapped error still holds the value: %q", e)
		}
	}
}

func TestKeychainDeleteMissingIsNil(t *testing.T) {
	k := newKeychain(time.Minute, "linux", newFakeBackend(), noProbe)
	if err := k.Delete(t.Context(), "nope"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
}

func TestKeychainSizeCaps(t *testing.T) {
	tests := []struct {
		goos  string
		key   string
		size  int
		isBig bool
	}{
		{"windows", "k", 2560, false},
		{"windows", "k", 2561, true},
		{"darwin", "k", 3000 - len(Service) - 1, false},
		{"darwin", "k", 3000 - len(Service), true},
		{"darwin", "oauth-token/studio", 2980, true},
		{"linux", "k", 1 << 20, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.goos, tt.size), func(t *testing.T) {
			b := newFakeBackend()
			k := newKeychain(time.Minute, tt.goos, b, noProbe)
			err := k.Set(t.Context(), tt.key, strings.Repeat("x", tt.size))
			if got := errors.Is(err, ErrTooBig); got != tt.isBig {
				t.Fatalf("Set of %d bytes on %s = %v, want ErrTooBig %v", tt.size, tt.goos, err, tt.isBig)
			}
			if tt.isBig && b.callCount() != 0 {
				t.Error("backend called for a value known to be too big")
			}
		})
	}
}

func TestKeychainTimeout(t *testing.T) {
	b := newFakeBackend()
	block := make(chan struct{})
	b.block = block
	release := sync.OnceFunc(func() { close(block) })
	t.Cleanup(release)
	k := newKeychain(50*time.Millisecond, "linux", b, noProbe)

	_, err := k.Get(t.Context(), "k")
	assertClassified(t, err, ErrTimeout, "unlock the login keyring")

	// The first call is still stuck in the backend: the next one must not
	// start another, and must time out too.
	err = k.Set(t.Context(), "k", "v")
	assertClassified(t, err, ErrTimeout, "did not answer")
	if n := b.callCount(); n != 1 {
		t.Fatalf("backend entered %d times while hung, want 1", n)
	}

	// Once the keychain answers, calls work again.
	b.mu.Lock()
	b.block = nil
	b.mu.Unlock()
	release()
	k.timeout = time.Minute
	if err := k.Set(t.Context(), "k", "v"); err != nil {
		t.Fatalf("Set after the keychain recovered: %v", err)
	}
}

func TestKeychainCallerCancel(t *testing.T) {
	b := newFakeBackend()
	b.block = make(chan struct{})
	t.Cleanup(func() { close(b.block) })
	k := newKeychain(time.Minute, "linux", b, noProbe)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the call is inside the backend.
		for b.callCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := k.Get(ctx, "k")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Get cancelled by the caller = %v, want context.Canceled and not ErrTimeout", err)
	}
}

func TestKeychainDescribe(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":   "OS keychain (Secret Service)",
		"darwin":  "OS keychain (macOS Keychain)",
		"windows": "OS keychain (Windows Credential Manager)",
	} {
		if got := newKeychain(0, goos, nil, nil).Describe(); got != want {
			t.Errorf("Describe on %s = %q, want %q", goos, got, want)
		}
	}
}

func TestNewKeychainDefaults(t *testing.T) {
	k := NewKeychain(0)
	if k.timeout != DefaultTimeout || k.allowPrompt || k.goos != runtime.GOOS {
		t.Fatalf("NewKeychain(0) = timeout %v, allowPrompt %v, goos %s", k.timeout, k.allowPrompt, k.goos)
	}
	if !NewKeychain(time.Second, WithUnlockPrompt()).allowPrompt {
		t.Fatal("WithUnlockPrompt not applied")
	}
}
