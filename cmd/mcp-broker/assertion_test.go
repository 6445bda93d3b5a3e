package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// startAS starts an authorization server on 127.0.0.1 for the test.
func startAS(t *testing.T, opts authserver.Options) *authserver.Server {
	t.Helper()
	s := authserver.New(opts)
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// callWhoami runs the bridge for the server as Claude Code would and returns the whoami text.
func callWhoami(c *cli, server string) (text, stderr string) {
	c.t.Helper()
	p := c.startBridge("--server", server)
	p.send(e2eInitialize)
	p.recvID(0)
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
	who := p.recvID(1)
	closed := time.Now()
	p.stdin.Close()
	if code, _ := p.waitExit(closed); code != 0 {
		c.t.Errorf("bridge exit %d; stderr: %s", code, p.stderr.String())
	}
	b, _ := json.Marshal(who["result"])
	return string(b), p.stderr.String()
}

// noSecretIn fails when secret shows in any of the outputs or in the config and state files.
func noSecretIn(c *cli, secret string, outputs ...string) {
	c.t.Helper()
	for _, f := range []string{"config.json", "state.json"} {
		data, _ := os.ReadFile(filepath.Join(c.dir, f))
		outputs = append(outputs, string(data))
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			c.t.Errorf("a secret shows in %.200q", out)
		}
	}
}

