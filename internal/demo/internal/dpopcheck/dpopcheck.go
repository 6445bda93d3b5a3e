// Package dpopcheck is the server side of DPoP (RFC 9449) for the demo servers: it checks a
// proof as §4.3 says a server must, with go-jose, and remembers the proofs' jti to refuse a
// replay (§11.1). The authorization server checks the proofs of token requests; the MCP
// server those of requests that present a DPoP-bound token.
//
// It is written apart from the broker's package dpop, which makes the proofs, and shares no
// code with it, so that a mistake in one shows up as a refusal by the other rather than hide.
package dpopcheck

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxAge is how far a proof's iat may be from the server's clock, either way (§11.1 leaves the
// window to the server; the MCP conformance suite uses five minutes).
const MaxAge = 5 * time.Minute

// algs are the asymmetric algorithms a proof may be signed with (§4.3: not none, not a MAC).
var algs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// Want is what a proof must say to be accepted for one request.
type Want struct {
	// Method and URL are the request's; the proof's htm and htu must match them (htu without
	// query and fragment, scheme and host compared in lower case).
	Method string
	URL    string
	// AccessToken, when set, is the token the request presents: the proof's ath must be its
	// hash. A token request presents none, and its proof must then have no ath.
	AccessToken string
	// Now is the server's clock.
	Now time.Time
}

// Proof is what a checked proof says.
type Proof struct {
	// JKT is the RFC 7638 thumbprint of the proof's key: what a token is bound to (cnf.jkt).
	JKT   string
	JTI   string
	Nonce string
}

// Check verifies the DPoP header values of one request (there must be exactly one) against w.
// Its errors say what is wrong, for the error_description of invalid_dpop_proof.
func Check(headers []string, w Want) (*Proof, error) {
	if len(headers) != 1 {
		return nil, fmt.Errorf("want exactly one DPoP header, got %d", len(headers))
	}
	sig, err := jose.ParseSignedCompact(headers[0], algs)
	if err != nil {
		return nil, errors.New("the DPoP proof is not a JWS signed with an asymmetric algorithm")
	}
	h := sig.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, errors.New(`the DPoP proof's typ is not "dpop+jwt"`)
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() {
		return nil, errors.New("the DPoP proof has no jwk")
	}
	if !jwk.IsPublic() {
		return nil, errors.New("the DPoP proof's jwk is a private key")
	}
	payload, err := sig.Verify(jwk)
	if err != nil {
		return nil, errors.New("the DPoP proof's signature does not verify with its jwk")
	}
	var c struct {
		JTI   string          `json:"jti"`
		HTM   string          `json:"htm"`
		HTU   string          `json:"htu"`
		IAT   json.Number     `json:"iat"`
		ATH   *string         `json:"ath"`
		Nonce json.RawMessage `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("the DPoP proof's claims are not a JSON object")
	}
	iat, err := c.IAT.Int64()
	switch {
	case c.JTI == "":
		return nil, errors.New("the DPoP proof has no jti")
	case c.HTM != w.Method:
		return nil, fmt.Errorf("the DPoP proof's htm %q is not the request's method %s", c.HTM, w.Method)
	case strings.ContainsAny(c.HTU, "?#"):
		return nil, errors.New("the DPoP proof's htu has a query or a fragment")
	case normalize(c.HTU) != normalize(w.URL):
		return nil, fmt.Errorf("the DPoP proof's htu %q is not the request's URL", c.HTU)
	case err != nil:
		return nil, errors.New("the DPoP proof has no iat")
	}
	if d := w.Now.Sub(time.Unix(iat, 0)); d > MaxAge || d < -MaxAge {
		return nil, fmt.Errorf("the DPoP proof's iat is %s away from the server's clock", d.Round(time.Second))
	}
	switch {
	case w.AccessToken == "" && c.ATH != nil:
		return nil, errors.New("a token request's DPoP proof has an ath")
	case w.AccessToken != "" && (c.ATH == nil || subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(hash(w.AccessToken))) != 1):
		return nil, errors.New("the DPoP proof's ath is not the hash of the access token")
	}
	p := &Proof{JTI: c.JTI}
	if len(c.Nonce) > 0 {
		if err := json.Unmarshal(c.Nonce, &p.Nonce); err != nil {
			return nil, errors.New("the DPoP proof's nonce is not a string")
		}
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errors.New("the DPoP proof's jwk has no thumbprint")
	}
	p.JKT = base64.RawURLEncoding.EncodeToString(sum)
	return p, nil
}

// normalize is a URL compared as RFC 9449 §4.3 asks (RFC 3986 §6.2.2, §6.2.3): scheme and
// host in lower case, without a default port and without a trailing slash.
func normalize(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	host := strings.ToLower(u.Hostname())
	if p := u.Port(); p != "" && !(u.Scheme == "http" && p == "80") && !(u.Scheme == "https" && p == "443") {
		host += ":" + p
	}
	return strings.ToLower(u.Scheme) + "://" + host + strings.TrimSuffix(u.EscapedPath(), "/")
}

func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Replays remembers the jti of the proofs accepted within MaxAge, to refuse one seen before
// (§11.1). The zero value is ready; it is safe for concurrent use.
type Replays struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// Fresh records jti at now and reports whether it was not seen before.
func (r *Replays) Fresh(jti string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	for k, at := range r.seen {
		if now.Sub(at) > 2*MaxAge {
			delete(r.seen, k)
		}
	}
	if _, ok := r.seen[jti]; ok {
		return false
	}
	r.seen[jti] = now
	return true
}
