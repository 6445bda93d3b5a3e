package broker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// env is one authorization server, one MCP server trusting it, and a Broker configured with
// that MCP server as "demo", on 127.0.0.1.
type env struct {
	t       *testing.T
	as      *authserver.Server
	mcp     *mcpserver.Server
	b       *broker.Broker
	store   *secrets.Memory
	browser *opener.Browser
	config  string
	prompt  *bytes.Buffer
}

type envOptions struct {
	as     authserver.Options
	mcp    mcpserver.Options
	server config.Server // Name, URL and Auth are filled in when empty
	secret string
	// sameOrigin serves the AS from the MCP server's origin (2025-03-26 servers).
	sameOrigin bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.as.AccessTokenTTL == 0 {
		o.as.AccessTokenTTL = time.Hour
	}
	o.as.AutoApprove = true
	e := &env{t: t, store: secrets.NewMemory(), prompt: &bytes.Buffer{}}
	e.as = authserver.New(o.as)
	o.mcp.Verifier = e.as
	if o.sameOrigin {
		o.mcp.Fallback = e.as.Handler()
	}
	e.mcp = mcpserver.New(o.mcp)
	base, err := e.mcp.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.mcp.Close() })
	if o.sameOrigin {
		// The AS derives its URLs from the request, which arrives at the MCP origin.
		_ = base
	} else {
		asURL, err := e.as.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.as.Close() })
		if o.mcp.AuthServers == nil && !o.mcp.NoAuth {
			// Restart the MCP server with the AS it names, now that its URL is known.
			e.mcp.Close()
			o.mcp.AuthServers = []string{asURL + o.as.Issuer}
			e.mcp = mcpserver.New(o.mcp)
			if _, err := e.mcp.Start("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.mcp.Close() })
		}
	}
	e.config = filepath.Join(t.TempDir(), "config.json")
	e.browser = &opener.Browser{}
	e.b, err = broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: e.browser, Prompt: e.prompt, SignInTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := o.server
	if srv.Name == "" {
		srv.Name = "demo"
	}
	if srv.URL == "" {
		srv.URL = e.mcp.URL()
	}
	if srv.Auth == "" {
		srv.Auth = config.AuthOAuth
	}
	if err := e.b.AddServer(t.Context(), srv, o.secret); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) login(opts broker.LoginOptions) (*broker.LoginResult, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 30*time.Second)
	defer cancel()
	res, err := e.b.Login(ctx, "demo", opts)
	e.browser.Wait()
	return res, err
}

func (e *env) mustLogin() *broker.LoginResult {
	e.t.Helper()
	res, err := e.login(broker.LoginOptions{})
	if err != nil {
		e.t.Fatalf("login: %v\nprompt:\n%s", err, e.prompt)
	}
	return res
}

// requests returns the AS's recorded requests to one endpoint.
func (e *env) requests(endpoint string) []authserver.Request {
	var out []authserver.Request
	for _, r := range e.as.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

// callTool makes an MCP request with the broker's credential and returns the HTTP status.
func (e *env) callTool(name string) int {
	e.t.Helper()
	cred, err := e.b.Credential(e.t.Context(), "demo")
	if err != nil {
		e.t.Fatalf("credential: %v", err)
	}
	return mcpPost(e.t, e.mcp.URL(), cred, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"`+name+`","arguments":{"message":"hi"}}}`)
}

func mcpPost(t *testing.T, u string, cred *broker.Credential, body string) int {
	t.Helper()
	init := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`
	sid := ""
	for _, b := range []string{init, body} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if cred != nil {
			if err := cred.Authorize(req, ""); err != nil {
				t.Fatal(err)
			}
		}
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return resp.StatusCode
		}
		sid = resp.Header.Get("Mcp-Session-Id")
	}
	return 200
}

