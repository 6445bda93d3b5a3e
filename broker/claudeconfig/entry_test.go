package claudeconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestEntry(t *testing.T) {
	b, err := json.Marshal(Entry("studio", "/abs/path/mcp-broker"))
	if err != nil {
		t.Fatal(err)
	}
	// The shape of ARCHITECTURE.md, in Claude Code's key order.
	want := `{"type":"stdio","command":"/abs/path/mcp-broker","args":["bridge"],"env":{"MCP_BROKER_SERVER":"studio"}}`
	if string(b) != want {
		t.Errorf("Entry = %s, want %s", b, want)
	}
}

func TestCommand(t *testing.T) {
	tests := []struct {
		goos, name, binary, want string
	}{
		{"linux", "studio", "/usr/local/bin/mcp-broker",
			"claude mcp add studio -e MCP_BROKER_SERVER=studio -- /usr/local/bin/mcp-broker bridge"},
		{"darwin", "my.server", "/Applications/MCP Broker.app/Contents/MacOS/mcp-broker",
			"claude mcp add my.server -e MCP_BROKER_SERVER=my.server -- '/Applications/MCP Broker.app/Contents/MacOS/mcp-broker' bridge"},
		{"linux", "a_b-c", "/home/o'brien/bin/mcp-broker",
			`claude mcp add a_b-c -e MCP_BROKER_SERVER=a_b-c -- '/home/o'\''brien/bin/mcp-broker' bridge`},
		{"linux", "studio", "/opt/$HOME/*/mcp-broker",
			`claude mcp add studio -e MCP_BROKER_SERVER=studio -- '/opt/$HOME/*/mcp-broker' bridge`},
		{"linux", "studio", `/opt/back\slash/mcp-broker`,
			`claude mcp add studio -e MCP_BROKER_SERVER=studio -- '/opt/back\slash/mcp-broker' bridge`},
		{"windows", "studio", `C:\Users\ada\bin\mcp-broker.exe`,
			`claude mcp add studio -e MCP_BROKER_SERVER=studio -- C:\Users\ada\bin\mcp-broker.exe bridge`},
		{"windows", "studio", `C:\Program Files\MCP Broker\mcp-broker.exe`,
			`claude mcp add studio -e MCP_BROKER_SERVER=studio -- "C:\Program Files\MCP Broker\mcp-broker.exe" bridge`},
	}
	for _, tt := range tests {
		if got := commandFor(tt.name, tt.binary, tt.goos); got != tt.want {
			t.Errorf("command on %s for %q =\n%s\nwant\n%s", tt.goos, tt.binary, got, tt.want)
		}
	}
	if got, want := Command("studio", "/x/mcp-broker"), commandFor("studio", "/x/mcp-broker", runtime.GOOS); got != want {
		t.Errorf("Command = %s, want %s", got, want)
	}
}

func TestParseScope(t *testing.T) {
	for _, s := range Scopes {
		if got, err := ParseScope(string(s)); err != nil || got != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "global", "User"} {
		if _, err := ParseScope(s); err == nil {
			t.Errorf("ParseScope(%q) succeeded", s)
		}
	}
}

// TestProjectKey lays out repositories as git leaves them (without running git) and checks the
// key Claude Code files a folder's local settings under; Claude Code 2.1.332 gave the same
// keys for the same layouts made by git itself.
func TestProjectKey(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	mkdir := func(rel string) {
		if err := os.MkdirAll(p(rel), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel, content string) {
		if err := os.WriteFile(p(rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("plain/sub")
	mkdir("repo/.git/worktrees/wt")
	mkdir("repo/src/pkg")
	write("repo/.git/worktrees/wt/commondir", "../..\n")
	mkdir("wt/sub")
	write("wt/.git", "gitdir: "+p("repo/.git/worktrees/wt")+"\n")
	mkdir("repo/.git/modules/lib")
	mkdir("repo/lib/inner")
	write("repo/lib/.git", "gitdir: ../.git/modules/lib\n")
	mkdir("bare.git/worktrees/w2")
	write("bare.git/worktrees/w2/commondir", "../..\n")
	mkdir("w2")
	write("w2/.git", "gitdir: "+p("bare.git/worktrees/w2")+"\n")
	symlinks := os.Symlink(p("repo/src"), p("link")) == nil

	tests := []struct{ dir, want string }{
		{"plain", "plain"},
		{"plain/sub", "plain/sub"},
		{"repo", "repo"},
		{"repo/src/pkg", "repo"},
		{"wt/sub", "repo"},             // a linked worktree: the main repository
		{"repo/lib/inner", "repo/lib"}, // a submodule is its own project
		{"w2", "w2"},                   // worktree of a bare repository: no main working tree
	}
	if symlinks {
		tests = append(tests, struct{ dir, want string }{"link/pkg", "repo"})
	}
	for _, tt := range tests {
		got, err := ProjectKey(p(tt.dir))
		want := p(tt.want)
		if runtime.GOOS == "windows" {
			want = filepath.ToSlash(want)
		}
		if err != nil || got != want {
			t.Errorf("ProjectKey(%s) = %q, %v; want %q", tt.dir, got, err, want)
		}
	}
	if _, err := ProjectKey(p("missing")); err == nil {
		t.Error("ProjectKey of a missing folder succeeded")
	}
	write("file", "")
	if _, err := ProjectKey(p("file")); err == nil {
		t.Error("ProjectKey of a file succeeded")
	}
}

func TestTemporaryBinary(t *testing.T) {
	for path, want := range map[string]bool{
		"/tmp/go-build3141592/b001/exe/mcp-broker":               true,
		`C:\Users\ada\AppData\Local\Temp\go-build27\exe\mcp.exe`: true,
		"/usr/local/bin/mcp-broker":                              false,
		"/home/ada/go/bin/mcp-broker":                            false,
	} {
		if got := TemporaryBinary(path); got != want {
			t.Errorf("TemporaryBinary(%s) = %v", path, got)
		}
	}
}
