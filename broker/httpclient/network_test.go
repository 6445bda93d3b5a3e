package httpclient_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mattn/go-ieproxy"
	"golang.org/x/net/http/httpproxy"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
)

// env is a Getenv over a map.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// systemConf is the operating system's settings of a fixed proxy for every scheme.
func systemConf(proxy, bypass string) ieproxy.ProxyConf {
	return ieproxy.ProxyConf{Static: ieproxy.StaticProxyConf{Active: true, Protocols: map[string]string{"": proxy}, NoProxy: bypass}}
}

// TestRoute: which proxy each setting picks, in the order the package comment gives, and that
// nothing sends a loopback host through a proxy.
func TestRoute(t *testing.T) {
	const (
		https = "https://mcp.example.com/mcp"
		http_ = "http://mcp.example.com/mcp"
	)
	sys := systemConf("system.example:8080", "*.intranet.example")
	tests := []struct {
		name     string
		settings httpclient.Settings
		url      string
		want     httpclient.Route
	}{
		{"nothing set", httpclient.Settings{}, https, httpclient.Route{}},
		{"HTTPS_PROXY", httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://proxy.example:3128")}, https,
			httpclient.Route{Proxy: "http://proxy.example:3128", From: "HTTPS_PROXY"}},
		{"https_proxy, host:port", httpclient.Settings{Getenv: env("https_proxy", "proxy.example:3128")}, https,
			httpclient.Route{Proxy: "http://proxy.example:3128", From: "https_proxy"}},
		{"upper case first", httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://upper:1", "https_proxy", "http://lower:1")}, https,
			httpclient.Route{Proxy: "http://upper:1", From: "HTTPS_PROXY"}},
		{"HTTP_PROXY is not for https", httpclient.Settings{Getenv: env("HTTP_PROXY", "http://proxy.example:3128")}, https,
			httpclient.Route{}},
		{"HTTP_PROXY for http", httpclient.Settings{Getenv: env("HTTP_PROXY", "http://proxy.example:3128")}, http_,
			httpclient.Route{Proxy: "http://proxy.example:3128", From: "HTTP_PROXY"}},
		{"NO_PROXY names the domain", httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://p:1", "NO_PROXY", "other.example,example.com")}, https,
			httpclient.Route{From: "NO_PROXY"}},
		{"no_proxy", httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://p:1", "no_proxy", ".example.com")}, https,
			httpclient.Route{From: "no_proxy"}},
		{"NO_PROXY names another", httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://p:1", "NO_PROXY", "example.org")}, https,
			httpclient.Route{Proxy: "http://p:1", From: "HTTPS_PROXY"}},
		{"the password is not shown", httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://user:PROXY-PW@p:1")}, https,
			httpclient.Route{Proxy: "http://p:1", From: "HTTPS_PROXY"}},
		{"config over the environment", httpclient.Settings{Proxy: "http://config.example:3128", Getenv: env("HTTPS_PROXY", "http://env:1")}, https,
			httpclient.Route{Proxy: "http://config.example:3128", From: "config.json"}},
		{"config for http too", httpclient.Settings{Proxy: "socks5://config.example:1080"}, http_,
			httpclient.Route{Proxy: "socks5://config.example:1080", From: "config.json"}},
		{"NO_PROXY applies to the config's", httpclient.Settings{Proxy: "http://c:1", Getenv: env("NO_PROXY", "mcp.example.com")}, https,
			httpclient.Route{From: "NO_PROXY"}},
		{"direct over the environment", httpclient.Settings{Proxy: "direct", Getenv: env("HTTPS_PROXY", "http://env:1")}, https,
			httpclient.Route{From: "config.json"}},
		{"system when nothing else", httpclient.WithSystem(httpclient.Settings{}, sys), https,
			httpclient.Route{Proxy: "http://system.example:8080", From: "system settings"}},
		{"the system's bypass list", httpclient.WithSystem(httpclient.Settings{}, sys), "https://wiki.intranet.example/mcp",
			httpclient.Route{}},
		{"the environment over the system", httpclient.WithSystem(httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://env:1")}, sys), https,
			httpclient.Route{Proxy: "http://env:1", From: "HTTPS_PROXY"}},
		{"HTTP_PROXY alone keeps the system out", httpclient.WithSystem(httpclient.Settings{Getenv: env("HTTP_PROXY", "http://env:1")}, sys), https,
			httpclient.Route{}},
		{"direct over the system", httpclient.WithSystem(httpclient.Settings{Proxy: "direct"}, sys), https,
			httpclient.Route{From: "config.json"}},
		{"the system's scheme proxies", httpclient.WithSystem(httpclient.Settings{}, ieproxy.ProxyConf{Static: ieproxy.StaticProxyConf{
			Active: true, Protocols: map[string]string{"http": "plain:80", "https": "secure:443"}}}), https,
			httpclient.Route{Proxy: "http://secure:443", From: "system settings"}},
		{"system settings that are off", httpclient.WithSystem(httpclient.Settings{}, ieproxy.ProxyConf{Static: ieproxy.StaticProxyConf{
			Active: false, Protocols: map[string]string{"": "off:1"}}}), https,
			httpclient.Route{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.settings.Getenv == nil {
				tt.settings.Getenv = env()
			}
			n, err := httpclient.NewNetwork(tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Route(tt.url); got != tt.want {
				t.Errorf("Route(%s) = %+v, want %+v", tt.url, got, tt.want)
			}
		})
	}
}

// TestLoopbackIsNeverProxied: whatever names a proxy (the configuration, the environment with
// an empty NO_PROXY, the system's settings), a loopback host goes direct.
func TestLoopbackIsNeverProxied(t *testing.T) {
	loopback := []string{"http://127.0.0.1:8080/callback", "https://127.0.0.1/mcp", "http://127.9.9.9:1/", "http://localhost:3000/mcp",
		"http://LOCALHOST/mcp", "http://localhost./mcp", "http://[::1]:8080/mcp"}
	for name, s := range map[string]httpclient.Settings{
		"config":      {Proxy: "http://c:1", Getenv: env()},
		"environment": {Getenv: env("HTTPS_PROXY", "http://e:1", "HTTP_PROXY", "http://e:1")},
		"system":      httpclient.WithSystem(httpclient.Settings{Getenv: env()}, systemConf("s:1", "")),
	} {
		n, err := httpclient.NewNetwork(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range loopback {
			if got := n.Route(u); got != (httpclient.Route{From: httpclient.FromLoopback}) {
				t.Errorf("%s: Route(%s) = %+v, want direct", name, u, got)
			}
		}
		if got := n.Route("https://mcp.example.com/"); got.Proxy == "" {
			t.Errorf("%s: a remote host goes direct: %+v", name, got)
		}
	}
}

// TestHTTPProxyExcludesLoopback: golang.org/x/net/http/httpproxy, which reads NO_PROXY here,
// never proxies localhost or a loopback address by itself (its useProxy says so); the
// package's own check does not lean on it alone, but the system's fixed proxy does.
func TestHTTPProxyExcludesLoopback(t *testing.T) {
	f := (&httpproxy.Config{HTTPProxy: "http://p:1", HTTPSProxy: "http://p:1"}).ProxyFunc()
	for _, raw := range []string{"http://localhost:1/", "https://127.0.0.1/", "http://127.1.2.3:9/", "http://[::1]:1/"} {
		u, _ := url.Parse(raw)
		if p, err := f(u); p != nil || err != nil {
			t.Errorf("httpproxy proxies %s: %v, %v", raw, p, err)
		}
	}
	u, _ := url.Parse("https://mcp.example.com/")
	if p, _ := f(u); p == nil {
		t.Error("httpproxy does not proxy a remote host")
	}
}

func TestParseProxy(t *testing.T) {
	good := map[string]string{
		"http://proxy.example.com:3128":         "http://proxy.example.com:3128",
		"proxy.example.com:3128":                "http://proxy.example.com:3128",
		"https://proxy.example.com":             "https://proxy.example.com",
		"socks5h://127.0.0.1:1080":              "socks5h://127.0.0.1:1080",
		"http://proxy.example.com:3128/":        "http://proxy.example.com:3128",
		"  http://[2001:db8::1]:3128  ":         "http://[2001:db8::1]:3128",
		"http://user:p%40ss@proxy.example:3128": "http://user:p%40ss@proxy.example:3128",
	}
	for in, want := range good {
		u, err := httpclient.ParseProxy(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"ftp://proxy:21", "http://", "http://user:PROXY-PW@proxy:99999", "http://user:PROXY-PW@proxy:3128/path",
		"http://user:PROXY-PW@proxy:3128?q=1", "http://user:PROXY-PW@%zz:1", "://user:PROXY-PW@x"} {
		_, err := httpclient.ParseProxy(in)
		if err == nil {
			t.Errorf("ParseProxy(%q) accepted it", in)
			continue
		}
		if strings.Contains(err.Error(), "PROXY-PW") {
			t.Errorf("ParseProxy(%q): the error shows the password: %v", in, err)
		}
	}
}

// TestNewNetworkErrors: a proxy variable that is not a URL, or a CA file that cannot be used,
// is an error naming the setting, never the password.
func TestNewNetworkErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    httpclient.Settings
		want string
	}{
		{"HTTPS_PROXY", httpclient.Settings{Getenv: env("HTTPS_PROXY", "ftp://user:PROXY-PW@p:1")}, "HTTPS_PROXY"},
		{"http_proxy", httpclient.Settings{Getenv: env("http_proxy", "http://user:PROXY-PW@p:1/x")}, "http_proxy"},
		{"config", httpclient.Settings{Proxy: "gopher://user:PROXY-PW@p:1", Getenv: env()}, "config.json"},
		{"missing CA file", httpclient.Settings{CAFile: filepath.Join(dir, "nothing.pem"), Getenv: env()}, "config.json"},
		{"no certificate", httpclient.Settings{Getenv: env(httpclient.EnvCAFile, notPEM)}, "MCP_BROKER_CA_FILE (" + notPEM + "): the CA file holds no PEM certificate"},
	}
	for _, tt := range tests {
		_, err := httpclient.NewNetwork(tt.s)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "PROXY-PW") {
			t.Errorf("%s: NewNetwork: %v; want an error naming %q and no password", tt.name, err, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	n, err := httpclient.NewNetwork(httpclient.Settings{Getenv: env("HTTPS_PROXY", "http://user:PROXY-PW@p:1", "HTTP_PROXY", "http://q:2",
		"NO_PROXY", ".corp.example")})
	if err != nil {
		t.Fatal(err)
	}
	want := httpclient.Summary{Proxy: "http://p:1", ProxyFrom: "HTTPS_PROXY", HTTPProxy: "http://q:2", HTTPProxyFrom: "HTTP_PROXY", NoProxy: ".corp.example"}
	if got := n.Summary(); got != want {
		t.Errorf("Summary = %+v, want %+v", got, want)
	}
	if lines := strings.Join(want.Lines(), "\n"); strings.Contains(lines, "PROXY-PW") || !strings.Contains(lines, "proxy: http://p:1 (HTTPS_PROXY)") {
		t.Errorf("Lines:\n%s", lines)
	}
	n, _ = httpclient.NewNetwork(httpclient.Settings{Proxy: "direct", Getenv: env("HTTPS_PROXY", "http://p:1")})
	if got := n.Summary(); got.Proxy != "direct" || got.ProxyFrom != "config.json" {
		t.Errorf("direct: Summary = %+v", got)
	}
	n, _ = httpclient.NewNetwork(httpclient.Settings{Getenv: env("HTTP_PROXY", "http://q:2")})
	if lines := strings.Join(n.Summary().Lines(), "\n"); !strings.Contains(lines, "none for https URLs") {
		t.Errorf("HTTP_PROXY alone: Lines:\n%s", lines)
	}
}

// tunnel reaches the host names the tests make up: every one is 127.0.0.1, on its port.
type tunnel struct {
	mu     sync.Mutex
	direct []string // the addresses dialled without the proxy
}

func (d *tunnel) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.direct = append(d.direct, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// TestThroughTheProxy: a client of a Network with HTTPS_PROXY (with credentials) reaches a TLS
// server of a private CA through a real CONNECT proxy, trusting the CA from the CA file; the
// host NO_PROXY names is reached directly; and a wrong password fails without showing itself.
func TestThroughTheProxy(t *testing.T) {
	ca := httpclienttest.NewCA(t, "Test Inspection CA")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			t.Error("the server received the proxy's credentials")
		}
		io.WriteString(w, "hello from "+r.Host)
	}))
	srv.TLS = ca.ServerConfig(t, "mcp.test", "direct.test")
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	caFile := ca.WriteFile(t, t.TempDir(), "ca.pem")
	const user, password = "proxy-user", "PROXY-PW-3e1f"
	proxy := httpclienttest.StartProxy(t, user, password)

	get := func(c *http.Client, host string) (string, error) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+host+":"+port+"/mcp", nil)
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	n, err := httpclient.NewNetwork(httpclient.Settings{Getenv: env("HTTPS_PROXY", proxy.URLWithCredentials(user, password),
		"NO_PROXY", "direct.test", httpclient.EnvCAFile, caFile)})
	if err != nil {
		t.Fatal(err)
	}
	var d tunnel
	c := httpclient.New(httpclient.WithNetwork(n), httpclient.WithDial(d.dial))
	if body, err := get(c, "mcp.test"); err != nil || body != "hello from mcp.test:"+port {
		t.Fatalf("through the proxy: %q, %v", body, err)
	}
	if body, err := get(c, "direct.test"); err != nil || body != "hello from direct.test:"+port {
		t.Fatalf("direct: %q, %v", body, err)
	}
	if tunnels := proxy.Tunnels(); !slices.Equal(tunnels, []string{"mcp.test:" + port}) {
		t.Errorf("the proxy tunnelled to %v, want mcp.test alone", tunnels)
	}
	if want := []string{proxy.Addr, "direct.test:" + port}; !slices.Equal(d.direct, want) {
		t.Errorf("dialled %v, want %v (the proxy, then the host NO_PROXY names)", d.direct, want)
	}

	// Without the CA file, the private CA is unknown.
	plain, err := httpclient.NewNetwork(httpclient.Settings{Getenv: env("HTTPS_PROXY", proxy.URLWithCredentials(user, password))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(httpclient.New(httpclient.WithNetwork(plain)), "mcp.test")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("without the CA file: %v, want an unknown authority", err)
	}

	// A wrong password: the proxy says 407, and neither password shows.
	wrong, err := httpclient.NewNetwork(httpclient.Settings{Getenv: env("HTTPS_PROXY", proxy.URLWithCredentials(user, "WRONG-PW-77"), httpclient.EnvCAFile, caFile)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(httpclient.New(httpclient.WithNetwork(wrong)), "mcp.test")
	if err == nil || !strings.Contains(err.Error(), "Proxy Authentication Required") {
		t.Errorf("a wrong password: %v", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":WRONG-PW-77"))
	if err != nil && (strings.Contains(err.Error(), "WRONG-PW-77") || strings.Contains(err.Error(), basic)) {
		t.Errorf("the error shows the password: %v", err)
	}
	if proxy.Refused() != 1 {
		t.Errorf("the proxy refused %d CONNECTs, want 1", proxy.Refused())
	}
}

// TestSystemRoots: the system's certificate authorities are trusted, with a CA file and
// without, and a CA file adds its own: on Linux the system's are those SSL_CERT_FILE or
// SSL_CERT_DIR name, as they are for every Go program. Go reads them once per process, so the
// clients run in a child process of this test binary (TestSystemRootsChild), one per variable,
// against two servers: one of a "system" CA, one of the CA file's.
func TestSystemRoots(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE and SSL_CERT_DIR are read on Linux (and other Unix systems but macOS)")
	}
	dir := t.TempDir()
	system, extra := httpclienttest.NewCA(t, "System CA"), httpclienttest.NewCA(t, "Extra CA")
	certDir := filepath.Join(dir, "certs")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	systemFile := system.WriteFile(t, dir, "system.pem")
	system.WriteFile(t, certDir, "system.pem")
	extraFile := extra.WriteFile(t, dir, "extra.pem")
	serve := func(ca *httpclienttest.CA) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		srv.TLS = ca.ServerConfig(t, "127.0.0.1")
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	systemURL, extraURL := serve(system), serve(extra)
	for _, v := range []string{"SSL_CERT_FILE=" + systemFile, "SSL_CERT_DIR=" + certDir} {
		t.Run(v[:strings.IndexByte(v, '=')], func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSystemRootsChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SSL_CERT_FILE=", "SSL_CERT_DIR=", v, "ROOTS_CHILD=1",
				"ROOTS_SYSTEM_URL="+systemURL, "ROOTS_EXTRA_URL="+extraURL, "ROOTS_EXTRA_FILE="+extraFile)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
				t.Errorf("the child with %s: %v\n%s", v, err, out)
			}
		})
	}
}

