package broker_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/provider"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// The provider profiles against the in-repo authorization server over real HTTP on 127.0.0.1,
// each provider's rule switched on in it (authserver.Mimic): a profile that sent the wrong thing
// would be refused, or would get no refresh token, as at the real provider. Profiles the issuer
// does not reveal on 127.0.0.1 are named with the server's Provider setting; detection from the
// issuer's path is tested with Keycloak's.

// providerEnv is an env whose authorization server's options may depend on the MCP server's URL
// (Entra ID names scopes by it): as gets that URL; the MCP server lists mcp:read. srv is the
// server "demo" as configured (its Name, URL and Auth are filled in), secret its client secret.
func providerEnv(t *testing.T, as func(mcpURL string) authserver.Options, srv config.Server, secret string) *env {
	t.Helper()
	ln, err := authserver.ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	mcpURL := "http://" + ln.Addr().String() + mcpserver.PathMCP
	opts := as(mcpURL)
	opts.AutoApprove = true
	e := &env{t: t, store: secrets.NewMemory(), prompt: &bytes.Buffer{}, browser: &opener.Browser{}}
	e.as = authserver.New(opts)
	if _, err := e.as.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.as.Close() })
	e.mcp = mcpserver.New(mcpserver.Options{Verifier: e.as, AuthServers: []string{e.as.Issuer()}, Scopes: []string{"mcp:read"}})
	if _, err := e.mcp.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.mcp.Close() })
	e.config = filepath.Join(t.TempDir(), "config.json")
	if e.b, err = broker.New(broker.Options{ConfigPath: e.config, Secrets: e.store, Opener: e.browser, Prompt: e.prompt, SignInTimeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	srv.Name, srv.URL, srv.Auth = "demo", mcpURL, config.AuthOAuth
	if err := e.b.AddServer(t.Context(), srv, secret); err != nil {
		t.Fatal(err)
	}
	return e
}

// preRegistered registers the public client "app" (any loopback port) with the server.
func (e *env) preRegistered(secret string) {
	e.as.RegisterClient(authserver.Client{ID: "app", Secret: secret, RedirectURIs: []string{"http://127.0.0.1/callback"}})
}

// authorization returns the one authorization request the server received.
func (e *env) authorization() authserver.Request {
	e.t.Helper()
	az := e.requests(authserver.EndpointAuthorize)
	if len(az) != 1 {
		e.t.Fatalf("%d authorization requests, want 1", len(az))
	}
	return az[0]
}

// refreshNow refreshes the stored token as a bridge does after a 401, and returns the refresh
// request the authorization server received.
func (e *env) refreshNow() authserver.Request {
	e.t.Helper()
	cred, err := e.b.Credential(e.t.Context(), "demo")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.b.Refresh(e.t.Context(), "demo", cred.Value); err != nil {
		e.t.Fatalf("refresh: %v", err)
	}
	tr := e.requests(authserver.EndpointToken)
	last := tr[len(tr)-1]
	if last.Form.Get("grant_type") != "refresh_token" {
		e.t.Fatalf("the last token request is a %s grant", last.Form.Get("grant_type"))
	}
	return last
}

// refreshToken reports whether a refresh token is stored for demo.
func (e *env) refreshToken() bool {
	e.t.Helper()
	_, rt, err := e.b.GrantForTest(e.t.Context(), "demo")
	if err != nil {
		e.t.Fatal(err)
	}
	return rt != ""
}

// openIDProvider is an OpenID provider that issues a refresh token only for offline_access
// asked with prompt=consent (OpenID Connect Core §11).
func openIDProvider(string) authserver.Options {
	return authserver.Options{OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
		Mimic: authserver.Mimic{RefreshNeedsOfflineAccess: true, OfflineAccessNeedsConsent: true}}
}

// TestRefreshTokenFromOpenIDProvider: from an OpenID provider the sign-in asks for
// offline_access with prompt=consent, and gets a refresh token; a plain OAuth server is asked
// for offline_access alone. When a sign-in brings none (a prompt of the user's own replaced
// consent), the result and the status say so.
func TestRefreshTokenFromOpenIDProvider(t *testing.T) {
	e := providerEnv(t, openIDProvider, config.Server{}, "")
	res := e.mustLogin()
	az := e.authorization().Form
	if az.Get("scope") != "mcp:read offline_access" || az.Get("prompt") != "consent" {
		t.Errorf("authorization request: scope %q, prompt %q", az.Get("scope"), az.Get("prompt"))
	}
	if !e.refreshToken() || res.NoRefreshToken || res.State != broker.StateSignedIn {
		t.Errorf("refresh token stored %v, result %+v", e.refreshToken(), res)
	}
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("tools/call: HTTP %d", got)
	}

	t.Run("plain OAuth: no prompt", func(t *testing.T) {
		e := providerEnv(t, func(string) authserver.Options { return authserver.Options{} }, config.Server{}, "")
		e.mustLogin()
		if az := e.authorization().Form; az.Get("scope") != "mcp:read offline_access" || az.Has("prompt") {
			t.Errorf("authorization request: %v", az)
		}
	})
	t.Run("none given: said", func(t *testing.T) {
		e := providerEnv(t, openIDProvider, config.Server{AuthParams: map[string]string{"prompt": "login"}}, "")
		res := e.mustLogin()
		if az := e.authorization().Form; az.Get("prompt") != "login" {
			t.Errorf("prompt = %q, want the configured login", az.Get("prompt"))
		}
		if e.refreshToken() || !res.NoRefreshToken || res.State != broker.StateSignedInNoRefresh {
			t.Errorf("refresh token stored %v, result %+v", e.refreshToken(), res)
		}
		st, err := e.b.Status()
		if err != nil || !st[0].SignedIn || st[0].State != broker.StateSignedInNoRefresh {
			t.Errorf("status = %+v (%v)", st, err)
		}
	})
}

