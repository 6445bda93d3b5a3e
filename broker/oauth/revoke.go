package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Token type hints of a revocation request (RFC 7009 §2.1).
const (
	HintRefreshToken = "refresh_token"
	HintAccessToken  = "access_token"
)

// maxRevocationResponse caps what is read of a revocation response (its body is empty on
// success and a small JSON error otherwise).
const maxRevocationResponse = 64 << 10

// RevocationError is a revocation endpoint's refusal (RFC 7009 §2.2.1), without the token.
type RevocationError struct {
	Status      int
	Code        string // e.g. "unsupported_token_type"; empty when the server sent none
	Description string // sanitized error_description
}

func (e *RevocationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the revocation endpoint answered HTTP %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " (%s)", e.Description)
	}
	return b.String()
}

// Revoke asks the authorization server to revoke token (RFC 7009), authenticating as the
// client was registered, exactly as at the token endpoint. hint is HintRefreshToken or
// HintAccessToken. A 200 answer means the token is dead, or was unknown to the server, which
// §2.2 treats the same. Revoking a refresh token is what ends a grant: the server should then
// revoke its access tokens too (§2.1).
func Revoke(ctx context.Context, hc *http.Client, endpoint string, c *Client, token, hint string) error {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	// The request carries the token and maybe the client's secret: a redirect out of the
	// endpoint's origin is refused (see guard). A server that reads only JSON gets JSON (see
	// send), as its token endpoint does.
	resp, _, err := send(ctx, hc, endpoint, c, form)
	if err != nil {
		return fmt.Errorf("revoking the token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRevocationResponse))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var ej struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &ej)
	return &RevocationError{Status: resp.StatusCode, Code: sanitize(ej.Error, 64), Description: sanitize(ej.Description, 200)}
}
