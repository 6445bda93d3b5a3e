package providers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// startTimeout bounds how long a provider may take to answer after it started: a second
// or two normally, more on a loaded 2-core CI machine.
const startTimeout = 60 * time.Second

// HydraOptions configures StartHydra.
type HydraOptions struct {
	// AccessTokenTTL is how long hydra's access tokens live (default 20s).
	AccessTokenTTL time.Duration
	// Scopes are listed in hydra's metadata (scopes_supported) besides its own
	// offline_access, offline and openid.
	Scopes []string
}

// Hydra is a running ory/hydra with its login and consent app.
type Hydra struct {
	// Issuer is hydra's issuer and public URL (no trailing slash): metadata at
	// Issuer/.well-known/openid-configuration, dynamic client registration at
	// Issuer/oauth2/register.
	Issuer string
	// Admin is the base URL of hydra's admin API (introspection, the login and consent
	// flow). Like hydra's own deployments, it is reached only by the login app and the
	// resource server, not by clients.
	Admin string
	// Login is the login and consent app hydra sends browsers to.
	Login *LoginApp
	// Username and Password are the account the login page accepts.
	Username, Password string
}

// StartHydra starts hydra from in on loopback ports, with an in-memory database (DSN memory),
// dynamic client registration, PKCE enforced for every client, opaque access tokens of
// opts.AccessTokenTTL, rotating refresh tokens (its default: no grace period), and the
// login and consent app of this package. Everything is stopped when t's cleanup runs.
func StartHydra(t testing.TB, in *Install, opts HydraOptions) *Hydra {
	t.Helper()
	if opts.AccessTokenTTL == 0 {
		opts.AccessTokenTTL = 20 * time.Second
	}
	addrs := testenv.FreeAddrs(t, 2)
	public, admin := "http://"+addrs[0], "http://"+addrs[1]
	h := &Hydra{Issuer: public, Admin: admin, Username: "ada@example.com", Password: "correct horse battery staple"}
	h.Login = newLoginApp(admin, h.Username, h.Password)
	app := httptest.NewServer(h.Login)
	t.Cleanup(app.Close)
	h.Login.url = app.URL

	// hydra encrypts what it stores with the system secret; it lives as long as this hydra.
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	port := func(addr string) int {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return n
	}
	config := map[string]any{
		"dsn": "memory",
		"serve": map[string]any{
			"public": map[string]any{"host": "127.0.0.1", "port": port(addrs[0])},
			"admin":  map[string]any{"host": "127.0.0.1", "port": port(addrs[1])},
		},
		"urls": map[string]any{
			"self":    map[string]any{"issuer": public},
			"login":   app.URL + "/login",
			"consent": app.URL + "/consent",
		},
		"secrets": map[string]any{"system": []string{hex.EncodeToString(secret)}},
		"oidc": map[string]any{
			"dynamic_client_registration": map[string]any{"enabled": true},
		},
		// hydra serves registration at /oauth2/register but names it in its metadata only
		// when told the URL.
		"webfinger": map[string]any{
			"oidc_discovery": map[string]any{
				"client_registration_url": public + "/oauth2/register",
				"supported_scope":         append([]string{}, opts.Scopes...),
			},
		},
		"oauth2": map[string]any{"pkce": map[string]any{"enforced": true}},
		"ttl":    map[string]any{"access_token": opts.AccessTokenTTL.String()},
		"log":    map[string]any{"level": "info", "format": "text", "leak_sensitive_values": false},
	}
	data, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "hydra.json")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// --dev allows the http issuer and cookies on 127.0.0.1; --sqa-opt-out (and
	// SQA_OPT_OUT) keep hydra from sending usage reports anywhere.
	p := start(t, in.Hydra, []string{"serve", "all", "--dev", "--sqa-opt-out", "-c", cfg}, []string{"SQA_OPT_OUT=true"}, nil)
	waitReady(t, p, "hydra", admin+"/health/ready")
	return h
}

// waitReady polls url until it answers 200, the process exits, or startTimeout passes.
func waitReady(t testing.TB, p *process, name, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready (%v):\n%s", name, p.err, lastLines(p.output.String(), 40))
		case <-ctx.Done():
			t.Fatalf("%s was not ready within %s:\n%s", name, startTimeout, lastLines(p.output.String(), 40))
		case <-tick.C:
		}
	}
}