// TestEntraIDProfile: Entra ID v2 refuses resource beside scopes (AADSTS9010010), names scopes
// by the API's application ID URI, registers no clients and advertises no PKCE: the profile
// signs in with qualified scopes and no resource, on every request, refresh included.
func TestEntraIDProfile(t *testing.T) {
	entra := func(mcpURL string) authserver.Options {
		return authserver.Options{DisableDCR: true, OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
			Hostile: authserver.Hostile{NoPKCEMetadata: true},
			Mimic:   authserver.Mimic{EntraScopes: mcpURL, RefreshNeedsOfflineAccess: true}}
	}
	e := providerEnv(t, entra, config.Server{Provider: provider.Entra, ClientID: "app"}, "")
	e.preRegistered("")
	e.mustLogin()
	az := e.authorization().Form
	if want := e.mcp.URL() + "/mcp:read offline_access"; az.Get("scope") != want || az.Has("resource") || az.Has("prompt") {
		t.Errorf("authorization request: scope %q (want %q), resource %v, prompt %q", az.Get("scope"), want, az.Has("resource"), az.Get("prompt"))
	}
	if !e.refreshToken() {
		t.Error("no refresh token")
	}
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("tools/call: HTTP %d", got)
	}
	if r := e.refreshNow(); r.Form.Has("resource") {
		t.Errorf("refresh request with resource: %v", r.Form)
	}
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("tools/call after the refresh: HTTP %d", got)
	}

	t.Run("fixed scopes win", func(t *testing.T) {
		e := providerEnv(t, entra, config.Server{Provider: provider.Entra, ClientID: "app", Scopes: []string{"MCP/.default"}}, "")
		e.preRegistered("")
		_, _ = e.login(broker.LoginOptions{})
		if got := e.authorization().Form.Get("scope"); got != "MCP/.default offline_access" {
			t.Errorf("scope = %q, want the configured one as given", got)
		}
	})
	t.Run("detection off: refused", func(t *testing.T) {
		e := providerEnv(t, entra, config.Server{Provider: provider.None, ClientID: "app"}, "")
		e.preRegistered("")
		if _, err := e.login(broker.LoginOptions{}); err == nil || !strings.Contains(err.Error(), "S256") {
			t.Errorf("login without the profile: %v, want the missing PKCE refused", err)
		}
	})
	t.Run("without the profile's scopes: AADSTS9010010", func(t *testing.T) {
		// PKCE declared, so that only the resource indicator beside the scopes is wrong.
		declared := func(string) authserver.Options {
			o := entra("api://mcp-demo")
			o.Hostile.NoPKCEMetadata = false
			return o
		}
		e := providerEnv(t, declared, config.Server{Provider: provider.None, ClientID: "app", Scopes: []string{"api://mcp-demo/mcp:read"}}, "")
		e.preRegistered("")
		if _, err := e.login(broker.LoginOptions{}); err == nil || !strings.Contains(err.Error(), "AADSTS9010010") {
			t.Errorf("login: %v, want resource beside scopes refused", err)
		}
		e.assertNothingStored()
	})
}

