package broker_test

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// The tests of this file sign in, over HTTP on 127.0.0.1, to the demo authorization server
// bent the ways hand-written servers bend the rules (authserver.Deviations), and check that
// sign-in works where it can, that status says what was tolerated, and that what cannot be
// handled fails with an error that says why.

// status returns the status of the env's server.
func (e *env) status() broker.ServerStatus {
	e.t.Helper()
	st, err := e.b.Status()
	if err != nil || len(st) != 1 {
		e.t.Fatalf("status = %+v, %v", st, err)
	}
	return st[0]
}

// contentTypes lists the Content-Type of each request to one endpoint of the env's
// authorization server.
func (e *env) contentTypes(endpoint string) []string {
	var out []string
	for _, r := range e.requests(endpoint) {
		out = append(out, r.Header.Get("Content-Type"))
	}
	return out
}

const (
	form     = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// TestJSONOnlyTokenEndpoint: a token endpoint that reads only JSON refuses the code exchange
// as a form; the broker sends it again as JSON, signs in, and from then on sends JSON at once:
// the refresh, a second process's requests, the revocation at sign-out (whose endpoint teaches
// the same).
func TestJSONOnlyTokenEndpoint(t *testing.T) {
	for _, refusal := range []authserver.JSONRefusal{authserver.RefuseUnsupportedMediaType, authserver.RefuseAsIfEmpty} {
		t.Run(strconv.Itoa(int(refusal)), func(t *testing.T) {
			clock := newClock()
			e := newEnv(t, envOptions{as: authserver.Options{Now: clock.now, Deviations: authserver.Deviations{JSONBodies: refusal}}})
			e.b = e.brokerWithClock(clock)
			e.mustLogin()
			if got := e.contentTypes(authserver.EndpointToken); !slices.Equal(got, []string{form, jsonType}) {
				t.Fatalf("token requests %v, want the form refused, then JSON", got)
			}
			if got := e.callTool("echo"); got != http.StatusOK {
				t.Fatalf("tools/call: HTTP %d", got)
			}
			if st := e.status(); !slices.Contains(st.Deviations, oauth.DeviationJSONBody) {
				t.Errorf("status deviations %v, want %s", st.Deviations, oauth.DeviationJSONBody)
			}

			// Another process, on the same configuration, refreshes as JSON at once.
			clock.advance(2 * time.Hour)
			other := e.brokerWithClock(clock)
			if _, err := other.Credential(t.Context(), "demo"); err != nil {
				t.Fatal(err)
			}
			if got := e.contentTypes(authserver.EndpointToken); !slices.Equal(got, []string{form, jsonType, jsonType}) || e.as.Stats().Refreshes != 1 {
				t.Errorf("token requests %v (%d refreshes), want the refresh sent as JSON at once", got, e.as.Stats().Refreshes)
			}

			res, err := e.b.Logout(t.Context(), "demo")
			if err != nil || !res.Revoked {
				t.Fatalf("logout = %+v, %v: want the grant revoked", res, err)
			}
			if got := e.contentTypes(authserver.EndpointRevoke); got[len(got)-1] != jsonType {
				t.Errorf("revocation requests %v, want the last as JSON", got)
			}
		})
	}
}

// TestTokenResponseDeviations: expires_in as a string, and token_type in lower case or
// missing, are read; the token goes out as "Bearer"; status lists what was tolerated.
func TestTokenResponseDeviations(t *testing.T) {
	tests := []struct {
		name string
		d    authserver.Deviations
		want []oauth.Deviation
	}{
		{"expires_in as a string", authserver.Deviations{ExpiresInString: true}, []oauth.Deviation{oauth.DeviationExpiresInString}},
		{"token_type in lower case", authserver.Deviations{LowerCaseTokenType: true}, []oauth.Deviation{oauth.DeviationTokenTypeCase}},
		{"no token_type", authserver.Deviations{NoTokenType: true}, []oauth.Deviation{oauth.DeviationNoTokenType}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{as: authserver.Options{Deviations: tt.d}})
			e.mustLogin()
			cred, err := e.b.Credential(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cred.Value, "Bearer ") {
				t.Errorf("credential scheme %q, want Bearer", strings.Fields(cred.Value)[0])
			}
			if d := time.Until(cred.Expiry); d < 59*time.Minute || d > time.Hour {
				t.Errorf("expires in %v, want the hour the server gave", d)
			}
			if got := e.callTool("echo"); got != http.StatusOK {
				t.Fatalf("tools/call: HTTP %d", got)
			}
			st := e.status()
			if !slices.Equal(st.Deviations, tt.want) || st.ExpiryAssumed {
				t.Errorf("status deviations %v (expiry assumed %v), want %v", st.Deviations, st.ExpiryAssumed, tt.want)
			}
		})
	}
}

