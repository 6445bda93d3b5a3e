package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
)

// claudeEnv is a CLI with a private HOME (where ~/.claude.json goes) and a project folder,
// with the server "studio" configured.
type claudeEnv struct {
	*cli
	home, project string
}

func newClaudeEnv(t *testing.T) *claudeEnv {
	t.Helper()
	// Resolved: Claude Code files local entries under the real path (macOS's /var is a link).
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home, project := filepath.Join(root, "home"), filepath.Join(root, "project")
	for _, d := range []string{home, project} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file", "HOME="+home, "CLAUDE_CONFIG_DIR=")
	c.ok("", "servers", "add", "studio", "https://mcp.example.com/mcp")
	return &claudeEnv{cli: c, home: home, project: project}
}

// entry reads the entry named name from the file at path: at the top level, or under project.
func entry(t *testing.T, path, project, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		MCPServers map[string]map[string]any `json:"mcpServers"`
		Projects   map[string]struct {
			MCPServers map[string]map[string]any `json:"mcpServers"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if project != "" {
		return doc.Projects[project].MCPServers[name]
	}
	return doc.MCPServers[name]
}

// wantEntry checks an entry runs the mcp-broker at program as the bridge of name.
func wantEntry(t *testing.T, program string, got map[string]any, name string) {
	t.Helper()
	exe, err := filepath.EvalSymlinks(program)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"args":["bridge"],"command":` + string(mustJSON(exe)) + `,"env":{"MCP_BROKER_SERVER":"` + name + `"},"type":"stdio"}`
	if string(b) != want {
		t.Errorf("entry = %s\nwant    %s", b, want)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestCLIClaudeAdd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		inDir   bool   // run in the project folder (else pass --dir)
		file    string // "claude" or "mcp"
		project bool   // the entry is under projects[<project folder>]
	}{
		{name: "default is local, current folder", args: nil, inDir: true, file: "claude", project: true},
		{name: "local with --dir", args: []string{"--scope", "local", "--dir", "@PROJECT@"}, file: "claude", project: true},
		{name: "user", args: []string{"--scope", "user"}, file: "claude"},
		{name: "project with --dir", args: []string{"--scope", "project", "--dir", "@PROJECT@"}, file: "mcp"},
		{name: "project in current folder", args: []string{"--scope", "project"}, inDir: true, file: "mcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClaudeEnv(t)
			// The other keys of a real file are kept.
			claudeJSON := filepath.Join(c.home, ".claude.json")
			if err := os.WriteFile(claudeJSON, []byte("{\n  \"numStartups\": 7,\n  \"theme\": \"dark\"\n}"), 0o600); err != nil {
				t.Fatal(err)
			}
			path := claudeJSON
			if tt.file == "mcp" {
				path = filepath.Join(c.project, ".mcp.json")
			}
			args := []string{"claude", "add", "studio"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "@PROJECT@", c.project))
			}
			dir := c.home // anywhere but the project
			if tt.inDir {
				dir = c.project
			}
			r := c.runAt(dir, "", args...)
			if r.code != 0 {
				t.Fatalf("mcp-broker %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
			}
			project := ""
			if tt.project {
				project = c.project
			}
			wantEntry(t, c.program(), entry(t, path, project, "studio"), "studio")
			for _, want := range []string{path, `"MCP_BROKER_SERVER": "studio"`, "claude mcp get studio"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output does not say %q:\n%s", want, r.stdout)
				}
			}
			if tt.file == "claude" {
				if !strings.Contains(r.stdout, claudeJSON+".bak") {
					t.Errorf("output does not name the backup:\n%s", r.stdout)
				}
				if b, _ := os.ReadFile(claudeJSON); !bytes.Contains(b, []byte("\"numStartups\": 7,\n  \"theme\": \"dark\",\n")) {
					t.Errorf("the other settings were not kept as they were:\n%s", b)
				}
			} else if !strings.Contains(r.stdout, "Created") {
				t.Errorf("output does not say the file was created:\n%s", r.stdout)
			}

			before, _ := os.ReadFile(path)
			again := c.runAt(dir, "", args...)
			if again.code != 0 || !strings.Contains(again.stdout, "already") {
				t.Errorf("second run: exit %d\n%s%s", again.code, again.stdout, again.stderr)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Error("the second run changed the file")
			}
		})
	}
}

