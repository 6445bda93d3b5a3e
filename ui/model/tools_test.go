package model

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// toolsFixture is a configuration of the servers "studio" (hides "fetch" by name) and "docs"
// (read-only), each with a live bridge and a tools file, and a toolsReader of them whose loads
// are counted.
type toolsFixture struct {
	fixture
	r                  *toolsReader
	loads, configLoads map[string]int
}

func newToolsFixture(t *testing.T) *toolsFixture {
	t.Helper()
	f := &toolsFixture{fixture: newFixture(t), loads: map[string]int{}, configLoads: map[string]int{}}
	f.paths.Tools = filepath.Join(t.TempDir(), "tools")
	f.settings(t, []string{"fetch"}, true)
	f.save(t, "studio", toolpolicy.Tool{Name: "search", ReadOnly: true}, toolpolicy.Tool{Name: "fetch", ReadOnly: true}, toolpolicy.Tool{Name: "delete"})
	f.save(t, "docs", toolpolicy.Tool{Name: "read", ReadOnly: true}, toolpolicy.Tool{Name: "write"})
	f.r = newToolsReader(f.paths.Tools, f.paths.Config)
	load, loadConfig := f.r.load, f.r.loadConfig
	f.r.load = func(dir, server string) (toolpolicy.Seen, error) {
		f.loads[server]++
		return load(dir, server)
	}
	f.r.loadConfig = func(path string) (*config.File, error) {
		f.configLoads[path]++
		return loadConfig(path)
	}
	return f
}

