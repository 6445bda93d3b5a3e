package bridge_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// dpopServers is the in-repo authorization server and MCP server, each behind a front on
// 127.0.0.1 that records the DPoP proofs it passes on; the MCP front can refuse one token once
// (as if revoked), to make the bridge refresh.
type dpopServers struct {
	as      *authserver.Server
	mcp     *mcpserver.Server
	asFront *httptest.Server
	front   *httptest.Server

	mu     sync.Mutex
	proofs []string // every DPoP header seen, by both fronts
	refuse string   // an Authorization value the MCP front refuses once
}

func newDPoPServers(t *testing.T, asOpts authserver.Options, mcpOpts mcpserver.Options) *dpopServers {
	t.Helper()
	d := &dpopServers{}
	asOpts.AutoApprove = true
	d.as = authserver.New(asOpts)
	d.asFront = httptest.NewServer(d.record(d.as.Handler()))
	t.Cleanup(d.asFront.Close)
	mcpOpts.Verifier = d.as
	mcpOpts.AuthServers = []string{d.asFront.URL}
	d.mcp = mcpserver.New(mcpOpts)
	d.front = httptest.NewServer(d.record(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		refuse := d.refuse != "" && r.Header.Get("Authorization") == d.refuse
		if refuse {
			d.refuse = ""
		}
		d.mu.Unlock()
		if refuse {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token", error_description="revoked"`)
			http.Error(w, "revoked", http.StatusUnauthorized)
			return
		}
		d.mcp.Handler().ServeHTTP(w, r)
	})))
	t.Cleanup(d.front.Close)
	return d
}

func (d *dpopServers) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.Header.Get("DPoP"); p != "" {
			d.mu.Lock()
			d.proofs = append(d.proofs, p)
			d.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (d *dpopServers) refuseOnce(value string) {
	d.mu.Lock()
	d.refuse = value
	d.mu.Unlock()
}

func (d *dpopServers) seenProofs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.proofs...)
}

// dpopEnv is a broker configured for the servers, logging to a buffer, with the bridge's
// status folder: what the secret scan looks at.
type dpopEnv struct {
	*brokerEnv
	srv       config.Server
	log       *bytes.Buffer
	logMu     sync.Mutex
	statusDir string
}

func (e *dpopEnv) Write(p []byte) (int, error) {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.log.Write(p)
}

