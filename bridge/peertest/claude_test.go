//go:build peers

package peertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestClaudeCode adds the bridge to the real Claude Code CLI twice, with `claude mcp add` and
// through a project .mcp.json holding exactly the entry users write (no secret), and checks
// that `claude mcp list`, which launches each server and runs initialize and tools/list, says
// "✔ Connected" for both: against server-everything over Streamable HTTP and over legacy SSE,
// and against the in-repo OAuth-protected server after `mcp-broker login`.
func TestClaudeCode(t *testing.T) {
	p := requirePeers(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, env []string) // configures the server "remote"
	}{
		{"everything-streamable-http", func(t *testing.T, env []string) {
			url := p.startEverything(t, "streamableHttp")
			p.brokerCLI(t, env, "", "servers", "add", "remote", url, "--auth", "none", "--transport", "streamable-http")
		}},
		{"everything-sse", func(t *testing.T, env []string) {
			url := p.startEverything(t, "sse")
			p.brokerCLI(t, env, "", "servers", "add", "remote", url, "--auth", "none", "--transport", "sse")
		}},
		{"demo-oauth", func(t *testing.T, env []string) {
			url := startDemo(t)
			p.brokerCLI(t, env, "", "servers", "add", "remote", url)
			p.loginHeadless(t, env, "remote")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			project := filepath.Join(home, "project")
			if err := os.MkdirAll(filepath.Join(home, ".claude"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(project, 0o700); err != nil {
				t.Fatal(err)
			}
			// The bridges Claude Code starts inherit its environment: the private config
			// folder and secret store reach them that way, as a user's own would.
			env := p.env(t, home, filepath.Join(home, "mcp-broker"), secretStore(),
				"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_AUTOUPDATER=1", "MCP_BROKER_LOG=debug")
			tt.setup(t, env)

			claude := func(args ...string) result {
				t.Helper()
				r := run(t, 90*time.Second, project, env, "", p.modules(".bin", "claude"), args...)
				if r.err != nil {
					t.Fatalf("claude %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
				}
				return r
			}
			// Local scope, written into $HOME/.claude.json for this project.
			claude("mcp", "add", "remote-added", "-e", "MCP_BROKER_SERVER=remote", "--", p.broker, "bridge")
			// Project scope: the .mcp.json entry of the acceptance criteria, approved for an
			// isolated HOME by enableAllProjectMcpServers.
			mcpJSON, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{"remote-project": map[string]any{
				"type": "stdio", "command": p.broker, "args": []string{"bridge"},
				"env": map[string]string{"MCP_BROKER_SERVER": "remote"},
			}}})
			writeFile(t, filepath.Join(project, ".mcp.json"), mcpJSON)
			writeFile(t, filepath.Join(home, ".claude", "settings.json"), []byte(`{"enableAllProjectMcpServers": true}`))

			out := claude("mcp", "list").stdout
			t.Logf("claude mcp list:\n%s", strings.TrimSpace(out))
			for _, name := range []string{"remote-added", "remote-project"} {
				line := regexp.MustCompile(`(?m)^` + name + `: .*$`).FindString(out)
				if !strings.Contains(line, "✔ Connected") {
					t.Errorf("claude mcp list does not show %s as ✔ Connected; Claude Code's log of it:\n%s", name, claudeLogs(home, name))
				}
			}
		})
	}
}

// secretStore is the store the bridges use: the real keychain inside scripts/with-desktop.sh
// (private and throw-away there), else the file store.
func secretStore() string {
	if os.Getenv(testenv.KeyringEnv) == "1" {
		return "keychain"
	}
	return "file"
}

// startDemo starts the in-repo authorization server (approving at once) and MCP server on
// 127.0.0.1 for the test, and returns the MCP URL.
func startDemo(t *testing.T) string {
	t.Helper()
	as := authserver.New(authserver.Options{AutoApprove: true})
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	m := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}, Scopes: []string{"mcp:read"}})
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m.URL()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// claudeLogs returns the end of Claude Code's log of one server (with the server's stderr),
// for a failure message. It lives under $HOME/.cache/claude-cli-nodejs/<project>/mcp-logs-<name>.
func claudeLogs(home, name string) string {
	var b strings.Builder
	filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(path)) == "mcp-logs-"+name {
			data, _ := os.ReadFile(path)
			b.WriteString(lastLines(string(data), 30) + "\n")
		}
		return nil
	})
	if b.Len() == 0 {
		return "(none found under " + home + ")"
	}
	return b.String()
}