// settings writes the configuration: studio hides hidden, docs is read-only when readOnly.
func (f *toolsFixture) settings(t *testing.T, hidden []string, readOnly bool) {
	t.Helper()
	file := &config.File{Version: config.Version, Servers: []config.Server{
		{Name: "docs", URL: "https://docs.example/mcp", Auth: config.AuthOAuth, ReadOnly: readOnly},
		{Name: "studio", URL: "https://studio.example/mcp", Auth: config.AuthOAuth, HiddenTools: hidden},
	}}
	if err := os.MkdirAll(filepath.Dir(f.paths.Config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := config.Save(f.paths.Config, file); err != nil {
		t.Fatal(err)
	}
}

func (f *toolsFixture) save(t *testing.T, server string, tools ...toolpolicy.Tool) {
	t.Helper()
	if err := toolpolicy.Save(f.paths.Tools, toolpolicy.Seen{Server: server, Tools: tools}); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads the configuration with a live bridge for each server, and the tools.
func (f *toolsFixture) snapshot(t *testing.T) Snapshot {
	t.Helper()
	s := Read(f.paths.Config, f.paths.Bridges, t0)
	for i := range s.Servers {
		s.Servers[i].Bridges = []status.Bridge{bridge(s.Servers[i].Name, 100+i, status.StateConnected, "")}
	}
	f.r.read(s)
	return s
}

// TestToolsHidden: a server's Hidden are the tools its settings keep from Claude Code, by
// name and by read-only mode, and follow a change of the settings; NewTools says nothing of a
// new tool that is hidden.
func TestToolsHidden(t *testing.T) {
	f := newToolsFixture(t)
	s := f.snapshot(t)
	studio, _ := s.Server("studio")
	docs, _ := s.Server("docs")
	if !slices.Equal(studio.Tools, []string{"delete", "fetch", "search"}) || !slices.Equal(studio.Hidden, []string{"fetch"}) {
		t.Errorf("studio: tools %q, hidden %q; want fetch hidden by name", studio.Tools, studio.Hidden)
	}
	if !slices.Equal(docs.Tools, []string{"read", "write"}) || !slices.Equal(docs.Hidden, []string{"write"}) {
		t.Errorf("docs: tools %q, hidden %q; want write hidden by read-only mode", docs.Tools, docs.Hidden)
	}

	known := map[string][]string{"studio": studio.Tools, "docs": docs.Tools}
	f.save(t, "studio", toolpolicy.Tool{Name: "search", ReadOnly: true}, toolpolicy.Tool{Name: "fetch", ReadOnly: true}, toolpolicy.Tool{Name: "delete"},
		toolpolicy.Tool{Name: "export", ReadOnly: true}, toolpolicy.Tool{Name: "purge"})
	f.save(t, "docs", toolpolicy.Tool{Name: "read", ReadOnly: true}, toolpolicy.Tool{Name: "write"}, toolpolicy.Tool{Name: "erase"})
	f.settings(t, []string{"fetch", "purge"}, true)
	want := []Added{{Server: "studio", Tools: []string{"export"}}}
	if got := NewTools(known, f.snapshot(t)); !slices.EqualFunc(got, want, func(a, b Added) bool { return a.Server == b.Server && slices.Equal(a.Tools, b.Tools) }) {
		t.Errorf("NewTools = %+v, want %+v: purge (hidden) and erase (read-only mode) are no news", got, want)
	}

	f.settings(t, nil, false)
	s = f.snapshot(t)
	if studio, _ = s.Server("studio"); studio.Hidden != nil {
		t.Errorf("studio hides %q after its settings were cleared", studio.Hidden)
	}
	if docs, _ = s.Server("docs"); docs.Hidden != nil {
		t.Errorf("docs hides %q after read-only mode was turned off", docs.Hidden)
	}
}

// TestToolsReadOnlyWhenChanged: a poll parses a tools file, or the configuration, only when it
// changed since the last poll (modification time or size): unchanged files are not parsed
// again, a changed one is, and what is filled in stays right.
func TestToolsReadOnlyWhenChanged(t *testing.T) {
	f := newToolsFixture(t)
	for range 3 {
		f.snapshot(t)
	}
	if f.loads["studio"] != 1 || f.loads["docs"] != 1 || f.configLoads[f.paths.Config] != 1 {
		t.Fatalf("three polls of unchanged files: loads %v, configuration %v; want one each", f.loads, f.configLoads)
	}

	// studio's file is rewritten, the same size; its modification time tells.
	f.save(t, "studio", toolpolicy.Tool{Name: "search", ReadOnly: true}, toolpolicy.Tool{Name: "fetch", ReadOnly: true}, toolpolicy.Tool{Name: "remove"})
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(toolpolicy.Path(f.paths.Tools, "studio"), later, later); err != nil {
		t.Fatal(err)
	}
	s := f.snapshot(t)
	if f.loads["studio"] != 2 || f.loads["docs"] != 1 || f.configLoads[f.paths.Config] != 1 {
		t.Errorf("after studio's file changed: loads %v, configuration %v; want studio again, nothing else", f.loads, f.configLoads)
	}
	if studio, _ := s.Server("studio"); !slices.Equal(studio.Tools, []string{"fetch", "remove", "search"}) {
		t.Errorf("studio's tools after the change: %q", studio.Tools)
	}

	// The settings change: the configuration is parsed again, the tools files not.
	f.settings(t, []string{"search"}, true)
	s = f.snapshot(t)
	if f.loads["studio"] != 2 || f.loads["docs"] != 1 || f.configLoads[f.paths.Config] != 2 {
		t.Errorf("after the settings changed: loads %v, configuration %v", f.loads, f.configLoads)
	}
	if studio, _ := s.Server("studio"); !slices.Equal(studio.Hidden, []string{"search"}) {
		t.Errorf("studio hides %q after the settings changed, want [search]", studio.Hidden)
	}

	// A file gone is no tools; back, it is parsed again.
	if err := os.Remove(toolpolicy.Path(f.paths.Tools, "docs")); err != nil {
		t.Fatal(err)
	}
	if docs, _ := f.snapshot(t).Server("docs"); docs.Tools != nil {
		t.Errorf("docs' tools with its file gone: %q", docs.Tools)
	}
	f.save(t, "docs", toolpolicy.Tool{Name: "read", ReadOnly: true})
	if docs, _ := f.snapshot(t).Server("docs"); !slices.Equal(docs.Tools, []string{"read"}) || f.loads["docs"] != 2 {
		t.Errorf("docs' tools with its file back: %q (%d loads)", docs.Tools, f.loads["docs"])
	}
}
