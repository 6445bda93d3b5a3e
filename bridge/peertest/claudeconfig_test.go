//go:build peers

package peertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestClaudeConfigWriter checks the entries `mcp-broker claude add` writes (package
// broker/claudeconfig) against the real Claude Code: in each scope, `claude mcp get`, which
// launches the bridge and runs initialize and tools/list through it, says "✔ Connected" to the
// in-repo OAuth-protected demo server after `mcp-broker login`. Along the way it checks that
// the write keeps what Claude Code had put in ~/.claude.json, and that a local-scope entry for
// a project Claude Code has not seen is the very entry `claude mcp add` makes.
func TestClaudeConfigWriter(t *testing.T) {
	p := requirePeers(t)
	url := startDemo(t)
	root := t.TempDir()
	// One sign-in serves every scope: the bridges share mcp-broker's config and secret store.
	configDir := filepath.Join(root, "mcp-broker")
	signIn := p.env(t, filepath.Join(root, "signin"), configDir, secretStore())
	p.brokerCLI(t, signIn, "", "servers", "add", "demo", url)
	p.loginHeadless(t, signIn, "demo")

	for _, scope := range []string{"user", "local", "project"} {
		t.Run(scope, func(t *testing.T) {
			home, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			project := filepath.Join(home, "project")
			for _, d := range []string{project, filepath.Join(home, ".claude")} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			env := p.env(t, home, configDir, secretStore(),
				"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_AUTOUPDATER=1", "MCP_BROKER_LOG=debug")
			claude := func(dir string, env []string, args ...string) string {
				t.Helper()
				r := run(t, 90*time.Second, dir, env, "", p.modules(".bin", "claude"), args...)
				if r.err != nil {
					t.Fatalf("claude %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
				}
				return r.stdout
			}
			// Claude Code's first run makes ~/.claude.json; run it outside the project, which
			// stays one it has not seen.
			claude(home, env, "mcp", "list")
			claudeJSON := filepath.Join(home, ".claude.json")
			before := decodeFile(t, claudeJSON)

			args := []string{"claude", "add", "demo", "--scope", scope}
			if scope != "user" {
				args = append(args, "--dir", project)
			}
			t.Logf("mcp-broker %s:\n%s", strings.Join(args, " "), p.brokerCLI(t, env, "", args...))

			if scope != "project" {
				after := decodeFile(t, claudeJSON)
				for k, v := range before {
					if k != "mcpServers" && k != "projects" && !reflect.DeepEqual(after[k], v) {
						t.Errorf("%s in ~/.claude.json changed from %v to %v", k, v, after[k])
					}
				}
			}
			if scope == "local" {
				// The same addition by Claude Code itself, in a home of its own.
				other := filepath.Join(t.TempDir(), "home")
				if err := os.MkdirAll(other, 0o700); err != nil {
					t.Fatal(err)
				}
				otherEnv := p.env(t, other, configDir, secretStore(), "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_AUTOUPDATER=1")
				claude(project, otherEnv, "mcp", "add", "demo", "-e", "MCP_BROKER_SERVER=demo", "--", p.broker, "bridge")
				ours := decodeFile(t, claudeJSON)["projects"].(map[string]any)[project]
				theirs := decodeFile(t, filepath.Join(other, ".claude.json"))["projects"].(map[string]any)[project]
				if !reflect.DeepEqual(ours, theirs) {
					o, _ := json.MarshalIndent(ours, "", "  ")
					c, _ := json.MarshalIndent(theirs, "", "  ")
					t.Errorf("the new project's entry differs from Claude Code's own:\nours:\n%s\nClaude Code's:\n%s", o, c)
				}
			}
			if scope == "project" {
				writeFile(t, filepath.Join(home, ".claude", "settings.json"), []byte(`{"enableAllProjectMcpServers": true}`))
			}

			out := claude(project, env, "mcp", "get", "demo")
			t.Logf("claude mcp get demo:\n%s", strings.TrimSpace(out))
			if !strings.Contains(out, "✔ Connected") {
				t.Errorf("claude mcp get does not show demo as ✔ Connected; Claude Code's log of it:\n%s", claudeLogs(home, "demo"))
			}
		})
	}
}

// decodeFile reads a JSON object from path.
func decodeFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
