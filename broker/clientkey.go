package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/jws"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// ClientKey is the public half of the private key a client-credentials server's client signs
// its assertions with (private_key_jwt): what a person registers with the authorization server.
// It holds nothing secret.
type ClientKey struct {
	// Algorithm is the JWS algorithm the key signs with: ES256 or RS256.
	Algorithm string `json:"alg"`
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key (base64url): a short
	// name for the key that changes when the key does.
	Thumbprint string `json:"thumbprint"`
	// JWK is the public key as a JSON Web Key (RFC 7517) with the thumbprint as its "kid".
	JWK json.RawMessage `json:"jwk"`
}

// ClientKey returns the public half of the named server's client key. It reads the secret
// store; the private key never leaves the Broker.
func (b *Broker) ClientKey(ctx context.Context, name string) (*ClientKey, error) {
	ck, err := b.publicClientKey(ctx, name)
	return ck, wrap(OpClientKey, name, err)
}

func (b *Broker) publicClientKey(ctx context.Context, name string) (*ClientKey, error) {
	srv, err := b.server(name)
	if err != nil {
		return nil, err
	}
	if srv.ClientAuth != config.ClientAuthPrivateKeyJWT {
		return nil, hint.With(errors.New("the server's client authenticates without a private key"), hint.PrivateKey)
	}
	key, err := b.clientKey(ctx, name)
	if err != nil {
		return nil, err
	}
	return PublicClientKey(key)
}

// PublicClientKey returns the public half of key: what ClientKey returns for a stored key, for
// one about to be stored (the tray shows it before saving).
func PublicClientKey(key *jws.Key) (*ClientKey, error) {
	thumb, err := key.Thumbprint()
	if err != nil {
		return nil, err
	}
	raw, err := key.PublicJWK()
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	var jwk map[string]any
	if err := json.Unmarshal(raw, &jwk); err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	// The thumbprint is the kid RFC 7638 §1 suggests: derived from the key, so it names the
	// same key at every authorization server it is registered with.
	jwk["kid"] = thumb
	withKID, err := json.Marshal(jwk)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	return &ClientKey{Algorithm: key.Algorithm(), Thumbprint: thumb, JWK: withKID}, nil
}

// clientKey reads the named server's private key from the secret store.
func (b *Broker) clientKey(ctx context.Context, name string) (*jws.Key, error) {
	pemText, err := b.secrets.Get(ctx, clientKeyKey(name))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, hint.With(errors.New("no private key is stored for the server's client"), hint.PrivateKey)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the client's private key: %w", err)
	}
	key, err := jws.ParsePEM([]byte(pemText))
	if err != nil {
		return nil, hint.With(fmt.Errorf("reading the stored private key: %w", err), hint.PrivateKey)
	}
	return key, nil
}

// putClientKey stores pemText, a PEM private key, as srv's client key and sets srv.SigningAlg to
// its algorithm. An empty pemText keeps the key stored (a server edited without giving its key
// again), which must then exist. A key that is not one (or not one jws signs with), or does not
// fit srv.SigningAlg when that is set, is refused with an error that never quotes it.
func (b *Broker) putClientKey(ctx context.Context, srv *config.Server, pemText string) error {
	var key *jws.Key
	var err error
	if pemText == "" {
		if key, err = b.clientKey(ctx, srv.Name); err != nil {
			return err
		}
	} else if key, err = jws.ParsePEM([]byte(pemText)); err != nil {
		return hint.With(fmt.Errorf("reading the private key: %w", err), hint.PrivateKey)
	}
	if srv.SigningAlg != "" && srv.SigningAlg != key.Algorithm() {
		return hint.With(fmt.Errorf("the key signs with %s, not %s (a P-256 key signs with ES256, an RSA key with RS256)", key.Algorithm(), srv.SigningAlg), hint.PrivateKey)
	}
	srv.SigningAlg = key.Algorithm()
	if pemText == "" {
		return nil
	}
	// Stored as PKCS #8, whatever form it came in: one form to read back, and nothing that
	// came along with it in the input (a certificate, comments) is kept.
	normalized, err := key.MarshalPEM()
	if err != nil {
		return err
	}
	if err := b.secrets.Set(ctx, clientKeyKey(srv.Name), string(normalized)); err != nil {
		return fmt.Errorf("storing the private key: %w", err)
	}
	return nil
}
