//go:build providers

package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv/chrometest"
)

// tokenTTL is the access-token lifetime both providers are given: long enough for a
// sign-in in a browser on a loaded machine, short enough to see it expire twice.
const tokenTTL = 20 * time.Second

// TestHydra signs in to an MCP server whose tokens come from ory/hydra, with dynamic client
// registration, PKCE, hydra's login and consent pages (our app, driven by Chromium), then
// uses and refreshes the token through bridges: see signIn.run.
func TestHydra(t *testing.T) {
	in := Require(t)
	browser := chrometest.NewContext(t)
	h := StartHydra(t, in, HydraOptions{AccessTokenTTL: tokenTTL, Scopes: []string{"mcp:tools"}})
	ln := listen(t)
	v := h.Introspector("http://" + ln.Addr().String() + mcpserver.PathMCP)
	m := serveMCP(t, ln, v, h.Issuer, []string{"mcp:tools"})

	s := signIn{
		server: "hydra-mcp", url: m.URL(), subject: h.Username, verifier: v,
		visit: func(u string) error {
			return browse(browser, u,
				chromedp.WaitVisible(chromedp.CSS("#username")),
				chromedp.SendKeys(chromedp.CSS("#username"), h.Username),
				chromedp.SendKeys(chromedp.CSS("#password"), h.Password),
				chromedp.Click(chromedp.CSS("#login")),
				chromedp.WaitVisible(chromedp.CSS("#allow")),
				chromedp.Click(chromedp.CSS("#allow")),
			)
		},
		client: func(u *user, g grant) (*oauth.Client, error) {
			// The registration the broker made, from its store (broker/keys.go's registrationKey).
			raw, err := u.secret("oauth-client/hydra-mcp/" + url.PathEscape(g.Issuer))
			if err != nil || raw == "" {
				return nil, fmt.Errorf("no dynamic registration stored for %s (%v)", g.Issuer, err)
			}
			var c oauth.Client
			return &c, json.Unmarshal([]byte(raw), &c)
		},
	}
	s.run(t)
	if st := h.Login.Stats(); st.LoginPages != 1 || st.Logins != 1 || st.ConsentPages != 1 || st.Consents != 1 {
		t.Errorf("the login and consent app saw %+v, want one login page and one consent page, each accepted", st)
	}
}

// TestZitadel signs in to an MCP server whose tokens come from the zitadel/oidc example
// OpenID provider, with its pre-registered public client (it has no dynamic registration),
// PKCE and its login page driven by Chromium, then uses and refreshes the token through
// bridges: see signIn.run.
func TestZitadel(t *testing.T) {
	in := Require(t)
	browser := chrometest.NewContext(t)
	z := StartZitadel(t, in, tokenTTL)
	ln := listen(t)
	v := z.JWTVerifier("http://" + ln.Addr().String() + mcpserver.PathMCP)
	m := serveMCP(t, ln, v, z.Issuer, []string{"openid", "profile"})

	s := signIn{
		server: "zitadel-mcp", url: m.URL(), addArgs: []string{"--client-id", z.ClientID}, subject: z.Subject, verifier: v,
		visit: func(u string) error {
			return browse(browser, u,
				chromedp.WaitVisible(chromedp.CSS("#username")),
				chromedp.SendKeys(chromedp.CSS("#username"), z.Username),
				chromedp.SendKeys(chromedp.CSS("#password"), z.Password),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			)
		},
		client: func(*user, grant) (*oauth.Client, error) {
			return &oauth.Client{ID: z.ClientID, AuthMethod: "none"}, nil
		},
	}
	s.run(t)
}

// verifier is the resource server's check of the provider's tokens, with its ledger.
type verifier interface {
	mcpserver.Verifier
	Uses(token string) int
	Distinct() int
}

// signIn is one provider's run of the whole story.
type signIn struct {
	server   string   // the name it is added under
	url      string   // the MCP server's URL
	addArgs  []string // more `servers add` flags
	subject  string   // who the MCP server must see
	verifier verifier // the MCP server's token check
	// visit plays the person in the browser: from the authorization URL to the broker's
	// callback page.
	visit func(authURL string) error
	// login, when set, is the sign-in of step 1 instead of `login --no-browser` with visit.
	login func(u *user) (string, error)
	// client is the OAuth client the broker used, to present old refresh tokens with.
	client func(*user, grant) (*oauth.Client, error)
}

