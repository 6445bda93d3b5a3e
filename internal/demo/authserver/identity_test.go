package authserver_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// idClaims decodes the claims of an ID token (the tests trust the server that signed it).
func idClaims(t *testing.T, idToken any) map[string]any {
	t.Helper()
	s, _ := idToken.(string)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		t.Fatalf("not an ID token: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSignInAs: the user signed in at the server owns the grants approved from then on: its
// tokens, and the ID tokens of its code exchange and of its refreshes, which keep the grant's
// user whoever signs in after.
func TestSignInAs(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, OpenID: true, Scopes: []string{"openid", "mcp:read", "mcp:write"}})
	clientID := registerPublic(t, as)
	withOpenID := func() map[string]any {
		verifier, challenge := pkce()
		params := authParams(clientID, challenge)
		params.Set("scope", "openid mcp:read")
		code := authorize(t, as, params).Query().Get("code")
		status, tok := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, codeGrant(code, verifier))
		if status != http.StatusOK {
			t.Fatalf("code exchange: %d %v", status, tok)
		}
		return tok
	}

	if info, _ := as.Verify(obtain(t, as, clientID)["access_token"].(string)); info.Subject != authserver.DemoSubject {
		t.Errorf("before SignInAs, the grant is %q's, want %q", info.Subject, authserver.DemoSubject)
	}
	as.SignInAs("alice")
	alice := withOpenID()
	as.SignInAs("bob@corp.example")
	bob := withOpenID()
	for _, c := range []struct {
		tok          map[string]any
		user, email  string
		refreshAfter bool
	}{{alice, "alice", "alice@example.com", true}, {bob, "bob@corp.example", "bob@corp.example", false}} {
		if info, _ := as.Verify(c.tok["access_token"].(string)); info.Subject != c.user {
			t.Errorf("the access token is %q's, want %q's", info.Subject, c.user)
		}
		if claims := idClaims(t, c.tok["id_token"]); claims["sub"] != c.user || claims["email"] != c.email {
			t.Errorf("ID token sub %v email %v, want %s %s", claims["sub"], claims["email"], c.user, c.email)
		}
		// A refresh, with another user signed in now, stays the grant's user's.
		status, renewed := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, refreshGrant(c.tok["refresh_token"].(string)))
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, renewed)
		}
		if claims := idClaims(t, renewed["id_token"]); claims["sub"] != c.user {
			t.Errorf("the refreshed ID token is %v's, want %s's", claims["sub"], c.user)
		}
	}
	as.SignInAs("")
	if info, _ := as.Verify(obtain(t, as, clientID)["access_token"].(string)); info.Subject != authserver.DemoSubject {
		t.Errorf("SignInAs(\"\") signs in %q, want %q", info.Subject, authserver.DemoSubject)
	}
}

// TestConsentPageUser: the consent page offers the signed-in user, and the person may type
// another, whose grant it then is; a name that is not one is refused.
func TestConsentPageUser(t *testing.T) {
	as := start(t, authserver.Options{})
	as.SignInAs("alice")
	clientID := registerPublic(t, as)
	idRE := regexp.MustCompile(`name="request_id" value="([^"]+)"`)
	// decide answers the consent page of a new authorization request as user, with the
	// verifier of the request.
	decide := func(user string) (resp *http.Response, verifier string) {
		verifier, challenge := pkce()
		page, err := noFollow.Get(as.Issuer() + "/authorize?" + authParams(clientID, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if !strings.Contains(string(b), `name="user" value="alice"`) {
			t.Errorf("the consent page does not offer the signed-in user:\n%s", b)
		}
		m := idRE.FindSubmatch(b)
		if m == nil {
			t.Fatalf("no request_id in page:\n%s", b)
		}
		resp, err = browser().PostForm(as.Issuer()+"/authorize/decision", url.Values{"request_id": {string(m[1])}, "decision": {"allow"}, "user": {user}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, verifier
	}

	resp, verifier := decide(" carol ")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	status, tok := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, codeGrant(loc.Query().Get("code"), verifier))
	if status != http.StatusOK {
		t.Fatalf("allow as carol: %d, then %d %v", resp.StatusCode, status, tok)
	}
	if info, _ := as.Verify(tok["access_token"].(string)); info.Subject != "carol" {
		t.Errorf("the grant is %q's, want carol's", info.Subject)
	}
	for _, bad := range []string{"", "a b", "<script>", strings.Repeat("x", 65), "-dash"} {
		if resp, _ := decide(bad); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("user %q: status %d Location %q, want a 400 page", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// userinfoGet calls the UserInfo endpoint with token.
func userinfoGet(t *testing.T, as *authserver.Server, token string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, as.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, resp.Header.Get("WWW-Authenticate")
}

// TestUserInfo: with Options.UserInfo, a person's token with the scope openid gets its user;
// one without openid, an unknown one and a client's own are refused; without the option there
// is no endpoint.
func TestUserInfo(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, UserInfo: true, ClientCredentials: true,
		Scopes: []string{"openid", "mcp:read", "mcp:write"}})
	if _, meta := getJSON(t, as.Issuer()+"/.well-known/oauth-authorization-server"); meta["userinfo_endpoint"] != as.Issuer()+"/userinfo" {
		t.Errorf("userinfo_endpoint = %v", meta["userinfo_endpoint"])
	}
	as.SignInAs("alice")
	clientID := registerPublic(t, as)
	verifier, challenge := pkce()
	params := authParams(clientID, challenge)
	params.Set("scope", "openid mcp:read")
	code := authorize(t, as, params).Query().Get("code")
	_, tok := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, codeGrant(code, verifier))
	status, m, _ := userinfoGet(t, as, tok["access_token"].(string))
	if status != http.StatusOK || m["sub"] != "alice" || m["email"] != "alice@example.com" || m["preferred_username"] != "alice" {
		t.Errorf("userinfo = %d %v", status, m)
	}

	status, _, challengeHeader := userinfoGet(t, as, obtain(t, as, clientID)["access_token"].(string))
	if status != http.StatusForbidden || !strings.Contains(challengeHeader, "insufficient_scope") {
		t.Errorf("a token without openid: %d %q, want 403 insufficient_scope", status, challengeHeader)
	}
	if status, _, h := userinfoGet(t, as, "not-a-token"); status != http.StatusUnauthorized || !strings.Contains(h, "invalid_token") {
		t.Errorf("an unknown token: %d %q, want 401 invalid_token", status, h)
	}
	as.RegisterClient(authserver.Client{ID: "robot", Secret: "pw", GrantTypes: []string{authserver.GrantClientCredentials}})
	_, cc := token(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "robot", secret: "pw"},
		url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}})
	if status, _, _ := userinfoGet(t, as, cc["access_token"].(string)); status != http.StatusForbidden {
		t.Errorf("a client's own token: %d, want 403", status)
	}
	if n := as.Stats().UserInfoAnswers; n != 1 {
		t.Errorf("UserInfoAnswers = %d, want 1", n)
	}

	plain := start(t, authserver.Options{})
	if _, meta := getJSON(t, plain.Issuer()+"/.well-known/oauth-authorization-server"); meta["userinfo_endpoint"] != nil || meta["introspection_endpoint"] != nil {
		t.Errorf("without the options, metadata names userinfo %v, introspection %v", meta["userinfo_endpoint"], meta["introspection_endpoint"])
	}
	if status, _, _ := userinfoGet(t, plain, "x"); status != http.StatusNotFound {
		t.Errorf("userinfo without the option: %d, want 404", status)
	}
}

