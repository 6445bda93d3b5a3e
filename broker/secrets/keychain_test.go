package secrets

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// fakeBackend is an in-memory go-keyring stand-in that can fail or block,
// hold no more per item than the OS keychain of goos does, and fail its Nth
// call, before or after carrying it out, to play a crash at that step.
type fakeBackend struct {
	mu    sync.Mutex
	items map[string]string
	err   error         // returned by every call when set
	block chan struct{} // when set, calls wait until it is closed
	// blockOnly, when set, limits block to calls of that kind ("get", "set"
	// or "delete").
	blockOnly string
	calls     int
	ops       []string // "get key", "set key", "delete key", in order
	// goos, when set, makes Set refuse an item bigger than that platform's
	// keychain holds, as go-keyring does there.
	goos string
	// failAt, when not 0, fails the call of that number (1 is the first);
	// with failApplied the call is carried out first, as when a process dies
	// after the OS wrote but before it heard back.
	failAt      int
	failApplied bool
	// echoOnSet makes Set fail with an error that quotes the secret it was
	// given, like a command line tool that prints its arguments.
	echoOnSet bool
}

var errInjected = errors.New("injected failure")

func newFakeBackend() *fakeBackend { return &fakeBackend{items: map[string]string{}} }

// do runs one call: it counts and records it, waits while blocked, and
// applies it unless told to fail.
func (f *fakeBackend) do(op, user string, apply func() error) error {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.ops = append(f.ops, op+" "+user)
	block, err := f.block, f.err
	if f.blockOnly != "" && f.blockOnly != op {
		block = nil
	}
	fail := f.failAt != 0 && n == f.failAt
	applied := f.failApplied
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fail && !applied {
		return errInjected
	}
	aerr := apply()
	if fail {
		return errInjected
	}
	return aerr
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	var v string
	err := f.do("get", user, func() error {
		var ok bool
		if v, ok = f.items[service+"\x00"+user]; !ok {
			return keyring.ErrNotFound
		}
		return nil
	})
	return v, err
}

func (f *fakeBackend) Set(service, user, pass string) error {
	return f.do("set", user, func() error {
		if f.echoOnSet {
			return fmt.Errorf("exec: security add-generic-password -w %s: failed", pass)
		}
		if tooBigFor(f.goos, service, user, pass) {
			return keyring.ErrSetDataTooBig
		}
		f.items[service+"\x00"+user] = pass
		return nil
	})
}

func (f *fakeBackend) Delete(service, user string) error {
	return f.do("delete", user, func() error {
		if _, ok := f.items[service+"\x00"+user]; !ok {
			return keyring.ErrNotFound
		}
		delete(f.items, service+"\x00"+user)
		return nil
	})
}

// tooBigFor says whether the OS keychain of goos would refuse the item:
// the Windows Credential Manager holds 2560 bytes of secret, go-keyring's
// macOS command line about 3000 bytes of service, account and secret.
func tooBigFor(goos, service, user, pass string) bool {
	switch goos {
	case "windows":
		return len(pass) > 2560
	case "darwin":
		return len(service)+len(user)+len(pass) > 3000
	}
	return false
}

// users returns the stored item names (accounts), sorted.
func (f *fakeBackend) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.items {
		_, user, _ := strings.Cut(k, "\x00")
		out = append(out, user)
	}
	slices.Sort(out)
	return out
}

