package authserver

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Mimic holds switches that make the server follow one real identity provider's rule each, so
// that a client's provider profiles can be tested against a real HTTP server: each refuses, or
// quietly withholds, what that provider refuses or withholds when a client asks the wrong way.
// The zero value follows the specifications alone.
type Mimic struct {
	// RefreshNeedsOfflineAccess issues a refresh token from a code grant only when
	// offline_access was granted, as Okta, Auth0, Entra ID and OpenID providers do.
	RefreshNeedsOfflineAccess bool
	// OfflineAccessNeedsConsent grants offline_access only to an authorization request with
	// prompt=consent and drops it from any other (OpenID Connect Core §11, as node-oidc-provider
	// does). With RefreshNeedsOfflineAccess, that is an OpenID provider that issues no refresh
	// token unless asked in those words.
	OfflineAccessNeedsConsent bool
	// GoogleOffline issues a refresh token from a code grant only when the authorization request
	// carried access_type=offline and prompt=consent, as Google does after a user's first
	// consent (offline_access is refused there: leave it out of Options.Scopes).
	GoogleOffline bool
	// Audience binds a token to the authorization request's audience parameter, and one asked
	// for without it to <issuer>/userinfo, whatever resource says, as Auth0 does: the MCP server
	// then refuses it.
	Audience bool
	// EntraScopes, when not "", is an API's application ID URI, and the server names scopes as
	// Entra ID v2 does: a scope other than OpenID Connect's must be <uri>/<scope> (one of
	// Options.Scopes) or <uri>/.default, else it is refused (invalid_scope); an authorization,
	// code or refresh request that carries resource beside scopes is refused with AADSTS9010010
	// (invalid_request); the token's resource is the URI.
	EntraScopes string
	// RegistrationNeedsToken refuses registration requests without an Authorization header
	// (401 invalid_token), as Okta's registration endpoint does for anyone without an API token.
	RegistrationNeedsToken bool
	// RefreshExpiry, when not "", names the field of a token response that says when its
	// refresh token expires, as RefreshExpiresIn (Keycloak) or RefreshTokenExpiresIn (GitHub
	// Apps, Entra ID B2C) do: the seconds left of Options.SessionMax, or 0 without one (as
	// Keycloak says of an offline token).
	RefreshExpiry string
}

// The names of Mimic.RefreshExpiry.
const (
	RefreshExpiresIn      = "refresh_expires_in"
	RefreshTokenExpiresIn = "refresh_token_expires_in"
)

// openIDScopes are OpenID Connect's own scopes, which name no API.
var openIDScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// aadsts9010010 is Entra ID's refusal of resource beside scopes.
const aadsts9010010 = "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes."

// entraScopes checks an authorization request's scopes by Mimic.EntraScopes and returns the
// resource its token is for, or an OAuth error code and description.
func (s *Server) entraScopes(scopes, resources []string) (resource, code, desc string) {
	uri := s.opts.Mimic.EntraScopes
	api := false
	for _, sc := range scopes {
		if slices.Contains(openIDScopes, sc) {
			continue
		}
		name, ok := strings.CutPrefix(sc, uri+"/")
		if !ok || (name != ".default" && !slices.Contains(s.scopes, name)) {
			return "", "invalid_scope", "AADSTS70011: the scope " + sc + " is not valid: name an API scope as " + uri + "/<scope>"
		}
		api = true
	}
	if api && len(resources) > 0 {
		return "", "invalid_request", aadsts9010010
	}
	return uri, "", ""
}

// offlineGrant applies the Mimic rules on refresh tokens to an authorization request with query
// q asking for scopes: the scopes granted, and whether its code grant brings a refresh token.
func (s *Server) offlineGrant(q url.Values, scopes []string) ([]string, bool) {
	m := s.opts.Mimic
	consent := slices.Contains(strings.Fields(q.Get("prompt")), "consent")
	if m.OfflineAccessNeedsConsent && !consent {
		scopes = slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return sc == "offline_access" })
	}
	refresh := true
	if m.RefreshNeedsOfflineAccess && !slices.Contains(scopes, "offline_access") {
		refresh = false
	}
	if m.GoogleOffline && (q.Get("access_type") != "offline" || !consent) {
		refresh = false
	}
	return scopes, refresh
}

// audienceOf is the resource a token asked for by an authorization request with query q is
// bound to under Mimic.Audience.
func (s *Server) audienceOf(r *http.Request, q url.Values) string {
	if a := q.Get("audience"); a != "" {
		return a
	}
	return s.issuerFor(r) + "/userinfo"
}
