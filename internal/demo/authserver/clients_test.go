package authserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

func TestRegister(t *testing.T) {
	as := start(t, authserver.Options{AuthMethods: []string{"none", "client_secret_basic"}, ClientCredentials: true})
	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantError  string
		check      func(t *testing.T, m map[string]any)
	}{
		{
			name: "public native client",
			body: map[string]any{
				"client_name": "broker", "redirect_uris": []string{"http://127.0.0.1:40000/callback"},
				"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"},
				"application_type": "native",
			},
			wantStatus: http.StatusCreated,
			check: func(t *testing.T, m map[string]any) {
				if _, ok := m["client_secret"]; ok {
					t.Error("public client got a secret")
				}
				if m["client_id"] == "" || m["client_name"] != "broker" || m["token_endpoint_auth_method"] != "none" {
					t.Errorf("response %v", m)
				}
				if _, ok := m["client_id_issued_at"].(float64); !ok {
					t.Error("client_id_issued_at missing")
				}
				wantStrings(t, m, "grant_types", "authorization_code", "refresh_token")
				wantStrings(t, m, "redirect_uris", "http://127.0.0.1:40000/callback")
			},
		},
		{
			name:       "defaults: client_secret_basic, authorization_code",
			body:       map[string]any{"redirect_uris": []string{"http://localhost:1/cb", "http://[::1]/cb", "https://app.example.com/cb"}},
			wantStatus: http.StatusCreated,
			check: func(t *testing.T, m map[string]any) {
				if s, _ := m["client_secret"].(string); s == "" || m["token_endpoint_auth_method"] != "client_secret_basic" {
					t.Errorf("confidential client: %v %v", m["token_endpoint_auth_method"], m["client_secret"] != nil)
				}
				if m["client_secret_expires_at"] != float64(0) {
					t.Errorf("client_secret_expires_at = %v", m["client_secret_expires_at"])
				}
				wantStrings(t, m, "grant_types", "authorization_code")
			},
		},
		{
			name:       "client_credentials only needs no redirect URI",
			body:       map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "client_secret_basic"},
			wantStatus: http.StatusCreated,
		},
		{"http non-loopback redirect", map[string]any{"redirect_uris": []string{"http://example.com/cb"}}, 400, "invalid_redirect_uri", nil},
		{"custom scheme redirect", map[string]any{"redirect_uris": []string{"com.example.app:/cb"}}, 400, "invalid_redirect_uri", nil},
		{"fragment", map[string]any{"redirect_uris": []string{"http://127.0.0.1:1/cb#x"}}, 400, "invalid_redirect_uri", nil},
		{"no redirect URIs", map[string]any{"token_endpoint_auth_method": "none"}, 400, "invalid_redirect_uri", nil},
		{"unsupported auth method", map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "client_secret_post"}, 400, "invalid_client_metadata", nil},
		{"unknown grant", map[string]any{"redirect_uris": []string{redirectURI}, "grant_types": []string{"password"}}, 400, "invalid_client_metadata", nil},
		{"implicit", map[string]any{"redirect_uris": []string{redirectURI}, "response_types": []string{"token"}}, 400, "invalid_client_metadata", nil},
		{"public client_credentials", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "none"}, 400, "invalid_client_metadata", nil},
		{"wrong JSON type", map[string]any{"redirect_uris": "http://127.0.0.1/cb"}, 400, "invalid_client_metadata", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := register(t, as, tt.body)
			if status != tt.wantStatus || (tt.wantError != "" && m["error"] != tt.wantError) {
				t.Fatalf("got %d %v, want %d %s", status, m, tt.wantStatus, tt.wantError)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
	if got := as.Stats().Registrations; got != 3 {
		t.Errorf("Registrations = %d, want 3", got)
	}
}

// TestOIDCRegistration: with Options.OIDCRegistration, application_type decides which redirect
// URIs a client may register, and leaving it out means web, as at an OpenID provider.
func TestOIDCRegistration(t *testing.T) {
	as := start(t, authserver.Options{OIDCRegistration: true, ClientCredentials: true})
	loop := []string{"http://127.0.0.1:40000/callback"}
	tests := []struct {
		name      string
		body      map[string]any
		wantError string // "" for a registration that succeeds
	}{
		{"native with a loopback redirect", map[string]any{"application_type": "native", "redirect_uris": loop, "token_endpoint_auth_method": "none"}, ""},
		{"omitted means web: loopback refused", map[string]any{"redirect_uris": loop, "token_endpoint_auth_method": "none"}, "invalid_redirect_uri"},
		{"web with a loopback redirect", map[string]any{"application_type": "web", "redirect_uris": loop, "token_endpoint_auth_method": "none"}, "invalid_redirect_uri"},
		{"web with an https redirect", map[string]any{"application_type": "web", "redirect_uris": []string{"https://app.example.com/cb"}}, ""},
		{"native with an https redirect", map[string]any{"application_type": "native", "redirect_uris": []string{"https://app.example.com/cb"}}, "invalid_redirect_uri"},
		{"unknown type", map[string]any{"application_type": "desktop", "redirect_uris": loop, "token_endpoint_auth_method": "none"}, "invalid_client_metadata"},
		{"native machine client", map[string]any{"application_type": "native", "grant_types": []string{"client_credentials"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := register(t, as, tt.body)
			switch {
			case tt.wantError == "" && status != http.StatusCreated:
				t.Errorf("got %d %v, want 201", status, m)
			case tt.wantError != "" && (status != http.StatusBadRequest || m["error"] != tt.wantError):
				t.Errorf("got %d %v, want 400 %s", status, m, tt.wantError)
			}
		})
	}
}

func TestClientAuthMethods(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	const secret = "s3cret/+="
	for _, m := range []string{authserver.AuthNone, authserver.AuthClientSecretBasic, authserver.AuthClientSecretPost} {
		c := authserver.Client{ID: "client-" + m, RedirectURIs: []string{redirectURI}, AuthMethod: m}
		if m != authserver.AuthNone {
			c.Secret = secret
		}
		as.RegisterClient(c)
	}
	for _, registered := range []string{authserver.AuthNone, authserver.AuthClientSecretBasic, authserver.AuthClientSecretPost} {
		for _, used := range []string{authserver.AuthNone, authserver.AuthClientSecretBasic, authserver.AuthClientSecretPost} {
			t.Run(registered+"/"+used, func(t *testing.T) {
				id := "client-" + registered
				verifier, challenge := pkce()
				code := authorize(t, as, authParams(id, challenge)).Query().Get("code")
				status, m := token(t, as, clientAuth{method: used, id: id, secret: secret}, codeGrant(code, verifier))
				if registered == used {
					if status != http.StatusOK {
						t.Errorf("status %d %v, want 200", status, m)
					}
				} else {
					wantOAuthError(t, status, m, http.StatusUnauthorized, "invalid_client")
				}
				last := as.Requests()[len(as.Requests())-1]
				if last.AuthMethod != used || last.ClientID != id {
					t.Errorf("recorded AuthMethod %q ClientID %q, want %q %q", last.AuthMethod, last.ClientID, used, id)
				}
				if used == authserver.AuthClientSecretPost && last.Form.Get("client_secret") != authserver.Redacted {
					t.Errorf("client_secret not redacted: %q", last.Form.Get("client_secret"))
				}
			})
		}
	}
	t.Run("wrong secret", func(t *testing.T) {
		for _, m := range []string{authserver.AuthClientSecretBasic, authserver.AuthClientSecretPost} {
			status, body := token(t, as, clientAuth{method: m, id: "client-" + m, secret: "wrong"},
				url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
			wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
		}
	})
	t.Run("basic and post at once", func(t *testing.T) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_secret": {secret}}
		status, body := token(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "client-client_secret_basic", secret: secret}, form)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
	})
}

func TestConfidentialDCRClientRefresh(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	status, reg := register(t, as, map[string]any{
		"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "client_secret_post",
		"grant_types": []string{"authorization_code", "refresh_token"},
	})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, reg)
	}
	auth := clientAuth{method: authserver.AuthClientSecretPost, id: reg["client_id"].(string), secret: reg["client_secret"].(string)}
	verifier, challenge := pkce()
	code := authorize(t, as, authParams(auth.id, challenge)).Query().Get("code")
	status, tok := token(t, as, auth, codeGrant(code, verifier))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	// Without its secret the client cannot refresh; the refused request
	// does not burn the refresh token.
	status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: auth.id}, form)
	wantOAuthError(t, status, m, http.StatusUnauthorized, "invalid_client")
	if status, m := token(t, as, auth, form); status != http.StatusOK {
		t.Errorf("refresh: %d %v", status, m)
	}
}