// TestWorkloadThroughTheBridge: `servers add --auth workload` with a JWT file, then a tool call
// through the bridge, on the real binary over real HTTP: the bridge gets the token with the
// JWT bearer grant by itself, no browser and no `login`.
func TestWorkloadThroughTheBridge(t *testing.T) {
	platform := startAS(t, authserver.Options{})
	as, m := servers(t, authserver.Options{JWTBearer: true}, mcpserver.Options{})
	as.Trust(platform.Issuer(), platform.PublicKey())
	as.RegisterClient(authserver.Client{ID: "wl", GrantTypes: []string{authserver.GrantJWTBearer}})
	jwt, err := platform.SignJWT(authserver.TypeJWT, map[string]any{
		"iss": platform.Issuer(), "sub": "ci-runner", "aud": as.Issuer(), "exp": time.Now().Add(10 * time.Minute).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	jwtFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(jwtFile, []byte(jwt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	c := bridgeCLI(t)
	add := c.ok("", "servers", "add", "ci", m.URL(), "--auth", "workload", "--client-id", "wl", "--assertion-file", jwtFile)
	if !strings.Contains(add.stdout, "gets its tokens by itself") {
		t.Errorf("servers add: %q", add.stdout)
	}
	who, stderr := callWhoami(c, "ci")
	if !strings.Contains(who, "client_id=wl subject=ci-runner") {
		t.Fatalf("whoami = %s\nstderr: %s", who, stderr)
	}
	if st := as.Stats(); st.JWTBearerGrants != 1 || st.Authorizations != 0 || st.Registrations != 0 {
		t.Errorf("AS stats = %+v", st)
	}
	s := c.status().Servers[0]
	if s.Auth != "workload" || !s.SignedIn || s.State != "signed in" || s.Client == nil || s.Client.ID != "wl" {
		t.Errorf("status = %+v", s)
	}
	noSecretIn(c, jwt, stderr, c.ok("", "status").stdout)
	for _, v := range c.secretValues() {
		if strings.Contains(v, jwt) {
			t.Error("the secret store holds the workload's JWT")
		}
	}
	if out := c.ok("", "doctor", "ci").stdout; !strings.Contains(out, "jwt-bearer (RFC 7523): advertised") || !strings.Contains(out, `configured: workload identity, client "wl"`) {
		t.Errorf("doctor ci:\n%s", out)
	}
}

// TestWorkloadCLIErrors: the workload flags' usage errors, and a JWT file that is not there,
// reported with the file and the next step.
func TestWorkloadCLIErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	const u = "https://mcp.example.com/mcp"
	for _, args := range [][]string{
		{"servers", "add", "x", u, "--assertion-file", "/t"},
		{"servers", "add", "x", u, "--auth", "workload", "--client-id", "wl"},
		{"servers", "add", "x", u, "--auth", "workload", "--client-id", "wl", "--assertion-file", "/t", "--assertion-command", "cat /t"},
		{"servers", "add", "x", u, "--idp", "corp"},
		{"servers", "add", "x", u, "--auth", "enterprise", "--client-id", "c"},
	} {
		if r := c.run("", args...); r.code != 2 {
			t.Errorf("mcp-broker %v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}
	if r := c.run("", "servers", "add", "x", u, "--auth", "enterprise", "--idp", "corp", "--client-id", "c"); r.code != 1 || !strings.Contains(r.stderr, `no identity provider named "corp"`) {
		t.Errorf("an enterprise server without its IdP: exit %d: %s", r.code, r.stderr)
	}

	_, m := servers(t, authserver.Options{JWTBearer: true}, mcpserver.Options{})
	dir := t.TempDir()
	c.ok("", "servers", "add", "ci", m.URL(), "--auth", "workload", "--client-id", "wl", "--assertion-file", "token")
	var list []map[string]any
	json.Unmarshal([]byte(c.ok("", "servers", "list", "--json").stdout), &list)
	wd, _ := os.Getwd()
	if got := list[0]["assertion_file"]; got != filepath.Join(wd, "token") {
		t.Errorf("a relative assertion file is kept as %v, want it absolute", got)
	}
	missing := filepath.Join(dir, "missing")
	c.ok("", "servers", "add", "ci", m.URL(), "--auth", "workload", "--client-id", "wl", "--assertion-file", missing)
	r := c.run("", "login", "ci")
	if r.code != 1 || !strings.Contains(r.stderr, missing+" does not exist") || !strings.Contains(r.stderr, "--auth workload --client-id ID --assertion-file PATH") {
		t.Errorf("login with a missing JWT file: exit %d: %s", r.code, r.stderr)
	}
}

// TestEnterpriseThroughTheBridge: `idp add`, `servers add --auth enterprise`, `idp login
// --id-token-stdin` (as on a machine that holds an ID token, and as the conformance driver
// configures it), then a tool call through the bridge: the token comes from the token
// exchange at the IdP and the JWT bearer grant at the server's authorization server.
func TestEnterpriseThroughTheBridge(t *testing.T) {
	idp := startAS(t, authserver.Options{OpenID: true, TokenExchange: true})
	idp.RegisterClient(authserver.Client{ID: "broker"})
	as, m := servers(t, authserver.Options{JWTBearer: true}, mcpserver.Options{})
	as.Trust(idp.Issuer(), idp.PublicKey())
	as.RegisterClient(authserver.Client{ID: "wiki-app", Secret: "wiki-secret", GrantTypes: []string{authserver.GrantJWTBearer}})
	idp.SetIDJAGClient(as.Issuer(), "wiki-app")

	c := bridgeCLI(t)
	c.ok("", "idp", "add", "corp", "--issuer", idp.Issuer(), "--client-id", "broker")
	add := c.ok("wiki-secret\n", "servers", "add", "wiki", m.URL(), "--auth", "enterprise", "--idp", "corp", "--client-id", "wiki-app", "--client-secret-stdin")
	if !strings.Contains(add.stdout, "mcp-broker idp login corp") {
		t.Errorf("servers add: %q", add.stdout)
	}
	if s := c.status().Servers[0]; s.SignedIn || s.State != "sign-in required" {
		t.Errorf("status before the sign-in = %+v", s)
	}
	idToken := idp.IssueIDToken("broker", "alice", time.Hour)
	login := c.ok(idToken+"\n", "idp", "login", "corp", "--id-token-stdin")
	if !strings.Contains(login.stdout, "Signed in to corp as alice@example.com") || !strings.Contains(login.stdout, "wiki: signed in") {
		t.Errorf("idp login: %s%s", login.stdout, login.stderr)
	}
	s := c.status().Servers[0]
	if !s.SignedIn || s.State != "signed in through the identity provider" {
		t.Errorf("status after the sign-in = %+v", s)
	}
	if out := c.ok("", "status").stdout; !strings.Contains(out, "signed in through the identity provider (corp)") {
		t.Errorf("status: %s", out)
	}
	var idps []struct {
		Name     string   `json:"name"`
		SignedIn bool     `json:"signed_in"`
		Servers  []string `json:"servers"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "idp", "list", "--json").stdout), &idps); err != nil || len(idps) != 1 || !idps[0].SignedIn || idps[0].Servers[0] != "wiki" {
		t.Errorf("idp list --json = %+v, %v", idps, err)
	}

	who, stderr := callWhoami(c, "wiki")
	if !strings.Contains(who, "client_id=wiki-app subject=alice") {
		t.Fatalf("whoami = %s\nstderr: %s", who, stderr)
	}
	if st := idp.Stats(); st.TokenExchanges != 1 {
		t.Errorf("IdP stats = %+v", st)
	}
	noSecretIn(c, idToken, stderr, login.stdout, login.stderr, c.ok("", "idp", "list").stdout)
	noSecretIn(c, "wiki-secret", stderr, c.ok("", "servers", "list", "--json").stdout)

	doc := c.ok("", "doctor", "wiki").stdout
	for _, want := range []string{"jwt-bearer (RFC 7523): advertised", "through the identity provider corp", "token-exchange (RFC 8693): advertised"} {
		if !strings.Contains(doc, want) {
			t.Errorf("doctor wiki lacks %q:\n%s", want, doc)
		}
	}

	if r := c.run("", "idp", "remove", "corp"); r.code != 1 || !strings.Contains(r.stderr, "wiki") {
		t.Errorf("idp remove of an IdP in use: exit %d: %s", r.code, r.stderr)
	}
	c.ok("", "idp", "logout", "corp")
	if s := c.status().Servers[0]; s.SignedIn {
		t.Errorf("status after the IdP sign-out = %+v", s)
	}
}
