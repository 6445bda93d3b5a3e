//go:build unix

package claudeconfig

import (
	"os"
	"syscall"
)

// Open flags: fail on a symbolic link in the last element (ELOOP) rather than follow it, and
// do not wait for a writer when the file is a named pipe.
const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonBlock = syscall.O_NONBLOCK
)

// rename is os.Rename: rename(2) replaces the target atomically, even while others have it
// open, and replaces a link rather than following it.
func rename(from, to string) error { return os.Rename(from, to) }

// syncDir fsyncs the folder so that the rename itself survives a power cut. It is best effort:
// the content is already safe, and some file systems refuse to sync a folder.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
