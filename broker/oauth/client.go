package oauth

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/oauth2"
)

// Token endpoint authentication methods (RFC 7591 §2).
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
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
	default:
		return 0, fmt.Errorf("unsupported token endpoint auth method %q", c.AuthMethod)
	}
}

// ChooseAuthMethod picks the token endpoint authentication method for a client, from what the
// authorization server supports (RFC 8414 default when it says nothing: client_secret_basic).
// A public client (no secret) can only use "none". A confidential one prefers basic, then post.
func ChooseAuthMethod(supported []string, haveSecret bool) (string, error) {
	if len(supported) == 0 {
		supported = []string{AuthClientSecretBasic}
	}
	if !haveSecret {
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
