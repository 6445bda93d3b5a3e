package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables that turn the test binary into a lock-holding worker
// for TestAcquireAcrossProcesses.
const (
	envWorkerLock    = "MCP_BROKER_LOCK_TEST_LOCK"
	envWorkerCounter = "MCP_BROKER_LOCK_TEST_COUNTER"
	envWorkerRounds  = "MCP_BROKER_LOCK_TEST_ROUNDS"
)

// TestMain runs the worker instead of the tests when the environment asks for
// it, so the cross-process test can re-exec this very binary.
func TestMain(m *testing.M) {
	if lockPath := os.Getenv(envWorkerLock); lockPath != "" {
		if err := runWorker(lockPath, os.Getenv(envWorkerCounter), os.Getenv(envWorkerRounds)); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runWorker(lockPath, counterPath, roundsText string) error {
	rounds, err := strconv.Atoi(roundsText)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for range rounds {
		if err := incrementLocked(ctx, lockPath, counterPath); err != nil {
			return err
		}
	}
	return nil
}

// incrementLocked is a deliberately racy read-modify-write (read, yield,
// write in place) that only stays correct when the lock excludes every other
// writer.
func incrementLocked(ctx context.Context, lockPath, counterPath string) error {
	release, err := Acquire(ctx, lockPath)
	if err != nil {
		return err
	}
	defer release()
	data, err := os.ReadFile(counterPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	n := 0
	if s := strings.TrimSpace(string(data)); s != "" {
		if n, err = strconv.Atoi(s); err != nil {
			return err
		}
	}
	time.Sleep(time.Millisecond) // widen the race window
	return os.WriteFile(counterPath, []byte(strconv.Itoa(n+1)), 0o600)
}

func readCounter(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAcquireAcrossProcesses(t *testing.T) {
	const workers, rounds = 8, 20
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "locks", "counter.lock")
	counterPath := filepath.Join(dir, "counter")

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmds := make([]*exec.Cmd, workers)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			envWorkerLock+"="+lockPath,
			envWorkerCounter+"="+counterPath,
			envWorkerRounds+"="+strconv.Itoa(rounds),
		)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if got := readCounter(t, counterPath); got != workers*rounds {
		t.Fatalf("counter = %d, want %d: the lock let two processes in at once", got, workers*rounds)
	}
}

func TestAcquireWithinProcess(t *testing.T) {
	const goroutines, rounds = 8, 20
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "counter.lock")
	counterPath := filepath.Join(dir, "counter")

	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				if err := incrementLocked(t.Context(), lockPath, counterPath); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := readCounter(t, counterPath); got != goroutines*rounds {
		t.Fatalf("counter = %d, want %d: the lock let two goroutines in at once", got, goroutines*rounds)
	}
}

func TestAcquireWaitsForContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held.lock")
	release, err := Acquire(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on a held lock = %v, want context.DeadlineExceeded", err)
	}
}

func TestAcquireAfterRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "x.lock")
	release, err := Acquire(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Fatalf("second release = %v, want nil", err)
	}
	// A free lock is taken at once; the deadline only bounds a broken lock.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	release2, err := Acquire(ctx, path)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	defer release2()

	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); runtime.GOOS != "windows" && got != want {
			t.Errorf("%s mode = %o, want %o", p, got, want)
		}
	}
}

func TestAcquireCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Acquire(ctx, filepath.Join(t.TempDir(), "x.lock")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context = %v, want context.Canceled", err)
	}
}