// assertNothingStored fails when any token or registration reached the store or state.
func (e *env) assertNothingStored() {
	e.t.Helper()
	for _, k := range e.store.Keys() {
		if !strings.HasPrefix(k, "client-secret/") && !strings.HasPrefix(k, "static-token/") && !strings.HasPrefix(k, "client-key/") {
			e.t.Errorf("secret store holds %q after a failed sign-in", k)
		}
	}
	st, err := broker.ReadStatus(e.config, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if st[0].SignedIn || st[0].Client != nil {
		e.t.Errorf("status after a failed sign-in: %+v", st[0])
	}
}

func TestLoginDynamicRegistration(t *testing.T) {
	e := newEnv(t, envOptions{mcp: mcpserver.Options{Scopes: []string{"mcp:read", "mcp:write"}}})
	res := e.mustLogin()
	if e.as.Stats().Registrations != 1 || e.as.Stats().CodeExchanges != 1 {
		t.Fatalf("stats = %+v", e.as.Stats())
	}
	if got := e.callTool("echo"); got != 200 {
		t.Fatalf("tools/call with the broker's token: HTTP %d", got)
	}
	// Item 12: resource on the authorization and token requests, canonical form.
	for _, r := range append(e.requests(authserver.EndpointAuthorize), e.requests(authserver.EndpointToken)...) {
		if got := r.Form.Get("resource"); got != e.mcp.URL() {
			t.Errorf("%s request resource = %q, want %q", r.Endpoint, got, e.mcp.URL())
		}
	}
	// Item 9: a native public client with the exact loopback redirect URI.
	reg := e.requests(authserver.EndpointRegister)[0].Form
	if reg.Get("application_type") != "native" || reg.Get("token_endpoint_auth_method") != "none" ||
		!strings.HasPrefix(reg.Get("redirect_uris"), "http://127.0.0.1:") || !slices.Contains(reg["grant_types"], "refresh_token") {
		t.Errorf("registration request = %v", reg)
	}
	// Item 11: S256 and state.
	az := e.requests(authserver.EndpointAuthorize)[0].Form
	if az.Get("code_challenge_method") != "S256" || az.Get("state") == "" {
		t.Errorf("authorization request = %v", az)
	}
	// Item 13 + offline_access: PRM scopes_supported, plus offline_access the AS lists.
	if got := az.Get("scope"); got != "mcp:read mcp:write offline_access" {
		t.Errorf("scope = %q", got)
	}
	if !slices.Contains(res.Scopes, "mcp:read") {
		t.Errorf("result = %+v", res)
	}
	st, _ := e.b.Status()
	if !st[0].SignedIn || st[0].Client == nil || st[0].Client.Kind != "dynamic" || st[0].Expiry == nil {
		t.Errorf("status = %+v", st[0])
	}

	// A second sign-in reuses the registration and its redirect URI (same port).
	e.mustLogin()
	if n := e.as.Stats().Registrations; n != 1 {
		t.Errorf("registrations after a second sign-in = %d, want 1", n)
	}
	az2 := e.requests(authserver.EndpointAuthorize)[1].Form
	if az2.Get("redirect_uri") != az.Get("redirect_uri") {
		t.Errorf("redirect URI changed: %q then %q", az.Get("redirect_uri"), az2.Get("redirect_uri"))
	}
	if az2.Get("state") == az.Get("state") || az2.Get("code_challenge") == az.Get("code_challenge") {
		t.Error("state and PKCE must be fresh per attempt")
	}
}

func TestRegistrationRedoneWhenPortTaken(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	first := e.requests(authserver.EndpointAuthorize)[0].Form.Get("redirect_uri")
	u, _ := url.Parse(first)
	// Occupy the registered port.
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Skipf("cannot occupy %s: %v", u.Host, err)
	}
	defer ln.Close()
	e.mustLogin()
	if n := e.as.Stats().Registrations; n != 2 {
		t.Errorf("registrations = %d, want a new one for the new redirect URI", n)
	}
}

