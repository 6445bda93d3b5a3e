package broker_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestDiscoveryVariants signs in against every place the in-repo servers can publish their
// metadata (checklist items 2 and 4), and checks what discovery sends (item 5) and that the
// token only ever travels in the header (item 18).
func TestDiscoveryVariants(t *testing.T) {
	tests := []struct {
		name string
		o    envOptions
	}{
		{"PRM at the path form, named in the challenge", envOptions{}},
		{"PRM at the path form, not named in the challenge", envOptions{mcp: mcpserver.Options{PRM: mcpserver.PRMPathOnly}}},
		{"PRM at the root only", envOptions{mcp: mcpserver.Options{PRM: mcpserver.PRMRootOnly}}},
		{"tenant issuer, RFC 8414 location", envOptions{as: authserver.Options{Issuer: "/tenant1", MetadataAt: []authserver.MetadataLocation{authserver.MetadataOAuth}}}},
		{"tenant issuer, OIDC inserted", envOptions{as: authserver.Options{Issuer: "/tenant1", MetadataAt: []authserver.MetadataLocation{authserver.MetadataOIDCInserted}}}},
		{"tenant issuer, OIDC appended", envOptions{as: authserver.Options{Issuer: "/tenant1", MetadataAt: []authserver.MetadataLocation{authserver.MetadataOIDCAppended}}}},
		{"root issuer, OIDC only", envOptions{as: authserver.Options{MetadataAt: []authserver.MetadataLocation{authserver.MetadataOIDCInserted}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.o)
			e.mustLogin()
			if got := e.callTool("echo"); got != 200 {
				t.Fatalf("HTTP %d", got)
			}
			if h := e.mcp.Hits(); h.TokenInQuery != 0 || !h.LastAuthorizationOK {
				t.Errorf("hits = %+v", h)
			}
		})
	}
}

// TestClientIDMetadataDocument: with the AS advertising CIMD support and a metadata URL
// configured, that URL is the client_id and nothing is registered (item 8).
func TestClientIDMetadataDocument(t *testing.T) {
	var docURL string
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": docURL, "client_name": "MCP Broker", "redirect_uris": []string{"http://127.0.0.1/callback"},
			"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
		})
	}))
	defer doc.Close()
	docURL = doc.URL + "/client.json"
	e := newEnv(t, envOptions{
		as:     authserver.Options{CIMD: true, CIMDClient: doc.Client()},
		server: config.Server{ClientMetadataURL: docURL},
	})
	e.mustLogin()
	if s := e.as.Stats(); s.Registrations != 0 || s.CIMDFetches == 0 {
		t.Errorf("stats = %+v", s)
	}
	if got := e.requests(authserver.EndpointAuthorize)[0].Form.Get("client_id"); got != docURL {
		t.Errorf("client_id = %q, want the document URL", got)
	}
	st, _ := e.b.Status()
	if st[0].Client == nil || st[0].Client.Kind != "metadata-document" {
		t.Errorf("status = %+v", st[0])
	}

	// Without CIMD support at the AS, the same configuration falls back to DCR.
	e2 := newEnv(t, envOptions{server: config.Server{ClientMetadataURL: docURL}})
	e2.mustLogin()
	if e2.as.Stats().Registrations != 1 {
		t.Error("expected dynamic registration when the AS does not support CIMD")
	}
}

