package dpop

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// Names RFC 9449 gives.
const (
	// Scheme is the authorization scheme of a DPoP-bound token (§7.1) and the token_type an
	// authorization server answers with when it bound one (§5).
	Scheme = "DPoP"
	// HeaderProof is the request header that carries a proof (§4.1).
	HeaderProof = "DPoP"
	// HeaderNonce is the response header in which a server supplies a nonce (§8, §9).
	HeaderNonce = "DPoP-Nonce"
	// ErrUseNonce is the error code of a server that wants a proof with its nonce (§8, §9).
	ErrUseNonce = "use_dpop_nonce"
	// proofType is the "typ" of a proof's header (§4.2).
	proofType = "dpop+jwt"
)

// Prover signs the proofs of one key. It is safe for concurrent use.
type Prover struct {
	key *jws.Key
	jkt string
	now func() time.Time
}

// NewProver returns the Prover of key. now is the clock of iat; nil means time.Now.
func NewProver(key *jws.Key, now func() time.Time) (*Prover, error) {
	jkt, err := key.Thumbprint()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Prover{key: key, jkt: jkt, now: now}, nil
}

// Thumbprint is the key's RFC 7638 thumbprint: the cnf.jkt of the tokens bound to it (§6.1).
// It names the public key and is no secret.
func (p *Prover) Thumbprint() string { return p.jkt }

// claims are a proof's claims (§4.2).
type claims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// Proof returns a new proof for one request: method and u are the request's, nonce the one the
// server last supplied ("" for none) and accessToken the token the request presents ("" for a
// token request, which presents none: then there is no ath). Every proof has a jti of its own,
// so a server that remembers them (§11.1) never sees one twice.
func (p *Prover) Proof(method string, u *url.URL, nonce, accessToken string) (string, error) {
	c := claims{JTI: rand.Text(), HTM: method, HTU: HTU(u), IAT: p.now().Unix(), Nonce: nonce}
	if accessToken != "" {
		c.ATH = AccessTokenHash(accessToken)
	}
	proof, err := p.key.Sign(jws.Header{Type: proofType, EmbedPublicKey: true}, c)
	if err != nil {
		return "", fmt.Errorf("signing the DPoP proof: %w", err)
	}
	return proof, nil
}

// HTU is the htu claim of a request to u: its URL without query and fragment (§4.2), and
// without user information, which would put a password in a header.
func HTU(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}

// AccessTokenHash is the ath claim for a token: base64url of its SHA-256 (§4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
