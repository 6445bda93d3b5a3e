package claudeconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
)

var realWriteAtomic = writeAtomic

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testBinary is the mcp-broker path in every entry the tests write.
const testBinary = "/usr/local/bin/mcp-broker"

// env is a private home folder with three project folders: "known" has an entry with servers
// in the fixtures (@PROJECT@), "bare" one without "mcpServers" (@BARE@), "fresh" none.
type env struct {
	home, known, bare, fresh string
	keys                     map[string]string // placeholder → project key
	w                        Writer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir())
}

// newEnvIn is newEnv in the folder root.
func newEnvIn(t *testing.T, root string) *env {
	t.Helper()
	t.Setenv(EnvClaudeConfigDir, "")
	// The writer's locks go in mcp-broker's config folder: a private one, also for the writer
	// processes the concurrency test starts.
	t.Setenv(config.EnvConfigDir, filepath.Join(root, "mcp-broker"))
	e := &env{
		home:  filepath.Join(root, "home"),
		known: filepath.Join(root, "src", "known"),
		bare:  filepath.Join(root, "src", "bare"),
		fresh: filepath.Join(root, "src", "fresh"),
	}
	for _, d := range []string{e.home, e.known, e.bare, e.fresh} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.keys = map[string]string{}
	for ph, dir := range map[string]string{"@PROJECT@": e.known, "@BARE@": e.bare, "@NEW@": e.fresh} {
		key, err := ProjectKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[ph] = key
	}
	e.w = Writer{Home: e.home, Binary: testBinary}
	return e
}

// fixture returns testdata/name with the placeholders replaced by this env's project keys.
func (e *env) fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for ph, key := range e.keys {
		b = bytes.ReplaceAll(b, []byte(ph), []byte(strings.Trim(quoteJSON(key), `"`)))
	}
	return b
}

// placeholders turns this env's project keys back into placeholders, for golden files.
func (e *env) placeholders(b []byte) []byte {
	for ph, key := range e.keys {
		b = bytes.ReplaceAll(b, []byte(strings.Trim(quoteJSON(key), `"`)), []byte(ph))
	}
	return b
}

