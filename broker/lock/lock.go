// Package lock provides an exclusive lock shared by every mcp-broker process
// of a user: bridges, the tray and the CLI take it around work that must not
// run twice at once, such as refreshing a rotating refresh token, opening a
// sign-in page, or a read-modify-write of the config file.
//
// The lock is an OS file lock (flock on Unix, LockFileEx on Windows) held on
// an open file, so the kernel drops it when a process dies: a crashed bridge
// never leaves a stale lock behind.
package lock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// retryDelay is how long Acquire sleeps between attempts while another
// holder has the lock. Short, because holders are brief (a token refresh, a
// config write) and callers are often interactive.
const retryDelay = 20 * time.Millisecond

// Acquire takes the exclusive lock on path, waiting until it is free or ctx
// is done. The lock file is created 0600 (its parent folder 0700) and left in
// place afterwards: removing it would let two processes lock two different
// files of the same name.
//
// Each call opens its own file, so two goroutines of one process exclude each
// other just as two processes do.
//
// The returned release unlocks and closes the file; calling it again is a
// no-op that returns the first result.
func Acquire(ctx context.Context, path string) (release func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating lock folder: %w", err)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, retryDelay)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for lock %s (held by another mcp-broker process?): %w", path, ctx.Err())
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if !ok {
		// TryLockContext reports !ok only together with an error; guard anyway
		// so a future change in flock cannot hand out an unheld lock.
		return nil, fmt.Errorf("locking %s: lock not acquired", path)
	}
	var once sync.Once
	var unlockErr error
	return func() error {
		once.Do(func() {
			if err := fl.Unlock(); err != nil {
				unlockErr = fmt.Errorf("unlocking %s: %w", path, err)
			}
		})
		return unlockErr
	}, nil
}
