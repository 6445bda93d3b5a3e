package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

const cacheTestURL = "https://mcp.example/mcp"

// countingBroker hands out a set credential (or error) and counts the reads of it.
type countingBroker struct {
	mu    sync.Mutex
	cred  *broker.Credential
	err   error
	reads int
}

func (b *countingBroker) Credential(context.Context, string) (*broker.Credential, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reads++
	return b.cred, b.err
}

func (b *countingBroker) Refresh(ctx context.Context, name, _ string) (*broker.Credential, error) {
	return b.Credential(ctx, name)
}

func (b *countingBroker) StepUp(context.Context, string, string, string, broker.LoginOptions) (*broker.LoginResult, error) {
	return nil, errors.New("no step-up in this test")
}

func (b *countingBroker) StepUpSucceeded(string, string) {}

func (b *countingBroker) Login(context.Context, string, broker.LoginOptions) (*broker.LoginResult, error) {
	return nil, errors.New("no sign-in in this test")
}

func (b *countingBroker) Server(name string) (config.Server, error) {
	return config.Server{Name: name, URL: cacheTestURL, Auth: config.AuthOAuth}, nil
}

func (b *countingBroker) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reads
}

// TestCacheReusesUntilReuseUntil: the credential cache reuses what the broker handed out until
// the credential's ReuseUntil (the moment the broker renews it), not by a rule of its own from
// the expiry, and asks the broker again at that moment. Without a ReuseUntil, and for what is
// already due, the cache's own rules apply: static tokens and "no authorization" are read
// again after staticRecheck, "sign-in required" after noTokenRecheck, and nothing is cached
// for less than minRecheck.
func TestCacheReusesUntilReuseUntil(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	bearer := func(value string, expiry, reuseUntil time.Time) *broker.Credential {
		return &broker.Credential{Header: "Authorization", Value: value, Expiry: expiry, ReuseUntil: reuseUntil, URL: cacheTestURL}
	}
	tests := []struct {
		name string
		cred *broker.Credential
		err  error
		// reuse is how long after start the cache answers without asking the broker.
		reuse time.Duration
	}{
		{
			name:  "the broker's moment, well before expiry",
			cred:  bearer("Bearer AT-1", start.Add(10*time.Minute), start.Add(2*time.Minute)),
			reuse: 2 * time.Minute,
		},
		{
			name:  "the broker's moment, a minute before expiry",
			cred:  bearer("Bearer AT-1", start.Add(time.Hour), start.Add(59*time.Minute)),
			reuse: 59 * time.Minute,
		},
		{
			name:  "already due: the shortest cache life",
			cred:  bearer("Bearer AT-1", start.Add(10*time.Second), start.Add(-time.Minute)),
			reuse: minRecheck,
		},
		{
			name:  "static token",
			cred:  &broker.Credential{Header: "X-API-Key", Value: "key", URL: cacheTestURL},
			reuse: staticRecheck,
		},
		{name: "no authorization", reuse: staticRecheck},
		{
			name:  "sign-in required",
			err:   fmt.Errorf("demo: %w", broker.ErrSignInRequired),
			reuse: noTokenRecheck,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start // the cache's clock: Authorize reads it on the test's goroutine
			b := &countingBroker{cred: tt.cred, err: tt.err}
			c := &credentials{broker: b, name: "demo", url: cacheTestURL, now: func() time.Time { return now }}
			header := func() string {
				t.Helper()
				h, v, err := authorized(t, c)
				if err != nil {
					t.Fatalf("Authorize: %v", err)
				}
				return h + ": " + v
			}
			first := header()
			now = start.Add(tt.reuse - time.Nanosecond)
			if got := header(); got != first || b.count() != 1 {
				t.Fatalf("%s after the read: %q, %d reads; want the cached %q, 1 read", tt.reuse-time.Nanosecond, got, b.count(), first)
			}
			now = start.Add(tt.reuse)
			header()
			if b.count() != 2 {
				t.Errorf("%s after the read: %d reads; want the broker asked again", tt.reuse, b.count())
			}
		})
	}
}