func TestScopeSelection(t *testing.T) {
	tests := []struct {
		name string
		o    envOptions
		want string // "" means the scope parameter is omitted
	}{
		{"challenge scope wins", envOptions{mcp: mcpserver.Options{ChallengeScope: "mcp:read", Scopes: []string{"mcp:read", "mcp:write"}}}, "mcp:read offline_access"},
		{"all PRM scopes", envOptions{mcp: mcpserver.Options{Scopes: []string{"mcp:write"}}}, "mcp:write offline_access"},
		{"omitted when undefined", envOptions{}, ""},
		{"no offline_access unless listed", envOptions{as: authserver.Options{Scopes: []string{"mcp:read"}}, mcp: mcpserver.Options{Scopes: []string{"mcp:read"}}}, "mcp:read"},
		{"configured scopes", envOptions{server: config.Server{Scopes: []string{"mcp:write"}}, mcp: mcpserver.Options{ChallengeScope: "mcp:read"}}, "mcp:write offline_access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.o)
			e.mustLogin()
			az := e.requests(authserver.EndpointAuthorize)[0].Form
			if got := az.Get("scope"); got != tt.want || (tt.want == "" && az.Has("scope")) {
				t.Errorf("scope = %q (present %v), want %q", got, az.Has("scope"), tt.want)
			}
		})
	}
}

// TestRefreshRotation: an expired token is refreshed (with the resource), and the rotated
// refresh token is stored, so the next refresh works. Time passes on a clock shared by the
// broker and the authorization server.
func TestRefreshRotation(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	before, _ := e.b.Credential(t.Context(), "demo")
	clock.advance(time.Hour)
	after, err := e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if after.Value == before.Value {
		t.Fatal("an expired token was handed out")
	}
	if e.as.Stats().Refreshes != 1 {
		t.Fatalf("refreshes = %d", e.as.Stats().Refreshes)
	}
	refresh := e.requests(authserver.EndpointToken)
	last := refresh[len(refresh)-1].Form
	if last.Get("grant_type") != "refresh_token" || last.Get("resource") != e.mcp.URL() {
		t.Errorf("refresh request = %v", last)
	}
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("call with the refreshed token: HTTP %d", got)
	}
	if n := e.as.Stats().Refreshes; n != 1 {
		t.Errorf("the refreshed token was refreshed again at once: %d refreshes", n)
	}
	// The rotated refresh token was stored: a second refresh works (reusing the first would
	// revoke the whole grant).
	clock.advance(time.Hour)
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if s := e.as.Stats(); s.Refreshes != 2 || s.RefreshReuse != 0 {
		t.Errorf("stats = %+v", s)
	}
}

// TestTokenTimesOnTheBrokerClock: a token's issue and expiry times are on the broker's clock
// (Options.Now), by which it is judged fresh, whatever the wall clock says.
func TestTokenTimesOnTheBrokerClock(t *testing.T) {
	clock := newClock()
	clock.advance(24 * time.Hour)
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	cred, err := e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.now().Add(time.Hour); cred.Expiry.Before(want.Add(-time.Minute)) || cred.Expiry.After(want) {
		t.Errorf("expiry %s, want about %s (an hour on the broker's clock)", cred.Expiry, want)
	}
	if n := e.as.Stats().Refreshes; n != 0 {
		t.Errorf("a new token was refreshed: %d refreshes", n)
	}
}

func TestInvalidGrantDropsRefreshToken(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	e.as.RevokeAll()
	clock.advance(time.Hour)
	_, err := e.b.Credential(t.Context(), "demo")
	if !errors.Is(err, broker.ErrSignInRequired) || hint.Of(err) != hint.SignIn {
		t.Fatalf("err = %v, want sign-in required, with the hint to sign in", err)
	}
	for _, k := range e.store.Keys() {
		if strings.HasPrefix(k, "refresh-token/") || strings.HasPrefix(k, "oauth-token/") {
			t.Errorf("%s kept after invalid_grant", k)
		}
	}
	if st, _ := e.b.Status(); st[0].SignedIn {
		t.Errorf("status still signed in: %+v", st[0])
	}
}

