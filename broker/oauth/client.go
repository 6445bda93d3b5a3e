package oauth

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// Token endpoint authentication methods (RFC 7591 §2).
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	// AuthPrivateKeyJWT authenticates with a JWT signed by the client's private key
	// (RFC 7523 §2.2, OpenID Connect Core §9): no secret crosses the wire.
	AuthPrivateKeyJWT = "private_key_jwt"
)

// How a Client came to be.
const (
	KindPreRegistered = "pre-registered"    // the user gave us a client id (and maybe a secret)
	KindMetadataDoc   = "metadata-document" // the client id is our Client ID Metadata Document URL
	KindDynamic       = "dynamic"           // RFC 7591 dynamic client registration
)

// Client is a registration of this program with one authorization server. It holds a secret
// (ClientSecret) and so is stored only in the secret store.
type Client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret,omitempty"`
	// AuthMethod is how the client authenticates at the token endpoint, exactly as registered.
	AuthMethod string `json:"token_endpoint_auth_method"`
	// RedirectURI is the exact loopback URI registered; reusing it keeps authorization servers that
	// match redirect URIs exactly (port included) working across sign-ins.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Issuer is the authorization server this registration belongs to; it is never used with another.
	Issuer          string    `json:"issuer"`
	Kind            string    `json:"kind"`
	RegisteredAt    time.Time `json:"registered_at,omitzero"`
	SecretExpiresAt time.Time `json:"client_secret_expires_at,omitzero"`
	// Key signs the client assertions of private_key_jwt. It is loaded from the secret store
	// for each use and never encoded with the client.
	Key *jws.Key `json:"-"`
	// Deviations are the ways the registration endpoint departed from RFC 7591 in registering
	// the client, each worked around (see Deviation); only Register sets them.
	Deviations []Deviation `json:"-"`
	// GrantTypes are the grants a dynamic registration was made for, as the server granted
	// them; empty for registrations older than the field, which were all for the browser flow.
	GrantTypes []string `json:"grant_types,omitempty"`
}

// CanUse reports whether the client may use grant type g: any grant for a client registered by
// the person (or by its metadata document), which the authorization server judges; for a
// dynamic registration, the grants it was made for (the browser flow's, when it does not say).
func (c *Client) CanUse(g string) bool {
	if c.Kind != KindDynamic {
		return true
	}
	if len(c.GrantTypes) == 0 {
		return g == "authorization_code" || g == "refresh_token"
	}
	return slices.Contains(c.GrantTypes, g)
}

// Proof is what a client can prove who it is with at the token endpoint; it decides the
// authentication methods open to it (see ChooseAuthMethod).
type Proof int

// The proofs.
const (
	ProofNone   Proof = iota // a public client: "none"
	ProofSecret              // a client secret: client_secret_basic or client_secret_post
	ProofKey                 // a private key: private_key_jwt
)

// Proof returns what c can prove itself with: its key, else its secret, else nothing.
func (c *Client) Proof() Proof {
	switch {
	case c.Key != nil:
		return ProofKey
	case c.Secret != "":
		return ProofSecret
	}
	return ProofNone
}

// authStyle maps the registered method onto x/oauth2's. Auto-detection is never used: it would
// send the secret a second way after a failure, which RFC 6749 §2.3 forbids.
func (c *Client) authStyle() (oauth2.AuthStyle, error) {
	switch c.AuthMethod {
	case AuthClientSecretBasic:
		return oauth2.AuthStyleInHeader, nil
	case AuthClientSecretPost, AuthNone, "":
		// For "none" the secret is empty, so only client_id goes in the body.
		return oauth2.AuthStyleInParams, nil
	case AuthPrivateKeyJWT:
		// x/oauth2 cannot send an assertion: only the requests built by clientPost can.
		return 0, errors.New("private_key_jwt works only with the client-credentials grant")
	default:
		return 0, fmt.Errorf("unsupported token endpoint auth method %q", c.AuthMethod)
	}
}

// ChooseAuthMethod picks the token endpoint authentication method for a client that can prove
// itself with p, from what the authorization server supports: supported is its
// token_endpoint_auth_methods_supported as published, nil when absent (RFC 8414 default then:
// client_secret_basic). A public client can only use "none". One with a secret prefers
// basic, then post. One with a key uses private_key_jwt and nothing else, since its key is what
// the authorization server knows it by; when the server lists no methods at all, that is taken
// as no refusal (the list is optional, and the person configured the key for this server).
func ChooseAuthMethod(supported []string, p Proof) (string, error) {
	if p == ProofKey {
		if len(supported) == 0 || slices.Contains(supported, AuthPrivateKeyJWT) {
			return AuthPrivateKeyJWT, nil
		}
		return "", fmt.Errorf("the authorization server does not accept private_key_jwt (token_endpoint_auth_methods_supported: %v)", supported)
	}
	if len(supported) == 0 {
		supported = []string{AuthClientSecretBasic}
	}
	if p == ProofNone {
		if slices.Contains(supported, AuthNone) {
			return AuthNone, nil
		}
		return "", fmt.Errorf("the authorization server does not accept public clients (token_endpoint_auth_methods_supported: %v): a client secret is needed", supported)
	}
	for _, m := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		if slices.Contains(supported, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("the authorization server supports none of client_secret_basic, client_secret_post (it lists %v)", supported)
}
