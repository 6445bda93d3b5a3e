//go:build unix

package status

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a folder owned by another user and makes ours private.
func checkOwner(dir string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("runtime folder %s %w: remove it or set %s", dir, errNotOurs, EnvRuntimeDir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return nil
}

// alive reports whether a process with that pid exists. EPERM means it exists but is
// another user's, which for our purposes (a recycled pid) is "not ours": treat as alive anyway,
// since a wrong "gone" would delete a live bridge's file.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