// introspect posts an RFC 7662 request with the client's authentication.
func introspect(t *testing.T, as *authserver.Server, auth clientAuth, tok string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"token": {tok}}
	if auth.method == authserver.AuthNone {
		form.Set("client_id", auth.id)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, as.Issuer()+"/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth.method == authserver.AuthClientSecretBasic {
		req.SetBasicAuth(auth.id, auth.secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestIntrospection: a client learns whose its own active tokens are; another client's,
// revoked and unknown tokens read as inactive and say nothing more; a client that does not
// authenticate as registered is refused.
func TestIntrospection(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, Introspection: true})
	if _, meta := getJSON(t, as.Issuer()+"/.well-known/oauth-authorization-server"); meta["introspection_endpoint"] != as.Issuer()+"/introspect" {
		t.Errorf("introspection_endpoint = %v", meta["introspection_endpoint"])
	}
	as.SignInAs("alice")
	clientID := registerPublic(t, as)
	other := registerPublic(t, as)
	tok := obtain(t, as, clientID)
	self := clientAuth{method: authserver.AuthNone, id: clientID}

	status, m := introspect(t, as, self, tok["access_token"].(string))
	if status != http.StatusOK || m["active"] != true || m["sub"] != "alice" || m["username"] != "alice" ||
		m["client_id"] != clientID || m["scope"] != "mcp:read mcp:write" || m["iss"] != as.Issuer() || m["exp"] == nil {
		t.Errorf("own access token: %d %v", status, m)
	}
	if status, m := introspect(t, as, self, tok["refresh_token"].(string)); status != http.StatusOK || m["active"] != true || m["sub"] != "alice" {
		t.Errorf("own refresh token: %d %v", status, m)
	}
	for name, c := range map[string]struct {
		auth clientAuth
		tok  string
	}{
		"another client's token": {clientAuth{method: authserver.AuthNone, id: other}, tok["access_token"].(string)},
		"an unknown token":       {self, "nope"},
	} {
		if status, m := introspect(t, as, c.auth, c.tok); status != http.StatusOK || m["active"] != false || len(m) != 1 {
			t.Errorf("%s: %d %v, want only active false", name, status, m)
		}
	}
	if status, m := revoke(t, as, self, tok["refresh_token"].(string), ""); status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, m)
	}
	if _, m := introspect(t, as, self, tok["access_token"].(string)); m["active"] != false {
		t.Errorf("a revoked grant's token: %v, want inactive", m)
	}
	as.RegisterClient(authserver.Client{ID: "conf", Secret: "right", RedirectURIs: []string{redirectURI}})
	if status, m := introspect(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "conf", secret: "wrong"}, "x"); status != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Errorf("a wrong secret: %d %v, want 401 invalid_client", status, m)
	}
	if n := as.Stats().Introspections; n != 2 {
		t.Errorf("Introspections = %d, want 2", n)
	}
}