// opsSoFar returns the calls made so far, as "op user".
func (f *fakeBackend) opsSoFar() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops)
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
		want     error     // sentinel, or nil for "none of ours"
		wantText string    // substring of the message
		wantHint hint.Hint // the next step attached
	}{
		{"not found", "linux", keyring.ErrNotFound, ErrNotFound, "secret not found", hint.None},
		{"too big", "windows", keyring.ErrSetDataTooBig, ErrTooBig, "too big", hint.None},
		{"unsupported", "plan9", keyring.ErrUnsupportedPlatform, ErrNoKeychain, "plan9 has no supported keychain", hint.FileStore},
		{"unlock failed", "linux", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrLocked, "locked", hint.UnlockKeychain},
		{"darwin locked", "darwin", exitError(t, 36), ErrLocked, "locked", hint.UnlockKeychain},
		{"darwin other exit", "darwin", exitError(t, 1), nil, "exit status 1", hint.None},
		{"exit 36 elsewhere", "linux", exitError(t, 36), nil, "exit status 36", hint.None},
		{"probe said locked", "linux", hint.With(ErrLocked, hint.UnlockKeychain), ErrLocked, "locked", hint.UnlockKeychain},
		{"probe said no keychain", "linux", hint.With(fmt.Errorf("%w: no D-Bus session bus", ErrNoKeychain), hint.StartKeychain), ErrNoKeychain, "no D-Bus session bus", hint.StartKeychain},
		{"other", "linux", errors.New("something odd"), nil, "something odd", hint.None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			b.err = tt.err
			k := newKeychain(time.Minute, tt.goos, b, noProbe)
			_, err := k.Get(t.Context(), "oauth-token/x")
			assertClassified(t, err, tt.want, tt.wantText)
			assertHint(t, err, tt.wantHint)
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

// assertHint checks the next step attached to err: the advice is a hint the edges put in
// words, never the error's text (no environment variable, no command).
func assertHint(t *testing.T, err error, want hint.Hint) {
	t.Helper()
	if got := hint.Of(err); got != want {
		t.Errorf("hint of %q = %v, want %v", err, got, want)
	}
	for _, advice := range []string{EnvStore, "security unlock-keychain", "try again"} {
		if strings.Contains(err.Error(), advice) {
			t.Errorf("error %q gives advice (%q) in its text", err, advice)
		}
	}
}

func TestKeychainProbeFailureSkipsBackend(t *testing.T) {
	b := newFakeBackend()
	var gotPrompt []bool
	probe := func(_ context.Context, allowPrompt bool) error {
		gotPrompt = append(gotPrompt, allowPrompt)
		return hint.With(ErrLocked, hint.UnlockKeychain)
	}
	k := newKeychain(time.Minute, "linux", b, probe)
	err := k.Set(t.Context(), "k", "v")
	assertClassified(t, err, ErrLocked, "locked")
	assertHint(t, err, hint.UnlockKeychain)
	WithUnlockPrompt()(k)
	_, err = k.Get(t.Context(), "k")
	assertClassified(t, err, ErrLocked, "locked")
	assertHint(t, err, hint.UnlockKeychain)
	if b.callCount() != 0 {
		t.Errorf("backend called %d times after the probe failed", b.callCount())
	}
	if fmt.Sprint(gotPrompt) != "[false true]" {
		t.Errorf("probe saw allowPrompt %v, want [false true]", gotPrompt)
	}
}

func TestKeychainErrorsNeverHoldTheValue(t *testing.T) {
	// A value that fits in one item, and one stored in parts, each of which the backend
	// quotes when it fails.
	for _, value := range []string{"s3cr3t-refresh-token", strings.Repeat("s3cr3t-", 1000)} {
		b := newFakeBackend()
		b.echoOnSet = true
		k := newKeychain(time.Minute, "darwin", b, noProbe)
		err := k.Set(t.Context(), "refresh-token/x", value)
		if err == nil {
			t.Fatal("Set did not fail")
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), "s3cr3t") {
				t.Fatalf("an error holds (part of) the value: %q", e)
			}
		}
	}
}