func TestCLIClaudeAddClash(t *testing.T) {
	t.Parallel()
	c := newClaudeEnv(t)
	mcpJSON := filepath.Join(c.project, ".mcp.json")
	orig := "{\n  \"mcpServers\": {\n    \"studio\": {\"type\": \"http\", \"url\": \"https://mcp.example.com/mcp\"}\n  }\n}\n"
	if err := os.WriteFile(mcpJSON, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.run("", "claude", "add", "studio", "--scope", "project", "--dir", c.project)
	if r.code != 1 || !strings.Contains(r.stderr, "--replace") || !strings.Contains(r.stderr, mcpJSON) || !strings.Contains(r.stderr, `"http"`) {
		t.Fatalf("clash: exit %d, want 1 naming the file, the current entry and --replace\n%s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(mcpJSON); string(b) != orig {
		t.Errorf("the file changed on a clash:\n%s", b)
	}
	r = c.run("", "claude", "add", "studio", "--scope", "project", "--dir", c.project, "--replace")
	if r.code != 0 || !strings.Contains(r.stdout, "Replaced") || !strings.Contains(r.stdout, mcpJSON+".bak") {
		t.Fatalf("--replace: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	wantEntry(t, c.program(), entry(t, mcpJSON, "", "studio"), "studio")
	if b, _ := os.ReadFile(mcpJSON + ".bak"); string(b) != orig {
		t.Errorf("the backup does not hold the file as it was:\n%s", b)
	}
}

func TestCLIClaudeAddMalformedFile(t *testing.T) {
	t.Parallel()
	c := newClaudeEnv(t)
	claudeJSON := filepath.Join(c.home, ".claude.json")
	orig := "{\n  \"numStartups\": 7,\n  \"projects\": {\n}\n"
	if err := os.WriteFile(claudeJSON, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run("", "claude", "add", "studio", "--scope", "user")
	if r.code != 1 || !strings.Contains(r.stderr, claudeJSON) || !strings.Contains(r.stderr, "line 5, column 1") || !strings.Contains(r.stderr, "left as it was") {
		t.Fatalf("malformed file: exit %d, want 1 with the file and the position\n%s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(claudeJSON); string(b) != orig {
		t.Errorf("the malformed file changed:\n%q", b)
	}
	if _, err := os.Stat(claudeJSON + ".bak"); err == nil {
		t.Error("a backup was written for a file that was not changed")
	}
}

func TestCLIClaudeUsage(t *testing.T) {
	t.Parallel()
	c := newClaudeEnv(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"claude", "add"}, 2, "accepts 1 arg"},
		{[]string{"claude", "add", "a", "b"}, 2, "accepts 1 arg"},
		{[]string{"claude", "add", "studio", "--scope", "global"}, 2, `unknown scope "global"`},
		{[]string{"claude", "add", "studio", "--scope", "user", "--dir", "/tmp"}, 2, "--dir goes with"},
		{[]string{"claude", "add", "studio", "--token", "x"}, 2, "unknown flag"},
		{[]string{"claude", "frob"}, 2, "unknown command"},
		{[]string{"servers", "frob"}, 2, "unknown command"},
		{[]string{"claude", "command"}, 2, "accepts 1 arg"},
		{[]string{"claude", "add", "nope", "--scope", "user"}, 1, "mcp-broker servers add nope"},
		{[]string{"claude", "command", "nope"}, 1, "no server named"},
		{[]string{"claude", "add", "studio", "--dir", "/does/not/exist"}, 1, "does not exist"},
	}
	for _, tt := range tests {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("mcp-broker %v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tt.args, r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(c.home, ".claude.json")); err == nil {
		t.Error("a failed command wrote ~/.claude.json")
	}
}

func TestCLIClaudeCommand(t *testing.T) {
	t.Parallel()
	c := newClaudeEnv(t)
	exe, err := filepath.EvalSymlinks(c.program())
	if err != nil {
		t.Fatal(err)
	}
	r := c.ok("", "claude", "command", "studio")
	if want := claudeconfig.Command("studio", exe) + "\n"; r.stdout != want || !strings.HasPrefix(want, "claude mcp add studio -e MCP_BROKER_SERVER=studio -- ") {
		t.Errorf("claude command = %q, want %q", r.stdout, want)
	}
}

// TestCLIClaudeAddLinkOutOfProject: a repository that ships .mcp.json as a link out of the
// project gets a clear refusal (exit 1, naming the link and where it leads) and nothing is
// written.
func TestCLIClaudeAddLinkOutOfProject(t *testing.T) {
	t.Parallel()
	c := newClaudeEnv(t)
	mcpJSON := filepath.Join(c.project, ".mcp.json")
	victim := filepath.Join(c.home, "victim.json")
	victimText := "{\n  \"mcpServers\": {}\n}\n"
	if err := os.WriteFile(victim, []byte(victimText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, mcpJSON); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	r := c.run("", "claude", "add", "studio", "--scope", "project", "--dir", c.project)
	if r.code != 1 || !strings.Contains(r.stderr, mcpJSON+" is a symbolic link to "+victim) || !strings.Contains(r.stderr, "outside the project folder") {
		t.Errorf("link out of the project: exit %d, want 1 naming the link and its target\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != victimText {
		t.Errorf("the file the link points to was written:\n%s", b)
	}
	if target, err := os.Readlink(mcpJSON); err != nil || target != victim {
		t.Errorf("the link was replaced (%q, %v)", target, err)
	}
	if _, err := os.Lstat(mcpJSON + ".bak"); err == nil {
		t.Error("a backup was written for a file that was not changed")
	}
}

// TestCLIClaudeAddBackupLink: a repository that ships .mcp.json.bak as a link to a file of the
// user's gets a real backup, and the user's file is left alone.
func TestCLIClaudeAddBackupLink(t *testing.T) {
	t.Parallel()
	c := newClaudeEnv(t)
	mcpJSON := filepath.Join(c.project, ".mcp.json")
	orig := "{\n  \"mcpServers\": {}\n}\n"
	if err := os.WriteFile(mcpJSON, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	bashrc := filepath.Join(c.home, ".bashrc")
	bashrcText := "export PATH=$HOME/bin:$PATH\n"
	if err := os.WriteFile(bashrc, []byte(bashrcText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bashrc, mcpJSON+".bak"); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	r := c.run("", "claude", "add", "studio", "--scope", "project", "--dir", c.project)
	if r.code != 0 || !strings.Contains(r.stdout, mcpJSON+".bak") {
		t.Fatalf("backup link: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(bashrc); string(b) != bashrcText {
		t.Errorf("~/.bashrc was overwritten through the backup link:\n%s", b)
	}
	if fi, err := os.Lstat(mcpJSON + ".bak"); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the backup is not a plain file (%v)", err)
	}
	if b, _ := os.ReadFile(mcpJSON + ".bak"); string(b) != orig {
		t.Errorf("the backup does not hold the file as it was:\n%s", b)
	}
	wantEntry(t, c.program(), entry(t, mcpJSON, "", "studio"), "studio")
}

// TestCLIClaudeAddConcurrent: 20 `mcp-broker claude add` processes started at once on one
// project's .mcp.json each add their server; none is lost.
func TestCLIClaudeAddConcurrent(t *testing.T) {
	t.Parallel()
	const n = 20
	bin := needBinary(t)
	c := newClaudeEnv(t)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("s%02d", i)
		c.ok("", "servers", "add", names[i], "https://mcp.example.com/"+names[i])
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	failed := make(chan string, n)
	for _, name := range names {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, bin, "claude", "add", name, "--scope", "project", "--dir", c.project)
			cmd.Env = c.environ()
			if out, err := cmd.CombinedOutput(); err != nil {
				failed <- fmt.Sprintf("claude add %s: %v\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	close(failed)
	for f := range failed {
		t.Error(f)
	}
	mcpJSON := filepath.Join(c.project, ".mcp.json")
	for _, name := range names {
		if got := entry(t, mcpJSON, "", name); got == nil {
			t.Errorf("the entry for %s was lost", name)
		}
	}
}
