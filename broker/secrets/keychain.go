package secrets

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// DefaultTimeout bounds a keychain call when NewKeychain is given 0.
const DefaultTimeout = 5 * time.Second

// Backend is the part of go-keyring a Keychain uses: one item per call, named
// by service and user (the account). Tests put a fake here (WithBackend).
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// goKeyring is the real backend: the OS keychain through go-keyring.
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, pass string) error     { return keyring.Set(service, user, pass) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// Keychain is the Store backed by the OS keychain. Every call is bounded by
// a timeout, and on Linux it first checks, cheaply over D-Bus, that a Secret
// Service runs and its keyring is unlocked, so that a locked keyring gives
// ErrLocked at once instead of an unlock prompt that blocks forever.
//
// go-keyring calls cannot be cancelled: one that times out keeps running in
// the background until the OS answers. Calls on one Keychain therefore run
// one at a time, so a hung keychain ties up at most one goroutine, and later
// calls report ErrTimeout instead of piling up behind it.
//
// A write (Set, Delete) that has reached the OS is waited for past the
// timeout, and past the caller's context, until the OS answers or the write
// limit (twice the timeout, at least the timeout plus 30 s) runs out: a
// write reported as failed while it can still land would let the caller
// release the server's lock with it in flight, and another process replay
// the refresh token it replaces. Only a write still running at the write
// limit is reported before it ends (ErrTimeout, saying it may yet land).
type Keychain struct {
	timeout     time.Duration
	writeLimit  time.Duration
	allowPrompt bool
	goos        string
	backend     Backend
	// probe checks that the keychain can answer without prompting (see
	// probeKeychain); it returns errors that already wrap a sentinel.
	probe func(ctx context.Context, allowPrompt bool) error
	// sem holds a token while a call runs, including one that timed out but
	// has not returned yet.
	sem chan struct{}
}

// KeychainOption configures NewKeychain.
type KeychainOption func(*Keychain)

// WithUnlockPrompt lets the OS show its unlock (or create-keyring) prompt
// instead of failing fast with ErrLocked. Use it only where a person is
// watching, such as the tray, together with a timeout long enough to type a
// password: a bridge started by Claude Code must never wait on a prompt.
func WithUnlockPrompt() KeychainOption {
	return func(k *Keychain) { k.allowPrompt = true }
}

// WithBackend puts b in place of the OS keychain, with the item caps of the
// keychain of goos ("darwin", "windows", "linux") and without the Linux
// probe: for tests of code that must cope with a keychain that is slow,
// small or failing. Timeouts, parts and errors work as with the real one.
func WithBackend(b Backend, goos string) KeychainOption {
	return func(k *Keychain) {
		k.backend, k.goos = b, goos
		k.probe = func(context.Context, bool) error { return nil }
	}
}

// NewKeychain returns the OS keychain Store. timeout bounds each call
// (DefaultTimeout if 0): keep it short for the CLI and bridge, long for an
// interactive app that allows the unlock prompt.
//
// On Linux, when DBUS_SESSION_BUS_ADDRESS is unset (a host that starts the
// bridge with a bare environment), it sets it in this process's environment
// to the session bus found at $XDG_RUNTIME_DIR/bus or /run/user/<uid>/bus
// (see package runtimedir): go-keyring reaches the bus only through that
// variable (godbus's own fallback ignores XDG_RUNTIME_DIR and does not check
// who owns the socket). Create the Keychain before any other D-Bus use.
func NewKeychain(timeout time.Duration, opts ...KeychainOption) *Keychain {
	k := newKeychain(timeout, runtime.GOOS, goKeyring{}, probeKeychain)
	for _, o := range opts {
		o(k)
	}
	if _, real := k.backend.(goKeyring); real {
		useSessionBus()
	}
	return k
}

func newKeychain(timeout time.Duration, goos string, b Backend, probe func(context.Context, bool) error) *Keychain {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Keychain{
		timeout: timeout, writeLimit: max(2*timeout, timeout+30*time.Second),
		goos: goos, backend: b, probe: probe, sem: make(chan struct{}, 1),
	}
}

// Describe implements Store.
func (k *Keychain) Describe() string {
	switch k.goos {
	case "darwin":
		return "OS keychain (macOS Keychain)"
	case "windows":
		return "OS keychain (Windows Credential Manager)"
	default:
		return "OS keychain (Secret Service)"
	}
}

// Get implements Store. A value kept in parts (see parts.go) is read part
// by part; any other value is one item, read in one call.
func (k *Keychain) Get(ctx context.Context, key string) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	v, err := k.getItem(ctx, key)
	if err != nil || !isManifest(v) {
		return v, err
	}
	return k.getParts(ctx, key, v)
}

