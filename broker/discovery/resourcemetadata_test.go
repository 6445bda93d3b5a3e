package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// countingStub is a stub that also counts the TCP connections it accepts, so a test can tell
// that no request at all, not even a TLS handshake, reached it.
type countingStub struct {
	*stub
	conns atomic.Int32
}

func newCountingStub(t *testing.T, useTLS bool) *countingStub {
	c := &countingStub{stub: &stub{t: t, routes: map[string]http.HandlerFunc{}}}
	c.Server = httptest.NewUnstartedServer(c.stub)
	c.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	if useTLS {
		c.StartTLS()
	} else {
		c.Start()
	}
	t.Cleanup(c.Close)
	return c
}

// port is the port the stub listens on.
func (c *countingStub) port() string {
	_, p, _ := net.SplitHostPort(c.Listener.Addr().String())
	return p
}

// fakeDNS returns a client that trusts the test servers' certificate and dials the addresses
// in hosts ("mcp.example.com:443") at the listeners they map to, and any other address as is.
func fakeDNS(t *testing.T, cert *x509.Certificate, hosts map[string]string) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := hosts[strings.ToLower(addr)]; ok { // DNS names are case-insensitive
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestResourceMetadataURLs runs discovery against a server whose 401 challenge names a
// resource_metadata URL, and checks with real listeners that the URL is fetched when it is on
// the server's own origin or https (and, for a server not on this machine, not on this machine),
// and that otherwise not even a connection reaches it: discovery records the refusal and uses
// the well-known URLs on the server's origin instead.
//
// The in-repo demo server (internal/demo/mcpserver) and the MCP conformance suite both serve
// their metadata from the MCP server's own origin, which stays allowed on loopback.
func TestResourceMetadataURLs(t *testing.T) {
	type world struct {
		rs        *countingStub // the MCP server
		plain     *countingStub // a listener on this machine, plain http
		tlsTarget *countingStub // a listener on this machine, https
	}
	tests := []struct {
		name     string
		loopback bool // the MCP server is http://127.0.0.1:port, else https://mcp.example.com
		rm       func(w world) string
		target   func(w world) *countingStub // nil: the MCP server itself, judged by its request log
		allowed  bool
	}{
		{name: "same origin", rm: func(world) string { return "https://mcp.example.com/custom/prm" }, allowed: true},
		{name: "same origin, spelled differently", rm: func(world) string { return "https://MCP.example.com:443/custom/prm" }, allowed: true},
		{name: "relative", rm: func(world) string { return "/custom/prm" }, allowed: true},
		{name: "https on another origin", rm: func(world) string { return "https://meta.example.com/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }, allowed: true},
		{name: "https on another domain", rm: func(world) string { return "https://other.example/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }, allowed: true},
		{name: "http://localhost from an https server", rm: func(w world) string { return "http://localhost:" + w.plain.port() + "/prm" },
			target: func(w world) *countingStub { return w.plain }},
		{name: "http://127.0.0.1 from an https server", rm: func(w world) string { return "http://127.0.0.1:" + w.plain.port() + "/prm" },
			target: func(w world) *countingStub { return w.plain }},
		{name: "https://127.0.0.1 from an https server", rm: func(w world) string { return "https://127.0.0.1:" + w.tlsTarget.port() + "/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "https://localhost from an https server", rm: func(w world) string { return "https://localhost:" + w.tlsTarget.port() + "/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "https://[::1] from an https server", rm: func(world) string { return "https://[::1]/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "https://*.localhost from an https server", rm: func(world) string { return "https://app.localhost/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "https://localhost. from an https server", rm: func(world) string { return "https://localhost./prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "https://0.0.0.0 from an https server", rm: func(world) string { return "https://0.0.0.0/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "https://[::ffff:127.0.0.1] from an https server", rm: func(world) string { return "https://[::ffff:127.0.0.1]/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }},
		{name: "http on the server's host", rm: func(world) string { return "http://mcp.example.com/prm" },
			target: func(w world) *countingStub { return w.plain }},

		{name: "loopback server, same origin (the demo and the conformance suite)", loopback: true,
			rm: func(w world) string { return w.rs.URL + "/custom/prm" }, allowed: true},
		{name: "loopback server, another port", loopback: true,
			rm:     func(w world) string { return "http://127.0.0.1:" + w.plain.port() + "/prm" },
			target: func(w world) *countingStub { return w.plain }},
		{name: "loopback server, same port by another name", loopback: true,
			rm: func(w world) string { return "http://localhost:" + w.rs.port() + "/custom/prm" }},
		{name: "loopback server, https elsewhere", loopback: true,
			rm:     func(world) string { return "https://meta.example.com/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }, allowed: true},
		{name: "loopback server, https on this machine", loopback: true,
			rm:     func(w world) string { return "https://127.0.0.1:" + w.tlsTarget.port() + "/prm" },
			target: func(w world) *countingStub { return w.tlsTarget }, allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world{rs: newCountingStub(t, !tt.loopback), plain: newCountingStub(t, false), tlsTarget: newCountingStub(t, true)}
			serverURL, origin := "https://mcp.example.com/mcp", "https://mcp.example.com"
			if tt.loopback {
				serverURL, origin = w.rs.URL+"/mcp", w.rs.URL
			}
			client := fakeDNS(t, w.tlsTarget.Certificate(), map[string]string{
				"mcp.example.com:443":    w.rs.Listener.Addr().String(),
				"mcp.example.com:80":     w.plain.Listener.Addr().String(),
				"meta.example.com:443":   w.tlsTarget.Listener.Addr().String(),
				"other.example:443":      w.tlsTarget.Listener.Addr().String(),
				"[::1]:443":              w.tlsTarget.Listener.Addr().String(),
				"app.localhost:443":      w.tlsTarget.Listener.Addr().String(),
				"localhost.:443":         w.tlsTarget.Listener.Addr().String(),
				"0.0.0.0:443":            w.tlsTarget.Listener.Addr().String(),
				"[::ffff:127.0.0.1]:443": w.tlsTarget.Listener.Addr().String(),
			})
			rm := tt.rm(w)
			prm := serveJSON(prmDoc(origin+"/mcp", origin))
			w.rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+rm+`"`))
			w.rs.on("/.well-known/oauth-protected-resource/mcp", prm)
			w.rs.on("/custom/prm", prm)
			w.rs.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(origin, origin)))
			w.tlsTarget.on("/prm", prm)
			w.plain.on("/prm", prm)

			res, err := (&Fetcher{HTTP: client}).Discover(t.Context(), serverURL)
			var reached bool
			if tt.target == nil {
				reached = slices.ContainsFunc(w.rs.requests(), func(r string) bool { return strings.HasSuffix(r, " /custom/prm") })
			} else {
				reached = tt.target(w).conns.Load() > 0
			}
			refusal := slices.IndexFunc(res.Trace, func(p Probe) bool {
				return p.Purpose == PurposeResourceMetadata && p.Note == "not requested"
			})
			if tt.allowed {
				if !reached {
					t.Fatalf("resource_metadata %s was not fetched (trace %+v, error %v)", rm, res.Trace, err)
				}
				if refusal >= 0 {
					t.Errorf("an allowed resource_metadata is recorded as refused: %+v", res.Trace[refusal])
				}
				return
			}
			if reached {
				t.Errorf("resource_metadata %s was requested: a hostile server made us connect there", rm)
			}
			if refusal < 0 || !strings.Contains(res.Trace[refusal].Err, "refusing resource_metadata") {
				t.Fatalf("the refusal of %s is not in the trace: %+v", rm, res.Trace)
			}
			// Discovery goes on with the well-known URL on the server's own origin.
			if err != nil || res.ResourceMetadataURL != origin+"/.well-known/oauth-protected-resource/mcp" {
				t.Errorf("Discover = %q, %v; want the well-known metadata", res.ResourceMetadataURL, err)
			}
		})
	}
}