func (e *env) claudeJSON() string { return filepath.Join(e.home, ".claude.json") }
func (e *env) mcpJSON() string    { return filepath.Join(e.known, ".mcp.json") }

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name    string
		fixture string // "" = no file
		project bool   // the fixture is .mcp.json (else ~/.claude.json)
		target  func(e *env) Target
		server  string
		replace bool
		want    Result // Path, Project and Backup are checked separately
		wantErr string // the error's text contains it; the file must be untouched
		wantPos [2]int // line and column of a *FileError
	}{
		{name: "user", fixture: "claude.json", target: user, server: "studio"},
		{name: "user-fresh-install", fixture: "claude-fresh.json", target: user, server: "studio"},
		{name: "user-missing", target: user, server: "studio", want: Result{Created: true}},
		{name: "user-compact", fixture: "claude-compact.json", target: user, server: "studio"},
		{name: "user-tabs-crlf", fixture: "claude-tabs-crlf.json", target: user, server: "studio"},
		{name: "user-replace", fixture: "claude.json", target: user, server: "github", replace: true, want: Result{Replaced: true}},
		{name: "user-clash", fixture: "claude.json", target: user, server: "github", wantErr: `different server named "github"`},
		{name: "local-known", fixture: "claude.json", target: local(known), server: "studio"},
		{name: "local-bare", fixture: "claude.json", target: local(bare), server: "studio"},
		{name: "local-new", fixture: "claude.json", target: local(fresh), server: "studio"},
		{name: "local-new-no-projects", fixture: "claude-fresh.json", target: local(fresh), server: "studio"},
		{name: "local-missing", target: local(fresh), server: "studio", want: Result{Created: true}},
		{name: "local-compact", fixture: "claude-compact.json", target: local(known), server: "studio"},
		{name: "local-tabs-crlf", fixture: "claude-tabs-crlf.json", target: local(known), server: "studio"},
		{name: "local-replace", fixture: "claude.json", target: local(known), server: "sqlite", replace: true, want: Result{Replaced: true}},
		{name: "local-clash", fixture: "claude.json", target: local(known), server: "sqlite", wantErr: `projects[`},
		{name: "local-other-project-same-name", fixture: "claude.json", target: local(bare), server: "sqlite"},
		{name: "project", fixture: "mcp.json", project: true, target: project, server: "studio"},
		{name: "project-missing", project: true, target: project, server: "studio", want: Result{Created: true}},
		{name: "project-replace", fixture: "mcp.json", project: true, target: project, server: "docs", replace: true, want: Result{Replaced: true}},
		{name: "project-clash", fixture: "mcp.json", project: true, target: project, server: "docs", wantErr: `different server named "docs"`},
		{name: "malformed-truncated", fixture: "malformed-truncated.json", project: true, target: project, server: "studio",
			wantErr: "unexpected end of JSON input", wantPos: [2]int{8, 3}},
		{name: "malformed-trailing-comma", fixture: "malformed-trailing-comma.json", target: user, server: "studio",
			wantErr: "invalid character '}'", wantPos: [2]int{5, 5}},
		{name: "malformed-replace", fixture: "malformed-trailing-comma.json", target: user, server: "studio", replace: true,
			wantErr: "invalid character '}'", wantPos: [2]int{5, 5}},
		{name: "mcpservers-array", fixture: "mcpservers-array.json", project: true, target: project, server: "studio",
			wantErr: "mcpServers is an array, not an object", wantPos: [2]int{2, 17}},
		{name: "toplevel-array", fixture: "toplevel-array.json", target: user, server: "studio",
			wantErr: "the top level is not a JSON object", wantPos: [2]int{1, 1}},
		{name: "projects-null", fixture: "projects-null.json", target: local(known), server: "studio",
			wantErr: "projects is null, not an object", wantPos: [2]int{3, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			path := e.claudeJSON()
			if tt.project {
				path = e.mcpJSON()
			}
			var before []byte
			if tt.fixture != "" {
				before = e.fixture(t, tt.fixture)
				writeFile(t, path, before, 0o600)
			}
			target := tt.target(e)

			pv, perr := e.w.Preview(target, tt.server)
			res, err := e.w.Add(t.Context(), target, tt.server, AddOptions{Replace: tt.replace})

			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Add = %v, want an error naming %s with %q", err, path, tt.wantErr)
				}
				if got := mustRead(t, path); !bytes.Equal(got, before) {
					t.Errorf("the file changed:\n%s", got)
				}
				assertNoFile(t, path+".bak")
				assertOnly(t, filepath.Dir(path), filepath.Base(path))
				var fe *FileError
				if tt.wantPos != [2]int{} {
					if !errors.As(err, &fe) || fe.Line != tt.wantPos[0] || fe.Column != tt.wantPos[1] || fe.Path != path {
						t.Errorf("error %#v, want a *FileError at %s:%d:%d", err, path, tt.wantPos[0], tt.wantPos[1])
					}
					if !errors.As(perr, &fe) {
						t.Errorf("Preview = %v, want the same *FileError", perr)
					}
				} else {
					var ee *ExistsError
					if !errors.As(err, &ee) || ee.Name != tt.server || ee.Current == "" || pv.Status != StatusDifferent || pv.Current != ee.Current {
						t.Errorf("Add = %#v, Preview = %+v, want an *ExistsError and StatusDifferent with the current entry", err, pv)
					}
				}
				return
			}
			if err != nil || perr != nil {
				t.Fatalf("Add = %v, Preview = %v", err, perr)
			}
			after := mustRead(t, path)
			checkGolden(t, tt.name, e.placeholders(after))

			wantRes := tt.want
			wantRes.Path = path
			wantRes.Where = "mcpServers"
			if target.Scope == ScopeLocal {
				wantRes.Project = e.keys["@"+map[string]string{e.known: "PROJECT", e.bare: "BARE", e.fresh: "NEW"}[target.Dir]+"@"]
				wantRes.Where = "projects[" + quoteJSON(wantRes.Project) + "].mcpServers"
			}
			if before != nil {
				wantRes.Backup = path + ".bak"
				if got := mustRead(t, wantRes.Backup); !bytes.Equal(got, before) {
					t.Errorf("the backup holds\n%s\nwant the file as it was", got)
				}
			} else {
				assertNoFile(t, path+".bak")
			}
			if res != wantRes {
				t.Errorf("Add = %+v, want %+v", res, wantRes)
			}
			wantStatus := StatusNew
			if tt.replace {
				wantStatus = StatusDifferent
			}
			if pv.Path != path || pv.Where != wantRes.Where || pv.Project != wantRes.Project || pv.Status != wantStatus || pv.FileExists != (before != nil) {
				t.Errorf("Preview = %+v", pv)
			}
			var snippet map[string]Server
			if err := json.Unmarshal([]byte("{"+pv.Snippet+"}"), &snippet); err != nil || snippet[tt.server].Command != testBinary {
				t.Errorf("the preview's snippet is not the entry (%v):\n%s", err, pv.Snippet)
			}
			wantMode := os.FileMode(0o600)
			if tt.project && before == nil {
				wantMode = 0o644
			}
			assertMode(t, path, wantMode)
			checkEntry(t, after, res, tt.server, target.Scope)

			// Again: nothing to do, nothing written, the backup left alone.
			bak, _ := os.ReadFile(path + ".bak")
			again, err := e.w.Add(t.Context(), target, tt.server, AddOptions{Replace: tt.replace})
			if err != nil || !again.Unchanged || again.Backup != "" {
				t.Fatalf("second Add = %+v, %v; want Unchanged", again, err)
			}
			if got := mustRead(t, path); !bytes.Equal(got, after) {
				t.Error("the second Add changed the file")
			}
			if got, _ := os.ReadFile(path + ".bak"); !bytes.Equal(got, bak) {
				t.Error("the second Add rewrote the backup")
			}
			if pv, err := e.w.Preview(target, tt.server); err != nil || pv.Status != StatusSame || pv.Current == "" {
				t.Errorf("Preview after Add = %+v, %v; want StatusSame", pv, err)
			}
		})
	}
}