func newDPoPEnv(t *testing.T, d *dpopServers, srv config.Server) (*dpopEnv, *broker.Broker) {
	t.Helper()
	if srv.URL == "" {
		srv.URL = d.front.URL + mcpserver.PathMCP
	}
	srv.Name, srv.Auth = "demo", config.AuthOAuth
	e := &dpopEnv{brokerEnv: newBrokerEnv(t, srv, ""), srv: srv, log: &bytes.Buffer{}, statusDir: t.TempDir()}
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: &opener.Browser{}, SignInTimeout: 20 * time.Second,
		Log: slog.New(slog.NewTextHandler(e, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, b
}

func (e *dpopEnv) bridge(t *testing.T, b *broker.Broker) *client {
	t.Helper()
	return run(t, bridge.Options{
		Server: e.srv, Broker: b, StatusDir: e.statusDir, RuntimeDir: t.TempDir(),
		Log: slog.New(slog.NewTextHandler(e, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

// signIn signs in with a browser that follows the redirects, and returns the status.
func signIn(t *testing.T, b *broker.Broker, e *dpopEnv) broker.ServerStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if _, err := b.Login(ctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatalf("login: %v", err)
	}
	st, err := broker.ReadStatus(e.config, time.Now())
	if err != nil || len(st) != 1 {
		t.Fatalf("status: %v %v", st, err)
	}
	return st[0]
}

// TestDPoPEndToEnd signs in over real HTTP on 127.0.0.1, calls a tool through the bridge and
// refreshes, against servers like the MCP conformance suite's DPoP scenarios: an authorization
// server that binds tokens to proofs and an MCP server that takes DPoP-bound tokens only,
// without and with the nonces of both (RFC 9449 §8, §9), rotated midway. Every check a server
// makes of a proof is the in-repo servers' (package dpopcheck): a bad proof fails the call.
func TestDPoPEndToEnd(t *testing.T) {
	for _, tt := range []struct {
		name      string
		nonce     bool
		transport config.Transport
	}{
		{"dpop", false, config.TransportStreamableHTTP},
		{"dpop-nonce", true, config.TransportStreamableHTTP},
		{"dpop-nonce over legacy SSE", true, config.TransportSSE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDPoPServers(t, authserver.Options{DPoP: true, DPoPNonce: tt.nonce}, mcpserver.Options{DPoPOnly: true, DPoPNonce: tt.nonce})
			srv := config.Server{Transport: tt.transport}
			if tt.transport == config.TransportSSE {
				srv.URL = d.front.URL + mcpserver.PathSSE
			}
			e, b := newDPoPEnv(t, d, srv)
			st := signIn(t, b, e)
			if !st.DPoP {
				t.Fatalf("status after sign-in: %+v, want a DPoP-bound token", st)
			}
			if s := d.as.Stats(); s.DPoPBound != 1 || s.CodeExchanges != 1 || (tt.nonce && s.DPoPNonceChallenges != 1) {
				t.Fatalf("authorization server: %+v", s)
			}
			cred, err := b.Credential(t.Context(), "demo")
			if err != nil || cred.DPoP == nil || !strings.HasPrefix(cred.Value, "DPoP ") {
				t.Fatalf("credential %v (%v): want a DPoP one", cred != nil && cred.DPoP != nil, err)
			}
			if info, ok := d.as.Verify(strings.TrimPrefix(cred.Value, "DPoP ")); !ok || info.JKT != cred.DPoP.Thumbprint() {
				t.Fatalf("the token is bound to %q, the broker's key is %q", info.JKT, cred.DPoP.Thumbprint())
			}

			c := e.bridge(t, b)
			c.initialize()
			if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"one"}}`)); got != "one" {
				t.Fatalf("echo = %q", got)
			}
			h := d.mcp.Hits()
			if h.BadProofs != 0 || h.DPoPAuthorized < 2 || (tt.nonce && h.DPoPNonceChallenges == 0) {
				t.Errorf("MCP server: %+v", h)
			}
			if n := d.as.Stats().Refreshes; n != 0 {
				t.Errorf("%d refreshes before any token was refused: a nonce challenge is not a dead token", n)
			}

			// A 401 on a live token: the bridge refreshes, with a proof of the same key (the
			// refresh token is bound to it: without one the server refuses).
			d.refuseOnce(cred.Value)
			if tt.nonce {
				d.as.RotateDPoPNonce()
				d.mcp.RotateDPoPNonce()
			}
			if got := toolText(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"two"}}`)); got != "two" {
				t.Fatalf("echo after the 401 = %q", got)
			}
			s := d.as.Stats()
			if s.Refreshes != 1 || s.DPoPBound != 2 || s.CodeExchanges != 1 {
				t.Errorf("authorization server after the 401: %+v; want one refresh, bound", s)
			}
			if tt.nonce && s.DPoPNonceChallenges != 2 {
				t.Errorf("%d nonce challenges at the token endpoint, want 2 (sign-in, refresh after the rotation)", s.DPoPNonceChallenges)
			}
			h2 := d.mcp.Hits()
			if h2.BadProofs != 0 || (tt.nonce && h2.DPoPNonceChallenges <= h.DPoPNonceChallenges) {
				t.Errorf("MCP server after the rotation: %+v", h2)
			}

			// Every proof was made for its one request.
			proofs := d.seenProofs()
			seen := map[string]bool{}
			for _, p := range proofs {
				if seen[p] {
					t.Error("a proof was sent twice")
				}
				seen[p] = true
			}
			if len(proofs) < 6 {
				t.Errorf("%d proofs seen", len(proofs))
			}
			checkNoDPoPSecretLeaks(t, e, proofs, c)

			// Sign-out deletes the key with the tokens.
			c.closeStdin()
			if _, err := b.Logout(t.Context(), "demo"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.Get(t.Context(), "dpop-key/demo"); err == nil {
				t.Error("the DPoP key outlived the sign-out")
			}
		})
	}
}

// checkNoDPoPSecretLeaks looks for the DPoP key (its PEM, its private scalar), the tokens and
// every proof sent in the logs of the broker and the bridge, in the status files of the live
// bridge, and in every file of the config folder: the key lives in the secret store only.
func checkNoDPoPSecretLeaks(t *testing.T, e *dpopEnv, proofs []string, c *client) {
	t.Helper()
	keyPEM, err := e.store.Get(t.Context(), "dpop-key/demo")
	if err != nil {
		t.Fatalf("the DPoP key is not in the secret store: %v", err)
	}
	raw, err := e.store.Get(t.Context(), "oauth-token/demo")
	if err != nil {
		t.Fatal(err)
	}
	var grant struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(raw), &grant); err != nil || grant.AccessToken == "" || grant.RefreshToken == "" {
		t.Fatalf("the stored grant: %v", err)
	}
	secrets := map[string]string{
		"the key's PEM":      strings.TrimSpace(keyPEM),
		"the key's PEM body": pemBody(keyPEM),
		"the private scalar": privateScalar(t, keyPEM),
		"the access token":   grant.AccessToken,
		"the refresh token":  grant.RefreshToken,
	}
	for i, p := range proofs {
		secrets["proof "+strconv.Itoa(i)] = p
		secrets["the signature of proof "+strconv.Itoa(i)] = p[strings.LastIndex(p, ".")+1:]
	}
	places := map[string]string{}
	e.logMu.Lock()
	places["the logs"] = e.log.String()
	e.logMu.Unlock()
	if places["the logs"] == "" {
		t.Fatal("nothing was logged: the scan would prove nothing")
	}
	for _, dir := range []string{e.statusDir, filepath.Dir(e.config)} {
		n := 0
		filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				data, _ := os.ReadFile(path)
				places[path] = string(data)
				n++
			}
			return nil
		})
		if n == 0 {
			t.Fatalf("no file in %s: the scan would prove nothing", dir)
		}
	}
	for what, secret := range secrets {
		if len(secret) < 16 {
			t.Fatalf("%s is too short to look for", what)
		}
		for where, text := range places {
			if strings.Contains(text, secret) {
				t.Errorf("%s is in %s", what, where)
			}
		}
	}
}

