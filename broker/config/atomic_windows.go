package config

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// renameFile retries os.Rename for up to about a second on the errors
// Windows returns while another process (an editor, a virus scanner, Claude
// Code reading its config) has the target open without FILE_SHARE_DELETE.
func renameFile(from, to string) error {
	var err error
	for delay := 10 * time.Millisecond; ; delay *= 2 {
		err = os.Rename(from, to)
		if err == nil || !isTransientWindowsError(err) || delay > 500*time.Millisecond {
			return err
		}
		time.Sleep(delay)
	}
}

func isTransientWindowsError(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_SHARING_VIOLATION) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}

// syncDir does nothing: Windows cannot open a folder for fsync, and NTFS
// journals the rename itself.
func syncDir(string) {}
