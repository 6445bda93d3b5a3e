package claudeconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReplaceFile: the atomic write replaces what is at the path (a link included, never
// followed) in the mode asked for, and when it cannot, leaves everything as it was, no temp
// file behind.
func TestReplaceFile(t *testing.T) {
	t.Run("mode", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.json")
		writeFile(t, path, []byte("old"), 0o644)
		if err := replaceFile(path, []byte("new"), 0o640); err != nil {
			t.Fatal(err)
		}
		assertRegular(t, path, []byte("new"))
		assertMode(t, path, 0o640)
		assertOnly(t, dir, "f.json")
	})
	t.Run("link", func(t *testing.T) {
		dir := t.TempDir()
		victim := filepath.Join(t.TempDir(), "victim")
		writeFile(t, victim, []byte("victim"), 0o644)
		path := filepath.Join(dir, ".f.json.bak")
		symlink(t, victim, path)
		if err := replaceFile(path, []byte("backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		assertRegular(t, path, []byte("backup"))
		assertRegular(t, victim, []byte("victim"))
		assertMode(t, path, 0o600)
		assertOnly(t, dir, ".f.json.bak")
	})
	t.Run("folder in the way", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, ".f.json")
		if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := replaceFile(path, []byte("new"), 0o644); err == nil {
			t.Fatal("replaceFile over a folder succeeded")
		}
		if fi, err := os.Stat(filepath.Join(path, "inside")); err != nil || !fi.IsDir() {
			t.Errorf("the folder was touched: %v", err)
		}
		assertOnly(t, dir, ".f.json")
	})
	t.Run("no folder", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing", "f.json")
		if err := replaceFile(path, []byte("new"), 0o644); err == nil || !bytes.Contains([]byte(err.Error()), []byte("missing")) {
			t.Fatalf("replaceFile in a missing folder = %v, want an error naming it", err)
		}
	})
}
