package claudeconfig

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// Open flags: Windows has neither. O_EXCL alone keeps a temp file from being a planted link
// (CreateFile's CREATE_NEW fails on any existing name), and there are no named pipes in
// folders.
const (
	oNoFollow = 0
	oNonBlock = 0
)

// rename retries os.Rename for up to about a second on the errors Windows returns while
// another process (an editor, a virus scanner, Claude Code reading its configuration) has the
// target open without FILE_SHARE_DELETE.
func rename(from, to string) error {
	for delay := 10 * time.Millisecond; ; delay *= 2 {
		err := os.Rename(from, to)
		if err == nil || !transient(err) || delay > 500*time.Millisecond {
			return err
		}
		time.Sleep(delay)
	}
}

func transient(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_SHARING_VIOLATION) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}

// syncDir does nothing: Windows cannot open a folder for fsync, and NTFS journals the rename.
func syncDir(string) {}
