package ui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// The Configure Claude Code window writes through claudeWriter: the real writer, on files in
// a temporary home.
func TestClaudeWriterAdapter(t *testing.T) {
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	// The writer locks each target under the config folder: keep that in the test's own.
	t.Setenv("MCP_BROKER_CONFIG_DIR", t.TempDir())
	home := t.TempDir()
	cw := claudeWriter{ctx: t.Context(), w: claudeconfig.Writer{Home: home, Binary: "/opt/mcp-broker/mcp-broker"}}
	file := filepath.Join(home, ".claude.json")

	path, entry, err := cw.Preview("user", "", "studio")
	if err != nil || path != file || !strings.Contains(entry, `"MCP_BROKER_SERVER": "studio"`) {
		t.Fatalf("Preview = %q, %q, %v", path, entry, err)
	}
	if path, _, err := cw.Write("user", "", "studio"); err != nil || path != file {
		t.Fatalf("Write = %q, %v", path, err)
	}
	written, err := os.ReadFile(file)
	if err != nil || !bytes.Contains(written, []byte(`"/opt/mcp-broker/mcp-broker"`)) {
		t.Fatalf("the file after Write: %s (%v)", written, err)
	}

	// Another entry of the same name: the preview says what is replaced; Write replaces it
	// after a backup.
	other := claudeWriter{ctx: t.Context(), w: claudeconfig.Writer{Home: home, Binary: "/usr/bin/mcp-broker"}}
	if _, entry, err := other.Preview("user", "", "studio"); err != nil || !strings.Contains(entry, "replaces") || !strings.Contains(entry, "/opt/mcp-broker") {
		t.Fatalf("Preview over a different entry: %q, %v", entry, err)
	}
	if _, backup, err := other.Write("user", "", "studio"); err != nil || backup == "" {
		t.Fatalf("Write over a different entry: backup %q, %v", backup, err)
	}

	// A file that is not JSON is left as it is, with an error that says so.
	broken := []byte("{\"mcpServers\": {,\n")
	if err := os.WriteFile(file, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cw.Write("user", "", "studio"); err == nil || !strings.Contains(err.Error(), "left as it was") {
		t.Fatalf("Write into a broken file: %v, want an error that says the file was left as it was", err)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, broken) {
		t.Fatalf("the broken file was changed: %q", got)
	}
	if _, _, err := cw.Preview("bogus", "", "studio"); err == nil {
		t.Fatal("Preview with an unknown scope succeeded")
	}
}

// The Tools window reads and changes a server's tool settings through toolSettings: the
// configuration and the bridges' Seen files, and the broker's ChangeTools.
func TestToolSettingsAdapter(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	b, err := broker.New(broker.Options{ConfigPath: cfg, Secrets: secrets.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddServer(t.Context(), config.Server{Name: "studio", URL: "https://mcp.example.com/mcp", Auth: config.AuthNone}, ""); err != nil {
		t.Fatal(err)
	}
	ts := toolSettings{configPath: cfg, toolsDir: filepath.Join(dir, "tools"),
		open: func(context.Context) (*broker.Broker, error) { return b, nil }}
	if _, _, err := ts.Tools("studio"); !errors.Is(err, toolpolicy.ErrNotSeen) {
		t.Errorf("before any bridge: %v", err)
	}
	if err := toolpolicy.Save(ts.toolsDir, toolpolicy.Seen{Server: "studio", Tools: []toolpolicy.Tool{{Name: "t"}}}); err != nil {
		t.Fatal(err)
	}
	on := true
	if err := ts.ChangeTools(t.Context(), "studio", broker.ToolChange{Hide: []string{"t"}, ReadOnly: &on}); err != nil {
		t.Fatal(err)
	}
	seen, policy, err := ts.Tools("studio")
	if err != nil || len(seen.Tools) != 1 || !policy.ReadOnly || !slices.Equal(policy.Hidden, []string{"t"}) {
		t.Errorf("Tools = %+v, %+v, %v", seen, policy, err)
	}
	if _, _, err := ts.Tools("nope"); err == nil {
		t.Error("an unknown server has tools")
	}
}