// TestSystemRootsChild is TestSystemRoots's child; alone, it does nothing.
func TestSystemRootsChild(t *testing.T) {
	if os.Getenv("ROOTS_CHILD") != "1" {
		t.Skip("run by TestSystemRoots")
	}
	get := func(n *httpclient.Network, u string) error {
		resp, err := httpclient.New(httpclient.WithNetwork(n)).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	systemURL, extraURL := os.Getenv("ROOTS_SYSTEM_URL"), os.Getenv("ROOTS_EXTRA_URL")
	plain, err := httpclient.NewNetwork(httpclient.Settings{Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	if err := get(plain, systemURL); err != nil {
		t.Errorf("no CA file, a server of the system's CA: %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if err := get(plain, extraURL); !errors.As(err, &unknown) {
		t.Errorf("no CA file, a server of another CA: %v, want an unknown authority", err)
	}
	withFile, err := httpclient.NewNetwork(httpclient.Settings{CAFile: os.Getenv("ROOTS_EXTRA_FILE"), Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	if err := get(withFile, systemURL); err != nil {
		t.Errorf("with the CA file, a server of the system's CA: %v (the file replaced the system's)", err)
	}
	if err := get(withFile, extraURL); err != nil {
		t.Errorf("with the CA file, a server of its CA: %v", err)
	}
}