func TestKeychainDeleteMissingIsNil(t *testing.T) {
	k := newKeychain(time.Minute, "linux", newFakeBackend(), noProbe)
	if err := k.Delete(t.Context(), "nope"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
}

// TestKeychainSizeCaps checks where values stop fitting: one item up to the
// platform's cap, parts beyond it, ErrTooBig (before any keychain call) past
// maxParts items.
func TestKeychainSizeCaps(t *testing.T) {
	tests := []struct {
		goos  string
		key   string
		size  int
		items int // items stored; 0 with isBig
		isBig bool
	}{
		{"windows", "k", 2560, 1, false},
		{"windows", "k", 2561, 3, false},
		{"windows", "k", maxParts * 2560, maxParts + 1, false},
		{"windows", "k", maxParts*2560 + 1, 0, true},
		{"darwin", "k", 3000 - len(Service) - len("k"), 1, false},
		{"darwin", "k", 3000 - len(Service), 3, false},
		{"darwin", "oauth-token/studio", 2980, 3, false},
		{"darwin", "k", 100 << 10, 0, true},
		{"linux", "k", 1 << 20, 1, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.goos, tt.size), func(t *testing.T) {
			b := newFakeBackend()
			b.goos = tt.goos
			k := newKeychain(time.Minute, tt.goos, b, noProbe)
			err := k.Set(t.Context(), tt.key, strings.Repeat("x", tt.size))
			if got := errors.Is(err, ErrTooBig); got != tt.isBig || (!tt.isBig && err != nil) {
				t.Fatalf("Set of %d bytes on %s = %v, want ErrTooBig %v", tt.size, tt.goos, err, tt.isBig)
			}
			if tt.isBig && b.callCount() != 0 {
				t.Error("backend called for a value known to be too big")
			}
			if got := len(b.users()); got != tt.items {
				t.Errorf("stored as %d items, want %d", got, tt.items)
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
	assertClassified(t, err, ErrTimeout, "probably locked")
	assertHint(t, err, hint.UnlockKeychain)

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

// TestKeychainWriteOutlastingTheTimeout checks that a write the keychain
// is slow to carry out is waited for past the call timeout, even when the
// caller gives up: reporting it failed while it can still land would let
// the caller release its lock with the write in flight.
func TestKeychainWriteOutlastingTheTimeout(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		t.Run(fmt.Sprintf("caller cancels %v", cancelled), func(t *testing.T) {
			b := newFakeBackend()
			block := make(chan struct{})
			release := sync.OnceFunc(func() { close(block) })
			t.Cleanup(release)
			b.block, b.blockOnly = block, "set"
			k := newKeychain(20*time.Millisecond, "linux", b, noProbe)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- k.Set(ctx, "oauth-token/x", "v") }()
			for !slices.Contains(b.opsSoFar(), "set oauth-token/x") {
				time.Sleep(time.Millisecond)
			}
			if cancelled {
				cancel()
			}
			select {
			case err := <-done:
				t.Fatalf("Set returned (%v) while the keychain was still writing", err)
			case <-time.After(25 * k.timeout):
			}
			release()
			if err := <-done; err != nil {
				t.Fatalf("Set of a write that completed = %v, want nil", err)
			}
			if got, err := k.Get(t.Context(), "oauth-token/x"); err != nil || got != "v" {
				t.Fatalf("Get = %q, %v", got, err)
			}
		})
	}
}

// TestKeychainWriteLimit checks that a write still running at the write
// limit is reported then, as a timeout that may yet take effect.
func TestKeychainWriteLimit(t *testing.T) {
	b := newFakeBackend()
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	b.block, b.blockOnly = block, "delete"
	k := newKeychain(20*time.Millisecond, "linux", b, noProbe)
	k.writeLimit = 200 * time.Millisecond
	start := time.Now()
	err := k.Delete(t.Context(), "oauth-token/x")
	assertClassified(t, err, ErrTimeout, "may yet take effect")
	if waited := time.Since(start); waited < k.writeLimit {
		t.Errorf("Delete gave up after %s, before the write limit %s", waited, k.writeLimit)
	}
	if d := NewKeychain(15 * time.Second).writeLimit; d != 45*time.Second {
		t.Errorf("write limit for a 15 s timeout = %s, want 45s", d)
	}
	if d := NewKeychain(2 * time.Minute).writeLimit; d != 4*time.Minute {
		t.Errorf("write limit for a 2 min timeout = %s, want 4m", d)
	}
}

// TestKeychainWithBackend checks the option tests elsewhere use: the fake
// gets every call, with the caps of the platform named.
func TestKeychainWithBackend(t *testing.T) {
	b := newFakeBackend()
	b.goos = "windows"
	k := NewKeychain(time.Minute, WithBackend(b, "windows"))
	testStore(t, k)
	if err := k.Set(t.Context(), "oauth-token/x", pattern(9, 5000)); err != nil {
		t.Fatal(err)
	}
	if got := len(b.users()); got != 3 {
		t.Errorf("5000 bytes stored as %d Windows items, want 3 (a manifest and two parts)", got)
	}
	if k.Describe() != "OS keychain (Windows Credential Manager)" {
		t.Errorf("Describe = %q", k.Describe())
	}
}

// TestKeychainEndedContext: a call whose context has already ended fails with the context's
// error and never reaches the OS keychain. Writes matter most: once under way, a write is
// waited for whatever the context says. Before the check, the call's first select chose at
// random between the keychain's turn and the ended context, so about every other write went
// through; fifty tries make a regression all but certain to show.
func TestKeychainEndedContext(t *testing.T) {
	b := newFakeBackend()
	k := newKeychain(time.Minute, "linux", b, noProbe)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 50 {
		if err := k.Set(ctx, "oauth-token/x", "v"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Set with an ended context = %v, want context.Canceled", err)
		}
		if err := k.Delete(ctx, "oauth-token/x"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Delete with an ended context = %v, want context.Canceled", err)
		}
	}
	if n := b.callCount(); n != 0 {
		t.Errorf("the keychain was called %d times with an ended context (%q)", n, b.opsSoFar())
	}
}
