package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// tlsServers starts the in-repo authorization server and MCP server on 127.0.0.1 over TLS,
// with certificates of ca for asHost and mcpHost, and returns them with their base URLs under
// those names. With names no resolver knows (auth.test), only a proxy that reaches them at
// 127.0.0.1 (httpclienttest.Proxy) does; the servers take their URLs from each request.
func tlsServers(t *testing.T, ca *httpclienttest.CA, asHost, mcpHost string) (as *authserver.Server, m *mcpserver.Server, asURL, mcpURL string) {
	t.Helper()
	start := func(h http.Handler, host string) string {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
		srv.TLS = ca.ServerConfig(t, host)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		return "https://" + net.JoinHostPort(host, port)
	}
	as = authserver.New(authserver.Options{AutoApprove: true})
	asURL = start(as.Handler(), asHost)
	m = mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{asURL}, BehindProxy: true})
	mcpURL = start(m.Handler(), mcpHost)
	return as, m, asURL, mcpURL
}

// browse plays a browser that approves at once and trusts ca: it follows the sign-in URL's
// redirects back to the loopback callback, reaching every host at 127.0.0.1 (the browser is not
// under test: it goes around the proxy).
func browse(t *testing.T, ca *httpclienttest.CA) func(string) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
	}
	c := &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return func(u string) {
		resp, err := c.Get(u)
		if err != nil {
			t.Errorf("following the sign-in URL: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// TestCorporateProxy: behind a proxy that asks for credentials, with servers whose
// certificates come from a private CA (as a proxy that inspects TLS signs them), the whole
// journey works with HTTPS_PROXY and the configuration's ca_file, each command a process of the
// real binary (the CA is in the configuration, not the environment, so that a client built
// without the configuration's settings fails): doctor, sign-in (discovery, registration, token), a tool call through the bridge
// on both transports, status and sign-out (revocation). Everything to the servers goes through
// the proxy; the loopback callback never does; the proxy's password shows nowhere, not even in
// debug logs; and a wrong one fails saying what the proxy said.
func TestCorporateProxy(t *testing.T) {
	ca := httpclienttest.NewCA(t, "Corp Inspection CA")
	as, _, asURL, mcpURL := tlsServers(t, ca, "auth.test", "mcp.test")
	const user, password = "corp-user", "PROXY-PW-5a9c71"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	proxy := httpclienttest.StartProxy(t, user, password)
	caFile := ca.WriteFile(t, t.TempDir(), "corp-ca.pem")
	c := newBinaryCLI(t, append(bridgeVars(t), "HTTPS_PROXY="+proxy.URLWithCredentials(user, password), "https_proxy=", "NO_PROXY=", "no_proxy=",
		"HTTP_PROXY=", "http_proxy=", "MCP_BROKER_CA_FILE=", "MCP_BROKER_LOG=debug")...)
	c.ok("", "config", "set", "ca_file", caFile)

	var outputs []string
	keep := func(r result) result {
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}

	r := keep(c.run("", "doctor", mcpURL+"/mcp"))
	if r.code != 0 || !strings.Contains(r.stdout, "network: through the proxy "+proxy.URL+" (HTTPS_PROXY)") ||
		!strings.Contains(r.stdout, "network: CA file "+caFile+" (config.json)") {
		t.Errorf("doctor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	keep(c.ok("", "servers", "add", "corp", mcpURL+"/mcp"))
	keep(c.ok("", "servers", "add", "corp-sse", mcpURL+"/sse", "--transport", "sse"))
	for _, name := range []string{"corp", "corp-sse"} {
		if r := keep(c.login(name, browse(t, ca))); r.code != 0 {
			t.Fatalf("login %s: exit %d\n%s", name, r.code, r.stderr)
		}
	}
	for name, u := range map[string]string{"corp": mcpURL + "/mcp", "corp-sse": mcpURL + "/sse"} {
		p := c.startBridge("--server", name)
		p.send(e2eInitialize)
		p.recvID(0)
		p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
		if who := p.recvID(1); !strings.Contains(fmt.Sprint(who["result"]), "resource="+u) {
			t.Errorf("%s: whoami = %v\n%s", name, who, p.stderr.String())
		}
		p.stdin.Close()
		if code, _ := p.waitExit(p.start); code != 0 {
			t.Errorf("%s: the bridge exited %d\n%s", name, code, p.stderr.String())
		}
		outputs = append(outputs, p.stderr.String())
	}

	r = keep(c.ok("", "status"))
	if !strings.Contains(r.stdout, "proxy: "+proxy.URL+" (HTTPS_PROXY)") {
		t.Errorf("status does not show the proxy:\n%s", r.stdout)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(keep(c.ok("", "status", "--json")).stdout), &st); err != nil || st.Network.Proxy != proxy.URL || st.Network.CAFile != caFile {
		t.Errorf("status --json network = %+v (%v)", st.Network, err)
	}
	keep(c.ok("", "logout", "corp"))
	if as.Stats().Revocations == 0 {
		t.Error("the sign-out revoked nothing: the revocation did not reach the server")
	}

	// Every request to the servers went through the proxy, and nothing else did.
	tunnels := proxy.Tunnels()
	want := []string{strings.TrimPrefix(asURL, "https://"), strings.TrimPrefix(mcpURL, "https://")}
	for _, w := range want {
		if !slices.Contains(tunnels, w) {
			t.Errorf("no tunnel to %s: %v", w, tunnels)
		}
	}
	for _, tun := range tunnels {
		if !slices.Contains(want, tun) {
			t.Errorf("a tunnel to %s (the loopback callback must never go through the proxy)", tun)
		}
	}
	if proxy.Refused() != 0 {
		t.Errorf("the proxy refused %d CONNECTs", proxy.Refused())
	}

	// A wrong password: doctor says what the proxy said, and shows neither password.
	wrong := *c
	wrong.vars = append(slices.Clone(c.vars), "HTTPS_PROXY="+proxy.URLWithCredentials(user, "WRONG-PW-0d3e"))
	r = keep(wrong.run("", "doctor", mcpURL+"/mcp"))
	if r.code != 3 || !strings.Contains(r.stdout, "Proxy Authentication Required") || strings.Contains(r.stdout+r.stderr, "WRONG-PW-0d3e") {
		t.Errorf("doctor with a wrong proxy password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, out := range outputs {
		if strings.Contains(out, password) || strings.Contains(out, basic) {
			t.Fatalf("the proxy's password is in an output:\n%s", out)
		}
	}
}

// TestPrivateCA: a server whose certificate comes from an authority this computer does not
// trust fails doctor and sign-in with the explanation (probably a proxy that inspects TLS) and
// the next step, and works once the CA file is set: in the configuration, in
// MCP_BROKER_CA_FILE, or (Linux) as the system's authorities through SSL_CERT_FILE.
func TestPrivateCA(t *testing.T) {
	t.Parallel()
	ca := httpclienttest.NewCA(t, "Corp Inspection CA")
	_, _, _, base := tlsServers(t, ca, "127.0.0.1", "127.0.0.1")
	mcpURL := base + "/mcp"
	dir := t.TempDir()
	caFile := ca.WriteFile(t, dir, "corp-ca.pem")
	c := newCLI(t)

	r := c.run("", "doctor", mcpURL)
	if r.code != 3 || !strings.Contains(r.stdout, `✘ TLS`) || !strings.Contains(r.stdout, `"Corp Inspection CA"`) ||
		!strings.Contains(r.stdout, "inspects TLS") || !strings.Contains(r.stdout, "`mcp-broker config set ca_file /path/to/ca.pem`") {
		t.Errorf("doctor without the CA: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok("", "servers", "add", "corp", mcpURL)
	r = c.login("corp", follow(t))
	if r.code != 1 || !strings.Contains(r.stderr, "certificate signed by unknown authority") || !strings.Contains(r.stderr, "mcp-broker config set ca_file") {
		t.Errorf("login without the CA: exit %d\n%s", r.code, r.stderr)
	}

	c.ok("", "config", "set", "ca_file", caFile)
	if got := strings.TrimSpace(c.ok("", "config", "get", "ca_file").stdout); got != caFile {
		t.Errorf("config get ca_file = %q", got)
	}
	for _, target := range []string{mcpURL, "corp"} { // a URL, and the configured server's name
		if r := c.run("", "doctor", target); r.code != 0 || !strings.Contains(r.stdout, "network: CA file "+caFile+" (config.json)") {
			t.Errorf("doctor %s with ca_file: exit %d\n%s%s", target, r.code, r.stdout, r.stderr)
		}
	}
	if r := c.login("corp", browse(t, ca)); r.code != 0 {
		t.Errorf("login with ca_file: exit %d\n%s", r.code, r.stderr)
	}
	c.ok("", "config", "unset", "ca_file")
	if r := c.run("", "doctor", mcpURL); r.code != 3 {
		t.Errorf("doctor after unset: exit %d", r.code)
	}

	env := *c
	env.vars = append(slices.Clone(c.vars), "MCP_BROKER_CA_FILE="+caFile)
	if r := env.run("", "doctor", mcpURL); r.code != 0 || !strings.Contains(r.stdout, "(MCP_BROKER_CA_FILE)") {
		t.Errorf("doctor with MCP_BROKER_CA_FILE: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := env.run("", "status"); !strings.Contains(r.stdout, "CA file: "+caFile+" (MCP_BROKER_CA_FILE)") {
		t.Errorf("status with MCP_BROKER_CA_FILE:\n%s", r.stdout)
	}

	// Go reads SSL_CERT_FILE once per process: the real binary, which gets it at start.
	bin := *c
	bin.bin = needBinary(t)
	bin.vars = append(slices.Clone(c.vars), "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR=", "MCP_BROKER_CA_FILE=")
	if r := bin.run("", "doctor", mcpURL); r.code != 0 {
		t.Errorf("doctor with SSL_CERT_FILE: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestConfigCommand: `config` sets, shows and unsets the proxy and the CA file, refusing what
// would not work (and a password, without showing it).
func TestConfigCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if got := c.ok("", "config", "get").stdout; got != "proxy: (not set)\nca_file: (not set)\n" {
		t.Errorf("config get = %q", got)
	}
	c.ok("", "config", "set", "proxy", "proxy.example.com:3128")
	if got := c.ok("", "config", "get", "proxy").stdout; got != "http://proxy.example.com:3128\n" {
		t.Errorf("config get proxy = %q", got)
	}
	if r := c.ok("", "status"); !strings.Contains(r.stdout, "proxy: http://proxy.example.com:3128 (config.json)") {
		t.Errorf("status:\n%s", r.stdout)
	}
	c.ok("", "config", "set", "proxy", "direct")
	if r := c.ok("", "status"); !strings.Contains(r.stdout, "proxy: none (config.json says direct)") {
		t.Errorf("status:\n%s", r.stdout)
	}
	for _, bad := range [][]string{
		{"set", "proxy", "http://me:PROXY-PW-1@proxy:3128"},
		{"set", "proxy", "none"},
		{"set", "proxy", "ftp://proxy:21"},
		{"set", "ca_file", "/nonexistent/ca.pem"},
		{"set", "colour", "blue"},
		{"set", "proxy", ""},
	} {
		r := c.run("", append([]string{"config"}, bad...)...)
		if r.code == 0 || strings.Contains(r.stderr, "PROXY-PW-1") {
			t.Errorf("config %s: exit %d\n%s", strings.Join(bad, " "), r.code, r.stderr)
		}
	}
	if got := c.ok("", "config", "get", "proxy").stdout; got != "direct\n" {
		t.Errorf("a refused setting changed the proxy: %q", got)
	}
	c.ok("", "config", "unset", "proxy")
	if got := c.ok("", "config", "get").stdout; got != "proxy: (not set)\nca_file: (not set)\n" {
		t.Errorf("config get after unset = %q", got)
	}
}
