package oauth

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// IDTokenClaims are the claims of an OpenID Connect ID token that the broker reads to keep
// one: whose it is, for which client, and until when (OpenID Connect Core §2).
type IDTokenClaims struct {
	Issuer   string
	Subject  string
	Audience []string
	Expiry   time.Time // zero when the token has no exp
	// Email is the email claim, to tell a person whose sign-in it is; often "".
	Email string
	// Username is the preferred_username claim, else the name claim (OpenID Connect Core
	// §5.1), for the same purpose; often "".
	Username string
}

// ParseIDToken reads the claims of an ID token without checking its signature. The broker
// never trusts an ID token for anything of its own: it receives one from the identity
// provider's token endpoint over TLS, or from the person, and only hands it back to that
// identity provider (RFC 8693 token exchange), which checks it. The claims serve to file the
// token under the right provider, to renew it before it expires, and to show the person
// whose sign-in it is.
func ParseIDToken(raw string) (*IDTokenClaims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, errors.New("the ID token is not a signed JWT (three parts separated by dots)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errors.New("the ID token's claims are not base64url")
	}
	var c struct {
		Iss   string          `json:"iss"`
		Sub   string          `json:"sub"`
		Aud   json.RawMessage `json:"aud"`
		Exp   json.Number     `json:"exp"`
		Email string          `json:"email"`
		User  string          `json:"preferred_username"`
		Name  string          `json:"name"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("the ID token's claims are not a JSON object")
	}
	claims := &IDTokenClaims{Issuer: c.Iss, Subject: c.Sub, Email: sanitize(c.Email, 100), Username: sanitize(cmp.Or(c.User, c.Name), 100)}
	switch {
	case len(c.Aud) == 0:
	case c.Aud[0] == '"':
		var one string
		if json.Unmarshal(c.Aud, &one) != nil {
			return nil, errors.New("the ID token's aud claim is not a string")
		}
		claims.Audience = []string{one}
	default:
		if json.Unmarshal(c.Aud, &claims.Audience) != nil {
			return nil, errors.New("the ID token's aud claim is neither a string nor a list of strings")
		}
	}
	if c.Exp != "" {
		secs, err := c.Exp.Float64()
		if err != nil {
			return nil, errors.New("the ID token's exp claim is not a number")
		}
		claims.Expiry = time.Unix(int64(secs), 0)
	}
	return claims, nil
}

// Check checks that the claims are those of an ID token that issuer issued to clientID
// (OpenID Connect Core §3.1.3.7, items 2 and 3), and not expired at now.
func (c *IDTokenClaims) Check(issuer, clientID string, now time.Time) error {
	switch {
	case c.Issuer != issuer:
		return fmt.Errorf("the ID token was issued by %q, not by the identity provider %s", sanitize(c.Issuer, 200), issuer)
	case !slices.Contains(c.Audience, clientID):
		return fmt.Errorf("the ID token was issued to another client than %q", clientID)
	case c.Subject == "":
		return errors.New("the ID token names no subject (sub)")
	case !c.Expiry.IsZero() && !now.Before(c.Expiry):
		return fmt.Errorf("the ID token expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	}
	return nil
}
