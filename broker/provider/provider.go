// Package provider knows how the identity providers that MCP servers sit behind depart from the
// specifications the broker follows, and turns that knowledge into the requests of a sign-in and
// of a refresh. MCP servers delegate sign-in to Microsoft Entra ID, Google, Auth0, Okta, Amazon
// Cognito or Keycloak as often as to an authorization server written for MCP, and each of those
// has rules of its own: Entra ID refuses the resource indicator beside scopes, Auth0 wants an
// audience instead, Google gives a refresh token only when asked in its own words, and so on.
//
// Each provider's rules are data on a Profile, detected from the authorization server's issuer
// (Detect) or named by the user (Resolve); Profile.Request applies them, with the server's own
// settings (Settings: the escape hatches any user can set, which win), in one place for the
// sign-in and the refresh. Profile.Quirks says in words what a profile changes, for doctor.
//
// The package has no I/O and imports nothing of the broker's: it decides, the broker sends.
package provider

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The names of the profiles, as `servers add --provider` takes them and config.json keeps them.
const (
	Entra    = "entra"
	Google   = "google"
	Auth0    = "auth0"
	Okta     = "okta"
	Cognito  = "cognito"
	Keycloak = "keycloak"
	// None turns detection off: the standard requests, whatever the issuer.
	None = "none"
)

// ResourceStyle is how a profile sends the RFC 8707 resource indicator.
type ResourceStyle int

const (
	// ResourceIndicator sends `resource` on the authorization, token and refresh requests, as
	// MCP asks.
	ResourceIndicator ResourceStyle = iota
	// ResourceOmitted sends no resource indicator at all.
	ResourceOmitted
	// ResourceAsAudience sends the resource as `audience` on the authorization request, and no
	// `resource` anywhere.
	ResourceAsAudience
)

// OfflineStyle is how a profile asks for a refresh token.
type OfflineStyle int

const (
	// OfflineStandard asks for offline_access when the authorization server lists it, and then,
	// from an OpenID provider, with prompt=consent besides: OpenID Connect Core §11 lets a
	// provider issue a refresh token for offline_access only with consent (node-oidc-provider,
	// among others, drops offline_access without it).
	OfflineStandard OfflineStyle = iota
	// OfflineScope asks for offline_access whether or not the metadata lists it, without
	// prompt=consent: the provider issues a refresh token for the scope alone.
	OfflineScope
	// OfflineParams never asks for offline_access (the provider refuses the scope): the
	// profile's authorization parameters ask for the refresh token in the provider's words.
	OfflineParams
	// OfflineAlways asks for nothing: the provider issues a refresh token with every code grant.
	OfflineAlways
)

// Param is one authorization request parameter a profile adds.
type Param struct{ Key, Value string }

// Profile is one provider's departures from the specifications, as data. The zero value
// (Name "") is the standard profile: no departure.
type Profile struct {
	// Name is the profile's name (Entra, Google, ...); "" for the standard profile.
	Name string
	// Title is the provider's name for people: "Microsoft Entra ID".
	Title string

	// Resource is how the resource indicator is sent; ResourceWhy says why, when not as MCP asks.
	Resource    ResourceStyle
	ResourceWhy string
	// QualifyScopes prefixes every scope that is not already an absolute one, nor one of OpenID
	// Connect's, with the resource (`<resource>/<scope>`), and asks for `<resource>/.default`
	// when no scope of the resource's is left: Entra ID names an API's scopes by its
	// application ID URI, and takes an unqualified scope for one of Microsoft Graph's.
	QualifyScopes bool
	// Offline is how a refresh token is asked for; OfflineWhy says what the provider wants.
	Offline    OfflineStyle
	OfflineWhy string
	// AuthParams are authorization request parameters the provider needs.
	AuthParams []Param
	// UndeclaredS256 says that the provider supports PKCE S256 without saying so in its metadata
	// (no code_challenge_methods_supported): its documentation says it does, so S256 is used.
	// A metadata document that lists other methods but not S256 is refused all the same.
	UndeclaredS256 bool
	// NoRegistration says that dynamic client registration does not work for a public client
	// here (no endpoint, or one that needs a credential of the provider's own), and Register
	// how a person registers one beforehand.
	NoRegistration bool
	Register       string
	// IDToken, when not "", says why a server behind this provider may want the OpenID Connect
	// ID token rather than the access token (`--send-token id`).
	IDToken string
	// Notes are further facts about the provider that change nothing the broker sends.
	Notes []string

	// issuerWarning, when not nil, says what is wrong with an issuer of this provider ("" when
	// nothing is).
	issuerWarning func(issuer *url.URL) string
}

