package authserver_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// TestDeviations: each switch of Deviations bends the server's answers in its one way.
func TestDeviations(t *testing.T) {
	t.Run("token responses", func(t *testing.T) {
		tests := []struct {
			d     authserver.Deviations
			check func(m map[string]any) bool
		}{
			{authserver.Deviations{}, func(m map[string]any) bool { return m["expires_in"] == 3600.0 && m["token_type"] == "Bearer" }},
			{authserver.Deviations{ExpiresInString: true}, func(m map[string]any) bool { return m["expires_in"] == "3600" }},
			{authserver.Deviations{NoExpiresIn: true}, func(m map[string]any) bool { _, ok := m["expires_in"]; return !ok }},
			{authserver.Deviations{LowerCaseTokenType: true}, func(m map[string]any) bool { return m["token_type"] == "bearer" }},
			{authserver.Deviations{NoTokenType: true}, func(m map[string]any) bool { _, ok := m["token_type"]; return !ok && m["access_token"] != "" }},
		}
		for _, tt := range tests {
			as := start(t, authserver.Options{AutoApprove: true, Deviations: tt.d})
			if m := obtain(t, as, registerPublic(t, as)); !tt.check(m) {
				t.Errorf("%+v: token response %v", tt.d, m)
			}
		}
	})

	t.Run("a token endpoint that reads only JSON", func(t *testing.T) {
		for _, refusal := range []authserver.JSONRefusal{authserver.RefuseUnsupportedMediaType, authserver.RefuseAsIfEmpty} {
			as := start(t, authserver.Options{AutoApprove: true, Deviations: authserver.Deviations{JSONBodies: refusal}})
			client := registerPublic(t, as)
			verifier, challenge := pkce()
			code := authorize(t, as, authParams(client, challenge)).Query().Get("code")
			grant := codeGrant(code, verifier)
			grant.Set("client_id", client)
			status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: client}, grant)
			if status < 400 || (status == http.StatusUnsupportedMediaType) != (refusal == authserver.RefuseUnsupportedMediaType) {
				t.Errorf("refusal %d: a form got %d %v", refusal, status, m)
			}
			body := map[string]string{}
			for k := range grant {
				body[k] = grant.Get(k)
			}
			b, _ := json.Marshal(body)
			resp, err := http.Post(as.Issuer()+"/token", "application/json", strings.NewReader(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("refusal %d: the same request as JSON got %d", refusal, resp.StatusCode)
			}
		}
	})

	t.Run("registration answers", func(t *testing.T) {
		theirs := "http://127.0.0.1:40000/their/callback"
		as := start(t, authserver.Options{AutoApprove: true, Deviations: authserver.Deviations{Registration200: true, RedirectURIs: []string{theirs}}})
		status, m := register(t, as, map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none", "application_type": "native"})
		if uris, _ := m["redirect_uris"].([]any); status != http.StatusOK || len(uris) != 1 || uris[0] != theirs {
			t.Fatalf("registration: %d %v", status, m)
		}
		// Ours was not registered: the authorization endpoint will not send the browser there.
		_, challenge := pkce()
		resp, err := noFollow.Get(as.Issuer() + "/authorize?" + authParams(m["client_id"].(string), challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("authorization to the redirect URI asked for: %d, want the error page", resp.StatusCode)
		}

		as = start(t, authserver.Options{Deviations: authserver.Deviations{OmitRedirectURIs: true}})
		if status, m := register(t, as, map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none", "application_type": "native"}); status != http.StatusCreated || m["redirect_uris"] != nil {
			t.Errorf("registration: %d %v", status, m)
		}
	})

	t.Run("an issuer with a trailing slash", func(t *testing.T) {
		as := start(t, authserver.Options{AutoApprove: true, ISSParameter: true, Deviations: authserver.Deviations{IssuerTrailingSlash: true}})
		_, m := getJSON(t, as.Issuer()+"/.well-known/oauth-authorization-server")
		if m["issuer"] != as.Issuer()+"/" || m["token_endpoint"] != as.Issuer()+"/token" {
			t.Errorf("metadata %v", m)
		}
		_, challenge := pkce()
		if iss := authorize(t, as, authParams(registerPublic(t, as), challenge)).Query().Get("iss"); iss != as.Issuer()+"/" {
			t.Errorf("iss %q, want the issuer the metadata names", iss)
		}
	})

	t.Run("a stub authorization endpoint", func(t *testing.T) {
		as := start(t, authserver.Options{Deviations: authserver.Deviations{StubAuthorize: http.StatusNotFound}})
		_, challenge := pkce()
		resp, err := noFollow.Get(as.Issuer() + "/authorize?" + authParams(registerPublic(t, as), challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != http.StatusNotFound || e["error"] != "not_implemented" {
			t.Errorf("stub answered %d %v", resp.StatusCode, e)
		}
		if !slices.ContainsFunc(as.Requests(), func(r authserver.Request) bool { return r.Endpoint == authserver.EndpointAuthorize }) {
			t.Error("the request to the stub was not recorded")
		}
	})
}
