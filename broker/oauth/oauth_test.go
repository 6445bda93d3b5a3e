package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenEndpoint is a scripted token endpoint that records the last request.
type tokenEndpoint struct {
	mu       sync.Mutex
	form     url.Values
	user     string
	pass     string
	hadBasic bool
	status   int
	body     string
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_ = r.ParseForm()
	e.form = r.PostForm
	e.user, e.pass, e.hadBasic = r.BasicAuth()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(e.body))
}

func newTokenEndpoint(t *testing.T, status int, body string) (*tokenEndpoint, string) {
	t.Helper()
	e := &tokenEndpoint{status: status, body: body}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv.URL + "/token"
}

const okBody = `{"access_token":"AT-secret","token_type":"Bearer","refresh_token":"RT-new","expires_in":3600,"scope":"mcp:read"}`

func TestExchangeAuthMethods(t *testing.T) {
	tests := []struct {
		method         string
		secret         string
		wantBasic      bool
		wantFormSecret bool
	}{
		{AuthNone, "", false, false},
		{AuthClientSecretBasic, "s3cret", true, false},
		{AuthClientSecretPost, "s3cret", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			e, tokenURL := newTokenEndpoint(t, 200, okBody)
			c := &Client{ID: "cid", Secret: tt.secret, AuthMethod: tt.method}
			req, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: "https://as.example/authorize", Client: c, RedirectURI: "http://127.0.0.1:1234/callback", Scope: "mcp:read", Resource: "https://mcp.example/mcp"})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := Exchange(t.Context(), nil, tokenURL, c, req, "the-code")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "AT-secret" || tok.RefreshToken != "RT-new" || tok.Scope != "mcp:read" {
				t.Fatalf("token = %+v", tok)
			}
			if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
				t.Errorf("expiry in %v, want about 1h", d)
			}
			if e.hadBasic != tt.wantBasic {
				t.Errorf("basic auth = %v, want %v", e.hadBasic, tt.wantBasic)
			}
			if tt.wantBasic && (e.user != "cid" || e.pass != tt.secret) {
				t.Errorf("basic auth = %q:%q", e.user, e.pass)
			}
			if got := e.form.Has("client_secret"); got != tt.wantFormSecret {
				t.Errorf("client_secret in form = %v, want %v", got, tt.wantFormSecret)
			}
			if !tt.wantBasic && e.form.Get("client_id") != "cid" {
				t.Errorf("client_id in form = %q", e.form.Get("client_id"))
			}
			for k, want := range map[string]string{
				"grant_type": "authorization_code", "code": "the-code", "code_verifier": req.Verifier,
				"redirect_uri": "http://127.0.0.1:1234/callback", "resource": "https://mcp.example/mcp",
			} {
				if got := e.form.Get(k); got != want {
					t.Errorf("form %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestAuthRequestURL(t *testing.T) {
	c := &Client{ID: "cid", AuthMethod: AuthNone}
	a, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: "https://as.example/authorize?tenant=x", Client: c, RedirectURI: "http://127.0.0.1:1/cb", Scope: "a b", Resource: "https://mcp.example/mcp", Issuer: "https://as.example"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: "https://as.example/authorize", Client: c, RedirectURI: "http://127.0.0.1:1/cb"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"tenant": "x", "response_type": "code", "client_id": "cid", "redirect_uri": "http://127.0.0.1:1/cb",
		"scope": "a b", "state": a.State, "code_challenge_method": "S256", "resource": "https://mcp.example/mcp",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if q.Get("code_challenge") == "" || strings.Contains(a.URL, a.Verifier) {
		t.Error("the URL must carry the S256 challenge and never the verifier")
	}
	if a.State == b.State || a.Verifier == b.Verifier {
		t.Error("state and verifier must be fresh per attempt")
	}
	if bq, _ := url.Parse(b.URL); bq.Query().Has("scope") {
		t.Error("an empty scope must be omitted")
	}
}

func TestCheckRedirect(t *testing.T) {
	a := &AuthRequest{State: "st", Issuer: "https://as.example"}
	strict := &AuthRequest{State: "st", Issuer: "https://as.example", RequireISS: true}
	tests := []struct {
		name       string
		req        *AuthRequest
		state, iss string
		want       error
	}{
		{"ok without iss", a, "st", "", nil},
		{"ok with iss", a, "st", "https://as.example", nil},
		{"wrong state", a, "other", "", ErrStateMismatch},
		{"empty state", a, "", "", ErrStateMismatch},
		{"wrong iss", a, "st", "https://evil.example", ErrISSMismatch},
		{"iss with trailing slash differs", a, "st", "https://as.example/", ErrISSMismatch},
		{"required iss missing", strict, "st", "", ErrISSMissing},
		{"required iss ok", strict, "st", "https://as.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.req.CheckRedirect(tt.state, tt.iss); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	t.Run("rotates and sends resource", func(t *testing.T) {
		e, tokenURL := newTokenEndpoint(t, 200, okBody)
		c := &Client{ID: "cid", AuthMethod: AuthNone}
		tok, err := Refresh(t.Context(), nil, tokenURL, c, "RT-old", "mcp:read", "https://mcp.example/mcp")
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken != "RT-new" {
			t.Errorf("refresh token = %q, want the rotated one", tok.RefreshToken)
		}
		for k, want := range map[string]string{"grant_type": "refresh_token", "refresh_token": "RT-old", "resource": "https://mcp.example/mcp", "client_id": "cid"} {
			if got := e.form.Get(k); got != want {
				t.Errorf("form %s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("keeps the old refresh token when not rotated", func(t *testing.T) {
		_, tokenURL := newTokenEndpoint(t, 200, `{"access_token":"AT2","token_type":"Bearer"}`)
		tok, err := Refresh(t.Context(), nil, tokenURL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT-old", "s", "")
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken != "RT-old" || tok.Scope != "s" || !tok.Expiry.IsZero() {
			t.Errorf("token = %+v", tok)
		}
	})
	t.Run("omits resource when switched off", func(t *testing.T) {
		e, tokenURL := newTokenEndpoint(t, 200, okBody)
		if _, err := Refresh(t.Context(), nil, tokenURL, &Client{ID: "cid", Secret: "sec", AuthMethod: AuthClientSecretBasic}, "RT", "", ""); err != nil {
			t.Fatal(err)
		}
		if e.form.Has("resource") || !e.hadBasic || e.form.Has("client_secret") {
			t.Errorf("form = %v, basic = %v", e.form, e.hadBasic)
		}
	})
}

func TestTokenErrorsNeverLeakSecrets(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"refresh token reused"}`, IsInvalidGrant},
		{"no access token", 200, `{"token_type":"Bearer","refresh_token":"RT-echo"}`, func(err error) bool { return errors.Is(err, ErrNoAccessToken) }},
		{"html error page", 502, `<html>RT-old AT-secret</html>`, func(err error) bool { var te *TokenError; return errors.As(err, &te) && te.Status == 502 }},
		{"error in a 200", 200, `{"error":"invalid_client"}`, func(err error) bool { var te *TokenError; return errors.As(err, &te) && te.Code == "invalid_client" }},
		{"control characters", 400, "{\"error\":\"invalid_request\",\"error_description\":\"bad\\u001b[31m thing\"}", func(err error) bool { return !strings.Contains(err.Error(), "\x1b") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, tokenURL := newTokenEndpoint(t, tt.status, tt.body)
			c := &Client{ID: "cid", Secret: "client-secret-value", AuthMethod: AuthClientSecretPost}
			req := &AuthRequest{Verifier: "verifier-value", RedirectURI: "http://127.0.0.1:1/cb"}
			_, errX := Exchange(t.Context(), nil, tokenURL, c, req, "code-value")
			_, errR := Refresh(t.Context(), nil, tokenURL, c, "RT-old", "", "r")
			_, errC := ClientCredentials(t.Context(), nil, tokenURL, c, "", "r")
			for _, err := range []error{errX, errR, errC} {
				if err == nil || !tt.check(err) {
					t.Fatalf("err = %v", err)
				}
				for _, secret := range []string{"client-secret-value", "verifier-value", "code-value", "RT-old", "AT-secret", "RT-echo"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q leaks %q", err, secret)
					}
				}
			}
		})
	}
}

func TestTokenRequestsDoNotFollowRedirects(t *testing.T) {
	var hits int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c := &Client{ID: "cid", Secret: "sec", AuthMethod: AuthClientSecretPost}
	if _, err := Refresh(t.Context(), nil, redirector.URL, c, "RT", "", ""); err == nil {
		t.Error("refresh through a redirect succeeded")
	}
	if _, err := Exchange(t.Context(), nil, redirector.URL, c, &AuthRequest{}, "code"); err == nil {
		t.Error("exchange through a redirect succeeded")
	}
	if hits != 0 {
		t.Errorf("the redirect target got %d requests carrying secrets", hits)
	}
}

func TestClientCredentials(t *testing.T) {
	e, tokenURL := newTokenEndpoint(t, 200, `{"access_token":"AT","token_type":"Bearer","expires_in":60}`)
	c := &Client{ID: "cid", Secret: "sec", AuthMethod: AuthClientSecretBasic}
	tok, err := ClientCredentials(t.Context(), nil, tokenURL, c, "mcp:read", "https://mcp.example/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "AT" || tok.Scope != "mcp:read" {
		t.Errorf("token = %+v", tok)
	}
	if e.form.Get("grant_type") != "client_credentials" || e.form.Get("resource") != "https://mcp.example/mcp" || e.form.Get("scope") != "mcp:read" || !e.hadBasic {
		t.Errorf("form = %v basic = %v", e.form, e.hadBasic)
	}
	if _, err := ClientCredentials(t.Context(), nil, tokenURL, &Client{ID: "cid", AuthMethod: AuthNone}, "", ""); err == nil {
		t.Error("client credentials without a secret must fail")
	}
}

func TestChooseAuthMethod(t *testing.T) {
	tests := []struct {
		supported []string
		proof     Proof
		want      string
		wantErr   bool
	}{
		{nil, ProofNone, "", true}, // RFC 8414 default is client_secret_basic only
		{nil, ProofSecret, AuthClientSecretBasic, false},
		{[]string{"none", "client_secret_post"}, ProofNone, AuthNone, false},
		{[]string{"client_secret_post"}, ProofSecret, AuthClientSecretPost, false},
		{[]string{"private_key_jwt"}, ProofSecret, "", true},
		{[]string{"client_secret_basic", "private_key_jwt"}, ProofKey, AuthPrivateKeyJWT, false},
		{nil, ProofKey, AuthPrivateKeyJWT, false}, // an unpublished list refuses nothing
		{[]string{"client_secret_basic", "none"}, ProofKey, "", true},
	}
	for _, tt := range tests {
		got, err := ChooseAuthMethod(tt.supported, tt.proof)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ChooseAuthMethod(%v, %v) = %q, %v", tt.supported, tt.proof, got, err)
		}
	}
}

func TestRegister(t *testing.T) {
	var got registrationRequest
	status, resp := http.StatusCreated, `{"client_id":"new-client","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1:5555/callback"]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(resp))
	}))
	defer srv.Close()
	p := RegistrationParams{Endpoint: srv.URL, Issuer: "https://as", AuthMethods: []string{"none", "client_secret_basic"}, RedirectURI: "http://127.0.0.1:5555/callback", Scope: "mcp:read"}
	c, err := Register(t.Context(), nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "new-client" || c.AuthMethod != AuthNone || c.Issuer != "https://as" || c.Kind != KindDynamic || c.RedirectURI != p.RedirectURI {
		t.Errorf("client = %+v", c)
	}
	if got.ApplicationType != "native" || got.TokenEndpointAuthMethod != "none" || len(got.RedirectURIs) != 1 ||
		strings.Join(got.GrantTypes, ",") != "authorization_code,refresh_token" {
		t.Errorf("request = %+v", got)
	}

	noRefresh := p
	noRefresh.GrantTypes = []string{"authorization_code"}
	if _, err := Register(t.Context(), nil, noRefresh); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.GrantTypes, ",") != "authorization_code" {
		t.Errorf("grant types = %v, want refresh_token left out when the AS does not offer it", got.GrantTypes)
	}

	status, resp = http.StatusBadRequest, `{"error":"invalid_redirect_uri","error_description":"nope"}`
	if _, err := Register(t.Context(), nil, p); err == nil || !strings.Contains(err.Error(), "invalid_redirect_uri") {
		t.Errorf("err = %v", err)
	}
	status, resp = http.StatusCreated, `{"client_id":"c","token_endpoint_auth_method":"client_secret_basic"}`
	if _, err := Register(t.Context(), nil, p); err == nil {
		t.Error("a confidential registration without a secret must fail")
	}
	if _, err := Register(t.Context(), nil, RegistrationParams{}); err == nil {
		t.Error("no endpoint must fail")
	}
}

// TestAuthRequestParams: a provider's parameters (package provider) join the request, a prompt
// among them replacing the Prompt field, and none may replace one the request sets itself.
func TestAuthRequestParams(t *testing.T) {
	c := &Client{ID: "cid", AuthMethod: AuthNone}
	a, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: "https://as.example/authorize", Client: c, RedirectURI: "http://127.0.0.1:1/cb",
		Prompt: "consent", Params: url.Values{"access_type": {"offline"}, "prompt": {"login"}, "audience": {"https://mcp.example/mcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.URL)
	q := u.Query()
	if q.Get("access_type") != "offline" || q["prompt"][0] != "login" || len(q["prompt"]) != 1 || q.Get("audience") != "https://mcp.example/mcp" || q.Get("client_id") != "cid" {
		t.Errorf("authorization URL query: %v", q)
	}
	for _, own := range []string{"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "response_type", "scope", "resource"} {
		if _, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: "https://as.example/authorize", Client: c, RedirectURI: "http://127.0.0.1:1/cb",
			Params: url.Values{own: {"x"}}}); err == nil {
			t.Errorf("a parameter %q replaced the request's own", own)
		}
	}
}
