//go:build unix

package claudeconfig

import "syscall"

// mkfifo makes a named pipe at path: opening one blocks until the other end is opened too.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