// Set implements Store. A value bigger than one item holds on this platform
// is split into parts, written so that a crash at any step leaves the old
// value or the new one readable (see setValue).
func (k *Keychain) Set(ctx context.Context, key, value string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	// Each item's write keeps its own part (the value, when it fits) out of its error.
	return k.setValue(ctx, key, value)
}

// Delete implements Store.
func (k *Keychain) Delete(ctx context.Context, key string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	return k.deleteValue(ctx, key)
}

// getItem reads one keychain item.
func (k *Keychain) getItem(ctx context.Context, item string) (string, error) {
	return call(ctx, k, fmt.Sprintf("reading %q from the keychain", item), "", false, func() (string, error) {
		return k.backend.Get(Service, item)
	})
}

// setItem writes one keychain item, which must fit.
func (k *Keychain) setItem(ctx context.Context, item, value string) error {
	if err := validateKey(item); err != nil {
		return err
	}
	what := fmt.Sprintf("storing %q in the keychain", item)
	if err := checkSize(k.goos, item, value); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := call(ctx, k, what, value, true, func() (struct{}, error) {
		return struct{}{}, k.backend.Set(Service, item, value)
	})
	return err
}

// deleteItem deletes one keychain item; a missing one is not an error.
func (k *Keychain) deleteItem(ctx context.Context, item string) error {
	_, err := call(ctx, k, fmt.Sprintf("deleting %q from the keychain", item), "", true, func() (struct{}, error) {
		return struct{}{}, k.backend.Delete(Service, item)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Platform caps on one keychain item, checked before calling so the user
// gets a clear error rather than whatever the OS says.
const (
	// windowsMaxValue is CRED_MAX_CREDENTIAL_BLOB_SIZE (5*512 bytes).
	windowsMaxValue = 2560
	// darwinMaxItem is what the macOS Keychain reliably holds for service,
	// account and password together (go-keyring's `security -i` command
	// line, with the password base64-encoded, is capped at 4096 bytes).
	darwinMaxItem = 3000
)

// itemLimit is how many bytes of secret one item named item holds on goos,
// or -1 for no limit (Linux).
func itemLimit(goos, item string) int {
	switch goos {
	case "windows":
		return windowsMaxValue
	case "darwin":
		return darwinMaxItem - len(Service) - len(item)
	}
	return -1
}

// checkSize returns ErrTooBig, wrapped with the limit, when value cannot fit
// in one keychain item on goos. Linux has no cap.
func checkSize(goos, item, value string) error {
	limit := itemLimit(goos, item)
	if limit < 0 || len(value) <= limit {
		return nil
	}
	if goos == "windows" {
		return fmt.Errorf("%w: %d bytes, the Windows Credential Manager holds at most %d", ErrTooBig, len(value), limit)
	}
	return fmt.Errorf("%w: %d bytes, the macOS Keychain holds about %d per item", ErrTooBig, len(value), limit)
}

// call runs fn, after the platform probe, in a goroutine bounded by the
// Keychain's timeout and ctx, and turns its error into one of ours. what
// says what the call does ("reading "x" from the keychain"); secret is the
// value being stored, if any, kept out of every error. A write that reached
// the OS is waited for up to the write limit (see Keychain).
func call[T any](ctx context.Context, k *Keychain, what, secret string, write bool, fn func() (T, error)) (T, error) {
	var zero T
	start := time.Now()
	if ctx.Err() != nil {
		// Before the selects below, which pick at random among ready cases: an ended
		// context must not reach the OS keychain at all.
		return zero, k.doneErr(ctx, what, start)
	}
	tctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()

	select {
	case k.sem <- struct{}{}:
	case <-tctx.Done():
		return zero, k.doneErr(ctx, what, start)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late answer must not block the goroutine
	var started atomic.Bool      // fn was called: a write may land
	go func() {
		// Owned by this call; it exits when the OS keychain answers, which
		// may be after the call has given up (see Keychain).
		defer func() { <-k.sem }()
		if err := k.probe(tctx, k.allowPrompt); err != nil {
			done <- result{err: err}
			return
		}
		started.Store(true)
		v, err := fn()
		done <- result{v, err}
	}()
	finish := func(r result) (T, error) {
		if r.err != nil {
			return zero, classify(k.goos, what, r.err, secret)
		}
		return r.v, nil
	}
	select {
	case r := <-done:
		return finish(r)
	case <-tctx.Done():
		if !write {
			return zero, k.doneErr(ctx, what, start)
		}
	}
	// A write that may be under way is waited for, whatever the caller's
	// context says, until it ends or the write limit runs out.
	limit := time.NewTimer(k.writeLimit - time.Since(start))
	defer limit.Stop()
	select {
	case r := <-done:
		if r.err != nil && !started.Load() {
			return zero, k.doneErr(ctx, what, start) // the probe gave up: nothing was written
		}
		return finish(r)
	case <-limit.C:
		why, next := timeoutHint(k.goos)
		return zero, hint.With(fmt.Errorf("%s: %w: still running after %s, so it may yet take effect%s", what, ErrTimeout, k.writeLimit, why), next)
	}
}

// doneErr explains why a call stopped waiting: the caller cancelled, or the
// keychain did not answer in time.
func (k *Keychain) doneErr(parent context.Context, what string, start time.Time) error {
	if errors.Is(parent.Err(), context.Canceled) {
		return fmt.Errorf("%s: %w", what, parent.Err())
	}
	waited := time.Since(start).Round(100 * time.Millisecond)
	why, next := timeoutHint(k.goos)
	return hint.With(fmt.Errorf("%s: %w within %s%s", what, ErrTimeout, waited, why), next)
}

// timeoutHint says why the keychain of goos probably did not answer (": ..." to end a message
// with, or "") and what to do about it.
func timeoutHint(goos string) (string, hint.Hint) {
	switch goos {
	case "darwin":
		return ": it is probably locked", hint.UnlockKeychain
	case "windows":
		return "", hint.TryAgain
	default:
		return ": it is probably locked and waiting for its password", hint.UnlockKeychain
	}
}

// darwinInteractionNotAllowed is the exit status of /usr/bin/security when
// the keychain is locked and it may not prompt (errSecInteractionNotAllowed,
// typically over SSH).
const darwinInteractionNotAllowed = 36

// classify turns a backend or probe error into an error wrapping one of our
// sentinels where it can tell which applies, prefixed with what, with the
// next step attached (package hint).
func classify(goos, what string, err error, secret string) error {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNoKeychain), errors.Is(err, ErrLocked),
		errors.Is(err, ErrTimeout), errors.Is(err, ErrTooBig):
		return fmt.Errorf("%s: %w", what, err) // from the probe: already explained
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s: %w", what, ErrTooBig)
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return hint.With(fmt.Errorf("%s: %w: %s has no supported keychain", what, ErrNoKeychain, goos), hint.FileStore)
	}
	err = scrub(err, secret)
	if kind, next, ok := classifyDBus(err); ok {
		return hint.With(fmt.Errorf("%s: %w (%v)", what, kind, err), next)
	}
	// go-keyring's own text when Unlock came back without unlocking: the
	// prompt was dismissed or could not be shown, or there is no keyring.
	if strings.Contains(err.Error(), "failed to unlock correct collection") {
		return hint.With(fmt.Errorf("%s: %w", what, ErrLocked), hint.UnlockKeychain)
	}
	var exitErr *exec.ExitError
	if goos == "darwin" && errors.As(err, &exitErr) && exitErr.ExitCode() == darwinInteractionNotAllowed {
		return hint.With(fmt.Errorf("%s: %w", what, ErrLocked), hint.UnlockKeychain)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// scrub returns err, or a copy of its text with secret blanked if the text
// contains it (unwrapping is lost then, deliberately: the wrapped error
// would still hold the secret).
func scrub(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[secret]"))
}