func TestNoResourceOnRefreshSwitch(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{
		as:     authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now, Hostile: authserver.Hostile{RejectResourceOnRefresh: true}},
		server: config.Server{NoResourceOnRefresh: true},
	})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	clock.advance(time.Hour)
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if n := e.as.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestTokenEndpointAuthMethods(t *testing.T) {
	for _, method := range []string{"client_secret_basic", "client_secret_post", "none"} {
		t.Run("pre-registered "+method, func(t *testing.T) {
			secret := "s3cret-value"
			if method == "none" {
				secret = ""
			}
			e := newEnv(t, envOptions{
				as:     authserver.Options{AuthMethods: []string{method}, DisableDCR: true},
				server: config.Server{ClientID: "pre-" + method},
				secret: secret,
			})
			// A pre-registered client must already know its redirect URI: loopback any port.
			e.as.RegisterClient(authserver.Client{ID: "pre-" + method, Secret: secret, AuthMethod: method, RedirectURIs: loopbackAny()})
			e.mustLogin()
			tr := e.requests(authserver.EndpointToken)[0]
			if tr.AuthMethod != method {
				t.Errorf("auth method used = %q, want %q", tr.AuthMethod, method)
			}
			if e.as.Stats().Registrations != 0 {
				t.Error("a pre-registered client must not register")
			}
		})
	}
	t.Run("dynamic confidential only", func(t *testing.T) {
		e := newEnv(t, envOptions{as: authserver.Options{AuthMethods: []string{"client_secret_post"}}})
		e.mustLogin()
		if tr := e.requests(authserver.EndpointToken)[0]; tr.AuthMethod != "client_secret_post" {
			t.Errorf("auth method = %q", tr.AuthMethod)
		}
	})
}

func TestStepUp(t *testing.T) {
	e := newEnv(t, envOptions{mcp: mcpserver.Options{ChallengeScope: "mcp:read", StepUpScope: "mcp:admin"}})
	e.mustLogin()
	if got := e.callTool("admin_action"); got != http.StatusForbidden {
		t.Fatalf("admin_action before step-up: HTTP %d, want 403", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := e.b.StepUp(ctx, "demo", "tools/call admin_action", "mcp:read mcp:admin", broker.LoginOptions{})
	e.browser.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Scopes, "mcp:admin") || !slices.Contains(res.Scopes, "mcp:read") {
		t.Errorf("scopes after step-up = %v", res.Scopes)
	}
	if got := e.callTool("admin_action"); got != 200 {
		t.Fatalf("admin_action after step-up: HTTP %d", got)
	}
}

func TestStepUpGivesUp(t *testing.T) {
	// The AS does not know mcp:admin, so it can never be granted.
	e := newEnv(t, envOptions{as: authserver.Options{Scopes: []string{"mcp:read"}}, mcp: mcpserver.Options{StepUpScope: "mcp:admin"}})
	e.mustLogin()
	// The first sign-in counts: MaxStepUpAttempts authorization requests in all.
	for i := 1; i <= broker.MaxStepUpAttempts; i++ {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		_, err := e.b.StepUp(ctx, "demo", "tools/call admin_action", "mcp:admin", broker.LoginOptions{})
		cancel()
		var lim *broker.StepUpLimitError
		if errors.As(err, &lim) {
			if i != broker.MaxStepUpAttempts {
				t.Fatalf("gave up at step-up %d, want %d", i, broker.MaxStepUpAttempts)
			}
			if lim.AlreadyHeld {
				t.Fatal("AlreadyHeld for a scope the token lacks")
			}
			return
		}
		e.browser.Wait()
	}
	t.Fatal("never gave up")
}

func TestStepUpForAScopeAlreadyHeld(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{Scopes: []string{"mcp:read"}}, mcp: mcpserver.Options{Scopes: []string{"mcp:read"}}})
	if res := e.mustLogin(); !slices.Equal(res.Scopes, []string{"mcp:read"}) {
		t.Fatalf("signed in with scopes %v, want [mcp:read]", res.Scopes)
	}
	before := e.as.Stats().Authorizations
	_, err := e.b.StepUp(t.Context(), "demo", "tools/call echo", "mcp:read", broker.LoginOptions{})
	var lim *broker.StepUpLimitError
	if !errors.As(err, &lim) || !lim.AlreadyHeld {
		t.Fatalf("err = %v, want a StepUpLimitError with AlreadyHeld", err)
	}
	if got := e.as.Stats().Authorizations; got != before {
		t.Fatalf("%d new authorization requests, want none", got-before)
	}
}