// TestClientChoiceOrder: against an authorization server that offers all three, the client is
// chosen in the MCP order (items 7 to 9): a pre-registered client before a Client ID Metadata
// Document, and the document before dynamic registration, even one already held for this very
// authorization server.
func TestClientChoiceOrder(t *testing.T) {
	var docURL string
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": docURL, "client_name": "MCP Broker", "redirect_uris": []string{"http://127.0.0.1/callback"},
			"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
		})
	}))
	defer doc.Close()
	docURL = doc.URL + "/client.json"
	as := authserver.Options{CIMD: true, CIMDClient: doc.Client()}

	t.Run("pre-registered before the document", func(t *testing.T) {
		e := newEnv(t, envOptions{as: as, server: config.Server{ClientID: "pre", ClientMetadataURL: docURL}})
		e.as.RegisterClient(authserver.Client{ID: "pre", RedirectURIs: loopbackAny()})
		e.mustLogin()
		if got := e.requests(authserver.EndpointAuthorize)[0].Form.Get("client_id"); got != "pre" {
			t.Errorf("client_id = %q, want the pre-registered client", got)
		}
		if s := e.as.Stats(); s.Registrations != 0 || s.CIMDFetches != 0 {
			t.Errorf("stats = %+v, want neither a registration nor a document fetch", s)
		}
	})
	t.Run("the document before a registration already held", func(t *testing.T) {
		e := newEnv(t, envOptions{as: as})
		e.mustLogin() // no document configured yet: a dynamic registration
		if n := e.as.Stats().Registrations; n != 1 {
			t.Fatalf("%d registrations, want 1", n)
		}
		if err := e.b.AddServer(t.Context(), config.Server{Name: "demo", URL: e.mcp.URL(), Auth: config.AuthOAuth, ClientMetadataURL: docURL}, ""); err != nil {
			t.Fatal(err)
		}
		e.mustLogin()
		if got := e.requests(authserver.EndpointAuthorize)[1].Form.Get("client_id"); got != docURL {
			t.Errorf("client_id = %q, want the document's URL", got)
		}
		if s := e.as.Stats(); s.Registrations != 1 || s.CIMDFetches == 0 {
			t.Errorf("stats = %+v, want no second registration and the document fetched", s)
		}
	})
}

// TestRegistrationApplicationType: every dynamic registration says application_type native
// (MCP 2026-07-28, client registration): an authorization server that applies OpenID Connect's
// rules takes a registration without it for a web client, and refuses its loopback redirect URI.
func TestRegistrationApplicationType(t *testing.T) {
	t.Run("browser sign-in", func(t *testing.T) {
		e := newEnv(t, envOptions{as: authserver.Options{OIDCRegistration: true}})
		e.mustLogin()
		if got := e.requests(authserver.EndpointRegister)[0].Form.Get("application_type"); got != "native" {
			t.Errorf("application_type = %q, want native", got)
		}
	})
	t.Run("client credentials", func(t *testing.T) {
		e := newEnv(t, envOptions{
			as:     authserver.Options{OIDCRegistration: true, ClientCredentials: true},
			server: config.Server{Auth: config.AuthClientCredentials},
		})
		if got := e.callTool("echo"); got != 200 {
			t.Fatalf("HTTP %d", got)
		}
		if got := e.requests(authserver.EndpointRegister)[0].Form.Get("application_type"); got != "native" {
			t.Errorf("application_type = %q, want native", got)
		}
	})
}

// TestRegistrationPerIssuer: a registration is never reused with another authorization server
// (item 9). Pointing the server name at a resource with another AS registers again there.
func TestRegistrationPerIssuer(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	other := newEnv(t, envOptions{})
	if err := e.b.AddServer(t.Context(), config.Server{Name: "demo", URL: other.mcp.URL(), Auth: config.AuthOAuth}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("a token for the old URL survived the change of URL: %v", err)
	}
	if _, err := e.b.Login(t.Context(), "demo", broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	e.browser.Wait()
	if n := other.as.Stats().Registrations; n != 1 {
		t.Errorf("registrations at the new AS = %d, want 1", n)
	}
	if n := e.as.Stats().Registrations; n != 1 {
		t.Errorf("registrations at the old AS = %d, want still 1", n)
	}
	st, _ := e.b.Status()
	if st[0].Issuer != other.as.Issuer() {
		t.Errorf("issuer = %q, want %q", st[0].Issuer, other.as.Issuer())
	}
}

// TestNoRefreshTokenIssued: a grant without a refresh token is fine until it expires; then the
// user is asked to sign in again, not shown a refresh error (item 20).
func TestNoRefreshTokenIssued(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{NoRefreshTokens: true, AccessTokenTTL: time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	if got := e.callTool("echo"); got != 200 {
		t.Fatalf("HTTP %d", got)
	}
	clock.advance(time.Hour)
	_, err := e.b.Credential(t.Context(), "demo")
	if !errors.Is(err, broker.ErrSignInRequired) || !strings.Contains(err.Error(), "no refresh token") {
		t.Errorf("err = %v", err)
	}
	if e.as.Stats().Refreshes != 0 {
		t.Error("a refresh was attempted without a refresh token")
	}
}