// TestCacheAfterRefreshHonoursReuseUntil: the credential a renewal after a 401 returns is
// cached until its own ReuseUntil.
func TestCacheAfterRefreshHonoursReuseUntil(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := start
	b := &countingBroker{cred: &broker.Credential{
		Header: "Authorization", Value: "Bearer AT-2", Expiry: start.Add(time.Hour), ReuseUntil: start.Add(40 * time.Minute), URL: cacheTestURL,
	}}
	c := &credentials{broker: b, name: "demo", url: cacheTestURL, now: func() time.Time { return now }}
	if err := c.Refresh(t.Context(), "Bearer AT-1", ""); err != nil {
		t.Fatal(err)
	}
	now = start.Add(40*time.Minute - time.Nanosecond)
	if _, v, err := authorized(t, c); err != nil || v != "Bearer AT-2" || b.count() != 1 {
		t.Fatalf("before ReuseUntil: %q, %v, %d reads; want the renewed token from the cache", v, err, b.count())
	}
	now = start.Add(40 * time.Minute)
	if _, _, err := authorized(t, c); err != nil || b.count() != 2 {
		t.Errorf("at ReuseUntil: %v, %d reads; want the broker asked again", err, b.count())
	}
}

// TestChallengeScopeKeptForTheSignIn: the scopes of the 401s that ended in "sign-in required"
// are kept, one union, for the sign-in; a renewal that worked keeps none, and a credential
// other than the refused one clears them.
func TestChallengeScopeKeptForTheSignIn(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b := &countingBroker{err: &broker.SignInRequiredError{Server: "demo", Reason: "not signed in"}}
	c := &credentials{broker: b, name: "demo", url: cacheTestURL, now: func() time.Time { return now }}
	for _, scope := range []string{"mcp:basic", "mcp:basic  mcp:read", ""} {
		if err := c.Refresh(t.Context(), "", scope); !errors.Is(err, broker.ErrSignInRequired) {
			t.Fatalf("Refresh: %v, want sign-in required", err)
		}
	}
	if got := c.challengeScope(); got != "mcp:basic mcp:read" {
		t.Errorf("challengeScope = %q, want the union of the challenges", got)
	}
	// Someone signed in: the new credential answers the challenges.
	b.mu.Lock()
	b.cred, b.err = &broker.Credential{Header: "Authorization", Value: "Bearer AT-1", URL: cacheTestURL}, nil
	b.mu.Unlock()
	if !c.usable(t.Context()) {
		t.Fatal("the new credential is not usable")
	}
	if got := c.challengeScope(); got != "" {
		t.Errorf("challengeScope after the sign-in = %q, want none", got)
	}
	// A 401 that a renewal answers calls for no sign-in.
	if err := c.Refresh(t.Context(), "Bearer AT-0", "mcp:write"); err != nil {
		t.Fatal(err)
	}
	if got := c.challengeScope(); got != "" {
		t.Errorf("challengeScope after a renewal = %q, want none", got)
	}
}

// authorized authorizes a request to the server with c and returns the one header it set,
// and the value Authorize returned.
func authorized(t *testing.T, c *credentials) (name, value string, err error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, cacheTestURL, nil)
	value, err = c.Authorize(t.Context(), req)
	if err != nil {
		return "", "", err
	}
	for h := range req.Header {
		if name != "" {
			t.Fatalf("Authorize set %s and %s", name, h)
		}
		name = h
	}
	if name != "" && req.Header.Get(name) != value {
		t.Fatalf("Authorize returned %q but set %s: %q", value, name, req.Header.Get(name))
	}
	return name, value, nil
}

