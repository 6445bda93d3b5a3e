package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustPKCS8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestParsePEMFormats: the three PEM forms people have parse, and each gets its algorithm.
func TestParsePEMFormats(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	tests := []struct {
		name string
		pem  []byte
		alg  string
	}{
		{"PKCS #8 EC", pemOf(t, "PRIVATE KEY", mustPKCS8(t, ec)), ES256},
		{"SEC 1", pemOf(t, "EC PRIVATE KEY", sec1), ES256},
		{"PKCS #8 RSA", pemOf(t, "PRIVATE KEY", mustPKCS8(t, rsaKey)), RS256},
		{"PKCS #1", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), RS256},
	}
	for _, tt := range tests {
		k, err := ParsePEM(tt.pem)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if k.Algorithm() != tt.alg {
			t.Errorf("%s: algorithm %s, want %s", tt.name, k.Algorithm(), tt.alg)
		}
		// MarshalPEM gives back a key that parses to the same public key.
		out, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParsePEM(out)
		if err != nil {
			t.Fatalf("%s: reading MarshalPEM's output: %v", tt.name, err)
		}
		a, _ := k.Thumbprint()
		b, _ := again.Thumbprint()
		if a != b {
			t.Errorf("%s: MarshalPEM changed the key", tt.name)
		}
	}
}

// TestParsePEMRefuses: keys neither algorithm can use, encrypted keys and garbage get an error
// that never quotes the input.
func TestParsePEMRefuses(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	secret := "c2VjcmV0LWtleS1tYXRlcmlhbA"
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"P-384", pemOf(t, "PRIVATE KEY", mustPKCS8(t, p384)), "unsupported key"},
		{"RSA 1024", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), "unsupported key"},
		{"encrypted", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte(secret)), "encrypted"},
		{"certificate", pemOf(t, "CERTIFICATE", []byte(secret)), "not a private key"},
		{"malformed", pemOf(t, "PRIVATE KEY", []byte(secret)), "malformed"},
		{"not PEM", []byte(secret), "no PEM block"},
		{"empty", nil, "no PEM block"},
	}
	for _, tt := range tests {
		_, err := ParsePEM(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the input: %v", tt.name, err)
		}
	}
	if _, err := ParsePEM(pemOf(t, "PRIVATE KEY", mustPKCS8(t, p384))); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("P-384: %v, want ErrUnsupportedKey", err)
	}
}

// TestSignVerifies: a token signed with each algorithm verifies with the public key, and its
// header carries what was asked for and nothing private.
func TestSignVerifies(t *testing.T) {
	es, err := GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rs, err := New(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "client", "jti": "1"}
	for _, k := range []*Key{es, rs} {
		token, err := k.Sign(Header{Type: "dpop+jwt", EmbedPublicKey: true}, claims)
		if err != nil {
			t.Fatalf("%s: %v", k.Algorithm(), err)
		}
		parsed, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
		if err != nil {
			t.Fatalf("%s: parsing %v", k.Algorithm(), err)
		}
		h := parsed.Signatures[0].Protected
		if h.Algorithm != k.Algorithm() || h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil {
			t.Errorf("%s: header alg=%s typ=%v jwk=%v", k.Algorithm(), h.Algorithm, h.ExtraHeaders["typ"], h.JSONWebKey)
		}
		if h.JSONWebKey != nil && !h.JSONWebKey.IsPublic() {
			t.Errorf("%s: the embedded key is private", k.Algorithm())
		}
		payload, err := parsed.Verify(k.private.Public())
		if err != nil {
			t.Fatalf("%s: verify: %v", k.Algorithm(), err)
		}
		var got map[string]any
		if err := json.Unmarshal(payload, &got); err != nil || got["jti"] != "1" {
			t.Errorf("%s: payload %s", k.Algorithm(), payload)
		}
	}
	// A key id, and no embedded key, for a client assertion.
	token, err := es.Sign(Header{KeyID: "k1"}, claims)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if h := parsed.Signatures[0].Protected; h.KeyID != "k1" || h.JSONWebKey != nil {
		t.Errorf("kid=%q jwk=%v, want kid k1 and no jwk", h.KeyID, h.JSONWebKey)
	}
}

// TestThumbprint computes RFC 7638's thumbprint by hand: the required members in lexical order,
// no spaces, SHA-256, base64url.
func TestThumbprint(t *testing.T) {
	k, err := GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	pub := k.private.Public().(*ecdsa.PublicKey)
	enc := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	canonical := `{"crv":"P-256","kty":"EC","x":"` + enc(x) + `","y":"` + enc(y) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	got, err := k.Thumbprint()
	if err != nil || got != enc(sum[:]) {
		t.Errorf("Thumbprint = %q, %v; want %q", got, err, enc(sum[:]))
	}
	jwk, err := k.PublicJWK()
	if err != nil || strings.Contains(string(jwk), `"d"`) {
		t.Errorf("PublicJWK = %s, %v: want the public key only", jwk, err)
	}
}

func TestSupported(t *testing.T) {
	k, _ := GenerateES256()
	if !k.Supported(nil) || !k.Supported([]string{"RS256", "ES256"}) || k.Supported([]string{"RS256"}) {
		t.Error("Supported: want yes for an empty list or one naming ES256, no otherwise")
	}
}

// TestNewRefusesOtherSigners: a signer of another kind (here Ed25519-like) is refused.
func TestNewRefusesOtherSigners(t *testing.T) {
	if _, err := New(otherSigner{}); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("New = %v, want ErrUnsupportedKey", err)
	}
}

type otherSigner struct{ crypto.Signer }

func FuzzParsePEM(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePEM(data)
		if err == nil && k.Algorithm() != ES256 && k.Algorithm() != RS256 {
			t.Fatalf("parsed a key with algorithm %q", k.Algorithm())
		}
	})
}
