package oauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// Identity is whose a token is, as the authorization server says: for a person to tell their
// sign-ins apart (two accounts on one server), never to decide anything. Every field comes
// from a remote server and is sanitized; any may be "".
type Identity struct {
	Subject  string
	Email    string
	Username string // preferred_username or name (UserInfo), username (introspection)
}

// maxIdentityResponse caps a UserInfo or introspection response; real ones are a few hundred
// bytes.
const maxIdentityResponse = 64 << 10

// UserInfo asks an OpenID Connect UserInfo endpoint (OpenID Connect Core §5.3) whose
// accessToken is, sending the token as a bearer token (RFC 6750 §2.1) to that endpoint alone:
// the request is marked as carrying a credential, so a redirect out of the endpoint's origin is
// refused. A signed or encrypted answer (application/jwt) is not read: it is an error, as is
// any answer without a sub.
func UserInfo(ctx context.Context, hc *http.Client, endpoint, accessToken string) (*Identity, error) {
	r, err := http.NewRequestWithContext(httpclient.WithCredential(ctx), http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("building the UserInfo request: %w", redactURLError(err))
	}
	r.Header.Set("Authorization", "Bearer "+accessToken)
	r.Header.Set("Accept", "application/json")
	var c struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
		User  string `json:"preferred_username"`
		Name  string `json:"name"`
	}
	if err := identityAnswer(guard(hc), r, "the UserInfo endpoint", &c); err != nil {
		return nil, err
	}
	if c.Sub == "" {
		return nil, errors.New("the UserInfo endpoint answered without a sub")
	}
	return &Identity{Subject: sanitize(c.Sub, 100), Email: sanitize(c.Email, 100), Username: sanitize(cmp.Or(c.User, c.Name), 100)}, nil
}

// Introspect asks an RFC 7662 introspection endpoint whose accessToken is, authenticating as
// the client was registered, exactly as at the token endpoint (§2.1 lets the server decide
// which clients may ask; many take only resource servers, and answer 401 or 403 to a client
// like this one). An inactive token (§2.2) is an error: it says nothing about anyone.
func Introspect(ctx context.Context, hc *http.Client, endpoint string, c *Client, accessToken string) (*Identity, error) {
	r, err := clientPost(ctx, endpoint, c, url.Values{"token": {accessToken}, "token_type_hint": {HintAccessToken}}, false)
	if err != nil {
		return nil, fmt.Errorf("building the introspection request: %w", err)
	}
	var a struct {
		Active   bool   `json:"active"`
		Sub      string `json:"sub"`
		Username string `json:"username"`
		Email    string `json:"email"` // not RFC 7662's, but servers such as Keycloak add it
	}
	if err := identityAnswer(guard(hc), r, "the introspection endpoint", &a); err != nil {
		return nil, err
	}
	if !a.Active {
		return nil, errors.New("the introspection endpoint says the token is not active")
	}
	id := &Identity{Subject: sanitize(a.Sub, 100), Email: sanitize(a.Email, 100), Username: sanitize(a.Username, 100)}
	if *id == (Identity{}) {
		return nil, errors.New("the introspection endpoint names no one for the token")
	}
	return id, nil
}

// identityAnswer sends r and decodes its JSON answer into v. Its errors name what (the
// endpoint) and the HTTP status, never the request's token nor the answer's body.
func identityAnswer(hc *http.Client, r *http.Request, what string, v any) error {
	resp, err := hc.Do(r)
	if err != nil {
		return fmt.Errorf("asking %s: %w", what, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIdentityResponse+1))
	switch {
	case err != nil:
		return fmt.Errorf("reading the answer of %s: %w", what, err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s answered HTTP %d", what, resp.StatusCode)
	case len(body) > maxIdentityResponse:
		return fmt.Errorf("the answer of %s is larger than %d bytes", what, maxIdentityResponse)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/jwt" {
		return fmt.Errorf("%s answered with a signed JWT, which is not read", what)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the answer of %s is not a JSON object", what)
	}
	return nil
}
