package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// storeSecrets returns every secret the file store holds, in every form a report could carry
// it: each item whole; each line of it (a PEM's base64 lines); each string inside an item that
// is JSON (a token's access and refresh tokens, a registration's client secret, a JWK's
// parts), but the few members that status shows on purpose; and, for a PEM private key, its
// private numbers in the encodings leaks checks.
func storeSecrets(t *testing.T, c *cli) (values []string, keys [][]byte) {
	t.Helper()
	public := map[string]bool{"token_type": true, "expiry": true, "scope": true, "issuer": true, "client_id": true, "kind": true,
		"redirect_uri": true, "token_endpoint_auth_method": true, "registered_at": true, "resource": true,
		"grant_types": true, "response_types": true, "redirect_uris": true, "client_name": true}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !public[k] {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if len(v) >= 8 {
				values = append(values, v)
			}
		}
	}
	err := filepath.WalkDir(filepath.Join(c.dir, "secrets"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		values = append(values, string(b))
		for _, line := range strings.Split(string(b), "\n") {
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
				values = append(values, line)
			}
		}
		var doc any
		if json.Unmarshal(b, &doc) == nil {
			walk(doc)
		}
		if block, _ := pem.Decode(b); block != nil {
			keys = append(keys, privateNumbers(t, block)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return values, keys
}

// privateNumbers are the private numbers of a PEM private key (PKCS #8 EC or RSA, PKCS #1).
func privateNumbers(t *testing.T, block *pem.Block) [][]byte {
	t.Helper()
	var k any
	var err error
	if block.Type == "RSA PRIVATE KEY" {
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	} else {
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		t.Fatalf("a PEM in the secret store is no private key: %v", err)
	}
	switch k := k.(type) {
	case interface{ Bytes() ([]byte, error) }: // *ecdsa.PrivateKey
		raw, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return [][]byte{raw}
	default:
		t.Fatalf("unexpected key type %T", k)
	}
	return nil
}

// checkNoSecret fails t if out holds any of the values or key material.
func checkNoSecret(t *testing.T, what, out string, values []string, keys [][]byte) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(out, v) {
			t.Errorf("%s holds a secret of the store (%d characters)", what, len(v))
		}
	}
	if l := leaks(out, keys); len(l) > 0 {
		t.Errorf("%s holds key material: %v", what, l)
	}
}

// TestCLIReport signs in to the demo servers every way that leaves a secret in the store
// (a browser sign-in with a DPoP key, refresh token and registration; a client secret; a
// private_key_jwt key; a static token), then makes the report of every server, of one, and
// into a file, while a bridge of "secret" runs and a watcher keeps its timeline: none holds any secret of the store, in any form, and its structure is the
// golden's.
func TestCLIReport(t *testing.T) {
	t.Parallel()
	as, m := servers(t, authserver.Options{AutoApprove: true, DPoP: true, ClientCredentials: true, PrivateKeyJWT: true},
		mcpserver.Options{Scopes: []string{"mcp:read"}})
	const clientSecret = "cc-secret-4f9a0b7c2d1e"
	as.RegisterClient(authserver.Client{ID: "ci-secret", Secret: clientSecret, GrantTypes: []string{authserver.GrantClientCredentials}})
	keyPEM, public, _ := privateKey(t, "ES256")
	as.RegisterClient(authserver.Client{ID: "ci-key", PublicKey: public, GrantTypes: []string{authserver.GrantClientCredentials}})
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")

	c.ok("", "servers", "add", "browser", m.URL(), "--dpop", "on")
	if r := c.login("browser", follow(t)); r.code != 0 {
		t.Fatalf("login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok(clientSecret+"\n", "servers", "add", "secret", m.URL(), "--auth", "client-credentials", "--client-id", "ci-secret", "--client-secret-stdin")
	c.ok("", "login", "secret")
	c.ok(keyPEM, "servers", "add", "signed", m.URL(), "--auth", "client-credentials", "--client-id", "ci-key", "--private-key-stdin")
	c.ok("", "login", "signed")
	c.ok("static-token-0b1c2d3e4f\n", "servers", "add", "static", m.URL(), "--auth", "bearer", "--token-stdin")

	values, keys := storeSecrets(t, c)
	if len(keys) < 2 || !slicesContain(values, clientSecret) || !slicesContain(values, "static-token-0b1c2d3e4f") {
		t.Fatalf("the store holds %d values and %d keys: the test does not see what it checks", len(values), len(keys))
	}

	stopBridge := bridgeWatched(t, c, "secret")
	all := c.ok("", "report")
	checkNoSecret(t, "report", all.stdout+all.stderr, values, keys)
	for _, want := range []string{"#### browser", "#### secret", "#### signed", "#### static", "(DPoP-bound)",
		"an ES256 key for private_key_jwt, which the authorization server accepts", "### Traffic (last 30 events per server)"} {
		if !strings.Contains(all.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, all.stdout)
		}
	}
	masked := maskReport(all.stdout, as.Issuer(), m.URL())
	if !strings.Contains(masked, "CLOCK PID to-client response tools/list 1 ") {
		t.Errorf("the report lacks the bridge's answer to tools/list:\n%s", masked)
	}
	golden(t, "report.golden", masked)

	one := c.ok("", "report", "signed")
	checkNoSecret(t, "report signed", one.stdout+one.stderr, values, keys)
	if strings.Contains(one.stdout, "#### browser") || !strings.Contains(one.stdout, "#### signed") {
		t.Errorf("report signed:\n%s", one.stdout)
	}

	out := filepath.Join(t.TempDir(), "report.md")
	if r := c.ok("", "report", "--output", out); r.stdout != "" {
		t.Errorf("report --output printed %q", r.stdout)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("report file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(out)
	checkNoSecret(t, "report file", string(data), values, keys)
	if !strings.Contains(string(data), "#### static") {
		t.Errorf("report file:\n%s", data)
	}
	if r := c.run("", "report", "nope"); r.code != exitError || !strings.Contains(r.stderr, `no server named "nope"`) {
		t.Errorf("report nope: exit %d: %s", r.code, r.stderr)
	}
	stopBridge()
}

// bridgeWatched runs, in process, a bridge of server and a watcher of the traffic, and has the
// bridge relay an initialize and a tools/list once its timeline is being written, so that its
// events file holds exactly those four messages. The returned func ends both.
func bridgeWatched(t *testing.T, c *cli, server string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	dir := traffic.Dir(c.runtime)
	if err := traffic.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	in, stdin := io.Pipe()
	var out, errb testenv.SyncBuffer
	bridged := make(chan int, 1)
	go func() {
		bridged <- run(ctx, []string{"bridge", "--server", server}, in, &out, &errb, c.osEnv(""))
	}()
	// The bridge creates its events file on its first look at the watcher, before any message.
	events := filepath.Join(dir, fmt.Sprintf("%s.%d.jsonl", server, os.Getpid()))
	waitUntil(t, "the events file", func() bool { _, err := os.Stat(events); return err == nil })
	io.WriteString(stdin, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"report-test","version":"1"}}}`+"\n")
	waitUntil(t, "the answer to initialize", func() bool { return strings.Contains(out.String(), `"id":0`) })
	io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`+"\n")
	waitUntil(t, "tools/list in the timeline", func() bool {
		data, _ := os.ReadFile(events)
		return strings.Contains(string(data), `"dir":"to-client","type":"response","method":"tools/list"`)
	})
	return func() {
		stdin.Close()
		if code := <-bridged; code != 0 {
			t.Errorf("bridge exit %d: %s", code, errb.String())
		}
		cancel()
	}
}

