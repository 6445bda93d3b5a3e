package claudeconfig

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// This file is the writer's file handling, which never follows a symbolic link it has not
// checked: a repository can ship .mcp.json or .mcp.json.bak as a link (git checks links out as
// links) to any file of the user's, such as ~/.bashrc.

// resolveFile returns the file that holds loc's configuration, to read and to replace: loc.path
// itself when it is a plain file or does not exist yet; when it is a symbolic link, the file the
// link leads to, links resolved all the way, so that the write keeps the link (dotfile managers
// link ~/.claude.json). For project scope the link must stay inside the project folder (see the
// package doc), else the answer is a *LinkError. A link to nothing is a *LinkError too, and a
// folder, a named pipe or a device is an error, all before anything is opened.
func resolveFile(loc location) (string, error) {
	fi, err := os.Lstat(loc.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return loc.path, nil
	case err != nil:
		return "", fmt.Errorf("checking %s: %w", loc.path, err)
	case fi.Mode().IsRegular():
		return loc.path, nil
	case fi.Mode()&fs.ModeSymlink == 0:
		return "", notAFile(loc.path, fi.Mode())
	}
	real, err := filepath.EvalSymlinks(loc.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &LinkError{Link: loc.path, Target: linkText(loc.path),
			Reason: "which does not exist; nothing was changed: create that file, or remove the link, and try again"}
	}
	if err != nil {
		return "", fmt.Errorf("resolving the symbolic link %s: %w", loc.path, err)
	}
	if loc.projectDir != "" && !within(loc.projectDir, real) {
		return "", &LinkError{Link: loc.path, Target: real,
			Reason: fmt.Sprintf("outside the project folder %s; mcp-broker does not write through such a link, since a repository can point one at any file of yours, so nothing was changed: replace the link with the file itself (or add the server in local scope) and try again", loc.projectDir)}
	}
	fi, err = os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("checking %s (the target of %s): %w", real, loc.path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", notAFile(real, fi.Mode())
	}
	return real, nil
}

// linkText is where the link at path points, as an absolute path, for an error message.
func linkText(path string) string {
	text, err := os.Readlink(path)
	if err != nil {
		return "(unreadable)"
	}
	if !filepath.IsAbs(text) {
		text = filepath.Join(filepath.Dir(path), text)
	}
	return text
}

// within says whether path lies inside dir; both have their links resolved.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !filepath.IsAbs(rel) &&
		!strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// notAFile says that path is something a configuration file or its backup cannot be.
func notAFile(path string, mode fs.FileMode) error {
	kind := "not a plain file"
	switch {
	case mode.IsDir():
		kind = "a folder"
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("%s is %s, not a file: move it away and try again", path, kind)
}

// readFile returns the content and info of the file at path, which resolveFile returned, or nil
// for both when it does not exist. It opens without following a link and without waiting on a
// named pipe, and reads only a plain file, in case path changed since it was checked.
func readFile(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notAFile(path, fi.Mode())
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, fi, nil
}

// checkBackupSlot checks that the backup can go at path: nothing is there, or an older backup,
// or a symbolic link, which the backup replaces (the rename in replaceFile replaces the link
// itself, never the file it points to). A folder or a named pipe there is the user's, and an
// error.
func checkBackupSlot(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("checking %s: %w", path, err)
	case fi.Mode().IsRegular(), fi.Mode()&fs.ModeSymlink != 0:
		return nil
	}
	return notAFile(path, fi.Mode())
}

// replaceFile replaces whatever is at path (a file, or a link, which is replaced, not
// followed) with data in mode, so that a reader sees the old content or the new, never a mix,
// and a failure leaves the old file as it was: it writes a new temp file beside path, created
// exclusively and without following a link, sets mode, fsyncs, and renames it over path.
func replaceFile(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := createTemp(dir, filepath.Base(path))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already closed on most error paths; harmless
			_ = os.Remove(tmp.Name())
		}
	}()
	// The temp file is made 0600 before any byte is in it, so ~/.claude.json's content is
	// never readable by others, even briefly; then it gets the mode asked for.
	if runtime.GOOS != "windows" {
		if err := tmp.Chmod(mode); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", tmp.Name(), err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// createTemp creates a new, empty, 0600 file in dir, named after base with a leading dot (to
// keep it out of sight) and a random suffix (so that writers never share one). O_EXCL and
// O_NOFOLLOW make sure it is a new file of ours, not something planted under that name.
func createTemp(dir, base string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		name := filepath.Join(dir, "."+base+".tmp-"+strings.ToLower(rand.Text()[:12]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
		if errors.Is(err, fs.ErrExist) && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating a temp file in %s: %w", dir, err)
		}
		return f, nil
	}
}