func pemBody(p string) string {
	lines := strings.Split(strings.TrimSpace(p), "\n")
	return strings.Join(lines[1:len(lines)-1], "")
}

// privateScalar is the key's private scalar as a JWK's "d" writes it.
func privateScalar(t *testing.T, keyPEM string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(keyPEM))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("the DPoP key is a %T, want a P-256 key", k)
	}
	d, err := ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(d)
}

// TestDPoPAutoKeepsBearer: the auto rule asks for DPoP only when the resource takes it. An
// authorization server that binds tokens in front of a resource that knows Bearer tokens only
// (as many do) gets a Bearer sign-in that works; one that accepts both gets DPoP; and off
// keeps Bearer even then.
func TestDPoPAutoKeepsBearer(t *testing.T) {
	for _, tt := range []struct {
		name     string
		mcp      mcpserver.Options
		mode     config.DPoPMode
		wantDPoP bool
	}{
		{"a resource without DPoP", mcpserver.Options{}, config.DPoPAuto, false},
		{"a resource that accepts DPoP", mcpserver.Options{DPoP: true}, config.DPoPAuto, true},
		{"off with a resource that accepts DPoP", mcpserver.Options{DPoP: true}, config.DPoPOff, false},
		{"on with a resource that requires it", mcpserver.Options{DPoPRequired: true}, config.DPoPOn, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDPoPServers(t, authserver.Options{DPoP: true}, tt.mcp)
			e, b := newDPoPEnv(t, d, config.Server{DPoP: tt.mode})
			if st := signIn(t, b, e); st.DPoP != tt.wantDPoP {
				t.Errorf("signed in with DPoP %v, want %v", st.DPoP, tt.wantDPoP)
			}
			c := e.bridge(t, b)
			c.initialize()
			if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"one"}}`)); got != "one" {
				t.Fatalf("echo = %q", got)
			}
			if h := d.mcp.Hits(); (h.DPoPAuthorized > 0) != tt.wantDPoP || h.BadProofs != 0 {
				t.Errorf("MCP server: %+v", h)
			}
			if _, err := e.store.Get(t.Context(), "dpop-key/demo"); (err == nil) != tt.wantDPoP {
				t.Errorf("a DPoP key stored: %v, want %v", err == nil, tt.wantDPoP)
			}
		})
	}
}
