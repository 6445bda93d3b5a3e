package authserver_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// redirectURI is the loopback redirect URI the test clients register.
const redirectURI = "http://127.0.0.1:53682/callback"

// testResource is the resource tests ask tokens for.
const testResource = "http://127.0.0.1:9/mcp"

// start runs an authorization server on 127.0.0.1 for the test.
func start(t *testing.T, opts authserver.Options) *authserver.Server {
	t.Helper()
	as := authserver.New(opts)
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := as.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return as
}

// browser follows redirects like a browser until it is sent to the client's
// loopback redirect URI, where it stops: that response is what the client's
// callback server would receive.
func browser() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), "http://127.0.0.1:53682/") {
				return http.ErrUseLastResponse
			}
			if len(via) > 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// noFollow never follows redirects.
var noFollow = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// pkce returns a fresh verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// getJSON fetches u and decodes a JSON object.
func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("decoding %s: %v", u, err)
		}
	}
	return resp.StatusCode, m
}

// register performs Dynamic Client Registration.
func register(t *testing.T, as *authserver.Server, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(as.Issuer()+"/register", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decoding registration response: %v", err)
	}
	return resp.StatusCode, m
}

// registerPublic registers a public client for the code and refresh grants.
func registerPublic(t *testing.T, as *authserver.Server) string {
	t.Helper()
	status, m := register(t, as, map[string]any{
		"client_name":                "test client",
		"redirect_uris":              []string{redirectURI},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"application_type":           "native",
	})
	if status != http.StatusCreated {
		t.Fatalf("register: status %d, %v", status, m)
	}
	return m["client_id"].(string)
}

// authParams are the parameters of a well-formed authorization request.
func authParams(clientID, challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"state":                 {"st-123"},
		"scope":                 {"mcp:read mcp:write"},
		"resource":              {testResource},
	}
}

// authorize sends the browser to the authorization endpoint and returns the
// redirect it ends with (the client's callback URL), failing when there is
// none.
func authorize(t *testing.T, as *authserver.Server, params url.Values) *url.URL {
	t.Helper()
	resp, err := browser().Get(as.Issuer() + "/authorize?" + params.Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: status %d, want 302; body %.300s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: bad Location: %v", err)
	}
	return loc
}

// clientAuth says how a token request authenticates the client.
type clientAuth struct {
	method, id, secret string
}

// token posts a token request and returns status and decoded body.
func token(t *testing.T, as *authserver.Server, auth clientAuth, form url.Values) (int, map[string]any) {
	t.Helper()
	status, m, err := tokenRequest(t.Context(), as, auth, form)
	if err != nil {
		t.Fatal(err)
	}
	return status, m
}

// tokenRequest is token without a *testing.T, for use from goroutines.
func tokenRequest(ctx context.Context, as *authserver.Server, auth clientAuth, form url.Values) (int, map[string]any, error) {
	form = cloneForm(form)
	switch auth.method {
	case authserver.AuthClientSecretBasic:
	case authserver.AuthPrivateKeyJWT: // the form carries the assertion, and client_id if it is to
	case authserver.AuthClientSecretPost:
		form.Set("client_id", auth.id)
		form.Set("client_secret", auth.secret)
	default:
		form.Set("client_id", auth.id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth.method == authserver.AuthClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(auth.id), url.QueryEscape(auth.secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		return 0, nil, fmt.Errorf("token response Cache-Control = %q, want no-store", cc)
	}
	m := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, nil, fmt.Errorf("decoding token response: %w", err)
	}
	return resp.StatusCode, m, nil
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// codeGrant is the token request redeeming code.
func codeGrant(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirectURI},
		"resource":      {testResource},
	}
}

// obtain runs the whole code flow for a public client and returns the token
// response.
func obtain(t *testing.T, as *authserver.Server, clientID string) map[string]any {
	t.Helper()
	verifier, challenge := pkce()
	loc := authorize(t, as, authParams(clientID, challenge))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in redirect %s", loc.Redacted())
	}
	status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, codeGrant(code, verifier))
	if status != http.StatusOK {
		t.Fatalf("code exchange: status %d, %v", status, m)
	}
	return m
}

// wantOAuthError checks an RFC 6749 error answer.
func wantOAuthError(t *testing.T, status int, m map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || m["error"] != wantCode {
		t.Errorf("got status %d error %v (%v), want %d %s", status, m["error"], m["error_description"], wantStatus, wantCode)
	}
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
