package claudeconfig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// These tests play a hostile repository: it ships .mcp.json or .mcp.json.bak as a symbolic
// link (git checks links out as links) to a file of the user's, hoping that
// `mcp-broker claude add --scope project` writes through it.

// symlink makes link point to target, or skips where links cannot be made (Windows without
// developer mode).
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

// assertLink checks that link is still a symbolic link to target.
func assertLink(t *testing.T, link, target string) {
	t.Helper()
	got, err := os.Readlink(link)
	if err != nil || got != target {
		t.Errorf("%s is no longer a link to %s (readlink = %q, %v)", link, target, got, err)
	}
}

// assertRegular checks that path is a plain file (not a link) holding want.
func assertRegular(t *testing.T, path string, want []byte) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("%s is not a plain file: %s", path, fi.Mode())
	}
	if got := mustRead(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s holds\n%s\nwant\n%s", path, got, want)
	}
}

// addWithin runs Add, failing the test if it has not returned within a minute: a FIFO opened
// for reading or writing blocks until someone opens the other end.
func addWithin(t *testing.T, w Writer, target Target, name string) (Result, error) {
	t.Helper()
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() { // owned by the test: ends when Add returns
		res, err := w.Add(t.Context(), target, name, AddOptions{})
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(time.Minute):
		t.Fatal("Add hangs")
		return Result{}, nil
	}
}

// TestAddBackupLinkIsNotFollowed: a .bak that is a link, to a file of the user's or to nowhere,
// is replaced by the backup; whatever it pointed to is left alone (not overwritten, not
// created).
func TestAddBackupLinkIsNotFollowed(t *testing.T) {
	tests := []struct {
		name     string
		scope    Scope
		dangling bool
	}{
		{"project", ScopeProject, false},
		{"user", ScopeUser, false},
		{"project dangling", ScopeProject, true},
		{"user dangling", ScopeUser, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			path, before, target := e.mcpJSON(), e.fixture(t, "mcp.json"), project(e)
			if tt.scope == ScopeUser {
				path, before, target = e.claudeJSON(), e.fixture(t, "claude.json"), user(e)
			}
			writeFile(t, path, before, 0o644)
			victim := filepath.Join(e.home, ".bashrc")
			victimText := []byte("# the user's shell start-up\nexport PATH=$HOME/bin:$PATH\n")
			if tt.dangling {
				victim = filepath.Join(e.home, ".config", "autostart", "evil.desktop")
			} else {
				writeFile(t, victim, victimText, 0o644)
			}
			symlink(t, victim, path+".bak")

			res, err := addWithin(t, e.w, target, "studio")
			if err != nil {
				t.Fatalf("Add = %v", err)
			}
			if tt.dangling {
				assertNoFile(t, victim)
			} else if got := mustRead(t, victim); !bytes.Equal(got, victimText) {
				t.Errorf("the file the backup link points to was overwritten:\n%s", got)
			}
			if res.Backup != path+".bak" {
				t.Errorf("Backup = %q, want %s", res.Backup, path+".bak")
			}
			assertRegular(t, path+".bak", before)
			checkEntry(t, mustRead(t, path), res, "studio", tt.scope)
		})
	}
}

// TestAddRefusesLinkLeavingProject: a .mcp.json that is a link to a file outside the project
// folder (directly, through a linked folder, or to a file that does not exist) is refused with
// an error naming the link and where it leads, and nothing is written anywhere.
func TestAddRefusesLinkLeavingProject(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the link in project and returns the link's text and the path the error
		// must name as its target.
		setup func(t *testing.T, e *env, outside string) (text, target string)
	}{
		{"absolute", func(t *testing.T, e *env, outside string) (string, string) {
			v := filepath.Join(outside, "victim.json")
			return v, v
		}},
		{"relative", func(t *testing.T, e *env, outside string) (string, string) {
			return filepath.Join("..", "..", "outside", "victim.json"), filepath.Join(outside, "victim.json")
		}},
		{"through a linked folder", func(t *testing.T, e *env, outside string) (string, string) {
			symlink(t, outside, filepath.Join(e.known, "shared"))
			return filepath.Join("shared", "victim.json"), filepath.Join(outside, "victim.json")
		}},
		{"dangling", func(t *testing.T, e *env, outside string) (string, string) {
			v := filepath.Join(e.home, ".config", "autostart", "evil.desktop")
			return v, v
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			outside := filepath.Join(filepath.Dir(filepath.Dir(e.known)), "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			// Valid JSON with a "mcpServers" object: nothing but the link stops the write.
			victimText := []byte("{\n  \"mcpServers\": {}\n}\n")
			victim := filepath.Join(outside, "victim.json")
			writeFile(t, victim, victimText, 0o644)
			text, want := tt.setup(t, e, outside)
			symlink(t, text, e.mcpJSON())
			// The error names real paths: the temp folder may be behind a link (macOS).
			if real, err := filepath.EvalSymlinks(filepath.Dir(want)); err == nil {
				want = filepath.Join(real, filepath.Base(want))
			}

			_, perr := e.w.Preview(project(e), "studio")
			_, err := addWithin(t, e.w, project(e), "studio")
			for what, err := range map[string]error{"Add": err, "Preview": perr} {
				var le *LinkError
				if err == nil || !errors.As(err, &le) || !strings.Contains(err.Error(), e.mcpJSON()) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s = %v, want a *LinkError naming %s and %s", what, err, e.mcpJSON(), want)
				}
			}
			if got := mustRead(t, victim); !bytes.Equal(got, victimText) {
				t.Errorf("the file outside the project was written:\n%s", got)
			}
			assertNoFile(t, filepath.Join(e.home, ".config"))
			assertLink(t, e.mcpJSON(), text)
			assertNoFile(t, e.mcpJSON()+".bak")
			assertOnly(t, e.known, ".mcp.json")
			assertOnly(t, outside, "victim.json")
		})
	}
}