func TestClientCredentials(t *testing.T) {
	as := start(t, authserver.Options{ClientCredentials: true})
	as.RegisterClient(authserver.Client{ID: "svc", Secret: "pw", GrantTypes: []string{"client_credentials"}})
	as.RegisterClient(authserver.Client{ID: "pub", RedirectURIs: []string{redirectURI}, GrantTypes: []string{"client_credentials"}})
	as.RegisterClient(authserver.Client{ID: "web", Secret: "pw"}) // code + refresh only

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"mcp:read"}, "resource": {testResource}}
	status, tok := token(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "svc", secret: "pw"}, form)
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", status, tok)
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Error("client_credentials issued a refresh token")
	}
	info, ok := as.Verify(tok["access_token"].(string))
	if !ok || info.ClientID != "svc" || info.Subject != "svc" || info.Resource != testResource || !slices.Equal(info.Scopes, []string{"mcp:read"}) {
		t.Errorf("TokenInfo = %+v %v", info, ok)
	}

	status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: "pub"}, form)
	wantOAuthError(t, status, m, http.StatusBadRequest, "unauthorized_client")
	status, m = token(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "web", secret: "pw"}, form)
	wantOAuthError(t, status, m, http.StatusBadRequest, "unauthorized_client")
	bad := cloneForm(form)
	bad.Set("scope", "root")
	status, m = token(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "svc", secret: "pw"}, bad)
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_scope")
	if got := as.Stats().ClientCredentialsGrants; got != 1 {
		t.Errorf("ClientCredentialsGrants = %d, want 1", got)
	}
}

