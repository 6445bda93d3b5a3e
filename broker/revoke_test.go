package broker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// refreshAt presents refreshToken to the authorization server's token endpoint as the client
// would (method: its token endpoint auth method, "" for none), and returns the error code (""
// on success).
func refreshAt(t *testing.T, as *authserver.Server, method, clientID, secret, refreshToken string) string {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	switch method {
	case authserver.AuthClientSecretBasic:
	case authserver.AuthClientSecretPost:
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	default:
		form.Set("client_id", clientID)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, as.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if method == authserver.AuthClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	return body.Error
}

// storedRefreshToken reads the refresh token of the stored grant.
func storedRefreshToken(t *testing.T, e *env) string {
	t.Helper()
	raw, err := e.store.Get(t.Context(), "oauth-token/demo")
	if err != nil {
		t.Fatal(err)
	}
	var grant struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(raw), &grant); err != nil || grant.RefreshToken == "" {
		t.Fatalf("no refresh token in the stored grant (%v)", err)
	}
	return grant.RefreshToken
}

// Signing out revokes the grant at the authorization server (RFC 7009), authenticating as the
// client was registered: the old refresh token and access token are dead there too, not only
// forgotten here.
func TestLogoutRevokesTheGrant(t *testing.T) {
	tests := []struct {
		name           string
		method, secret string // a pre-registered client; "" is a dynamic registration
	}{
		{"dynamic", "", ""},
		{"pre-registered basic", "client_secret_basic", "pre-secret"},
		{"pre-registered post", "client_secret_post", "pre-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := envOptions{}
			if tt.method != "" {
				o.as.AuthMethods = []string{tt.method}
				o.server.ClientID, o.secret = "pre", tt.secret
			}
			e := newEnv(t, o)
			if tt.method != "" {
				e.as.RegisterClient(authserver.Client{ID: "pre", Secret: tt.secret, AuthMethod: tt.method, RedirectURIs: loopbackAny()})
			}
			e.mustLogin()
			rt := storedRefreshToken(t, e)
			cred, err := e.b.Credential(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			clientID := e.requests(authserver.EndpointToken)[0].ClientID

			res, err := e.b.Logout(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			if !res.Revoked || res.Warning != "" {
				t.Errorf("logout result = %+v, want revoked without a warning", res)
			}
			for _, r := range e.requests(authserver.EndpointRevoke) {
				if want := tt.method; want != "" && r.AuthMethod != want {
					t.Errorf("revocation authenticated with %q, want %q", r.AuthMethod, want)
				}
			}
			// After logout, the authorization server refuses the old refresh token...
			if code := refreshAt(t, e.as, tt.method, clientID, tt.secret, rt); code != "invalid_grant" {
				t.Errorf("the old refresh token after logout: error %q, want invalid_grant", code)
			}
			// ...and the old access token.
			if _, ok := e.as.Verify(strings.TrimPrefix(cred.Value, "Bearer ")); ok {
				t.Error("the old access token still works after logout")
			}
			for _, k := range e.store.Keys() {
				if strings.HasPrefix(k, "oauth-token/") || strings.HasPrefix(k, "refresh-token/") {
					t.Errorf("%s kept after logout", k)
				}
			}
		})
	}
}

// A revocation that fails never blocks the sign-out here: the tokens are deleted, and the
// result says they may still be valid at the authorization server.
func TestLogoutWhenRevocationFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    authserver.Options
		stop bool
		want string
	}{
		{"unreachable", authserver.Options{}, true, "could not be revoked"},
		{"no revocation endpoint", authserver.Options{NoRevocation: true}, false, "no revocation endpoint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{as: tt.o})
			e.mustLogin()
			if tt.stop {
				e.as.Close()
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			res, err := e.b.Logout(ctx, "demo")
			if err != nil {
				t.Fatalf("logout: %v", err)
			}
			if res.Revoked || !strings.Contains(res.Warning, tt.want) {
				t.Errorf("logout result = %+v, want a warning with %q", res, tt.want)
			}
			for _, secret := range tokensIn(e) {
				if secret != "" && strings.Contains(res.Warning, secret) {
					t.Error("the warning leaks a secret")
				}
			}
			for _, k := range e.store.Keys() {
				if strings.HasPrefix(k, "oauth-token/") || strings.HasPrefix(k, "refresh-token/") {
					t.Errorf("%s kept after logout", k)
				}
			}
			if st, _ := e.b.Status(); st[0].SignedIn {
				t.Errorf("status after logout: %+v", st[0])
			}
		})
	}
}

// A bearer server's static token has no authorization server to revoke it at.
func TestLogoutBearerRevokesNothing(t *testing.T) {
	e := newEnv(t, envOptions{server: config.Server{Auth: config.AuthBearer}, secret: "api-key"})
	res, err := e.b.Logout(t.Context(), "demo")
	if err != nil || res.Revoked || res.Warning != "" {
		t.Errorf("logout = %+v, %v", res, err)
	}
	if n := len(e.as.Requests()); n != 0 {
		t.Errorf("%d requests to the authorization server", n)
	}
}