func TestISSParameter(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{ISSParameter: true}})
	e.mustLogin()
}

func TestLegacyServers(t *testing.T) {
	t.Run("2025-03-26 metadata at the base URL", func(t *testing.T) {
		e := newEnv(t, envOptions{sameOrigin: true, mcp: mcpserver.Options{PRM: mcpserver.PRMNone, AuthServers: []string{}}})
		e.mustLogin()
		if got := e.callTool("echo"); got != 200 {
			t.Fatalf("HTTP %d", got)
		}
	})
	t.Run("2025-03-26 default endpoints", func(t *testing.T) {
		e := newEnv(t, envOptions{sameOrigin: true, as: authserver.Options{NoMetadata: true}, mcp: mcpserver.Options{PRM: mcpserver.PRMNone, AuthServers: []string{}}})
		e.mustLogin()
		if e.as.Stats().Registrations != 1 {
			t.Error("expected registration at the default /register")
		}
	})
}

func TestTenantIssuer(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{Issuer: "/tenant1"}})
	e.mustLogin()
}

func TestHostileServers(t *testing.T) {
	tests := []struct {
		name string
		o    envOptions
		want string // part of the error message
	}{
		{"PRM resource for another server", envOptions{mcp: mcpserver.Options{WrongResource: true}}, "names resource"},
		{"issuer mismatch", envOptions{as: authserver.Options{Hostile: authserver.Hostile{IssuerMismatch: true}}}, "issuer"},
		{"no S256", envOptions{as: authserver.Options{Hostile: authserver.Hostile{NoS256: true}}}, "S256"},
		{"no PKCE metadata", envOptions{as: authserver.Options{Hostile: authserver.Hostile{NoPKCEMetadata: true}}}, "S256"},
		{"non-https endpoint", envOptions{as: authserver.Options{Hostile: authserver.Hostile{InsecureTokenEndpoint: true}}}, "token_endpoint"},
		{"javascript: authorization URL", envOptions{as: authserver.Options{Hostile: authserver.Hostile{JavascriptAuthorize: true}}}, "authorization_endpoint"},
		{"wrong iss", envOptions{as: authserver.Options{ISSParameter: true, Hostile: authserver.Hostile{WrongISS: true}}}, "iss mismatch"},
		{"wrong iss, not advertised", envOptions{as: authserver.Options{Hostile: authserver.Hostile{WrongISS: true}}}, "iss mismatch"},
		{"error redirect", envOptions{as: authserver.Options{Hostile: authserver.Hostile{ErrorRedirect: true}}}, "access_denied"},
		{"no access_token", envOptions{as: authserver.Options{Hostile: authserver.Hostile{NoAccessToken: true}}}, "without an access_token"},
		{"huge metadata", envOptions{as: authserver.Options{Hostile: authserver.Hostile{HugeMetadata: true}}}, "larger than"},
		{"cross-origin redirect", envOptions{as: authserver.Options{Hostile: authserver.Hostile{CrossOriginRedirect: "http://127.0.0.2:9"}}}, "redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.o)
			_, err := e.login(broker.LoginOptions{})
			if err == nil {
				t.Fatal("sign-in succeeded against a hostile server")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			e.assertNothingStored()
			for _, secret := range tokensIn(e) {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret")
				}
			}
		})
	}
}

// tokensIn lists secret values that must never appear in output.
func tokensIn(e *env) []string {
	var out []string
	for _, k := range e.store.Keys() {
		v, _ := e.store.Get(context.Background(), k)
		out = append(out, v)
	}
	return out
}