func TestCIMD(t *testing.T) {
	docs := map[string]map[string]any{}
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(ts.Close)
	good := ts.URL + "/client.json"
	docs["/client.json"] = map[string]any{
		"client_id": good, "client_name": "CIMD Broker", "redirect_uris": []string{redirectURI},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
	}
	docs["/liar.json"] = map[string]any{"client_id": ts.URL + "/other.json", "redirect_uris": []string{redirectURI}}
	docs["/secret.json"] = map[string]any{"client_id": ts.URL + "/secret.json", "redirect_uris": []string{redirectURI}, "client_secret": "x"}

	as := start(t, authserver.Options{CIMD: true, CIMDClient: ts.Client()})
	status, meta := getJSON(t, as.Issuer()+"/.well-known/oauth-authorization-server")
	if status != http.StatusOK || meta["client_id_metadata_document_supported"] != true {
		t.Fatalf("metadata: %d %v", status, meta["client_id_metadata_document_supported"])
	}

	t.Run("consent shows the document's name, then tokens", func(t *testing.T) {
		verifier, challenge := pkce()
		resp, err := noFollow.Get(as.Issuer() + "/authorize?" + authParams(good, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "CIMD Broker") {
			t.Fatalf("consent page: %d, name missing", resp.StatusCode)
		}
		id := page[strings.Index(page, `name="request_id" value="`)+len(`name="request_id" value="`):]
		id = id[:strings.Index(id, `"`)]
		resp, err = browser().PostForm(as.Issuer()+"/authorize/decision", url.Values{"request_id": {id}, "decision": {"allow"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		status, tok := token(t, as, clientAuth{method: authserver.AuthNone, id: good}, codeGrant(loc.Query().Get("code"), verifier))
		if status != http.StatusOK || tok["refresh_token"] == nil {
			t.Fatalf("exchange: %d %v", status, redactTok(tok))
		}
		if info, _ := as.Verify(tok["access_token"].(string)); info.ClientID != good {
			t.Errorf("ClientID = %q, want the document URL", info.ClientID)
		}
	})
	for _, tt := range []struct{ name, clientID, redirect string }{
		{"client_id differs from URL", ts.URL + "/liar.json", redirectURI},
		{"document with a secret", ts.URL + "/secret.json", redirectURI},
		{"no document", ts.URL + "/missing.json", redirectURI},
		{"redirect not in document", good, "http://127.0.0.1:53682/elsewhere"},
		{"http URL is not a CIMD client id", strings.Replace(good, "https:", "http:", 1), redirectURI},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, challenge := pkce()
			params := authParams(tt.clientID, challenge)
			params.Set("redirect_uri", tt.redirect)
			resp, err := noFollow.Get(as.Issuer() + "/authorize?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("got %d Location %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	if as.Stats().CIMDFetches < 4 {
		t.Errorf("CIMDFetches = %d, want >= 4", as.Stats().CIMDFetches)
	}

	t.Run("CIMD off: URL client ids are unknown", func(t *testing.T) {
		off := start(t, authserver.Options{CIMDClient: ts.Client()})
		_, challenge := pkce()
		resp, err := noFollow.Get(off.Issuer() + "/authorize?" + authParams(good, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || off.Stats().CIMDFetches != 0 {
			t.Errorf("status %d, fetches %d", resp.StatusCode, off.Stats().CIMDFetches)
		}
	})
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
