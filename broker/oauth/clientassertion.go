package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// ClientAssertionType is the client_assertion_type of a JWT client assertion (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionType is the "typ" of a client assertion: RFC 10070 §4 (RFC 7523bis) types client
// authentication JWTs explicitly, so that one cannot pass for another kind of JWT signed with
// the same key, nor for an assertion made under RFC 7523's looser audience rules.
const AssertionType = "client-authentication+jwt"

// assertionLifetime is how long a client assertion is valid. Each request gets a fresh one, so
// it needs to live only for the trip, plus room for the two clocks to disagree; a short life
// also keeps the record of used jti values an authorization server keeps small.
const assertionLifetime = 5 * time.Minute

// assertionClaims are the claims of a client assertion (RFC 7523 §3).
type assertionClaims struct {
	// Issuer and Subject are both the client id (RFC 7523 §3 points 1 and 2B).
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	// Audience is the authorization server's issuer identifier, as its sole value (RFC 10070
	// §4): the token endpoint's URL, which RFC 7523 allowed, let an assertion be replayed by
	// a server that shares the endpoint's host.
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	// ID is unique per assertion, so that the server can refuse a replay (RFC 7523 §3 point 7).
	ID string `json:"jti"`
}

// clientAssertion signs a client assertion for c at c.Issuer with c.Key, issued at now.
func clientAssertion(c *Client, now time.Time) (string, error) {
	if c.Key == nil {
		return "", errors.New("private_key_jwt needs the client's private key")
	}
	if c.Issuer == "" {
		// Never the token endpoint instead (see assertionClaims.Audience).
		return "", errors.New("a client assertion needs the authorization server's issuer as its audience")
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("making the assertion's jti: %w", err)
	}
	claims := assertionClaims{
		Issuer: c.ID, Subject: c.ID, Audience: c.Issuer,
		IssuedAt: now.Unix(), Expiry: now.Add(assertionLifetime).Unix(),
		ID: base64.RawURLEncoding.EncodeToString(jti),
	}
	signed, err := c.Key.Sign(jws.Header{Type: AssertionType}, claims)
	if err != nil {
		return "", fmt.Errorf("signing the client assertion: %w", err)
	}
	return signed, nil
}
