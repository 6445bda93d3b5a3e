//go:build unix

package secrets

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkPrivateDir refuses a folder that others can use: group or world
// permission bits, or another owner, would expose the secrets in it.
func checkPrivateDir(dir string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("refusing to keep secrets in %s: other users can access it (mode %04o): run chmod 700 %s", dir, perm, dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("refusing to keep secrets in %s: it belongs to user id %d, not to you", dir, st.Uid)
	}
	return nil
}
