package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func newTestFileStore(t *testing.T) (*FileStore, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestFileStoreContract(t *testing.T) {
	s, dir := newTestFileStore(t)
	testStore(t, s)
	assertNoFiles(t, dir)
}

func TestFileStoreConcurrent(t *testing.T) {
	s, _ := newTestFileStore(t)
	testStoreConcurrent(t, s)
}

func TestFileStorePermissionsAndLayout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	s, dir := newTestFileStore(t)
	if err := s.Set(t.Context(), "oauth-token/studio", "tok"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "oauth-token%2Fstudio.secret" {
		t.Fatalf("folder holds %v, want just oauth-token%%2Fstudio.secret", entries)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, entries[0].Name()): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
}

func TestFileStoreRefusesSharedFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	for _, mode := range []os.FileMode{0o750, 0o705, 0o755, 0o777} {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		_, err := NewFileStore(dir)
		if err == nil || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("NewFileStore on a %o folder = %v, want a refusal telling to chmod 700", mode, err)
		}
	}
}

func TestFileStoreRefusesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(path); err == nil {
		t.Fatal("NewFileStore on a file succeeded")
	}
	if _, err := NewFileStore(""); err == nil {
		t.Fatal("NewFileStore(\"\") succeeded")
	}
}

func TestFileStoreDescribe(t *testing.T) {
	s, dir := newTestFileStore(t)
	if d := s.Describe(); !strings.Contains(d, "UNENCRYPTED") || !strings.Contains(d, dir) {
		t.Fatalf("Describe() = %q, want it to say UNENCRYPTED and name %s", d, dir)
	}
}

func TestFileStoreFolderRemovedLater(t *testing.T) {
	s, dir := newTestFileStore(t)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get with the folder gone = %v, want ErrNotFound", err)
	}
	if err := s.Set(t.Context(), "k", "v"); err != nil {
		t.Fatalf("Set with the folder gone: %v", err)
	}
}

// TestFileStoreFailedWriteLeavesNothing makes the write fail at the rename
// (the target name is taken by a folder) and checks that no temp file is
// left behind and the error does not carry the value. That a failed write
// keeps the old content is tested with config.WriteFileAtomic.
func TestFileStoreFailedWriteLeavesNothing(t *testing.T) {
	s, dir := newTestFileStore(t)
	blocker := filepath.Join(dir, fileName("k"))
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(t.Context(), "k", "v"); err == nil {
		t.Fatal("Set over a folder succeeded")
	} else if strings.Contains(err.Error(), `"v"`) {
		t.Fatalf("error %q contains the value", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %v after a failed write, want only the blocker", entries)
	}
}

func TestFileName(t *testing.T) {
	tests := []struct{ key, want string }{
		{"oauth-token/studio", "oauth-token%2Fstudio.secret"},
		{"Studio", "%53tudio.secret"},
		{"a.b", "a%2Eb.secret"},
		{"..", "%2E%2E.secret"},
		{"con", "%63on.secret"},
		{"com1", "%63om1.secret"},
		{"com", "com.secret"},
		{"x y%", "x%20y%25.secret"},
		{"é", "%C3%A9.secret"},
	}
	for _, tt := range tests {
		if got := fileName(tt.key); got != tt.want {
			t.Errorf("fileName(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestFileNameLongKeys(t *testing.T) {
	seen := map[string]string{}
	for _, key := range []string{
		strings.Repeat("a", maxKeyLen),
		strings.Repeat("a", maxKeyLen-1) + "b",
		strings.Repeat("/", maxKeyLen),
		strings.Repeat("a", 179) + strings.Repeat("/", 20), // an escape straddles the cut
		strings.Repeat("a", 178) + strings.Repeat("/", 20),
		"oauth-client/studio/" + strings.Repeat("https%3A%2F%2Fissuer.example.com%2F", 6),
	} {
		name := fileName(key)
		if len(name) > 255 {
			t.Errorf("fileName of a %d-byte key is %d bytes, over the 255-byte file name limit", len(key), len(name))
		}
		if i := strings.LastIndexByte(name, '~'); i >= 0 {
			if j := strings.LastIndexByte(name[:i], '%'); j >= 0 && i-j < 3 {
				t.Errorf("fileName(%q) = %q cuts an escape in half", key, name)
			}
		}
		if other, dup := seen[strings.ToLower(name)]; dup {
			t.Errorf("keys %q and %q share the file name %q", key, other, name)
		}
		seen[strings.ToLower(name)] = key
	}
}

func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("folder holds %v, want nothing (temp files left behind?)", entries)
	}
}