func user(*env) Target      { return Target{Scope: ScopeUser} }
func project(e *env) Target { return Target{Scope: ScopeProject, Dir: e.known} }

func known(e *env) string { return e.known }
func bare(e *env) string  { return e.bare }
func fresh(e *env) string { return e.fresh }

func local(dir func(*env) string) func(*env) Target {
	return func(e *env) Target { return Target{Scope: ScopeLocal, Dir: dir(e)} }
}

// checkEntry decodes the file and checks that the entry is where Result says, as Claude Code
// would read it.
func checkEntry(t *testing.T, data []byte, res Result, name string, scope Scope) {
	t.Helper()
	var doc struct {
		MCPServers map[string]Server `json:"mcpServers"`
		Projects   map[string]struct {
			MCPServers map[string]Server `json:"mcpServers"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &doc); err != nil {
		t.Fatalf("the file is not valid JSON any more: %v", err)
	}
	servers := doc.MCPServers
	if scope == ScopeLocal {
		servers = doc.Projects[res.Project].MCPServers
	}
	got, ok := servers[name]
	want := Entry(name, testBinary)
	if !ok || got.Type != want.Type || got.Command != want.Command || strings.Join(got.Args, " ") != "bridge" || len(got.Env) != 1 || got.Env[EnvServer] != name {
		t.Errorf("entry %q = %+v (found %v), want %+v", name, got, ok, want)
	}
}

func assertNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v)", path, err)
	}
}

// assertOnly checks that dir holds only the named files and folders besides the project
// folders (no temp file, backup or lock left behind).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") || e.Name() == ".git" {
			continue
		}
		found := false
		for _, n := range names {
			found = found || e.Name() == n
		}
		if !found {
			t.Errorf("%s holds %s", dir, e.Name())
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func TestAddKeepsModeAndSymlink(t *testing.T) {
	e := newEnv(t)
	dotfiles := filepath.Join(e.home, "dotfiles")
	if err := os.Mkdir(dotfiles, 0o700); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dotfiles, "claude.json")
	before := e.fixture(t, "claude.json")
	writeFile(t, real, before, 0o640)
	if err := os.Symlink(real, e.claudeJSON()); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	res, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(e.claudeJSON()); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced by a file (%v)", err)
	}
	checkEntry(t, mustRead(t, real), res, "studio", ScopeUser)
	assertMode(t, real, 0o640)
	assertMode(t, res.Backup, 0o600) // the backup of ~/.claude.json is private whatever the file's mode
	if res.Backup != e.claudeJSON()+".bak" || !bytes.Equal(mustRead(t, res.Backup), before) {
		t.Errorf("backup %s does not hold the file as it was", res.Backup)
	}
}

func TestAddRefusesReadOnlyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	e := newEnv(t)
	before := e.fixture(t, "claude.json")
	writeFile(t, e.claudeJSON(), before, 0o400)
	_, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("Add = %v, want a read-only error", err)
	}
	if !bytes.Equal(mustRead(t, e.claudeJSON()), before) {
		t.Error("the read-only file changed")
	}
	assertNoFile(t, e.claudeJSON()+".bak")
}

// TestAddReadOnlyFolder: a folder the writer cannot write to fails the write, naming the file,
// and leaves the original alone. Root writes anywhere (and CI runs as root), so as root the
// test runs itself again as an unprivileged user (runUnprivileged).
func TestAddReadOnlyFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	switch dir := os.Getenv(envUnprivilegedDir); {
	case dir != "":
		addReadOnlyFolder(t, dir) // the unprivileged child
	case os.Geteuid() == 0:
		runUnprivileged(t, "TestAddReadOnlyFolder")
	default:
		addReadOnlyFolder(t, t.TempDir())
	}
}

// addReadOnlyFolder is TestAddReadOnlyFolder in the folder root.
func addReadOnlyFolder(t *testing.T, root string) {
	e := newEnvIn(t, root)
	before := e.fixture(t, "mcp.json")
	writeFile(t, e.mcpJSON(), before, 0o644)
	if err := os.Chmod(e.known, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(e.known, 0o755) })
	if f, err := os.CreateTemp(e.known, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Fatalf("uid %d can write to a read-only folder: the test cannot show the write failing", os.Geteuid())
	}
	_, err := e.w.Add(t.Context(), Target{Scope: ScopeProject, Dir: e.known}, "studio", AddOptions{})
	if err == nil || !strings.Contains(err.Error(), e.mcpJSON()) {
		t.Fatalf("Add = %v, want an error naming %s", err, e.mcpJSON())
	}
	if !bytes.Equal(mustRead(t, e.mcpJSON()), before) {
		t.Error("the file changed")
	}
	assertOnly(t, e.known, ".mcp.json")
}

func TestAddFailedWrites(t *testing.T) {
	for _, failOn := range []string{".bak", ".json"} {
		t.Run("fail-on-"+failOn, func(t *testing.T) {
			e := newEnv(t)
			before := e.fixture(t, "claude.json")
			writeFile(t, e.claudeJSON(), before, 0o600)
			errBoom := errors.New("disk full")
			writeAtomic = func(path string, data []byte, mode os.FileMode) error {
				if strings.HasSuffix(path, failOn) {
					return errBoom
				}
				return realWriteAtomic(path, data, mode)
			}
			t.Cleanup(func() { writeAtomic = realWriteAtomic })
			_, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
			if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), e.claudeJSON()) {
				t.Fatalf("Add = %v, want the write error naming the file", err)
			}
			if !bytes.Equal(mustRead(t, e.claudeJSON()), before) {
				t.Error("the file changed")
			}
			assertNoFile(t, e.claudeJSON()+".lock")
		})
	}
}

func TestAddBlankFile(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.claudeJSON(), []byte(" \n"), 0o600)
	res, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "user-missing", mustRead(t, e.claudeJSON()))
	if res.Created || res.Backup == "" {
		t.Errorf("Add = %+v, want a backup of the blank file", res)
	}
}

func TestAddKeepsBOM(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.mcpJSON(), append(bytes.Clone(utf8BOM), e.fixture(t, "mcp.json")...), 0o644)
	if _, err := e.w.Add(t.Context(), Target{Scope: ScopeProject, Dir: e.known}, "studio", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, e.mcpJSON())
	if !bytes.HasPrefix(got, utf8BOM) {
		t.Error("the byte order mark was dropped")
	}
	checkGolden(t, "project", got[len(utf8BOM):])
}

func TestAddArguments(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		w      Writer
		target Target
		server string
		want   string
	}{
		{"relative binary", Writer{Home: e.home, Binary: "mcp-broker"}, Target{Scope: ScopeUser}, "studio", "absolute"},
		{"bad name", e.w, Target{Scope: ScopeUser}, "-rm", "must not start"},
		{"empty name", e.w, Target{Scope: ScopeUser}, "", "empty"},
		{"unknown scope", e.w, Target{Scope: "global"}, "studio", `unknown scope "global"`},
		{"local without folder", e.w, Target{Scope: ScopeLocal}, "studio", "project folder"},
		{"project without folder", e.w, Target{Scope: ScopeProject}, "studio", "folder"},
		{"missing folder", e.w, Target{Scope: ScopeProject, Dir: filepath.Join(e.known, "nope")}, "studio", "does not exist"},
		{"missing local folder", e.w, Target{Scope: ScopeLocal, Dir: filepath.Join(e.known, "nope")}, "studio", "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.w.Add(t.Context(), tt.target, tt.server, AddOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Add = %v, want an error with %q", err, tt.want)
			}
			if _, err := tt.w.Preview(tt.target, tt.server); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Preview = %v, want an error with %q", err, tt.want)
			}
		})
	}
	assertNoFile(t, e.claudeJSON())
}

func TestWhereClaudeCodeKeepsItsConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       string // CLAUDE_CONFIG_DIR, relative to the temp folder
		field     string // Writer.ClaudeConfigDir, likewise
		legacy    string // content of the legacy .config.json, "" for none, EMPTY for an empty file
		legacyDir string
		want      string
	}{
		{name: "home", want: "home/.claude.json"},
		{name: "env", env: "cfg", want: "cfg/.claude.json"},
		{name: "field beats env", env: "cfg", field: "other", want: "other/.claude.json"},
		{name: "legacy", legacy: `{"numStartups": 1}`, legacyDir: "home/.claude", want: "home/.claude/.config.json"},
		{name: "empty legacy ignored", legacy: "EMPTY", legacyDir: "home/.claude", want: "home/.claude.json"},
		{name: "legacy under env", env: "cfg", legacy: `{}`, legacyDir: "cfg", want: "cfg/.config.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			t.Setenv(config.EnvConfigDir, filepath.Join(root, "mcp-broker"))
			abs := func(rel string) string {
				if rel == "" {
					return ""
				}
				return filepath.Join(root, filepath.FromSlash(rel))
			}
			t.Setenv(EnvClaudeConfigDir, abs(tt.env))
			if err := os.MkdirAll(abs("home"), 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.legacy != "" {
				if err := os.MkdirAll(abs(tt.legacyDir), 0o700); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(abs(tt.legacyDir), ".config.json"), []byte(strings.TrimPrefix(tt.legacy, "EMPTY")), 0o600)
			}
			w := Writer{Home: abs("home"), ClaudeConfigDir: abs(tt.field), Binary: testBinary}
			pv, err := w.Preview(Target{Scope: ScopeUser}, "studio")
			if err != nil {
				t.Fatal(err)
			}
			if pv.Path != abs(tt.want) {
				t.Errorf("Preview.Path = %s, want %s", pv.Path, abs(tt.want))
			}
			// CLAUDE_CONFIG_DIR may not exist yet: Add makes it.
			res, err := w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
			if err != nil || res.Path != abs(tt.want) {
				t.Fatalf("Add = %+v, %v", res, err)
			}
			checkEntry(t, mustRead(t, res.Path), res, "studio", ScopeUser)
		})
	}
}

// TestWriterGetenv: with Writer.Getenv, CLAUDE_CONFIG_DIR and mcp-broker's lock folder come
// from the environment the writer is given, not from the process's.
func TestWriterGetenv(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvClaudeConfigDir, filepath.Join(root, "process-claude"))
	t.Setenv(config.EnvConfigDir, filepath.Join(root, "process-mcp-broker"))
	vars := map[string]string{EnvClaudeConfigDir: filepath.Join(root, "claude"), config.EnvConfigDir: filepath.Join(root, "mcp-broker")}
	w := Writer{Home: filepath.Join(root, "home"), Binary: testBinary, Getenv: func(k string) string { return vars[k] }}
	res, err := w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "claude", ".claude.json"); res.Path != want {
		t.Errorf("Add wrote %s, want %s", res.Path, want)
	}
	if locks, _ := filepath.Glob(filepath.Join(root, "mcp-broker", "locks", "claude", "*.lock")); len(locks) != 1 {
		t.Errorf("lock files in the given config folder: %v, want one", locks)
	}
	for _, d := range []string{"process-claude", "process-mcp-broker"} {
		assertNoFile(t, filepath.Join(root, d))
	}
}

// TestAddWaitsForClaudeCodesLock: while Claude Code holds ~/.claude.json.lock, Add does not
// write; it goes ahead once the lock is released, or once it is stale.
func TestAddWaitsForClaudeCodesLock(t *testing.T) {
	t.Run("held then released", func(t *testing.T) {
		e := newEnv(t)
		before := e.fixture(t, "claude.json")
		writeFile(t, e.claudeJSON(), before, 0o600)
		lock := e.claudeJSON() + ".lock"
		if err := os.Mkdir(lock, 0o700); err != nil {
			t.Fatal(err)
		}
		// Every write is watched: none may come while the test holds Claude Code's lock.
		var held, wroteWhileHeld atomic.Bool
		held.Store(true)
		writeAtomic = func(path string, data []byte, mode os.FileMode) error {
			if held.Load() {
				wroteWhileHeld.Store(true)
			}
			return realWriteAtomic(path, data, mode)
		}
		t.Cleanup(func() { writeAtomic = realWriteAtomic })
		type result struct {
			res Result
			err error
		}
		done := make(chan result, 1)
		go func() { // owned by the test: ends with Add, once the lock is released below
			res, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
			done <- result{res, err}
		}()
		// Add holds mcp-broker's own lock on the file, which it takes first: it is waiting for
		// Claude Code's.
		waitTargetLocked(t)
		if !bytes.Equal(mustRead(t, e.claudeJSON()), before) {
			t.Error("the file changed while Claude Code held its lock")
		}
		held.Store(false)
		os.Remove(lock)
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if wroteWhileHeld.Load() {
			t.Error("Add wrote while Claude Code held its lock")
		}
		checkEntry(t, mustRead(t, e.claudeJSON()), r.res, "studio", ScopeUser)
		assertNoFile(t, lock)
	})
	t.Run("stale", func(t *testing.T) {
		e := newEnv(t)
		lock := e.claudeJSON() + ".lock"
		if err := os.Mkdir(lock, 0o700); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Minute)
		if err := os.Chtimes(lock, old, old); err != nil {
			t.Fatal(err)
		}
		if _, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{}); err != nil {
			t.Fatal(err)
		}
		assertNoFile(t, lock)
	})
	t.Run("held past the deadline", func(t *testing.T) {
		e := newEnv(t)
		before := e.fixture(t, "claude.json")
		writeFile(t, e.claudeJSON(), before, 0o600)
		lock := e.claudeJSON() + ".lock"
		if err := os.Mkdir(lock, 0o700); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := e.w.Add(ctx, Target{Scope: ScopeUser}, "studio", AddOptions{})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Claude Code") {
			t.Fatalf("Add = %v, want a timeout waiting for Claude Code", err)
		}
		if !bytes.Equal(mustRead(t, e.claudeJSON()), before) {
			t.Error("the file changed")
		}
		if _, err := os.Stat(lock); err != nil {
			t.Error("Add removed a lock it did not hold")
		}
	})
}

// waitTargetLocked waits until a writer holds mcp-broker's own lock on a file (lockTarget): a
// lock file in the lock folder that this process cannot lock.
func waitTargetLocked(t *testing.T) {
	t.Helper()
	dir, err := config.LockDir()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		paths, _ := filepath.Glob(filepath.Join(dir, "claude", "*.lock"))
		for _, p := range paths {
			fl := flock.New(p)
			locked, err := fl.TryLock()
			if err != nil {
				t.Fatal(err)
			}
			if !locked {
				return // held by the writer
			}
			fl.Unlock()
		}
		if time.Now().After(deadline) {
			t.Fatal("no writer took mcp-broker's lock on the file")
		}
		if len(paths) == 0 {
			runtime.Gosched() // the writer has not reached lockTarget yet
		}
	}
}

// TestAddStartsOverWhenTheFileChanges: a write that lands between Add's read and its rename is
// kept, and the entry added on top of it.
func TestAddStartsOverWhenTheFileChanges(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.claudeJSON(), e.fixture(t, "claude-fresh.json"), 0o600)
	changed := false
	writeAtomic = func(path string, data []byte, mode os.FileMode) error {
		if strings.HasSuffix(path, ".bak") && !changed {
			changed = true // Claude Code writes between our read and our write
			if err := realWriteAtomic(e.claudeJSON(), []byte(`{"numStartups": 2, "theme": "light"}`), 0o600); err != nil {
				return err
			}
		}
		return realWriteAtomic(path, data, mode)
	}
	t.Cleanup(func() { writeAtomic = realWriteAtomic })
	res, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, e.claudeJSON())
	if !bytes.Contains(got, []byte(`"theme": "light"`)) {
		t.Errorf("the concurrent write was lost:\n%s", got)
	}
	checkEntry(t, got, res, "studio", ScopeUser)
	if !bytes.Equal(mustRead(t, res.Backup), []byte(`{"numStartups": 2, "theme": "light"}`)) {
		t.Error("the backup is not of the version the entry was added to")
	}
}

// TestAddGivesUpWhenTheFileKeepsChanging: a file rewritten under every attempt is left alone,
// and the error says to try again with a hint, not in its text.
func TestAddGivesUpWhenTheFileKeepsChanging(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.claudeJSON(), e.fixture(t, "claude-fresh.json"), 0o600)
	n := 0
	writeAtomic = func(path string, data []byte, mode os.FileMode) error {
		if strings.HasSuffix(path, ".bak") {
			n++ // Claude Code writes between each of our reads and our write
			if err := realWriteAtomic(e.claudeJSON(), []byte(fmt.Sprintf(`{"numStartups": %d}`, n)), 0o600); err != nil {
				return err
			}
		}
		return realWriteAtomic(path, data, mode)
	}
	t.Cleanup(func() { writeAtomic = realWriteAtomic })
	_, err := e.w.Add(t.Context(), Target{Scope: ScopeUser}, "studio", AddOptions{})
	if err == nil || !strings.Contains(err.Error(), "keeps changing") {
		t.Fatalf("Add = %v, want an error saying the file keeps changing", err)
	}
	if h := hint.Of(err); h != hint.TryAgain || strings.Contains(err.Error(), "try again") {
		t.Errorf("Add = %q with hint %v, want hint.TryAgain and no advice in the text", err, h)
	}
	if got := string(mustRead(t, e.claudeJSON())); got != fmt.Sprintf(`{"numStartups": %d}`, n) {
		t.Errorf("the file was written over: %s", got)
	}
}

func TestSnippet(t *testing.T) {
	want := `"studio": {
  "type": "stdio",
  "command": "/opt/My Tools/mcp-broker",
  "args": [
    "bridge"
  ],
  "env": {
    "MCP_BROKER_SERVER": "studio"
  }
}`
	if got := Snippet("studio", "/opt/My Tools/mcp-broker"); got != want {
		t.Errorf("Snippet =\n%s\nwant\n%s", got, want)
	}
}
