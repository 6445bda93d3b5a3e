//go:build unix

package runtimedir

import (
	"io/fs"
	"syscall"
)

// ownedBy reports whether the file belongs to the user uid.
func ownedBy(fi fs.FileInfo, uid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && uid >= 0 && int(st.Uid) == uid
}
