package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// TestToolsCommand: `tools NAME` shows the tools a bridge last saw with their estimated cost,
// and --hide, --show and --read-only change the settings in config.json that the bridges
// apply.
func TestToolsCommand(t *testing.T) {
	c := newCLI(t)
	c.ok("", "servers", "add", "studio", "https://mcp.example.com/mcp", "--auth", "none")

	r := c.ok("", "tools", "studio")
	if !strings.Contains(r.stdout, "No bridge has listed the tools of studio yet") {
		t.Errorf("before any bridge: %s", r.stdout)
	}

	seen := toolpolicy.Seen{Server: "studio", Saved: time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC), Tools: []toolpolicy.Tool{
		{Name: "read_page", Description: "Reads a page", ReadOnly: true, Bytes: 400},
		{Name: "delete_page", Description: "Deletes a page", Bytes: 121},
	}}
	if err := toolpolicy.Save(toolpolicy.Dir(c.cache), seen); err != nil {
		t.Fatal(err)
	}
	r = c.ok("", "tools", "studio")
	for _, want := range []string{"read_page", "delete_page", "100", "31", "Shown: 2 of 2 tools, about 131 tokens (hidden: about 0)", "divided by 4", "Read-only mode: off"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("tools studio: no %q in\n%s", want, r.stdout)
		}
	}

	r = c.ok("", "tools", "studio", "--hide", "delete_page", "--hide", "gone")
	if !strings.Contains(r.stdout, "Shown: 1 of 2 tools, about 100 tokens (hidden: about 31)") || !strings.Contains(r.stdout, "Hidden but not in the last list: gone.") {
		t.Errorf("after --hide:\n%s", r.stdout)
	}
	if srv := configured(t, c, "studio"); strings.Join(srv.HiddenTools, ",") != "delete_page,gone" || srv.ReadOnly {
		t.Errorf("config after --hide: %+v", srv)
	}
	c.ok("", "tools", "studio", "--show", "delete_page", "--show", "gone", "--read-only", "on")
	var doc toolsJSON
	if err := json.Unmarshal([]byte(c.ok("", "tools", "studio", "--json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.ReadOnly || len(doc.Hidden) != 0 || len(doc.Tools) != 2 || !doc.Tools[0].Shown || doc.Tools[1].Shown || doc.Tools[0].Tokens != 100 {
		t.Errorf("--json after read-only on: %+v", doc)
	}
	c.ok("", "tools", "studio", "--read-only", "off")
	if srv := configured(t, c, "studio"); srv.ReadOnly || srv.HiddenTools != nil {
		t.Errorf("config after read-only off: %+v", srv)
	}

	for _, args := range [][]string{
		{"tools", "studio", "--read-only", "maybe"},
		{"tools", "studio", "--hide", "x", "--show", "x"},
		{"tools"},
	} {
		if r := c.run("", args...); r.code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)", args, r.code)
		}
	}
	if r := c.run("", "tools", "nope", "--hide", "x"); r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("unknown server: exit %d: %s", r.code, r.stderr)
	}
}

// configured reads a server's configuration as the CLI left it.
func configured(t *testing.T, c *cli, name string) config.Server {
	t.Helper()
	f, err := config.Load(filepath.Join(c.dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := f.Server(name)
	if !ok {
		t.Fatalf("%s is not configured", name)
	}
	return *s
}
