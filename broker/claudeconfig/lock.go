package claudeconfig

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/lock"
)

// targetLockWait bounds the wait for another mcp-broker writing the same file. It is longer
// than lockWait because that writer may itself be waiting for Claude Code's lock.
const targetLockWait = time.Minute

// lockTarget takes mcp-broker's own cross-process lock (package lock) for the file at real
// (the file resolveFile returned), so that two mcp-broker processes (the CLI, the tray) that
// add servers to one file at once do not lose one of the entries: each reads the file only once
// the other has written it. Every scope takes it; .mcp.json has no lock of Claude Code's.
//
// The lock file lives in mcp-broker's lock folder (config.LockDirFrom(getenv), under claude/),
// named by a hash of the file's path with its folder's links resolved, so that every way of
// naming the file takes the same lock. A lock file beside the target would litter the user's
// projects.
func lockTarget(ctx context.Context, getenv func(string) string, real string) (release func() error, err error) {
	dir, err := config.LockDirFrom(getenv)
	if err != nil {
		return nil, err
	}
	key := filepath.Clean(real)
	if d, err := filepath.EvalSymlinks(filepath.Dir(key)); err == nil {
		key = filepath.Join(d, filepath.Base(key))
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		key = strings.ToLower(key) // their file systems ignore case by default
	}
	sum := sha256.Sum256([]byte(key))
	path := filepath.Join(dir, "claude", hex.EncodeToString(sum[:16])+".lock")

	lctx, cancel := context.WithTimeout(ctx, targetLockWait)
	defer cancel()
	release, err = lock.Acquire(lctx, path)
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			return nil, hint.With(fmt.Errorf("gave up after %s waiting for another mcp-broker to finish writing %s (nothing was changed)", targetLockWait, real), hint.TryAgain)
		}
		return nil, fmt.Errorf("waiting to write %s: %w", real, err)
	}
	return release, nil
}

// Claude Code serialises its read-modify-write of ~/.claude.json with proper-lockfile: it
// creates the folder <file>.lock (mkdir is atomic everywhere), refreshes its mtime every few
// seconds while it holds it, and treats one older than 10 s as left by a dead process. Taking
// the same lock makes mcp-broker's write one of Claude Code's own, so neither loses the other's
// change.
const (
	lockStale = 10 * time.Second // proper-lockfile's default, which Claude Code keeps
	lockWait  = 15 * time.Second // how long to wait for Claude Code to finish its write
	lockPoll  = 50 * time.Millisecond
)

// acquireLock takes Claude Code's lock on path, waiting while a live holder has it, and returns
// its release.
func acquireLock(ctx context.Context, path string) (release func(), err error) {
	dir := path + ".lock"
	deadline := time.Now().Add(lockWait)
	for {
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return func() { _ = os.Remove(dir) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("taking Claude Code's lock %s: %w", dir, err)
		}
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // released between our mkdir and stat
		case err != nil:
			return nil, fmt.Errorf("checking Claude Code's lock %s: %w", dir, err)
		case !fi.IsDir():
			return nil, fmt.Errorf("%s is in the way of Claude Code's lock: remove it and try again", dir)
		case time.Since(fi.ModTime()) > lockStale:
			// Left by a process that died mid-write: its holder would have refreshed it.
			if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("removing Claude Code's stale lock %s: %w", dir, err)
			}
			continue
		}
		if time.Now().After(deadline) {
			return nil, hint.With(fmt.Errorf("gave up after %s waiting for Claude Code to finish writing %s (it holds %s)", lockWait, path, dir), hint.TryAgain)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for Claude Code to finish writing %s: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
