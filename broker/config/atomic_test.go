package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	writeFile(t, path, "old")
	if err := WriteFileAtomic(path, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "new" {
		t.Fatalf("content = %q, want new", got)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, path, 0o640)
	}
	assertOnlyFiles(t, dir, "f.json")
}

func TestWriteFileAtomicFailedRenameKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	writeFile(t, path, "old")
	errBoom := errors.New("boom")
	rename = func(string, string) error { return errBoom }
	t.Cleanup(func() { rename = renameFile })

	if err := WriteFileAtomic(path, []byte("new"), 0o600); !errors.Is(err, errBoom) {
		t.Fatalf("WriteFileAtomic = %v, want the rename error", err)
	}
	if got := readFile(t, path); got != "old" {
		t.Fatalf("content = %q after a failed write, want old", got)
	}
	assertOnlyFiles(t, dir, "f.json")
}

func TestWriteFileAtomicMissingFolder(t *testing.T) {
	if err := WriteFileAtomic(filepath.Join(t.TempDir(), "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFileAtomic into a missing folder succeeded")
	}
}

func TestWriteFileAtomicKeepsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	writeFile(t, target, "old")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
	if err := WriteFileAtomic(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced by a regular file (%v)", err)
	}
	if got := readFile(t, target); got != "new" {
		t.Fatalf("target content = %q, want new", got)
	}
}

// TestWriteFileAtomicReadersSeeWholeFiles has writers replace a file while
// readers read it: every read must be one complete version.
func TestWriteFileAtomicReadersSeeWholeFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	versions := map[string]bool{}
	for i := range 4 {
		v := fmt.Sprintf("%d:%0*d", i, 64<<10, i) // 64 KiB so a torn write is likely to show
		versions[v] = true
	}
	var first string
	for v := range versions {
		first = v
		break
	}
	if err := WriteFileAtomic(path, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for v := range versions {
		wg.Go(func() {
			for range 20 {
				if err := WriteFileAtomic(path, []byte(v), 0o600); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 200 {
				data, err := os.ReadFile(path)
				if err != nil {
					errs <- err
					return
				}
				if !versions[string(data)] {
					errs <- fmt.Errorf("read a torn file of %d bytes", len(data))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assertOnlyFiles(t, dir, "f")
}

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("folder holds %v, want %v (temp files left behind?)", got, want)
	}
}
