package oauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestJWTBearer checks the RFC 7523 §2.1 request, for a public client (client_id in the body,
// no secret) and a confidential one (HTTP Basic), and that a refusal is a TokenError.
func TestJWTBearer(t *testing.T) {
	ep, u := newTokenEndpoint(t, 200, `{"access_token":"at","token_type":"Bearer","expires_in":300}`)
	tok, err := JWTBearer(t.Context(), nil, u, &Client{ID: "wl", AuthMethod: AuthNone}, "the.jwt.assertion", "", "https://mcp.example.com/mcp")
	if err != nil || tok.AccessToken != "at" || tok.Expiry.IsZero() {
		t.Fatalf("JWTBearer = %+v, %v", tok, err)
	}
	want := map[string]string{"grant_type": GrantJWTBearer, "assertion": "the.jwt.assertion", "client_id": "wl", "resource": "https://mcp.example.com/mcp"}
	for k, v := range want {
		if got := ep.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if ep.form.Has("scope") || ep.hadBasic || ep.form.Has("client_secret") {
		t.Errorf("form = %v, basic %v", ep.form, ep.hadBasic)
	}

	if _, err := JWTBearer(t.Context(), nil, u, &Client{ID: "c", Secret: "s", AuthMethod: AuthClientSecretBasic}, "a.b.c", "mcp:read", ""); err != nil {
		t.Fatal(err)
	}
	if !ep.hadBasic || ep.user != "c" || ep.pass != "s" || ep.form.Get("scope") != "mcp:read" || ep.form.Has("resource") || ep.form.Has("client_id") {
		t.Errorf("confidential request: form %v, basic %v %q", ep.form, ep.hadBasic, ep.user)
	}

	_, u = newTokenEndpoint(t, 400, `{"error":"invalid_grant","error_description":"JWT assertion is expired"}`)
	_, err = JWTBearer(t.Context(), nil, u, &Client{ID: "wl"}, "a.b.c", "", "")
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" || !strings.Contains(err.Error(), "jwt-bearer") {
		t.Errorf("refusal = %v", err)
	}
	if _, err := JWTBearer(t.Context(), nil, u, &Client{ID: "wl"}, "", "", ""); err == nil {
		t.Error("a grant without an assertion was sent")
	}
}

// TestTokenExchange checks the RFC 8693 request SEP-990 makes, and that the answer must be of
// the type asked for.
func TestTokenExchange(t *testing.T) {
	p := TokenExchangeParams{
		SubjectToken: "id.token.jwt", SubjectTokenType: TokenTypeIDToken, RequestedTokenType: TokenTypeIDJAG,
		Audience: "https://as.example.com", Resource: "https://mcp.example.com/mcp",
	}
	ep, u := newTokenEndpoint(t, 200, `{"access_token":"jag.jwt.x","issued_token_type":"`+TokenTypeIDJAG+`","token_type":"N_A","expires_in":300}`)
	tok, err := TokenExchange(t.Context(), nil, u, &Client{ID: "idp-client"}, p)
	if err != nil || tok.AccessToken != "jag.jwt.x" || tok.IssuedTokenType != TokenTypeIDJAG {
		t.Fatalf("TokenExchange = %+v, %v", tok, err)
	}
	want := map[string]string{
		"grant_type": GrantTokenExchange, "subject_token": "id.token.jwt", "subject_token_type": TokenTypeIDToken,
		"requested_token_type": TokenTypeIDJAG, "audience": "https://as.example.com", "resource": "https://mcp.example.com/mcp", "client_id": "idp-client",
	}
	for k, v := range want {
		if got := ep.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if ep.form.Has("scope") {
		t.Errorf("scope sent: %v", ep.form)
	}
	for _, body := range []string{
		`{"access_token":"x","token_type":"Bearer"}`, // no issued_token_type
		`{"access_token":"x","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer"}`,
	} {
		_, u := newTokenEndpoint(t, 200, body)
		if _, err := TokenExchange(t.Context(), nil, u, &Client{ID: "c"}, p); err == nil {
			t.Errorf("answer %s accepted", body)
		}
	}
}

func TestAssertionAuthMethod(t *testing.T) {
	if m, err := AssertionAuthMethod([]string{AuthClientSecretBasic}, false); err != nil || m != AuthNone {
		t.Errorf("public = %q, %v", m, err)
	}
	if m, err := AssertionAuthMethod(nil, true); err != nil || m != AuthClientSecretBasic {
		t.Errorf("confidential = %q, %v", m, err)
	}
	if _, err := AssertionAuthMethod([]string{"private_key_jwt"}, true); err == nil {
		t.Error("a secret with no method to send it accepted")
	}
}

func idToken(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
}

func TestParseIDToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := map[string]any{"iss": "https://idp.example.com", "sub": "u1", "aud": "client", "exp": now.Add(time.Hour).Unix(), "email": "u1@example.com"}
	c, err := ParseIDToken(idToken(good))
	if err != nil || c.Subject != "u1" || c.Email != "u1@example.com" || !c.Expiry.Equal(now.Add(time.Hour)) || len(c.Audience) != 1 {
		t.Fatalf("ParseIDToken = %+v, %v", c, err)
	}
	if err := c.Check("https://idp.example.com", "client", now); err != nil {
		t.Errorf("Check: %v", err)
	}
	list := map[string]any{"iss": "https://idp.example.com", "sub": "u1", "aud": []string{"other", "client"}, "exp": now.Add(time.Hour).Unix()}
	if c, err := ParseIDToken(idToken(list)); err != nil || c.Check("https://idp.example.com", "client", now) != nil {
		t.Errorf("aud as a list: %+v, %v", c, err)
	}
	for name, check := range map[string]func(*IDTokenClaims) error{
		"another issuer": func(c *IDTokenClaims) error { return c.Check("https://idp.example.com/", "client", now) },
		"another client": func(c *IDTokenClaims) error { return c.Check("https://idp.example.com", "nope", now) },
		"expired": func(c *IDTokenClaims) error {
			return c.Check("https://idp.example.com", "client", now.Add(2*time.Hour))
		},
	} {
		c, _ := ParseIDToken(idToken(good))
		if check(c) == nil {
			t.Errorf("%s: Check passed", name)
		}
	}
	for _, bad := range []string{"", "a.b", "a.!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		if _, err := ParseIDToken(bad); err == nil {
			t.Errorf("ParseIDToken(%q) passed", bad)
		}
	}
}

// TestIDTokenFromTheTokenEndpoint: the code exchange and the refresh keep the id_token of an
// OpenID Connect answer.
func TestIDTokenFromTheTokenEndpoint(t *testing.T) {
	_, u := newTokenEndpoint(t, 200, `{"access_token":"at","token_type":"Bearer","id_token":"the.id.token","refresh_token":"rt"}`)
	tok, err := Refresh(t.Context(), nil, u, &Client{ID: "c"}, "rt0", "", "")
	if err != nil || tok.IDToken != "the.id.token" {
		t.Errorf("Refresh = %+v, %v", tok, err)
	}
	req, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: u, Client: &Client{ID: "c"}, RedirectURI: "http://127.0.0.1/cb", Scope: "openid", Prompt: "consent"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(req.URL, "prompt=consent") {
		t.Errorf("authorization URL %s has no prompt", req.URL)
	}
	tok, err = Exchange(t.Context(), http.DefaultClient, u, &Client{ID: "c", AuthMethod: AuthNone}, req, "code")
	if err != nil || tok.IDToken != "the.id.token" {
		t.Errorf("Exchange = %+v, %v", tok, err)
	}
}
