package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// keyPair returns a jws.Key on a new private key, and the public key that verifies it.
func keyPair(t *testing.T, alg string) (*jws.Key, crypto.PublicKey) {
	t.Helper()
	var private crypto.Signer
	var err error
	switch alg {
	case jws.ES256:
		private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jws.RS256:
		private, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	key, err := jws.New(private)
	if err != nil {
		t.Fatal(err)
	}
	return key, private.Public()
}

// verifyAssertion checks a client assertion the way an authorization server does (RFC 7523 §3,
// RFC 10070 §4) with go-jose, independently of how it was made, and returns its claims.
func verifyAssertion(t *testing.T, assertion string, public crypto.PublicKey, clientID, issuer string, at time.Time) (jwt.Claims, string) {
	t.Helper()
	parsed, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("the assertion is not a JWS: %v", err)
	}
	var claims jwt.Claims
	var raw map[string]any
	if err := parsed.Claims(public, &claims, &raw); err != nil {
		t.Fatalf("the assertion does not verify with the client's public key: %v", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: clientID, Subject: clientID, AnyAudience: jwt.Audience{issuer}, Time: at}, 0); err != nil {
		t.Errorf("claims %+v: %v", claims, err)
	}
	if aud, ok := raw["aud"].(string); !ok || aud != issuer {
		t.Errorf("aud = %#v, want the issuer %q as a single string", raw["aud"], issuer)
	}
	if claims.ID == "" || claims.IssuedAt == nil || claims.Expiry == nil {
		t.Errorf("claims %+v: want jti, iat and exp", claims)
	} else if life := claims.Expiry.Time().Sub(claims.IssuedAt.Time()); life != assertionLifetime {
		t.Errorf("the assertion lives %s, want %s", life, assertionLifetime)
	}
	h := parsed.Headers[0]
	if h.ExtraHeaders["typ"] != AssertionType || h.JSONWebKey != nil {
		t.Errorf("header typ=%v jwk=%v, want typ %q and no key", h.ExtraHeaders["typ"], h.JSONWebKey, AssertionType)
	}
	return claims, h.Algorithm
}

// TestClientCredentialsPrivateKeyJWT: with private_key_jwt the token request carries a fresh
// assertion signed by the client's key for the authorization server's issuer, and no secret.
func TestClientCredentialsPrivateKeyJWT(t *testing.T) {
	const issuer = "https://as.example/tenant"
	for _, alg := range []string{jws.ES256, jws.RS256} {
		t.Run(alg, func(t *testing.T) {
			key, public := keyPair(t, alg)
			e, tokenURL := newTokenEndpoint(t, 200, `{"access_token":"AT","token_type":"Bearer","expires_in":60}`)
			c := &Client{ID: "machine-1", Issuer: issuer, Key: key, AuthMethod: AuthPrivateKeyJWT, Kind: KindPreRegistered}
			var jtis []string
			for range 2 {
				before := time.Now()
				tok, err := ClientCredentials(t.Context(), nil, tokenURL, c, "mcp:read", "https://mcp.example/mcp")
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken != "AT" {
					t.Errorf("token = %+v", tok)
				}
				e.mu.Lock()
				form, basic := e.form, e.hadBasic
				e.mu.Unlock()
				if form.Get("grant_type") != "client_credentials" || form.Get("client_assertion_type") != ClientAssertionType ||
					form.Get("client_id") != "machine-1" || form.Get("resource") != "https://mcp.example/mcp" || form.Get("scope") != "mcp:read" {
					t.Errorf("form = %v", form)
				}
				if form.Has("client_secret") || basic {
					t.Errorf("a secret was sent beside the assertion: form %v, basic %v", form, basic)
				}
				claims, gotAlg := verifyAssertion(t, form.Get("client_assertion"), public, "machine-1", issuer, before)
				if gotAlg != alg {
					t.Errorf("signed with %s, want %s", gotAlg, alg)
				}
				if iat := claims.IssuedAt.Time(); iat.Before(before.Truncate(time.Second)) || iat.After(time.Now()) {
					t.Errorf("iat %s is not the time of the request", iat)
				}
				jtis = append(jtis, claims.ID)
			}
			if jtis[0] == jtis[1] {
				t.Error("two requests carried the same jti")
			}
		})
	}
}

// TestRevokeWithPrivateKeyJWT: the revocation endpoint gets an assertion too (its audience is
// the issuer, which names the server whichever endpoint it reaches).
func TestRevokeWithPrivateKeyJWT(t *testing.T) {
	key, public := keyPair(t, jws.ES256)
	e, endpoint := newTokenEndpoint(t, http.StatusOK, "")
	c := &Client{ID: "machine-1", Issuer: "https://as.example", Key: key, AuthMethod: AuthPrivateKeyJWT}
	if err := Revoke(t.Context(), nil, endpoint, c, "AT-secret", HintAccessToken); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	verifyAssertion(t, e.form.Get("client_assertion"), public, "machine-1", "https://as.example", time.Now())
}

func TestPrivateKeyJWTRefusals(t *testing.T) {
	key, _ := keyPair(t, jws.ES256)
	e, tokenURL := newTokenEndpoint(t, 200, okBody)
	for name, c := range map[string]*Client{
		"no issuer to address": {ID: "cid", Key: key, AuthMethod: AuthPrivateKeyJWT},
		"no key":               {ID: "cid", Issuer: "https://as.example", Secret: "s", AuthMethod: AuthPrivateKeyJWT},
	} {
		if _, err := ClientCredentials(t.Context(), nil, tokenURL, c, "", ""); err == nil {
			t.Errorf("%s: the request was made", name)
		}
	}
	// The browser flow's exchange goes through x/oauth2, which cannot send an assertion: it
	// says so rather than send the code with no client authentication.
	c := &Client{ID: "cid", Issuer: "https://as.example", Key: key, AuthMethod: AuthPrivateKeyJWT}
	if _, err := Exchange(t.Context(), nil, tokenURL, c, &AuthRequest{Verifier: "v"}, "code"); err == nil || !strings.Contains(err.Error(), "private_key_jwt") {
		t.Errorf("exchange with private_key_jwt: %v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.form != nil {
		t.Errorf("a refused request reached the token endpoint: %v", e.form)
	}
}