// TestAddWritesThroughLinkInsideProject: a .mcp.json that links to a file inside the project
// folder (a repository that keeps its Claude Code settings in a subfolder) gets the entry in
// that file, atomically, in its mode; the link stays, and the backup sits beside the link.
func TestAddWritesThroughLinkInsideProject(t *testing.T) {
	e := newEnv(t)
	sub := filepath.Join(e.known, "config", "claude")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(sub, "mcp.json")
	before := e.fixture(t, "mcp.json")
	writeFile(t, real, before, 0o640)
	text := filepath.Join("config", "claude", "mcp.json")
	symlink(t, text, e.mcpJSON())

	res, err := addWithin(t, e.w, project(e), "studio")
	if err != nil {
		t.Fatal(err)
	}
	assertLink(t, e.mcpJSON(), text)
	checkEntry(t, mustRead(t, real), res, "studio", ScopeProject)
	checkGolden(t, "project", mustRead(t, real))
	assertMode(t, real, 0o640)
	if res.Path != e.mcpJSON() || res.Backup != e.mcpJSON()+".bak" || res.Created {
		t.Errorf("Add = %+v, want the link's path and its backup", res)
	}
	assertRegular(t, res.Backup, before)
	assertOnly(t, sub, "mcp.json")
}

// TestAddGlobalBackupIsPrivate: the backup of ~/.claude.json, which holds Claude Code's own
// secrets, is 0600 whatever the mode of the file or of an older backup; the file keeps its own
// mode.
func TestAddGlobalBackupIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	tests := []struct {
		name          string
		file, oldBack os.FileMode // 0: no old backup
	}{
		{"old backup 0644", 0o600, 0o644},
		{"file 0644, old backup 0644", 0o644, 0o644},
		{"file 0644, no old backup", 0o644, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			writeFile(t, e.claudeJSON(), e.fixture(t, "claude.json"), tt.file)
			if tt.oldBack != 0 {
				writeFile(t, e.claudeJSON()+".bak", []byte("{}"), tt.oldBack)
			}
			res, err := e.w.Add(t.Context(), user(e), "studio", AddOptions{})
			if err != nil {
				t.Fatal(err)
			}
			assertMode(t, res.Backup, 0o600)
			assertMode(t, e.claudeJSON(), tt.file)
		})
	}
}

// TestAddBackupInTheWay: a folder or a named pipe where the backup goes is reported as such,
// promptly, and the file is left as it was. So is a named pipe in place of the file itself.
func TestAddBackupInTheWay(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
		at   string // ".bak" or "" (the file itself)
		want string
	}{
		{"folder", func(p string) error {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(p, "keep"), []byte("x"), 0o644)
		}, ".bak", "is a folder"},
		{"named pipe", mkfifo, ".bak", "is a named pipe"},
		{"named pipe as the file", mkfifo, "", "is a named pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			before := e.fixture(t, "mcp.json")
			if tt.at != "" {
				writeFile(t, e.mcpJSON(), before, 0o644)
			}
			inTheWay := e.mcpJSON() + tt.at
			if err := tt.make(inTheWay); err != nil {
				t.Skipf("cannot make a %s here: %v", tt.name, err)
			}
			_, err := addWithin(t, e.w, project(e), "studio")
			if err == nil || !strings.Contains(err.Error(), inTheWay) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Add = %v, want an error saying %s %s", err, inTheWay, tt.want)
			}
			if tt.at != "" {
				assertRegular(t, e.mcpJSON(), before)
			}
			if fi, err := os.Lstat(inTheWay); err != nil || fi.Mode().IsRegular() {
				t.Errorf("%s was replaced by a file, or removed (%v)", inTheWay, err)
			}
			want := []string{".mcp.json"}
			if tt.at != "" {
				want = append(want, ".mcp.json"+tt.at)
			}
			assertOnly(t, e.known, want...)
		})
	}
}
