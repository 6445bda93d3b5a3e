package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestRunReadsOnlyItsEnvironment: run takes what it needs from the process around it from the
// osEnv it is given, and nothing from the process itself. The process's environment points
// every variable elsewhere (a damaged config file, an unknown secret store, debug logs to a
// file, a server, other home, Claude Code, runtime and cache folders); in-process runs still
// use their own config folder, secret store, home, working folder, runtime folder and program
// path, and nothing is written where the process's environment points. Not parallel: it sets
// the process's environment, which is the point.
func TestRunReadsOnlyItsEnvironment(t *testing.T) {
	elsewhere := t.TempDir()
	procConfig := filepath.Join(elsewhere, "config")
	const damaged = "{not json"
	if err := os.Mkdir(procConfig, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(procConfig, "config.json"), []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"MCP_BROKER_CONFIG_DIR":   procConfig,
		"XDG_CONFIG_HOME":         filepath.Join(elsewhere, "xdg-config"),
		"MCP_BROKER_SECRET_STORE": "vault",
		"MCP_BROKER_LOG":          "debug",
		"MCP_BROKER_LOG_FILE":     filepath.Join(elsewhere, "bridge.log"),
		"MCP_BROKER_SERVER":       "from-the-process",
		"HOME":                    filepath.Join(elsewhere, "home"),
		"CLAUDE_CONFIG_DIR":       filepath.Join(elsewhere, "claude"),
		"MCP_BROKER_RUNTIME_DIR":  filepath.Join(elsewhere, "runtime"),
		"XDG_RUNTIME_DIR":         filepath.Join(elsewhere, "xdg-runtime"),
		"XDG_CACHE_HOME":          filepath.Join(elsewhere, "cache"),
	} {
		t.Setenv(k, v)
	}

	home, project := t.TempDir(), t.TempDir()
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file", "HOME="+home, "CLAUDE_CONFIG_DIR=")
	// A live bridge (this process) in the run's runtime folder, for status to find.
	bridges := status.BridgesDir(c.runtime)
	if err := status.Ensure(bridges); err != nil {
		t.Fatal(err)
	}
	planted, _ := json.Marshal(status.Bridge{Server: "planted", PID: os.Getpid(), State: "ready"})
	if err := os.WriteFile(filepath.Join(bridges, "planted."+strconv.Itoa(os.Getpid())+".json"), planted, 0o600); err != nil {
		t.Fatal(err)
	}

	c.ok("the-token\n", "servers", "add", "studio", "https://mcp.example.com/mcp", "--auth", "bearer", "--token-stdin")
	if vals := c.secretValues(); len(vals) != 1 || vals[0] != "the-token" {
		t.Errorf("the run's file store holds %d secrets, want the token", len(vals))
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.dir, "config.json"); st.Config != want || len(st.Servers) != 1 || st.Servers[0].Name != "studio" {
		t.Errorf("status --json: config %s with %d servers, want %s with studio", st.Config, len(st.Servers), want)
	}
	if len(st.Bridges) != 1 || st.Bridges[0].Server != "planted" {
		t.Errorf("status --json bridges = %+v, want the one in the run's runtime folder", st.Bridges)
	}

	c.ok("", "claude", "add", "studio", "--scope", "user")
	wantEntry(t, c.program(), entry(t, filepath.Join(home, ".claude.json"), "", "studio"), "studio")
	c.ok("", "claude", "command", "studio")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	_, had := os.Lstat(filepath.Join(wd, ".mcp.json"))
	r := c.runAt(project, "", "claude", "add", "studio", "--scope", "project")
	if _, err := os.Lstat(filepath.Join(wd, ".mcp.json")); err == nil && had != nil {
		os.Remove(filepath.Join(wd, ".mcp.json"))
		t.Error("claude add wrote .mcp.json in the test process's working folder")
	}
	if r.code != 0 {
		t.Fatalf("claude add --scope project: exit %d\n%s", r.code, r.stderr)
	}
	wantEntry(t, c.program(), entry(t, filepath.Join(project, ".mcp.json"), "", "studio"), "studio")

	if r := c.run("", "bridge"); r.code != exitUsage || !strings.Contains(r.stderr, "which server") {
		t.Errorf("bridge without a server in its environment: exit %d, stderr %q", r.code, r.stderr)
	}
	// A bridge whose client hangs up at once: it logs at the run's level (warn), not the
	// process's (debug, which would show "bridge starting"), and to no log file.
	c.ok("", "servers", "add", "local", "http://"+testenv.FreeAddrs(t, 1)[0]+"/mcp", "--auth", "none")
	if r := c.run("", "bridge", "--server", "local"); r.code != exitOK || strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("bridge: exit %d, stderr %q; want exit 0 without debug logs", r.code, r.stderr)
	}

	// Nothing was written where the process's environment points: only the damaged config.
	var found []string
	filepath.WalkDir(elsewhere, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != elsewhere {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 2 {
		t.Errorf("files where the process's environment points: %v, want only %s", found, filepath.Join(procConfig, "config.json"))
	}
	if b, _ := os.ReadFile(filepath.Join(procConfig, "config.json")); string(b) != damaged {
		t.Errorf("the process's config file changed: %q", b)
	}
}

// TestRunStartsFresh: every run builds its own commands and state, so nothing of one run
// carries over to the next in the same process: not a flag, not an exit code.
func TestRunStartsFresh(t *testing.T) {
	t.Parallel()
	_, bad := servers(t, authserver.Options{Hostile: authserver.Hostile{NoS256: true}}, mcpserver.Options{})
	c := newCLI(t)
	c.ok("", "servers", "add", "studio", "https://mcp.example.com/mcp")
	if out := c.ok("", "servers", "list", "--json").stdout; !strings.HasPrefix(out, "[") {
		t.Fatalf("servers list --json = %q", out)
	}
	if out := c.ok("", "servers", "list").stdout; !strings.HasPrefix(out, "NAME") {
		t.Errorf("servers list after a run with --json = %q, want the table", out)
	}
	if r := c.run("", "doctor", bad.URL()); r.code != exitProblem {
		t.Fatalf("doctor on a server without S256: exit %d, want %d", r.code, exitProblem)
	}
	if r := c.run("", "status"); r.code != exitOK {
		t.Errorf("status after a run that exited %d: exit %d\n%s", exitProblem, r.code, r.stderr)
	}
}
