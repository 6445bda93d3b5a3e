package oauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// identityEndpoint answers every request with one status, content type and body, and
// records what it was sent.
type identityEndpoint struct {
	mu                 sync.Mutex
	status             int
	contentType, body  string
	authorization      string
	form               url.Values
	basicUser, basicPW string
	requests           int
}

func (e *identityEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests++
	e.authorization = r.Header.Get("Authorization")
	_ = r.ParseForm()
	e.form = r.PostForm
	e.basicUser, e.basicPW, _ = r.BasicAuth()
	w.Header().Set("Content-Type", e.contentType)
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(e.body))
}

// answer sets what the endpoint answers from now on.
func (e *identityEndpoint) answer(status int, contentType, body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status, e.contentType, e.body = status, contentType, body
}

// seen returns a copy of what the endpoint was sent last, and the number of requests.
func (e *identityEndpoint) seen() identityEndpoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return identityEndpoint{authorization: e.authorization, form: e.form, basicUser: e.basicUser, basicPW: e.basicPW, requests: e.requests}
}

func newIdentityEndpoint(t *testing.T, status int, contentType, body string) (*identityEndpoint, string) {
	t.Helper()
	e := &identityEndpoint{status: status, contentType: contentType, body: body}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv.URL + "/endpoint"
}

// TestUserInfo: the access token goes as a bearer token, the answer's sub, email and
// preferred_username (or name) come back sanitized; an answer that names no one, a refusal, a
// signed answer and junk are errors that hold neither the token nor the body.
func TestUserInfo(t *testing.T) {
	e, endpoint := newIdentityEndpoint(t, http.StatusOK, "application/json; charset=utf-8",
		`{"sub":"u-1","email":"alice@example.com\u001b[31m","preferred_username":"alice","name":"Alice A."}`)
	id, err := UserInfo(t.Context(), nil, endpoint, "AT-secret")
	if err != nil {
		t.Fatal(err)
	}
	if *id != (Identity{Subject: "u-1", Email: "alice@example.com[31m", Username: "alice"}) {
		t.Errorf("identity = %+v", id)
	}
	if got := e.seen().authorization; got != "Bearer AT-secret" {
		t.Errorf("Authorization = %q", got)
	}
	e.answer(http.StatusOK, "application/json", `{"sub":"u-1","name":"Alice A."}`)
	if id, err := UserInfo(t.Context(), nil, endpoint, "AT-secret"); err != nil || id.Username != "Alice A." {
		t.Errorf("name for a missing preferred_username: %+v, %v", id, err)
	}

	for name, c := range map[string]struct {
		status      int
		contentType string
		body        string
		want        string
	}{
		"refused":      {http.StatusUnauthorized, "application/json", `{"error":"invalid_token"}`, "HTTP 401"},
		"no sub":       {http.StatusOK, "application/json", `{"email":"a@example.com"}`, "without a sub"},
		"a signed JWT": {http.StatusOK, "application/jwt", "eyJ.eyJ.sig", "signed JWT"},
		"not JSON":     {http.StatusOK, "text/html", "<html>AT-secret</html>", "not a JSON object"},
	} {
		e.answer(c.status, c.contentType, c.body)
		_, err := UserInfo(t.Context(), nil, endpoint, "AT-secret")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "AT-secret") {
			t.Errorf("%s: error %v, want one saying %q without the token", name, err, c.want)
		}
	}
}

// TestUserInfoNoTokenElsewhere: a UserInfo endpoint that redirects to another origin does not
// get the token sent there.
func TestUserInfoNoTokenElsewhere(t *testing.T) {
	other, otherURL := newIdentityEndpoint(t, http.StatusOK, "application/json", `{"sub":"x"}`)
	redirector := httptest.NewServer(http.RedirectHandler(otherURL, http.StatusTemporaryRedirect))
	t.Cleanup(redirector.Close)
	if _, err := UserInfo(t.Context(), nil, redirector.URL, "AT-secret"); err == nil {
		t.Error("a redirect to another origin was followed")
	}
	if n := other.seen().requests; n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
}

// TestIntrospect: the client authenticates as registered and asks about the access token; an
// active token's sub, username and email come back; an inactive one, one that names no one and
// a refusal are errors.
func TestIntrospect(t *testing.T) {
	e, endpoint := newIdentityEndpoint(t, http.StatusOK, "application/json",
		`{"active":true,"sub":"u-1","username":"alice","client_id":"cid","scope":"mcp:read"}`)
	c := &Client{ID: "cid", Secret: "s3cret", AuthMethod: AuthClientSecretBasic}
	id, err := Introspect(t.Context(), nil, endpoint, c, "AT-secret")
	if err != nil {
		t.Fatal(err)
	}
	if *id != (Identity{Subject: "u-1", Username: "alice"}) {
		t.Errorf("identity = %+v", id)
	}
	if got := e.seen(); got.form.Get("token") != "AT-secret" || got.form.Get("token_type_hint") != "access_token" || got.basicUser != "cid" || got.basicPW != "s3cret" {
		t.Errorf("request: form %v, basic %q", got.form, got.basicUser)
	}
	e.answer(http.StatusOK, "application/json", `{"active":true,"email":"alice@example.com"}`)
	if id, err := Introspect(t.Context(), nil, endpoint, c, "AT-secret"); err != nil || id.Email != "alice@example.com" {
		t.Errorf("email only: %+v, %v", id, err)
	}

	for name, a := range map[string]struct {
		status int
		body   string
		want   string
	}{
		"inactive":      {http.StatusOK, `{"active":false}`, "not active"},
		"nobody":        {http.StatusOK, `{"active":true,"scope":"x"}`, "names no one"},
		"not a client":  {http.StatusUnauthorized, `{"error":"invalid_client"}`, "HTTP 401"},
		"not permitted": {http.StatusForbidden, ``, "HTTP 403"},
	} {
		e.answer(a.status, "application/json", a.body)
		_, err := Introspect(t.Context(), nil, endpoint, c, "AT-secret")
		if err == nil || !strings.Contains(err.Error(), a.want) || strings.Contains(err.Error(), "AT-secret") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error %v, want one saying %q without secrets", name, err, a.want)
		}
	}
}

// TestIDTokenUsername: an ID token's preferred_username, else its name, is its Username.
func TestIDTokenUsername(t *testing.T) {
	for _, c := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"sub": "u", "preferred_username": "alice", "name": "Alice A."}, "alice"},
		{map[string]any{"sub": "u", "name": "Alice A."}, "Alice A."},
		{map[string]any{"sub": "u"}, ""},
	} {
		payload, _ := json.Marshal(c.claims)
		claims, err := ParseIDToken("eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln")
		if err != nil || claims.Username != c.want {
			t.Errorf("%v: Username %q (%v), want %q", c.claims, claims.Username, err, c.want)
		}
	}
}