// TestAuthorizeDPoP: a DPoP credential puts the DPoP scheme and a proof of its own on each
// request, for its method and URL, with the token's ath and the nonce the server gave its
// origin, which outlives the token's renewal; a Bearer credential puts one header and no proof.
func TestAuthorizeDPoP(t *testing.T) {
	key, err := jws.GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	prover, err := dpop.NewProver(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &countingBroker{cred: &broker.Credential{Header: "Authorization", Value: "DPoP the-token", DPoP: prover, URL: cacheTestURL}}
	c := &credentials{broker: b, name: "demo", url: cacheTestURL, now: time.Now}
	claims := func(method string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, cacheTestURL+"?q=1", nil)
		v, err := c.Authorize(t.Context(), req)
		if err != nil || v != "DPoP the-token" || req.Header.Get("Authorization") != "DPoP the-token" {
			t.Fatalf("Authorize = %q, %v; Authorization %q", v, err, req.Header.Get("Authorization"))
		}
		sig, err := jose.ParseSignedCompact(req.Header.Get("DPoP"), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatalf("no proof: %v", err)
		}
		payload, err := sig.Verify(sig.Signatures[0].Protected.JSONWebKey)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(payload, &m)
		return m
	}
	first, second := claims(http.MethodPost), claims(http.MethodGet)
	if first["jti"] == second["jti"] || first["htm"] != "POST" || second["htm"] != "GET" || first["htu"] != cacheTestURL {
		t.Errorf("proofs %v and %v", first, second)
	}
	if first["ath"] != dpop.AccessTokenHash("the-token") || first["nonce"] != nil {
		t.Errorf("ath %v nonce %v", first["ath"], first["nonce"])
	}
	u, _ := url.Parse(cacheTestURL)
	c.Nonce(u, "rs-nonce")
	if err := c.Refresh(t.Context(), "DPoP the-token", ""); err != nil {
		t.Fatal(err)
	}
	if got := claims(http.MethodDelete); got["nonce"] != "rs-nonce" {
		t.Errorf("after the nonce and a renewal, the proof's nonce is %v", got["nonce"])
	}

	b.cred = &broker.Credential{Header: "Authorization", Value: "Bearer tok", URL: cacheTestURL}
	c.forget()
	if name, v, err := authorized(t, c); err != nil || name != "Authorization" || v != "Bearer tok" {
		t.Errorf("a Bearer credential set %s: %q (%v)", name, v, err)
	}
}

// BenchmarkAuthorize is the per-request cost of putting the credential on a request: one header
// for a Bearer token (what the static header cost before DPoP), a header and a new signed proof
// for a DPoP-bound one.
func BenchmarkAuthorize(b *testing.B) {
	key, _ := jws.GenerateES256()
	prover, _ := dpop.NewProver(key, nil)
	token := strings.Repeat("t", 900) // a JWT access token's usual size
	for _, bc := range []struct {
		name string
		cred *broker.Credential
	}{
		{"bearer", &broker.Credential{Header: "Authorization", Value: "Bearer " + token, URL: cacheTestURL}},
		{"dpop", &broker.Credential{Header: "Authorization", Value: "DPoP " + token, DPoP: prover, URL: cacheTestURL}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := &credentials{broker: &countingBroker{cred: bc.cred}, name: "demo", url: cacheTestURL, now: time.Now}
			req, _ := http.NewRequest(http.MethodPost, cacheTestURL, nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Authorize(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCredentialsReportRenewals: with a trace set, the credentials report the steps of the
// grants and renewals the broker runs for them even under a context without the bridge's
// trace, as a transport's own requests (the GET stream, a re-initialization) have. Here a
// client-credentials server, against real servers on 127.0.0.1.
func TestCredentialsReportRenewals(t *testing.T) {
	as := authserver.New(authserver.Options{ClientCredentials: true})
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	m := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{as.Issuer()}})
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	b, err := broker.New(broker.Options{ConfigPath: filepath.Join(t.TempDir(), "config.json"), Secrets: secrets.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	srv := config.Server{Name: "demo", URL: m.URL(), Auth: config.AuthClientCredentials}
	if err := b.AddServer(t.Context(), srv, ""); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var steps []string
	c := &credentials{broker: b, name: "demo", url: m.URL(), log: slog.New(slog.DiscardHandler), now: time.Now, moved: func(error) {},
		trace: func(s broker.Step) {
			mu.Lock()
			defer mu.Unlock()
			steps = append(steps, string(s.Name))
		}}
	took := func(what string, want ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(steps, want) {
			t.Errorf("%s: steps = %q, want %q", what, steps, want)
		}
		steps = nil
	}

	// A context of its own, as a transport's.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, m.URL(), nil)
	value, err := c.Authorize(ctx, req)
	if err != nil || value == "" {
		t.Fatalf("Authorize = %q, %v", value, err)
	}
	took("first grant", "discovery", "registration", "token")
	if err := c.Refresh(ctx, value, ""); err != nil {
		t.Fatal(err)
	}
	took("renewal after a 401", "token")
}
