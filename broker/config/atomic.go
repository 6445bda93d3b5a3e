package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// rename is os.Rename, or on Windows a rename that retries briefly while
// another process has the target open; tests replace it to simulate failure.
var rename = renameFile

// WriteFileAtomic replaces the file at path with data so that a reader sees
// either the old or the new content, never a mix, and a crash or a failed
// write leaves the old file intact. It writes a temp file in the same folder,
// sets perm, fsyncs, and renames it over path. The folder must exist.
//
// If path is a symbolic link, the file it points to is replaced and the link
// kept, so dotfile managers that symlink config files keep working.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("resolving %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// The leading dot hides the temp file; the random suffix keeps
	// concurrent writers from clobbering each other's temp files.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already closed on most error paths; harmless
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600 before any byte is written, so a secret
	// is never readable by others even briefly; Chmod then applies perm.
	if runtime.GOOS != "windows" {
		if err := tmp.Chmod(perm); err != nil {
			return fmt.Errorf("setting mode of temp file: %w", err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing temp file: %w", err)
	}
	if err := rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}
