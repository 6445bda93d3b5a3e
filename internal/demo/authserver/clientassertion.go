package authserver

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// clientAssertionType is the client_assertion_type of a JWT assertion (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionType is the explicit type RFC 10070 §4 gives client authentication JWTs.
const assertionType = "client-authentication+jwt"

// assertionLeeway is the clock difference tolerated on exp and iat.
const assertionLeeway = 30 * time.Second

// maxAssertionLife bounds how far ahead an assertion may expire: its jti is remembered until
// then, and a long-lived assertion is a stolen credential in waiting.
const maxAssertionLife = time.Hour

// assertionSubject returns the sub of an assertion without verifying it, to find the client an
// assertion sent without client_id claims to be; "" when it cannot be read. The assertion is
// verified against that client's key before anything is trusted.
func assertionSubject(assertion string) string {
	parsed, err := josejwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return ""
	}
	var c josejwt.Claims
	if parsed.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Subject
}

// verifyAssertion checks a client assertion (RFC 7523 §3, RFC 10070 §4) against client's public
// key and the issuer r reached, and records its jti so that it cannot be used again.
func (s *Server) verifyAssertion(r *http.Request, client *Client, assertion string) *tokenError {
	fail := func(why string) *tokenError {
		return errf("invalid_client", "client authentication failed: %s", why)
	}
	switch {
	case !s.opts.PrivateKeyJWT:
		return fail("private_key_jwt is not enabled")
	case client.PublicKey == nil:
		return fail("no public key is registered for the client")
	}
	algs := make([]jose.SignatureAlgorithm, len(s.signingAlgs))
	for i, a := range s.signingAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	parsed, err := josejwt.ParseSigned(assertion, algs)
	if err != nil {
		return fail("the client assertion is not a JWT signed with an accepted algorithm")
	}
	if typ, _ := parsed.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != assertionType {
		return fail("the client assertion is not typed " + assertionType)
	}
	var claims josejwt.Claims
	if err := parsed.Claims(client.PublicKey, &claims); err != nil {
		return fail("the client assertion's signature does not verify with the client's key")
	}
	now := s.now()
	issuer := s.issuerFor(r)
	switch {
	case len(claims.Audience) != 1 || claims.Audience[0] != issuer:
		return fail("the client assertion's audience must be the issuer " + issuer + " alone")
	case claims.Expiry == nil:
		return fail("the client assertion has no exp")
	case claims.ID == "":
		return fail("the client assertion has no jti")
	case claims.Expiry.Time().After(now.Add(maxAssertionLife)):
		return fail("the client assertion expires too far ahead")
	}
	err = claims.ValidateWithLeeway(josejwt.Expected{Issuer: client.ID, Subject: client.ID, Time: now}, assertionLeeway)
	switch {
	case errors.Is(err, josejwt.ErrExpired):
		return fail("the client assertion has expired")
	case err != nil:
		return fail("the client assertion's iss and sub must be the client id, and iat not in the future")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for jti, exp := range s.jtis {
		if now.After(exp.Add(assertionLeeway)) {
			delete(s.jtis, jti)
		}
	}
	key := client.ID + " " + claims.ID
	if _, seen := s.jtis[key]; seen {
		return fail("the client assertion was used before")
	}
	s.jtis[key] = claims.Expiry.Time()
	return nil
}
