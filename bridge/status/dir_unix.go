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

// ownedPrivately refuses a file or folder (fi from Lstat) that belongs to another user or
// that others may read or write.
func ownedPrivately(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot tell who owns %s", path)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s %w", path, errNotOurs)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is open to other users (mode %v)", path, fi.Mode().Perm())
	}
	return nil
}

// ownProcessAlive reports whether pid is a live process of ours. Unlike alive it reads EPERM
// as no: a process we may not signal is another user's.
func ownProcessAlive(pid int) bool {
	return pid > 0 && signalZero(pid) == nil
}

// alive reports whether a process with that pid exists. EPERM means it exists but is
// another user's, which for our purposes (a recycled pid) is "not ours": treat as alive anyway,
// since a wrong "gone" would delete a live bridge's file.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := signalZero(pid)
	return err == nil || err == syscall.EPERM
}

// signalZero asks the kernel whether pid exists and we may signal it, sending nothing. Tests
// replace it: running as root they cannot meet EPERM for real.
var signalZero = func(pid int) error { return syscall.Kill(pid, 0) }
