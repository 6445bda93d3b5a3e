package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// revoke posts an RFC 7009 revocation request and returns the status and error code.
func revoke(t *testing.T, as *authserver.Server, auth clientAuth, token, hint string) (int, string) {
	t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	switch auth.method {
	case authserver.AuthClientSecretPost:
		form.Set("client_id", auth.id)
		form.Set("client_secret", auth.secret)
	case authserver.AuthClientSecretBasic:
	default:
		form.Set("client_id", auth.id)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, as.Issuer()+"/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth.method == authserver.AuthClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(auth.id), url.QueryEscape(auth.secret))
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
	return resp.StatusCode, body.Error
}

func refreshGrant(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

func TestRevocation(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	if _, m := getJSON(t, baseOf(as)+"/.well-known/oauth-authorization-server"); m["revocation_endpoint"] != as.Issuer()+"/revoke" {
		t.Fatalf("metadata revocation_endpoint = %v", m["revocation_endpoint"])
	}
	id := registerPublic(t, as)
	public := clientAuth{method: authserver.AuthNone, id: id}

	t.Run("refresh token revokes the grant", func(t *testing.T) {
		tok := obtain(t, as, id)
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		if status, code := revoke(t, as, public, rt, "refresh_token"); status != http.StatusOK {
			t.Fatalf("revoke: status %d %s", status, code)
		}
		status, m := token(t, as, public, refreshGrant(rt))
		wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")
		if _, ok := as.Verify(at); ok {
			t.Error("the grant's access token still works after its refresh token was revoked")
		}
	})
	t.Run("access token alone", func(t *testing.T) {
		tok := obtain(t, as, id)
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		if status, code := revoke(t, as, public, at, "access_token"); status != http.StatusOK {
			t.Fatalf("revoke: status %d %s", status, code)
		}
		if _, ok := as.Verify(at); ok {
			t.Error("a revoked access token still works")
		}
		if status, m := token(t, as, public, refreshGrant(rt)); status != http.StatusOK {
			t.Errorf("refresh after revoking the access token alone: %d %v", status, m)
		}
	})
	t.Run("a wrong hint is only a hint", func(t *testing.T) {
		tok := obtain(t, as, id)
		rt := tok["refresh_token"].(string)
		if status, _ := revoke(t, as, public, rt, "access_token"); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		status, m := token(t, as, public, refreshGrant(rt))
		wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("unknown token", func(t *testing.T) {
		// RFC 7009 §2.2: invalid tokens do not cause an error.
		if status, code := revoke(t, as, public, "no-such-token", ""); status != http.StatusOK {
			t.Errorf("status %d %s, want 200", status, code)
		}
	})
	t.Run("another client's token", func(t *testing.T) {
		tok := obtain(t, as, id)
		other := registerPublic(t, as)
		status, code := revoke(t, as, clientAuth{method: authserver.AuthNone, id: other}, tok["refresh_token"].(string), "")
		if status != http.StatusBadRequest || code != "invalid_grant" {
			t.Errorf("status %d %s, want 400 invalid_grant", status, code)
		}
		if status, m := token(t, as, public, refreshGrant(tok["refresh_token"].(string))); status != http.StatusOK {
			t.Errorf("another client revoked the token: %d %v", status, m)
		}
	})
	t.Run("client authentication as registered", func(t *testing.T) {
		as.RegisterClient(authserver.Client{ID: "conf", Secret: "conf-secret", RedirectURIs: []string{redirectURI}})
		status, code := revoke(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "conf", secret: "wrong"}, "x", "")
		if status != http.StatusUnauthorized || code != "invalid_client" {
			t.Errorf("wrong secret: status %d %s", status, code)
		}
		if status, code := revoke(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "conf", secret: "conf-secret"}, "x", ""); status != http.StatusOK {
			t.Errorf("right secret: status %d %s", status, code)
		}
	})
	var revokes []authserver.Request
	for _, r := range as.Requests() {
		if r.Endpoint == authserver.EndpointRevoke {
			revokes = append(revokes, r)
		}
	}
	if len(revokes) == 0 || revokes[0].Form.Get("token") != authserver.Redacted {
		t.Errorf("recorded revocation requests: %v", revokes)
	}
	if n := as.Stats().Revocations; n != 3 {
		t.Errorf("Stats().Revocations = %d, want 3", n)
	}
}