// profiles are the known providers, by name.
var profiles = map[string]Profile{
	Entra: {
		Name: Entra, Title: "Microsoft Entra ID",
		Resource:       ResourceOmitted,
		ResourceWhy:    "Entra ID v2 refuses resource together with scopes (AADSTS9010010); the scopes name the resource instead",
		QualifyScopes:  true,
		Offline:        OfflineScope,
		OfflineWhy:     "Entra ID issues a refresh token for offline_access",
		UndeclaredS256: true,
		NoRegistration: true,
		Register: "an app registration in the Microsoft Entra admin center (App registrations, New registration) with the platform " +
			"\"Mobile and desktop applications\" and the redirect URI http://127.0.0.1/callback (any port is accepted); " +
			"its Application (client) ID is the client id",
		Notes: []string{"Entra ID tokens are large (several KB): the secret store splits them across items"},
	},
	Google: {
		Name: Google, Title: "Google",
		Offline:        OfflineParams,
		OfflineWhy:     "Google issues a refresh token for access_type=offline, and again after the first sign-in only with prompt=consent",
		AuthParams:     []Param{{"access_type", "offline"}, {"prompt", "consent"}},
		NoRegistration: true,
		Register: "an OAuth client ID of type \"Desktop app\", created in the Google Cloud console (APIs & Services, Credentials); " +
			"its client id and client secret are both needed",
	},
	Auth0: {
		Name: Auth0, Title: "Auth0",
		Resource:    ResourceAsAudience,
		ResourceWhy: "Auth0 names the API a token is for with audience; without it the token is good for /userinfo only",
		Offline:     OfflineScope,
		OfflineWhy:  "Auth0 issues a refresh token for offline_access when the API allows offline access (its \"Allow Offline Access\" setting)",
		Notes:       []string{"dynamic registration works when the tenant enables it (Settings, Advanced, OIDC Dynamic Application Registration)"},
	},
	Okta: {
		Name: Okta, Title: "Okta",
		Offline:        OfflineScope,
		OfflineWhy:     "Okta issues a refresh token for offline_access when the app allows the Refresh Token grant",
		NoRegistration: true,
		Register: "an app integration in the Okta admin console (Applications, Create App Integration: OIDC, Native Application) " +
			"with the Authorization Code and Refresh Token grants and sign-in redirect URI http://127.0.0.1/callback; " +
			"Okta's registration endpoint takes only requests that carry an Okta API token",
		issuerWarning: oktaIssuer,
	},
	Cognito: {
		Name: Cognito, Title: "Amazon Cognito",
		Offline:        OfflineAlways,
		OfflineWhy:     "Cognito issues a refresh token with every authorization code grant, and knows no offline_access",
		UndeclaredS256: true,
		NoRegistration: true,
		Register: "an app client of the user pool (Amazon Cognito console, App clients) of type public client, " +
			"with the callback URL http://127.0.0.1/callback and the authorization code grant",
		IDToken: "servers behind Cognito (an API Gateway authorizer, say) often check the ID token rather than the access token",
	},
	Keycloak: {
		Name: Keycloak, Title: "Keycloak",
		Offline:    OfflineScope,
		OfflineWhy: "Keycloak issues an offline token, which outlives the browser session, for offline_access",
		Notes: []string{"anonymous dynamic registration is subject to the realm's client registration policies " +
			"(Trusted Hosts); where they refuse it, register a public client with redirect URI http://127.0.0.1/callback"},
	},
}

// Names returns the names --provider takes: every profile's, and None.
func Names() []string {
	names := make([]string, 0, len(profiles)+1)
	for n := range profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return append(names, None)
}

// Valid reports whether name is one --provider takes, or "" (detect).
func Valid(name string) bool {
	_, ok := profiles[name]
	return ok || name == "" || name == None
}

