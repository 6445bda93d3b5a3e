package authserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// The JWTs this server signs and checks are compact JWS with ES256: ID tokens (OpenID),
// ID-JAGs (TokenExchange), and assertions it mints for tests (SignJWT). They are signed with the
// broker's own signer (package jws) and checked with go-jose, which it is built on.

// Types (the JWS typ header) of the JWTs this server knows.
const (
	// TypeIDJAG is the typ of an Identity Assertion JWT Authorization Grant (SEP-990).
	TypeIDJAG = "oauth-id-jag+jwt"
	// TypeJWT is the typ of any other JWT.
	TypeJWT = "JWT"
)

// signingKey is the server's key: the private key, for its public half, and its signer.
type signingKey struct {
	private *ecdsa.PrivateKey
	signer  *jws.Key
}

// newSigningKey returns a fresh P-256 key.
func newSigningKey() signingKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("generating a P-256 key: " + err.Error()) // crypto/rand does not fail
	}
	signer, err := jws.New(k)
	if err != nil {
		panic("a P-256 key is not an ES256 key: " + err.Error())
	}
	return signingKey{private: k, signer: signer}
}

// sign returns the compact JWS of claims with header typ.
func (k signingKey) sign(typ string, claims map[string]any) (string, error) {
	return k.signer.Sign(jws.Header{Type: typ}, claims)
}

// jwt is a checked JWT: its typ and claims.
type jwt struct {
	typ    string
	claims map[string]any
}

// str returns a string claim, or "".
func (j *jwt) str(name string) string {
	s, _ := j.claims[name].(string)
	return s
}

// audience returns the aud claim as a list (RFC 7519 §4.1.3 allows a string or a list).
func (j *jwt) audience() []string {
	switch a := j.claims["aud"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, v := range a {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// time returns a NumericDate claim, or the zero time.
func (j *jwt) time(name string) time.Time {
	n, ok := j.claims[name].(json.Number)
	if !ok {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

// peekIssuer returns the iss claim of a compact JWT without checking anything, to choose the
// key to check it with.
func peekIssuer(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	_ = json.Unmarshal(payload, &c)
	return c.Iss
}

// verifyES256 checks a compact JWS signed with ES256 by key, and that it has not expired at
// now (it must have an exp); it returns its typ and claims.
func verifyES256(token string, key *ecdsa.PublicKey, now time.Time) (*jwt, error) {
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, errors.New("not a compact JWS signed with ES256")
	}
	payload, err := obj.Verify(key)
	if err != nil {
		return nil, errors.New("the signature does not verify")
	}
	typ, _ := obj.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string)
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	j := &jwt{typ: typ}
	if err := dec.Decode(&j.claims); err != nil || j.claims == nil {
		return nil, errors.New("the claims are not a JSON object")
	}
	exp := j.time("exp")
	switch {
	case exp.IsZero():
		return nil, errors.New("it has no exp")
	case !now.Before(exp):
		return nil, fmt.Errorf("it expired at %s", exp.UTC().Format(time.RFC3339))
	}
	return j, nil
}
