package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestCLIDPoP: --dpop is checked and kept in config.json, login and status say the token is
// DPoP-bound, doctor NAME explains the setting against what the server says, and the key
// stays in the secret store, out of every output, until logout deletes it.
func TestCLIDPoP(t *testing.T) {
	t.Parallel()
	_, m := servers(t, authserver.Options{AutoApprove: true, DPoP: true, DPoPNonce: true}, mcpserver.Options{DPoPOnly: true, DPoPNonce: true})
	c := newCLI(t)

	for _, bad := range [][]string{
		{"--dpop", "maybe"},
		{"--dpop", "on", "--auth", "none"},
	} {
		r := c.run("", append([]string{"servers", "add", "demo", m.URL()}, bad...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--dpop") {
			t.Errorf("servers add %q: exit %d, stderr %q; want a usage error about --dpop", bad, r.code, r.stderr)
		}
	}
	c.ok("", "servers", "add", "demo", m.URL(), "--dpop", "on")
	data, err := os.ReadFile(filepath.Join(c.dir, "config.json"))
	if err != nil || !strings.Contains(string(data), `"dpop": "on"`) {
		t.Fatalf("config.json: %s (%v)", data, err)
	}

	r := c.login("demo", follow(t))
	if r.code != 0 || !strings.Contains(r.stdout, "DPoP-bound") {
		t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	var st struct {
		Servers []struct {
			DPoP bool `json:"dpop"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &st); err != nil || len(st.Servers) != 1 || !st.Servers[0].DPoP {
		t.Errorf("status --json: %+v (%v)", st, err)
	}
	human := c.ok("", "status")
	if !strings.Contains(human.stdout, "(DPoP-bound)") {
		t.Errorf("status:\n%s", human.stdout)
	}

	doc := c.ok("", "doctor", "demo")
	for _, want := range []string{"DPoP", "its 401 has a DPoP challenge", "DPoP is turned on for this server (--dpop on)"} {
		if !strings.Contains(doc.stdout, want) {
			t.Errorf("doctor demo lacks %q:\n%s", want, doc.stdout)
		}
	}

	keys := c.secretValues()
	var key string
	for _, v := range keys {
		if strings.Contains(v, "PRIVATE KEY") {
			key = v
		}
	}
	if key == "" {
		t.Fatal("no DPoP key in the secret store")
	}
	body := strings.Join(strings.Split(strings.TrimSpace(key), "\n")[1:3], "")
	for _, out := range []string{r.stdout, r.stderr, human.stdout, doc.stdout, string(data)} {
		if strings.Contains(out, body) {
			t.Errorf("the DPoP key is in an output: %q", out)
		}
	}

	c.ok("", "logout", "demo")
	for _, v := range c.secretValues() {
		if strings.Contains(v, "PRIVATE KEY") {
			t.Error("the DPoP key outlived logout")
		}
	}
}
