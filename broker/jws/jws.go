// Package jws signs the JSON Web Tokens the broker sends to authorization servers: the client
// assertion of private_key_jwt (RFC 7523 §2.2) and the DPoP proof (RFC 9449). It supports the two
// algorithms MCP's authorization extensions ask clients for, ES256 and RS256, on keys parsed from
// PEM. The signing is go-jose's; this package only picks the algorithm that fits a key, parses
// the key formats people have (PKCS #8, SEC 1, PKCS #1), and names the public key (RFC 7638).
//
// A Key holds private key material: never log it, and keep its PEM in the secret store.
package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// The algorithms a Key signs with.
const (
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// minRSABits is the smallest RSA key accepted: RFC 7518 §3.3 asks for 2048 bits or more.
const minRSABits = 2048

// ErrUnsupportedKey is returned for a key of a type or size that neither algorithm can use.
var ErrUnsupportedKey = errors.New("unsupported key: want an ECDSA P-256 key (ES256) or an RSA key of 2048 bits or more (RS256)")

// Key is a private key with the algorithm it signs with.
type Key struct {
	private crypto.Signer // *ecdsa.PrivateKey or *rsa.PrivateKey
	alg     string
}

// ParsePEM reads a private key from PEM: PKCS #8 ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or
// PKCS #1 ("RSA PRIVATE KEY"), and chooses its algorithm (see Algorithm). Encrypted PEM is
// refused: the secret store is what protects the key. The error never quotes the input.
func ParsePEM(data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found: want a private key beginning with -----BEGIN PRIVATE KEY-----")
	}
	var (
		parsed any
		err    error
	)
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the private key is encrypted: give it unencrypted (the secret store protects it), for example with `openssl pkcs8 -topk8 -nocrypt`")
	default:
		return nil, fmt.Errorf("a PEM block of type %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s: the key is malformed", block.Type)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, ErrUnsupportedKey
	}
	return New(signer)
}

// New returns the Key for a private key, with the algorithm that fits it.
func New(private crypto.Signer) (*Key, error) {
	alg, err := algorithmFor(private)
	if err != nil {
		return nil, err
	}
	return &Key{private: private, alg: alg}, nil
}

// GenerateES256 makes a new P-256 key, as DPoP wants one per client.
func GenerateES256() (*Key, error) {
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a P-256 key: %w", err)
	}
	return &Key{private: private, alg: ES256}, nil
}

func algorithmFor(private crypto.Signer) (string, error) {
	switch k := private.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return ES256, nil
		}
	case *rsa.PrivateKey:
		if k.N.BitLen() >= minRSABits {
			return RS256, nil
		}
	}
	return "", ErrUnsupportedKey
}

// Algorithm is the JWS algorithm the key signs with: ES256 for a P-256 key, RS256 for RSA.
func (k *Key) Algorithm() string { return k.alg }

// Supported reports whether the key's algorithm is among those a server lists (for example
// token_endpoint_auth_signing_alg_values_supported). An empty list says nothing, so it is
// taken as yes: the server may still refuse the assertion, and says so then.
func (k *Key) Supported(serverAlgs []string) bool {
	return len(serverAlgs) == 0 || slices.Contains(serverAlgs, k.alg)
}

// MarshalPEM returns the private key as PKCS #8 PEM, the form ParsePEM reads back, for the
// secret store.
func (k *Key) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("encoding the private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicJWK returns the public key as a JSON Web Key (RFC 7517), with no private member.
func (k *Key) PublicJWK() ([]byte, error) {
	jwk := jose.JSONWebKey{Key: k.private.Public(), Algorithm: k.alg, Use: "sig"}
	return json.Marshal(jwk)
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key, base64url without padding:
// the jkt that DPoP binds a token to (RFC 9449 §6).
func (k *Key) Thumbprint() (string, error) {
	jwk := jose.JSONWebKey{Key: k.private.Public()}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing the key's thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// Header is what a token's protected header carries beyond "alg".
type Header struct {
	// Type is the "typ" member, such as "dpop+jwt" (RFC 9449 §4.2); empty leaves it out.
	Type string
	// KeyID is the "kid" member, naming the key to a server that holds several; empty leaves it out.
	KeyID string
	// EmbedPublicKey puts the public key in the "jwk" member, as a DPoP proof must.
	EmbedPublicKey bool
}

// Sign returns the compact serialization of a JWS whose payload is claims in JSON.
func (k *Key) Sign(h Header, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding the token's claims: %w", err)
	}
	opts := &jose.SignerOptions{EmbedJWK: h.EmbedPublicKey}
	if h.Type != "" {
		opts = opts.WithType(jose.ContentType(h.Type))
	}
	if h.KeyID != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), h.KeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.alg), Key: k.private}, opts)
	if err != nil {
		return "", fmt.Errorf("preparing to sign with %s: %w", k.alg, err)
	}
	signed, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing with %s: %w", k.alg, err)
	}
	return signed.CompactSerialize()
}
