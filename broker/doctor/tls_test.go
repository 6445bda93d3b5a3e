package doctor

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
)

// TestUntrustedAuthority: a server whose certificate comes from an authority this computer
// does not trust (as a proxy that inspects TLS signs) gets a TLS finding that says so, names
// the authority, and carries the TrustCA hint; with the authority's CA file, there is none.
func TestUntrustedAuthority(t *testing.T) {
	ca := httpclienttest.NewCA(t, "Corp Inspection CA")
	// An open server: it answers initialize without a token.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.TLS = ca.ServerConfig(t, "127.0.0.1")
	srv.StartTLS()
	defer srv.Close()

	r := Run(t.Context(), &discovery.Fetcher{}, srv.URL+"/mcp")
	f, ok := findings(r)[itemTLS]
	if !ok || f.Severity != Fail || f.Hint != hint.TrustCA || !r.Blocking() {
		t.Fatalf("findings = %+v, want a blocking TLS finding with the TrustCA hint", r.Findings)
	}
	for _, want := range []string{`"Corp Inspection CA"`, "127.0.0.1", "inspects TLS"} {
		if !strings.Contains(f.Detail, want) {
			t.Errorf("the TLS finding %q does not say %s", f.Detail, want)
		}
	}

	n, err := httpclient.NewNetwork(httpclient.Settings{CAFile: ca.WriteFile(t, t.TempDir(), "ca.pem"), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	r = Run(t.Context(), &discovery.Fetcher{HTTP: httpclient.New(httpclient.WithNetwork(n))}, srv.URL+"/mcp")
	if _, ok := findings(r)[itemTLS]; ok || r.Blocking() {
		t.Errorf("with the CA file: %+v", r.Findings)
	}
	r.Network = NetworkLines(n, srv.URL+"/mcp")
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "network: direct (a loopback host never goes through a proxy)\nnetwork: CA file ") {
		t.Errorf("the report does not say how the server is reached:\n%s", b.String())
	}
}