// TestNoExpiresIn: a token that came without expires_in and renews without a person gets an
// assumed lifetime, which status says is assumed; when the server refuses it sooner, it is
// renewed then. One that only a sign-in can replace gets none, and is used until refused.
func TestNoExpiresIn(t *testing.T) {
	t.Run("with a refresh token", func(t *testing.T) {
		clock := newClock()
		// The server's tokens live ten minutes; it does not say so.
		e := newEnv(t, envOptions{as: authserver.Options{Now: clock.now, AccessTokenTTL: 10 * time.Minute, Deviations: authserver.Deviations{NoExpiresIn: true}}})
		e.b = e.brokerWithClock(clock)
		e.mustLogin()
		st := e.status()
		if !st.ExpiryAssumed || st.Expiry == nil || !slices.Contains(st.Deviations, oauth.DeviationNoExpiresIn) {
			t.Fatalf("status %+v, want an assumed expiry and the deviation", st)
		}
		if d := st.Expiry.Sub(clock.now()); d < 59*time.Minute || d > time.Hour+time.Minute {
			t.Errorf("assumed expiry in %v, want an hour", d)
		}
		clock.advance(15 * time.Minute)
		cred, err := e.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if got := mcpPost(t, e.mcp.URL(), cred, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); got != http.StatusUnauthorized {
			t.Fatalf("the expired token got HTTP %d, want 401: the test proves nothing", got)
		}
		// What a bridge does on a 401: renew, without a person.
		renewed, err := e.b.Refresh(t.Context(), "demo", cred.Value)
		if err != nil {
			t.Fatal(err)
		}
		if got := mcpPost(t, e.mcp.URL(), renewed, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); got != http.StatusOK || e.as.Stats().Refreshes != 1 {
			t.Errorf("after the renewal: HTTP %d, %d refreshes", got, e.as.Stats().Refreshes)
		}
		// The assumed hour ends: renewed ahead of it, as any token.
		clock.advance(time.Hour)
		if _, err := e.b.Credential(t.Context(), "demo"); err != nil || e.as.Stats().Refreshes != 2 {
			t.Errorf("credential = %v, %d refreshes, want one more at the assumed expiry", err, e.as.Stats().Refreshes)
		}
	})
	t.Run("client credentials", func(t *testing.T) {
		e := newEnv(t, envOptions{
			as:     authserver.Options{ClientCredentials: true, Deviations: authserver.Deviations{NoExpiresIn: true}},
			server: config.Server{Auth: config.AuthClientCredentials},
		})
		if got := e.callTool("echo"); got != http.StatusOK {
			t.Fatalf("HTTP %d", got)
		}
		if st := e.status(); !st.ExpiryAssumed || st.Expiry == nil {
			t.Errorf("status %+v, want an assumed expiry", st)
		}
	})
	t.Run("without a refresh token", func(t *testing.T) {
		clock := newClock()
		e := newEnv(t, envOptions{as: authserver.Options{Now: clock.now, NoRefreshTokens: true, Deviations: authserver.Deviations{NoExpiresIn: true}}})
		e.b = e.brokerWithClock(clock)
		e.mustLogin()
		st := e.status()
		if st.ExpiryAssumed || st.Expiry != nil || !st.SignedIn || !slices.Contains(st.Deviations, oauth.DeviationNoExpiresIn) {
			t.Fatalf("status %+v, want no expiry, signed in, and the deviation", st)
		}
		// Hours later the token is still handed out: only the server can say it is dead.
		clock.advance(3 * time.Hour)
		cred, err := e.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.Refresh(t.Context(), "demo", cred.Value); !errors.Is(err, broker.ErrSignInRequired) {
			t.Errorf("refresh of the refused token = %v, want sign-in required", err)
		}
	})
}

// TestRegistrationDeviations: a registration answered 200, or without redirect_uris, is used.
func TestRegistrationDeviations(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{Deviations: authserver.Deviations{Registration200: true, OmitRedirectURIs: true}}})
	e.mustLogin()
	if got := e.callTool("echo"); got != http.StatusOK {
		t.Fatalf("tools/call: HTTP %d", got)
	}
	want := []oauth.Deviation{oauth.DeviationRegistration200, oauth.DeviationNoRedirectURIs}
	slices.Sort(want)
	if st := e.status(); !slices.Equal(st.Deviations, want) {
		t.Errorf("status deviations %v, want %v", st.Deviations, want)
	}
	// A second sign-in reuses the client, and status still knows how it was registered.
	e.mustLogin()
	if st := e.status(); e.as.Stats().Registrations != 1 || !slices.Equal(st.Deviations, want) {
		t.Errorf("after a second sign-in: %d registrations, deviations %v", e.as.Stats().Registrations, st.Deviations)
	}
}