func TestClientCredentials(t *testing.T) {
	t.Run("pre-registered", func(t *testing.T) {
		e := newEnv(t, envOptions{
			as:     authserver.Options{ClientCredentials: true},
			server: config.Server{Auth: config.AuthClientCredentials, ClientID: "bot"},
			secret: "bot-secret",
		})
		e.as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})
		e.mustLogin()
		if got := e.callTool("whoami"); got != 200 {
			t.Fatalf("HTTP %d", got)
		}
		if e.as.Stats().ClientCredentialsGrants != 1 || len(e.browser.URLs()) != 0 {
			t.Errorf("stats = %+v, browser opened %v", e.as.Stats(), e.browser.URLs())
		}
	})
	t.Run("dynamically registered", func(t *testing.T) {
		clock := newClock()
		e := newEnv(t, envOptions{
			as:     authserver.Options{ClientCredentials: true, AccessTokenTTL: time.Hour, Now: clock.now},
			server: config.Server{Auth: config.AuthClientCredentials},
		})
		e.b = e.brokerWithClock(clock)
		// No explicit login: the first credential request gets a token by itself.
		if got := e.callTool("echo"); got != 200 {
			t.Fatalf("HTTP %d", got)
		}
		clock.advance(time.Hour)
		if got := e.callTool("echo"); got != 200 {
			t.Fatalf("after expiry: HTTP %d", got)
		}
		if s := e.as.Stats(); s.Registrations != 1 || s.ClientCredentialsGrants != 2 {
			t.Errorf("stats = %+v", s)
		}
	})
}

func TestBearerAndNone(t *testing.T) {
	e := newEnv(t, envOptions{server: config.Server{Auth: config.AuthBearer, Header: "X-API-Key"}, secret: "api-key-value"})
	cred, err := e.b.Credential(t.Context(), "demo")
	if err != nil || cred.Header != "X-API-Key" || cred.Value != "api-key-value" {
		t.Fatalf("cred = %+v, err = %v", cred, err)
	}
	if _, err := e.login(broker.LoginOptions{}); err == nil {
		t.Error("login of a bearer server must explain there is nothing to sign in to")
	}
	if _, err := e.b.Logout(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("after logout: %v", err)
	}
}

func TestLogoutAndRemove(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	if _, err := e.b.Logout(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("after logout: %v", err)
	}
	// The registration survives logout.
	e.mustLogin()
	if e.as.Stats().Registrations != 1 {
		t.Error("logout must keep the registration")
	}
	if err := e.b.RemoveServer(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if keys := e.store.Keys(); len(keys) != 0 {
		t.Errorf("secrets left after remove: %v", keys)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); err == nil {
		t.Error("credential for a removed server")
	}
	data, _ := os.ReadFile(e.config)
	var f config.File
	_ = json.Unmarshal(data, &f)
	if len(f.Servers) != 0 {
		t.Errorf("config still lists %v", f.Servers)
	}
}

// loopbackAny is a redirect URI registration that, per RFC 8252 §7.3, matches a loopback
// redirect URI on any port.
func loopbackAny() []string { return []string{"http://127.0.0.1/callback"} }

func TestRefreshAfterRejection(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	old, err := e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	// The server revoked the grant's access token early, e.g. after a restart.
	fresh, err := e.b.Refresh(t.Context(), "demo", old.Value)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Value == old.Value || e.as.Stats().Refreshes != 1 {
		t.Fatalf("no new token (refreshes = %d)", e.as.Stats().Refreshes)
	}
	// A second report of the same rejected token (another request of the same burst) reuses
	// the new token instead of spending the refresh token again.
	again, err := e.b.Refresh(t.Context(), "demo", old.Value)
	if err != nil || again.Value != fresh.Value || e.as.Stats().Refreshes != 1 {
		t.Errorf("second refresh: %v, refreshes = %d", err, e.as.Stats().Refreshes)
	}
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("HTTP %d", got)
	}
}

// blockingOpener opens the URL in a browser that follows it, and then, like a text browser
// run in the terminal, returns only when it is told to stop.
type blockingOpener struct{ browser *opener.Browser }

func (o blockingOpener) Open(ctx context.Context, url string) error {
	if err := o.browser.Open(ctx, url); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestSignInWithABrowserThatBlocks(t *testing.T) {
	e := newEnv(t, envOptions{})
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: blockingOpener{e.browser}, Prompt: e.prompt, SignInTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := b.Login(ctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatalf("login: %v", err)
	}
	e.browser.Wait()
	if strings.Contains(e.prompt.String(), "Could not open") {
		t.Errorf("the opener's return at the end of the sign-in was reported as a failure:\n%s", e.prompt)
	}
}