// run is the story, step by step, each failure naming its step:
//
//  1. `servers add`, then `login` through the real binary (or the sign-in of s.login), the
//     person in Chromium: the broker holds an access token and a refresh token;
//  2. a tool call through a bridge reaches the MCP server with that token, as the person;
//  3. the token expires (the provider refuses it), and the next call through the same bridge
//     refreshes it: a new access token, and a new refresh token (rotation);
//  4. after the next expiry a second bridge starts, and both bridges' calls succeed with one
//     refreshed token: one refresh for the two processes, no third token;
//  5. the provider refuses the refresh tokens that were rotated away.
func (s signIn) run(t *testing.T) {
	u := newUser(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	u.run(append([]string{"servers", "add", s.server, s.url}, s.addArgs...)...)
	login := s.login
	if login == nil {
		login = func(u *user) (string, error) { return u.login(s.server, s.visit) }
	}
	out, err := login(u)
	if err != nil {
		t.Fatalf("step 1 (sign-in): %v\n%s", err, out)
	}
	g1 := u.grant(s.server)
	if g1.RefreshToken == "" {
		t.Fatalf("step 1 (sign-in): the provider issued no refresh token (granted scope %q): every expiry would need another browser sign-in", g1.Scope)
	}
	t.Logf("step 1 (sign-in): ok: access and refresh token, scope %q, expiry in %s", g1.Scope, time.Until(g1.Expiry).Round(time.Second))

	a := u.bridge(ctx, s.server)
	who, err := a.whoami(ctx)
	if err != nil {
		t.Fatalf("step 2 (tool call): %v", err)
	}
	if !strings.Contains(who, "subject="+s.subject+" ") {
		t.Fatalf("step 2 (tool call): the MCP server saw %q, want subject %s", who, s.subject)
	}
	if s.verifier.Uses(g1.AccessToken) == 0 {
		t.Fatal("step 2 (tool call): the call did not carry the token of the sign-in")
	}
	if _, ok := s.verifier.Verify(g1.RefreshToken); ok {
		t.Fatal("step 2 (tool call): the MCP server's check takes the refresh token for an access token")
	}
	t.Logf("step 2 (tool call): ok: %s", who)

	waitPast(ctx, t, g1.Expiry)
	// The broker dates the expiry from the answer's arrival and expires_in in whole seconds;
	// the provider from the token's issue, with a clock of its own: allow it a few seconds.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if _, ok := s.verifier.Verify(g1.AccessToken); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("step 3 (expiry): the provider still accepts the access token 10 s after it expired")
		}
	}
	if _, err := a.whoami(ctx); err != nil {
		t.Fatalf("step 3 (refresh): the call after expiry failed: %v", err)
	}
	g2 := u.grant(s.server)
	switch {
	case g2.AccessToken == g1.AccessToken:
		t.Fatal("step 3 (refresh): the call after expiry got through, but the stored token is still the expired one")
	case s.verifier.Uses(g2.AccessToken) == 0:
		t.Fatal("step 3 (refresh): the call after expiry did not carry the refreshed token")
	case g2.RefreshToken == "":
		t.Fatal("step 3 (refresh): the refresh left the broker without a refresh token")
	case g2.RefreshToken == g1.RefreshToken:
		t.Fatal("step 3 (refresh): the provider did not rotate the refresh token")
	}
	t.Logf("step 3 (expiry, refresh with rotation): ok")

	waitPast(ctx, t, g2.Expiry)
	b := u.bridge(ctx, s.server)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, br := range []*bridge{a, b} {
		wg.Go(func() { _, errs[i] = br.whoami(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("step 4 (two bridges): bridge %d: %v", i+1, err)
		}
	}
	g3 := u.grant(s.server)
	switch {
	case g3.AccessToken == g2.AccessToken || g3.RefreshToken == g2.RefreshToken:
		t.Fatal("step 4 (two bridges): the token was not refreshed after the second expiry")
	case s.verifier.Uses(g3.AccessToken) < 3:
		// The second bridge's initialize and both calls.
		t.Fatalf("step 4 (two bridges): the refreshed token carried %d requests, want 3 or more", s.verifier.Uses(g3.AccessToken))
	case s.verifier.Distinct() != 3:
		t.Fatalf("step 4 (two bridges): the MCP server saw %d different access tokens, want 3 (one refresh per expiry, shared by both bridges)", s.verifier.Distinct())
	}
	t.Logf("step 4 (second bridge after the next expiry): ok: one refreshed token for both bridges")

	client, err := s.client(u, g3)
	if err != nil {
		t.Fatalf("step 5 (rotation): %v", err)
	}
	for i, rt := range []string{g1.RefreshToken, g2.RefreshToken} {
		_, err := oauth.Refresh(ctx, http.DefaultClient, g3.TokenEndpoint, client, rt, "", "")
		if !oauth.IsInvalidGrant(err) {
			t.Errorf("step 5 (rotation): refresh token %d, rotated away, got %v from the provider, want invalid_grant", i+1, err)
		}
	}
	_, alive := s.verifier.Verify(g3.AccessToken)
	t.Logf("step 5 (old refresh tokens refused): done; after the replays the provider %s the current access token",
		map[bool]string{true: "still accepts", false: "has revoked"}[alive])
}

// waitPast waits until the wall clock is past when (a token's expiry), plus a second for
// clock rounding.
func waitPast(ctx context.Context, t *testing.T, when time.Time) {
	t.Helper()
	timer := time.NewTimer(time.Until(when) + time.Second)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		t.Fatalf("waiting for the token to expire: %v", ctx.Err())
	}
}

// listen takes a loopback port for the MCP server, so that its URL (the resource its tokens
// are bound to) is known before it starts.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveMCP serves the demo MCP server on ln, trusting tokens that v accepts, naming issuer as
// its authorization server and scopes as the scopes it supports.
func serveMCP(t *testing.T, ln net.Listener, v mcpserver.Verifier, issuer string, scopes []string) *mcpserver.Server {
	t.Helper()
	m := mcpserver.New(mcpserver.Options{Verifier: v, AuthServers: []string{issuer}, Scopes: scopes})
	if _, err := m.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
