package claudeconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

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
			return nil, fmt.Errorf("gave up after %s waiting for Claude Code to finish writing %s (it holds %s): try again in a moment", lockWait, path, dir)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for Claude Code to finish writing %s: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