// TestAuth0Profile: Auth0 binds a token to its audience parameter, and one asked for without it
// to /userinfo: the profile sends audience instead of resource.
func TestAuth0Profile(t *testing.T) {
	auth0 := func(string) authserver.Options {
		return authserver.Options{OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
			Mimic: authserver.Mimic{Audience: true, RefreshNeedsOfflineAccess: true}}
	}
	e := providerEnv(t, auth0, config.Server{Provider: provider.Auth0}, "")
	e.mustLogin()
	az := e.authorization().Form
	if az.Get("audience") != e.mcp.URL() || az.Has("resource") || az.Get("scope") != "mcp:read offline_access" || az.Has("prompt") {
		t.Errorf("authorization request: %v", az)
	}
	for _, r := range e.requests(authserver.EndpointToken) {
		if r.Form.Has("resource") {
			t.Errorf("token request with resource: %v", r.Form)
		}
	}
	if !e.refreshToken() {
		t.Error("no refresh token")
	}
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("tools/call: HTTP %d", got)
	}
	t.Run("detection off: refused", func(t *testing.T) {
		e := providerEnv(t, auth0, config.Server{Provider: provider.None}, "")
		// The code is bound to /userinfo, not to the resource the token request names.
		if _, err := e.login(broker.LoginOptions{}); err == nil || !strings.Contains(err.Error(), "invalid_target") {
			t.Errorf("login: %v, want a sign-in with resource and no audience refused", err)
		}
	})
}

// TestGoogleProfile: Google registers no clients (a clear error says what to register, before
// anything is tried), and gives a refresh token only for access_type=offline with
// prompt=consent.
func TestGoogleProfile(t *testing.T) {
	google := func(string) authserver.Options {
		return authserver.Options{DisableDCR: true, OpenID: true, Scopes: []string{"openid", "email", "mcp:read"},
			Mimic: authserver.Mimic{GoogleOffline: true}}
	}
	e := providerEnv(t, google, config.Server{Provider: provider.Google}, "")
	_, err := e.login(broker.LoginOptions{})
	if err == nil || hint.Of(err) != hint.PreRegisteredClient || !strings.Contains(err.Error(), "Google") || !strings.Contains(err.Error(), "Desktop app") {
		t.Errorf("login without a client: %v (hint %v)", err, hint.Of(err))
	}
	if n := len(e.requests(authserver.EndpointAuthorize)); n != 0 {
		t.Errorf("%d authorization requests without a client", n)
	}

	e = providerEnv(t, google, config.Server{Provider: provider.Google, ClientID: "app"}, "app-secret")
	e.preRegistered("app-secret")
	res := e.mustLogin()
	az := e.authorization().Form
	if az.Get("access_type") != "offline" || az.Get("prompt") != "consent" || az.Get("scope") != "mcp:read" {
		t.Errorf("authorization request: %v", az)
	}
	if !e.refreshToken() || res.NoRefreshToken {
		t.Errorf("refresh token stored %v, result %+v", e.refreshToken(), res)
	}
	t.Run("detection off: no refresh token, said", func(t *testing.T) {
		e := providerEnv(t, google, config.Server{Provider: provider.None, ClientID: "app"}, "app-secret")
		e.preRegistered("app-secret")
		if res := e.mustLogin(); !res.NoRefreshToken || e.refreshToken() {
			t.Errorf("result %+v, refresh token stored %v", res, e.refreshToken())
		}
	})
}

// TestOktaProfile: Okta's registration endpoint takes only requests with an API token: the
// profile asks for a pre-registered client instead of trying; with one, offline_access brings
// the refresh token. The custom authorization server's path is its issuer's.
func TestOktaProfile(t *testing.T) {
	okta := func(string) authserver.Options {
		return authserver.Options{Issuer: "/oauth2/default", OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
			Mimic: authserver.Mimic{RegistrationNeedsToken: true, RefreshNeedsOfflineAccess: true}}
	}
	e := providerEnv(t, okta, config.Server{Provider: provider.Okta}, "")
	if _, err := e.login(broker.LoginOptions{}); err == nil || hint.Of(err) != hint.PreRegisteredClient || !strings.Contains(err.Error(), "Okta") {
		t.Errorf("login without a client: %v", err)
	}
	if n := len(e.requests(authserver.EndpointRegister)); n != 0 {
		t.Errorf("%d registration requests", n)
	}
	t.Run("detection off: registration refused", func(t *testing.T) {
		e := providerEnv(t, okta, config.Server{Provider: provider.None}, "")
		if _, err := e.login(broker.LoginOptions{}); err == nil || len(e.requests(authserver.EndpointRegister)) != 1 {
			t.Errorf("login: %v, %d registration requests", err, len(e.requests(authserver.EndpointRegister)))
		}
	})
	e = providerEnv(t, okta, config.Server{Provider: provider.Okta, ClientID: "app"}, "")
	e.preRegistered("")
	e.mustLogin()
	if az := e.authorization().Form; az.Get("scope") != "mcp:read offline_access" || az.Has("prompt") {
		t.Errorf("authorization request: %v", az)
	}
	if !e.refreshToken() {
		t.Error("no refresh token")
	}
}