// TestCLIReportKeychain is the report with a token and a client secret in the real keychain
// (run it under scripts/with-desktop.sh): the report reads none of them, and holds none.
func TestCLIReportKeychain(t *testing.T) {
	testenv.RequireKeychain(t)
	as, m := servers(t, authserver.Options{ClientCredentials: true}, mcpserver.Options{})
	const clientSecret = "kc-secret-8e7d6c5b4a39"
	const static = "kc-static-1a2b3c4d5e6f"
	as.RegisterClient(authserver.Client{ID: "kc-bot", Secret: clientSecret, GrantTypes: []string{authserver.GrantClientCredentials}})
	c := newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=keychain", "MCP_BROKER_RUNTIME_DIR="+t.TempDir())
	t.Cleanup(func() {
		c.run("", "servers", "remove", "kc-report-cc")
		c.run("", "servers", "remove", "kc-report-static")
	})
	c.ok(clientSecret+"\n", "servers", "add", "kc-report-cc", m.URL(), "--auth", "client-credentials", "--client-id", "kc-bot", "--client-secret-stdin")
	c.ok("", "login", "kc-report-cc")
	c.ok(static+"\n", "servers", "add", "kc-report-static", m.URL(), "--auth", "bearer", "--token-stdin")
	r := c.ok("", "report")
	if !strings.Contains(r.stdout, "#### kc-report-cc") || !strings.Contains(r.stdout, "#### kc-report-static") {
		t.Errorf("report:\n%s", r.stdout)
	}
	// The token the sign-in kept in the keychain, and every string in it.
	kc := secrets.NewKeychain(5 * time.Second)
	item, err := kc.Get(t.Context(), "oauth-token/kc-report-cc")
	if err != nil {
		t.Fatalf("the token is not in the keychain: %v", err)
	}
	var tok map[string]any
	if err := json.Unmarshal([]byte(item), &tok); err != nil || tok["access_token"] == nil {
		t.Fatalf("the keychain's token item is not a token (%v)", err)
	}
	if at, _ := tok["access_token"].(string); strings.Contains(r.stdout+r.stderr, at) || strings.Contains(r.stdout, item) {
		t.Error("the report holds the access token from the keychain")
	}
	for _, s := range []string{clientSecret, static} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("the report holds a keychain secret (%d characters)", len(s))
		}
	}
}

func slicesContain(values []string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// maskReport replaces what changes from run to run (ports, times, versions, the platform,
// random client ids, folders, the live bridge's process, clock times, uptime and times to
// answer) and collapses the tables' padding, which follows their lengths.
func maskReport(s, issuer, mcpURL string) string {
	s = strings.ReplaceAll(s, mcpURL, "MCP_URL")
	s = strings.ReplaceAll(s, issuer, "ISSUER")
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
		{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`), "TIME"},
		{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in [0-9hms.]+\)`), "EXPIRY"},
		{regexp.MustCompile(`(?m)^- (Go|OS/arch|Desktop session): .*$`), "- $1: MASKED"},
		{regexp.MustCompile(`(?m)^- mcp-broker: .*$`), "- mcp-broker: MASKED"},
		{regexp.MustCompile(`dyn-[A-Za-z0-9_-]+|\[REDACTED\] \(dynamic`), "CLIENT_ID (dynamic"},
		{regexp.MustCompile(`\b\d+\.\dms\b`), "ELAPSED"},
		{regexp.MustCompile(`\b\d\d:\d\d:\d\d(\.\d{3})?\b`), "CLOCK"},
		{regexp.MustCompile(`\b` + strconv.Itoa(os.Getpid()) + `\b`), "PID"},
		{regexp.MustCompile(` {2,}`), " "},
		{regexp.MustCompile(`(?m)^(\S+ PID .* connected) \d+s CLOCK \d+/\d+`), "$1 UP CLOCK N/N"},
	} {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden (run with -update to rewrite it):\n%s", name, got)
	}
}
