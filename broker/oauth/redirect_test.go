package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
)

// Secrets of the redirect tests: none may reach another origin or an error.
const (
	redirClientSecret = "CLIENT-SECRET-9a8b"
	redirRefreshToken = "REFRESH-SECRET-7c6d"
	redirCode         = "CODE-SECRET-5e4f"
	redirVerifier     = "VERIFIER-SECRET-3a2b"
)

// redirectedRequests are the requests of this package that carry a credential: in the
// Authorization header (client_secret_basic) or in the body (a refresh token, a code and its
// verifier, a client secret sent with client_secret_post), and the registration.
var redirectedRequests = []struct {
	name string
	do   func(ctx context.Context, hc *http.Client, endpoint string) error
}{
	{"refresh with client_secret_basic", func(ctx context.Context, hc *http.Client, endpoint string) error {
		c := &Client{ID: "cid", Secret: redirClientSecret, AuthMethod: AuthClientSecretBasic}
		_, err := Refresh(ctx, hc, endpoint, c, redirRefreshToken, "mcp", "https://mcp.example/mcp")
		return err
	}},
	{"refresh of a public client", func(ctx context.Context, hc *http.Client, endpoint string) error {
		c := &Client{ID: "cid", AuthMethod: AuthNone}
		_, err := Refresh(ctx, hc, endpoint, c, redirRefreshToken, "mcp", "https://mcp.example/mcp")
		return err
	}},
	{"exchange with client_secret_post", func(ctx context.Context, hc *http.Client, endpoint string) error {
		c := &Client{ID: "cid", Secret: redirClientSecret, AuthMethod: AuthClientSecretPost}
		req := &AuthRequest{Verifier: redirVerifier, RedirectURI: "http://127.0.0.1:5555/callback", Resource: "https://mcp.example/mcp"}
		_, err := Exchange(ctx, hc, endpoint, c, req, redirCode)
		return err
	}},
	{"client credentials with client_secret_basic", func(ctx context.Context, hc *http.Client, endpoint string) error {
		c := &Client{ID: "cid", Secret: redirClientSecret, AuthMethod: AuthClientSecretBasic}
		_, err := ClientCredentials(ctx, hc, endpoint, c, "mcp", "https://mcp.example/mcp")
		return err
	}},
	{"registration", func(ctx context.Context, hc *http.Client, endpoint string) error {
		_, err := Register(ctx, hc, RegistrationParams{Endpoint: endpoint, Issuer: "https://as.example",
			AuthMethods: []string{AuthNone}, RedirectURI: "http://127.0.0.1:5555/callback"})
		return err
	}},
}

// TestTokenRequestRedirectToAnotherOrigin: a token or registration endpoint that redirects to
// another origin (port, host, scheme, subdomain; 307 and 308) gets an error naming both
// origins and holding no secret, and the other origin receives nothing.
func TestTokenRequestRedirectToAnotherOrigin(t *testing.T) {
	for _, leave := range httpclienttest.Leaves() {
		for _, r := range redirectedRequests {
			t.Run(leave.Name+"/"+r.name, func(t *testing.T) {
				o := leave.Start(t, func(o *httpclienttest.Origins) http.Handler { return http.HandlerFunc(o.Redirect) })
				err := r.do(t.Context(), o.Client, o.URL+"/token")
				o.CheckRefused(t, err, redirClientSecret, redirRefreshToken, redirCode, redirVerifier)
			})
		}
	}
}

// TestTokenRequestRedirectWithinTheOrigin: a 307 to another path of the same origin is
// followed, with the credential, header and body alike.
func TestTokenRequestRedirectWithinTheOrigin(t *testing.T) {
	for _, r := range redirectedRequests {
		t.Run(r.name, func(t *testing.T) {
			var mu sync.Mutex
			var secrets []string // the secrets the moved endpoint received
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.URL.Path == "/token" {
					http.Redirect(w, req, "/moved", http.StatusTemporaryRedirect)
					return
				}
				_ = req.ParseForm()
				_, pass, _ := req.BasicAuth()
				mu.Lock()
				for _, s := range []string{pass, req.PostForm.Get("client_secret"), req.PostForm.Get("refresh_token"), req.PostForm.Get("code")} {
					if s != "" {
						secrets = append(secrets, s)
					}
				}
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if req.Header.Get("Content-Type") == "application/json" { // a registration
					w.WriteHeader(http.StatusCreated)
					_, _ = w.Write([]byte(`{"client_id":"new-client","token_endpoint_auth_method":"none"}`))
					return
				}
				_, _ = w.Write([]byte(okBody))
			}))
			defer srv.Close()
			if err := r.do(t.Context(), nil, srv.URL+"/token"); err != nil {
				t.Fatalf("through a redirect within the origin: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if r.name != "registration" && len(secrets) == 0 {
				t.Error("the moved endpoint received no credential")
			}
		})
	}
}