// TestCognitoSendsTheIDToken: a server configured to be sent the ID token (--send-token id)
// gets it, renewed by the refresh; the sign-in asks for openid for it, and Cognito's PKCE,
// undeclared in its metadata, is used.
func TestCognitoSendsTheIDToken(t *testing.T) {
	cognito := func(string) authserver.Options {
		return authserver.Options{DisableDCR: true, OpenID: true, Scopes: []string{"openid", "email", "mcp:read"},
			Hostile: authserver.Hostile{NoPKCEMetadata: true}}
	}
	e := providerEnv(t, cognito, config.Server{Provider: provider.Cognito, ClientID: "app", SendToken: provider.TokenID}, "")
	e.preRegistered("")
	e.mustLogin()
	if az := e.authorization().Form; az.Get("scope") != "openid mcp:read" {
		t.Errorf("scope = %q", az.Get("scope"))
	}
	access, _, err := e.b.GrantForTest(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	idToken := func() string {
		t.Helper()
		cred, err := e.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		tok, ok := strings.CutPrefix(cred.Value, "Bearer ")
		if !ok || tok == access {
			t.Fatalf("the credential is not the ID token")
		}
		claims, err := oauth.ParseIDToken(tok)
		if err != nil || claims.Issuer != e.as.Issuer() || len(claims.Audience) != 1 || claims.Audience[0] != "app" {
			t.Fatalf("the credential is not the ID token: %+v (%v)", claims, err)
		}
		return tok
	}
	first := idToken()
	e.refreshNow()
	if idToken() == first {
		t.Error("the refresh did not renew the ID token")
	}

	t.Run("the access token by default", func(t *testing.T) {
		e := providerEnv(t, cognito, config.Server{Provider: provider.Cognito, ClientID: "app"}, "")
		e.preRegistered("")
		e.mustLogin()
		if got := e.callTool("echo"); got != 200 {
			t.Errorf("tools/call: HTTP %d", got)
		}
	})
}

// TestKeycloakDetectedFromTheIssuer: a realm's issuer path (/realms/NAME) is enough to detect
// Keycloak, whose refresh tokens come for offline_access without a consent prompt; with
// detection off, the same server is asked as any OpenID provider is.
func TestKeycloakDetectedFromTheIssuer(t *testing.T) {
	keycloak := func(string) authserver.Options {
		return authserver.Options{Issuer: "/realms/demo", OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
			Mimic: authserver.Mimic{RefreshNeedsOfflineAccess: true}}
	}
	e := providerEnv(t, keycloak, config.Server{}, "")
	e.mustLogin()
	if az := e.authorization().Form; az.Get("scope") != "mcp:read offline_access" || az.Has("prompt") {
		t.Errorf("authorization request: %v", az)
	}
	if !e.refreshToken() {
		t.Error("no refresh token")
	}
	e = providerEnv(t, keycloak, config.Server{Provider: provider.None}, "")
	e.mustLogin()
	if az := e.authorization().Form; az.Get("prompt") != "consent" {
		t.Errorf("detection off: authorization request %v, want prompt=consent", az)
	}
}

// TestEscapeHatches: a server's own settings reach the requests: extra authorization
// parameters, and no resource indicator on any request, refresh included.
func TestEscapeHatches(t *testing.T) {
	plain := func(string) authserver.Options { return authserver.Options{} }
	e := providerEnv(t, plain, config.Server{NoResource: true, AuthParams: map[string]string{"login_hint": "ada@example.com", "hd": "example.com"}}, "")
	e.mustLogin()
	az := e.authorization().Form
	if az.Get("login_hint") != "ada@example.com" || az.Get("hd") != "example.com" || az.Has("resource") {
		t.Errorf("authorization request: %v", az)
	}
	e.refreshNow()
	for _, r := range e.requests(authserver.EndpointToken) {
		if r.Form.Has("resource") {
			t.Errorf("%s request with resource", r.Form.Get("grant_type"))
		}
	}
	// The grant is still filed under the server's URL: it is handed out for it.
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Errorf("credential: %v", err)
	}

	// The sign-in's own parameters cannot be replaced.
	err := e.b.AddServer(context.Background(), config.Server{Name: "x", URL: e.mcp.URL(), AuthParams: map[string]string{"redirect_uri": "https://evil.example"}}, "")
	var invalid *config.InvalidServerError
	if !errors.As(err, &invalid) {
		t.Errorf("an auth param naming redirect_uri: %v", err)
	}
}
