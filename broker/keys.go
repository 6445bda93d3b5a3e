package broker

import (
	"net/url"
	"strings"
)

// Secret store keys. The account name always includes the server, and a client registration's
// also the issuer of the authorization server it belongs to. A value too big for one macOS or
// Windows keychain item is split by the store (see package secrets).
//
// Keyed by the server's name, never by its URL alone: two servers at one URL (work and
// personal accounts) share no token and no registration either. A dynamic registration could
// be shared, but each server registers its own: some authorization servers revoke every token
// of a client for a user when one is revoked (or its consent withdrawn), and a registration can
// expire or be deleted, so a shared one would let the sign-out, or the trouble, of one server
// reach the other.
func tokenKey(server string) string        { return "oauth-token/" + server }
func refreshKey(server string) string      { return "refresh-token/" + server }
func clientSecretKey(server string) string { return "client-secret/" + server }
func staticTokenKey(server string) string  { return "static-token/" + server }
func clientKeyKey(server string) string    { return "client-key/" + server } // private_key_jwt's PEM

// dpopKey holds the server's DPoP private key (PKCS #8 PEM): made at its first DPoP sign-in,
// kept while tokens are bound to it, deleted with them (logout, a new URL) and with the server.
func dpopKey(server string) string { return "dpop-key/" + server }
func registrationKey(server, issuer string) string {
	return "oauth-client/" + server + "/" + url.PathEscape(issuer)
}

// An identity provider's secrets are keyed by its issuer: the client secret of this program's
// client there, and the sign-in (ID token and refresh token, one item: see idpSession). Their
// names are rebuilt from the configuration, so the index names none of them (secretGroup).
func idpSessionKey(issuer string) string      { return "idp-session/" + url.PathEscape(issuer) }
func idpClientSecretKey(issuer string) string { return "idp-client-secret/" + url.PathEscape(issuer) }

// wellKnownKeys are the keys a server's secrets may have whatever the store's index says.
// refreshKey is the old layout's refresh token, kept for existing sign-ins (see storedToken).
func wellKnownKeys(server string) []string {
	return []string{refreshKey(server), tokenKey(server), staticTokenKey(server), clientSecretKey(server), clientKeyKey(server), dpopKey(server)}
}

// secretGroup is the server whose index (see secrets.Indexed) names key, or "" for a key
// that needs no index entry because its name is rebuilt from the server's alone
// (wellKnownKeys). Keys whose names hold more than the server, such as registrations (one per
// issuer), are indexed, so that removing the server finds them without state.json.
func secretGroup(key string) string {
	kind, rest, ok := strings.Cut(key, "/")
	if !ok || strings.HasPrefix(kind, "idp-") {
		return ""
	}
	server, _, _ := strings.Cut(rest, "/")
	switch {
	case server == "":
		return ""
	case key == tokenKey(server), key == refreshKey(server), key == clientSecretKey(server), key == staticTokenKey(server),
		key == clientKeyKey(server), key == dpopKey(server):
		return ""
	}
	return server
}
