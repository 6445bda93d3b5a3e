package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// codeFlow authorizes with params (client_id and PKCE filled in) and redeems the code with form
// (the PKCE verifier, code and redirect URI filled in); it returns the authorization redirect's
// error when there is one, else the token response.
func codeFlow(t *testing.T, as *authserver.Server, clientID string, params, form url.Values) (redirectErr string, status int, tok map[string]any) {
	t.Helper()
	verifier, challenge := pkce()
	q := authParams(clientID, challenge)
	q.Del("resource")
	for k, v := range params {
		q[k] = v
	}
	loc := authorize(t, as, q)
	if e := loc.Query().Get("error"); e != "" {
		return e + ": " + loc.Query().Get("error_description"), 0, nil
	}
	f := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
	for k, v := range form {
		f[k] = v
	}
	status, tok = token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, f)
	return "", status, tok
}

// TestMimicOpenIDOfflineAccess: an OpenID provider (OpenID Connect Core §11) grants offline_access,
// and with it a refresh token, only to an authorization request with prompt=consent.
func TestMimicOpenIDOfflineAccess(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"},
		Mimic: authserver.Mimic{RefreshNeedsOfflineAccess: true, OfflineAccessNeedsConsent: true}})
	client := registerPublic(t, as)
	tests := []struct {
		name        string
		params      url.Values
		refresh     bool
		wantGranted string
	}{
		{"offline_access without consent", url.Values{"scope": {"mcp:read offline_access"}}, false, "mcp:read"},
		{"consent without offline_access", url.Values{"scope": {"mcp:read"}, "prompt": {"consent"}}, false, "mcp:read"},
		{"offline_access with consent", url.Values{"scope": {"mcp:read offline_access"}, "prompt": {"login consent"}}, true, "mcp:read offline_access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, status, tok := codeFlow(t, as, client, tt.params, nil)
			if e != "" || status != http.StatusOK {
				t.Fatalf("code flow: %s %d %v", e, status, tok)
			}
			if _, got := tok["refresh_token"]; got != tt.refresh || tok["scope"] != tt.wantGranted {
				t.Errorf("refresh token %v, scope %q; want %v, %q", got, tok["scope"], tt.refresh, tt.wantGranted)
			}
		})
	}
	_, meta := getJSON(t, as.Issuer()+"/.well-known/openid-configuration")
	if meta["id_token_signing_alg_values_supported"] == nil {
		t.Errorf("an OpenID provider's metadata without id_token_signing_alg_values_supported: %v", meta)
	}
}

// TestMimicGoogleOffline: a refresh token only for access_type=offline with prompt=consent.
func TestMimicGoogleOffline(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, OpenID: true, Scopes: []string{"openid", "mcp:read"}, Mimic: authserver.Mimic{GoogleOffline: true}})
	client := registerPublic(t, as)
	for _, tt := range []struct {
		params  url.Values
		refresh bool
	}{
		{url.Values{"scope": {"mcp:read"}}, false},
		{url.Values{"scope": {"mcp:read"}, "access_type": {"offline"}}, false},
		{url.Values{"scope": {"mcp:read"}, "prompt": {"consent"}}, false},
		{url.Values{"scope": {"mcp:read"}, "access_type": {"offline"}, "prompt": {"consent"}}, true},
	} {
		_, status, tok := codeFlow(t, as, client, tt.params, nil)
		if _, got := tok["refresh_token"]; status != http.StatusOK || got != tt.refresh {
			t.Errorf("%v: status %d, refresh token %v, want %v", tt.params.Encode(), status, got, tt.refresh)
		}
	}
}

// TestMimicAudience: the token is for the audience asked; without one it is for /userinfo,
// whatever resource says.
func TestMimicAudience(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, Mimic: authserver.Mimic{Audience: true}})
	client := registerPublic(t, as)
	for _, tt := range []struct {
		params url.Values
		want   string
	}{
		{url.Values{"audience": {testResource}}, testResource},
		{url.Values{"resource": {testResource}}, as.Issuer() + "/userinfo"},
	} {
		_, status, tok := codeFlow(t, as, client, tt.params, nil)
		if status != http.StatusOK {
			t.Fatalf("%v: status %d %v", tt.params.Encode(), status, tok)
		}
		if info, _ := as.Verify(tok["access_token"].(string)); info.Resource != tt.want {
			t.Errorf("%v: token for %q, want %q", tt.params.Encode(), info.Resource, tt.want)
		}
	}
	// A token request naming the resource the code was not bound to is refused.
	_, status, tok := codeFlow(t, as, client, url.Values{"resource": {testResource}}, url.Values{"resource": {testResource}})
	wantOAuthError(t, status, tok, http.StatusBadRequest, "invalid_target")
}