// freeLoopbackPort returns a port free on 127.0.0.1 a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRegistrationWithRedirectURIsOfItsOwn: a registration endpoint that ignores the redirect
// URI asked for and registers its own is never sent ours. When its own is a loopback URI, the
// sign-in is received there, now and at the next sign-in; when none is, sign-in is refused
// before the browser opens, with nothing stored.
func TestRegistrationWithRedirectURIsOfItsOwn(t *testing.T) {
	t.Run("a loopback redirect URI", func(t *testing.T) {
		theirs := "http://127.0.0.1:" + strconv.Itoa(freeLoopbackPort(t)) + "/oauth/return"
		e := newEnv(t, envOptions{as: authserver.Options{Deviations: authserver.Deviations{RedirectURIs: []string{theirs}}}})
		e.mustLogin()
		e.mustLogin()
		for i, az := range e.requests(authserver.EndpointAuthorize) {
			if got := az.Form.Get("redirect_uri"); got != theirs {
				t.Errorf("authorization request %d: redirect_uri %q, want the registered %q", i, got, theirs)
			}
		}
		if got := e.callTool("echo"); got != http.StatusOK || e.as.Stats().Registrations != 1 {
			t.Errorf("tools/call: HTTP %d after %d registrations", got, e.as.Stats().Registrations)
		}
		if st := e.status(); !slices.Contains(st.Deviations, oauth.DeviationOtherRedirectURI) || st.Client.RedirectURI != theirs {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("no loopback redirect URI", func(t *testing.T) {
		e := newEnv(t, envOptions{as: authserver.Options{Deviations: authserver.Deviations{RedirectURIs: []string{"https://app.example.com/callback"}}}})
		_, err := e.login(broker.LoginOptions{})
		var refused *oauth.RedirectURIsError
		if !errors.As(err, &refused) || hint.Of(err) != hint.ClientID || !strings.Contains(err.Error(), "https://app.example.com/callback") {
			t.Fatalf("login = %v (hint %v), want a RedirectURIsError naming their URI, with the hint to pass a client id", err, hint.Of(err))
		}
		if n := len(e.browser.URLs()); n != 0 {
			t.Errorf("the browser was opened %d times", n)
		}
		e.assertNothingStored()
	})
}

// TestIssuerWithATrailingSlash: an authorization server whose metadata names its issuer with a
// trailing slash the resource metadata's lacks is used; its own issuer, slash included, is the
// one recorded, so the iss of its redirects matches exactly.
func TestIssuerWithATrailingSlash(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{ISSParameter: true, Deviations: authserver.Deviations{IssuerTrailingSlash: true}}})
	res := e.mustLogin()
	if want := e.as.Issuer() + "/"; res.Issuer != want {
		t.Errorf("issuer %q, want the metadata's %q", res.Issuer, want)
	}
	if got := e.callTool("echo"); got != http.StatusOK {
		t.Fatalf("tools/call: HTTP %d", got)
	}
}

// TestStubAuthorizationEndpoint: an authorization server for machines whose authorization
// endpoint is only a stub. The browser sign-in never comes back; the error says the endpoint
// is a stub and offers the client-credentials grant the server supports, which then works.
// Without that grant the time-out is only a time-out.
func TestStubAuthorizationEndpoint(t *testing.T) {
	const timeout = 2 * time.Second
	short := func(e *env) *broker.Broker {
		b, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: e.store, Opener: e.browser, Prompt: e.prompt, SignInTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, status := range []int{http.StatusNotFound, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			e := newEnv(t, envOptions{as: authserver.Options{ClientCredentials: true, Deviations: authserver.Deviations{StubAuthorize: status}}})
			_, err := short(e).Login(t.Context(), "demo", broker.LoginOptions{})
			visits := e.browser.Wait()
			if len(visits) != 1 || visits[0].Status != status {
				t.Fatalf("the browser saw %+v, want the stub's %d", visits, status)
			}
			if err == nil || !strings.Contains(err.Error(), "only a stub") || !strings.Contains(err.Error(), "client-credentials") || hint.Of(err) != hint.ClientSecret {
				t.Fatalf("login = %v (hint %v), want the stub named and client credentials offered", err, hint.Of(err))
			}
			e.assertNothingStored()

			// Configured as the error says, the server lets the broker in.
			if err := e.b.AddServer(t.Context(), config.Server{Name: "demo", URL: e.mcp.URL(), Auth: config.AuthClientCredentials}, ""); err != nil {
				t.Fatal(err)
			}
			if got := e.callTool("echo"); got != http.StatusOK {
				t.Errorf("with client credentials: HTTP %d", got)
			}
		})
	}
	t.Run("no client-credentials grant", func(t *testing.T) {
		e := newEnv(t, envOptions{as: authserver.Options{Deviations: authserver.Deviations{StubAuthorize: http.StatusNotFound}}})
		_, err := short(e).Login(t.Context(), "demo", broker.LoginOptions{})
		e.browser.Wait()
		if err == nil || !strings.Contains(err.Error(), "did not finish within "+timeout.String()) || strings.Contains(err.Error(), "client-credentials") {
			t.Fatalf("login = %v, want the time-out alone", err)
		}
	})
}
