package broker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// TestOpenNetwork: Open reaches servers as the configuration and the environment it is given
// say, and so does NetworkFrom; settings that cannot work fail Open, naming the setting and
// never a proxy's password.
func TestOpenNetwork(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, httpclienttest.NewCA(t, "Corp CA").PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{config.EnvConfigDir: dir, secrets.EnvStore: secrets.KindFile, "HTTPS_PROXY": "http://env-proxy.example:3128"}
	getenv := func(k string) string { return vars[k] }
	write := func(f *config.File) {
		t.Helper()
		if err := config.Save(path, f); err != nil {
			t.Fatal(err)
		}
	}

	write(&config.File{Proxy: "http://config-proxy.example:3128", CAFile: caFile})
	b, err := Open(t.Context(), OpenOptions{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	want := httpclient.Summary{Proxy: "http://config-proxy.example:3128", ProxyFrom: "config.json", CAFile: caFile, CAFileFrom: "config.json"}
	if got := b.Network().Summary(); got != want {
		t.Errorf("Open: Summary = %+v, want %+v", got, want)
	}
	if n, err := NetworkFrom("", getenv); err != nil || n.Summary() != want {
		t.Errorf("NetworkFrom = %+v, %v; want %+v", n, err, want)
	}

	write(&config.File{})
	b, err = Open(t.Context(), OpenOptions{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Network().Route("https://mcp.example.com/mcp"); got.Proxy != "http://env-proxy.example:3128" || got.From != "HTTPS_PROXY" {
		t.Errorf("the environment's proxy: Route = %+v", got)
	}

	// A password written into the file by hand, and a CA file that is not there.
	if err := os.WriteFile(path, []byte(`{"version":1,"proxy":"http://me:PROXY-PW-9@p:3128","servers":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), OpenOptions{Getenv: getenv}); err == nil || strings.Contains(err.Error(), "PROXY-PW-9") || !strings.Contains(err.Error(), "proxy") {
		t.Errorf("a password in the file: Open = %v", err)
	}
	write(&config.File{CAFile: filepath.Join(dir, "missing.pem")})
	if _, err := Open(t.Context(), OpenOptions{Getenv: getenv}); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("a missing CA file: Open = %v", err)
	}
}