// TestMimicEntraScopes: scopes named by the application ID URI; resource beside them is refused
// on every request (AADSTS9010010); the token is for the URI.
func TestMimicEntraScopes(t *testing.T) {
	const app = "api://mcp-demo"
	as := start(t, authserver.Options{AutoApprove: true, Scopes: []string{"mcp:read", "offline_access"}, Mimic: authserver.Mimic{EntraScopes: app}})
	client := registerPublic(t, as)
	for _, tt := range []struct {
		name   string
		params url.Values
		want   string // the redirect's error, "" for a code
	}{
		{"resource beside scopes", url.Values{"scope": {app + "/mcp:read"}, "resource": {testResource}}, "invalid_request: AADSTS9010010"},
		{"unqualified scope", url.Values{"scope": {"mcp:read"}}, "invalid_scope: AADSTS70011"},
		{"unknown scope of the API", url.Values{"scope": {app + "/mcp:admin"}}, "invalid_scope"},
		{"another API's scope", url.Values{"scope": {"api://other/mcp:read"}}, "invalid_scope"},
		{".default", url.Values{"scope": {app + "/.default offline_access"}}, ""},
		{"a scope of the API", url.Values{"scope": {app + "/mcp:read openid"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, status, tok := codeFlow(t, as, client, tt.params, nil)
			if tt.want != "" {
				if !strings.HasPrefix(e, tt.want) {
					t.Errorf("redirect error %q, want %q", e, tt.want)
				}
				return
			}
			if e != "" || status != http.StatusOK {
				t.Fatalf("code flow: %s %d %v", e, status, tok)
			}
			if info, _ := as.Verify(tok["access_token"].(string)); info.Resource != app {
				t.Errorf("token for %q, want %q", info.Resource, app)
			}
		})
	}
	_, status, tok := codeFlow(t, as, client, url.Values{"scope": {app + "/mcp:read"}}, url.Values{"resource": {testResource}})
	wantOAuthError(t, status, tok, http.StatusBadRequest, "invalid_request")
	_, _, tok = codeFlow(t, as, client, url.Values{"scope": {app + "/mcp:read"}}, nil)
	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %v", tok)
	}
	none := clientAuth{method: authserver.AuthNone, id: client}
	status, m := token(t, as, none, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {testResource}})
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_request")
	if status, m = token(t, as, none, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); status != http.StatusOK {
		t.Errorf("refresh without resource: %d %v", status, m)
	}
}

// TestMimicRegistrationNeedsToken: registration without an Authorization header is refused.
func TestMimicRegistrationNeedsToken(t *testing.T) {
	as := start(t, authserver.Options{Mimic: authserver.Mimic{RegistrationNeedsToken: true}})
	status, m := register(t, as, map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none"})
	if status != http.StatusUnauthorized || m["error"] != "invalid_token" {
		t.Errorf("anonymous registration: %d %v", status, m)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, as.Issuer()+"/register",
		strings.NewReader(`{"redirect_uris":["`+redirectURI+`"],"token_endpoint_auth_method":"none"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "SSWS api-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("registration with a token: %d", resp.StatusCode)
	}
}

// TestSessionMax: a grant's refresh tokens are refused once Options.SessionMax has passed
// since its sign-in, and Mimic.RefreshExpiry says in every token response, under the name it
// gives, how many seconds of it are left.
func TestSessionMax(t *testing.T) {
	clock := newFakeClock()
	as := start(t, authserver.Options{AutoApprove: true, SessionMax: 8 * time.Hour, Now: clock.Now,
		Mimic: authserver.Mimic{RefreshExpiry: authserver.RefreshExpiresIn}})
	client := registerPublic(t, as)
	tok := obtain(t, as, client)
	if got := tok["refresh_expires_in"]; got != float64(8*3600) {
		t.Errorf("refresh_expires_in = %v, want %d", got, 8*3600)
	}
	refresh := func(rt string) (int, map[string]any) {
		return token(t, as, clientAuth{method: authserver.AuthNone, id: client}, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	clock.Advance(3 * time.Hour)
	status, tok := refresh(tok["refresh_token"].(string))
	if status != http.StatusOK || tok["refresh_expires_in"] != float64(5*3600) {
		t.Fatalf("a refresh three hours in: %d, refresh_expires_in %v, want 200, %d", status, tok["refresh_expires_in"], 5*3600)
	}
	clock.Advance(5 * time.Hour)
	status, m := refresh(tok["refresh_token"].(string))
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")
}

// TestTokenOutage: SetTokenOutage makes the token endpoint answer with the status and no
// token, until it is set back to 0.
func TestTokenOutage(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	client := registerPublic(t, as)
	tok := obtain(t, as, client)
	as.SetTokenOutage(http.StatusServiceUnavailable)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {client}}
	resp, err := http.PostForm(as.Issuer()+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("during the outage: HTTP %d, want 503", resp.StatusCode)
	}
	as.SetTokenOutage(0)
	if status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: client}, form); status != http.StatusOK {
		t.Errorf("after the outage: %d %v", status, m)
	}
}
