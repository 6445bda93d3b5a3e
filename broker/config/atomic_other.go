//go:build !windows

package config

import "os"

// renameFile is os.Rename: on Unix, rename(2) atomically replaces the target
// even while other processes have it open.
func renameFile(from, to string) error { return os.Rename(from, to) }

// syncDir fsyncs the folder so the rename itself survives a power cut. It is
// best effort: the new content is already safe in the temp file, and some
// file systems refuse to sync a folder.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