// Lookup returns the profile of that name, and whether there is one.
func Lookup(name string) (Profile, bool) {
	p, ok := profiles[name]
	return p, ok
}

// Source says where a resolved profile comes from.
type Source int

const (
	// Detected: from the issuer (or, for the standard profile, no known provider matched).
	Detected Source = iota
	// Configured: the server's settings name it (--provider NAME).
	Configured
	// Off: detection is turned off (--provider none).
	Off
)

// Resolve returns the profile for a server configured with setting ("" to detect, None for the
// standard profile, or a profile's name) whose authorization server has that issuer and those
// endpoints, and where it comes from. An unknown setting (which config validation refuses)
// resolves as detection.
func Resolve(setting, issuer string, endpoints ...string) (Profile, Source) {
	switch {
	case setting == None:
		return Profile{}, Off
	case setting != "":
		if p, ok := profiles[setting]; ok {
			return p, Configured
		}
	}
	return Detect(issuer, endpoints...), Detected
}

// The expressions below are compiled at first use, not at init: every start of the bridge
// links this package, and compiling them up front would add to each one.

// keycloakRealm matches the path of a Keycloak issuer: /realms/NAME (behind /auth before
// Keycloak 17).
var keycloakRealm = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(/auth)?/realms/[^/]+/?$`) })

// cognitoIssuer matches the host of a Cognito user pool's issuer.
var cognitoIssuer = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^cognito-idp\.[a-z0-9-]+\.amazonaws\.com$`) })

// entraHosts are the hosts of Entra ID's sign-in service, in the public and national clouds.
var entraHosts = []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn"}

// Detect returns the profile of the provider whose issuer this is, or the standard profile. The
// endpoints (authorization, token) count for providers that serve them from a host of their
// own: Cognito's issuer is cognito-idp.REGION.amazonaws.com, its sign-in pages are on its
// domain under amazoncognito.com. A provider behind a custom domain is not detected: name it
// with --provider.
func Detect(issuer string, endpoints ...string) Profile {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return Profile{}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	path := strings.TrimSuffix(u.Path, "/")
	switch {
	case (slices.Contains(entraHosts, host) || strings.HasSuffix(host, ".ciamlogin.com")) && strings.HasSuffix(path, "/v2.0"):
		// Only the v2 endpoints: v1 issuers (sts.windows.net) take resource, and no scopes.
		return profiles[Entra]
	case host == "accounts.google.com":
		return profiles[Google]
	case strings.HasSuffix(host, ".auth0.com"):
		return profiles[Auth0]
	case strings.HasSuffix(host, ".okta.com") || strings.HasSuffix(host, ".oktapreview.com") || strings.HasSuffix(host, ".okta-emea.com"):
		return profiles[Okta]
	case cognitoIssuer().MatchString(host) || strings.HasSuffix(host, ".amazoncognito.com"):
		return profiles[Cognito]
	case keycloakRealm().MatchString(u.Path):
		return profiles[Keycloak]
	}
	for _, e := range endpoints {
		if eu, err := url.Parse(e); err == nil && strings.HasSuffix(strings.ToLower(eu.Hostname()), ".amazoncognito.com") {
			return profiles[Cognito]
		}
	}
	return Profile{}
}

// oktaPath matches the issuer path of an Okta custom authorization server.
var oktaPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/oauth2/[^/]+/?$`) })

// oktaIssuer warns about Okta's org authorization server.
func oktaIssuer(u *url.URL) string {
	if oktaPath().MatchString(u.Path) {
		return ""
	}
	return fmt.Sprintf("the issuer is Okta's org authorization server, whose tokens are for Okta's own APIs: "+
		"an MCP server's tokens come from a custom authorization server, %s://%s/oauth2/<id> (often /oauth2/default)", u.Scheme, u.Host)
}

// IssuerWarning says what is wrong with issuer for this provider, or "".
func (p Profile) IssuerWarning(issuer string) string {
	u, err := url.Parse(issuer)
	if p.issuerWarning == nil || err != nil {
		return ""
	}
	return p.issuerWarning(u)
}

// Standard reports whether p is the standard profile (no provider's departures).
func (p Profile) Standard() bool { return p.Name == "" }
