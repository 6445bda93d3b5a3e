package provider

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// OfflineAccess is the scope that asks an OpenID provider for a refresh token (OpenID Connect
// Core §11).
const OfflineAccess = "offline_access"

// oidcScopes are OpenID Connect's own scopes, which name no API and are never qualified.
var oidcScopes = []string{"openid", "profile", "email", "address", "phone", OfflineAccess}

// Reserved are the authorization request parameters that the sign-in itself sets, or that a
// setting of their own governs (--scopes, --no-resource): Settings.AuthParams may not name them.
var Reserved = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", "resource"}

// Token names what a server is sent: the access token (the default) or the ID token.
const (
	TokenAccess = "access"
	TokenID     = "id"
)

// Settings are a server's own settings that bear on the requests: the escape hatches of
// config.Server. They win over the profile.
type Settings struct {
	// AuthParams are added to the authorization request; a key the profile sets too is the
	// setting's.
	AuthParams map[string]string
	// NoResource leaves the resource indicator out of every request; NoResourceOnRefresh out of
	// refresh requests only.
	NoResource, NoResourceOnRefresh bool
	// FixedScopes says the scopes were configured by the user: they are sent as given, never
	// rewritten by the profile (offline_access is still added as the profile asks for it).
	FixedScopes bool
	// SendIDToken says the server is sent the ID token: the sign-in asks for openid.
	SendIDToken bool
}

// AuthServer is what the authorization server's metadata says, as far as the requests depend
// on it.
type AuthServer struct {
	// OpenID is set for an OpenID provider.
	OpenID bool
	// ScopesSupported and GrantTypesSupported are the metadata's lists (nil when absent).
	ScopesSupported     []string
	GrantTypesSupported []string
}

func (as AuthServer) offersOffline() bool { return slices.Contains(as.ScopesSupported, OfflineAccess) }

// Request is what a browser sign-in sends beyond the protocol's own parameters.
type Request struct {
	// Scope is the scope of the authorization request ("" to leave it out).
	Scope string
	// Resource is the resource indicator of the authorization and token requests ("" for none).
	Resource string
	// AuthParams are the further parameters of the authorization request (prompt, access_type,
	// audience, the user's own).
	AuthParams url.Values
	// RefreshResource is the resource indicator of its refresh requests ("" for none).
	RefreshResource string
}

// Request applies the profile and the server's settings to a sign-in that asks for scopes
// (chosen by the MCP scope selection order) for the resource (the server's canonical URI).
func (p Profile) Request(scopes []string, resource string, as AuthServer, s Settings) Request {
	scopes = slices.Clone(scopes)
	if p.QualifyScopes && !s.FixedScopes {
		scopes = qualify(scopes, resource)
	}
	if s.SendIDToken && !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	params := url.Values{}
	for _, kv := range p.AuthParams {
		params.Set(kv.Key, kv.Value)
	}
	switch p.Offline {
	case OfflineStandard:
		if len(scopes) > 0 && as.offersOffline() {
			scopes = appendNew(scopes, OfflineAccess)
		}
		if as.OpenID && slices.Contains(scopes, OfflineAccess) {
			params.Set("prompt", "consent")
		}
	case OfflineScope:
		scopes = appendNew(scopes, OfflineAccess)
	}
	r := Request{Scope: strings.Join(scopes, " "), Resource: resource}
	switch p.Resource {
	case ResourceOmitted:
		r.Resource = ""
	case ResourceAsAudience:
		if resource != "" {
			params.Set("audience", resource)
		}
		r.Resource = ""
	}
	if s.NoResource {
		r.Resource = ""
	}
	for k, v := range s.AuthParams {
		params.Set(k, v)
	}
	r.AuthParams = params
	r.RefreshResource = p.RefreshResource(resource, s)
	return r
}

// RefreshResource is the resource indicator a refresh request carries for a grant obtained for
// resource: resource itself, unless the profile or the settings leave it out.
func (p Profile) RefreshResource(resource string, s Settings) string {
	if p.Resource != ResourceIndicator || s.NoResource || s.NoResourceOnRefresh {
		return ""
	}
	return resource
}

// qualify prefixes each scope of the resource's with the resource, and asks for the resource's
// .default scope when none is left (see Profile.QualifyScopes).
func qualify(scopes []string, resource string) []string {
	base := strings.TrimSuffix(resource, "/")
	if base == "" {
		return scopes
	}
	out := make([]string, 0, len(scopes)+1)
	own := false
	for _, sc := range scopes {
		switch {
		case slices.Contains(oidcScopes, sc):
		case strings.Contains(sc, "/"):
			// Already qualified: an application ID URI (api://...) or a URL, and its scope.
			own = true
		default:
			sc, own = base+"/"+sc, true
		}
		out = appendNew(out, sc)
	}
	if !own {
		out = append(out, base+"/.default")
	}
	return out
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Refresh is whether a sign-in will bring a refresh token, judged from the profile, the
// settings and the authorization server's metadata: the access token then renews without a
// person. Why says so in words, for doctor.
type Refresh struct {
	Expected bool
	Why      string
}

// RefreshOutlook judges whether a sign-in at as will yield a refresh token.
func (p Profile) RefreshOutlook(as AuthServer, s Settings) Refresh {
	if prompt, ok := s.AuthParams["prompt"]; ok && !slices.Contains(strings.Fields(prompt), "consent") && p.Offline == OfflineStandard && as.OpenID && as.offersOffline() {
		// The user's prompt replaces consent, which OpenID Connect Core §11 asks for.
		return Refresh{false, fmt.Sprintf("an OpenID provider issues a refresh token for offline_access with prompt=consent, and your settings send prompt=%s instead", s.AuthParams["prompt"])}
	}
	switch p.Offline {
	case OfflineScope, OfflineParams, OfflineAlways:
		return Refresh{true, p.OfflineWhy}
	}
	grants := "the authorization server lists the refresh_token grant"
	if len(as.GrantTypesSupported) > 0 && !slices.Contains(as.GrantTypesSupported, "refresh_token") {
		return Refresh{false, "the authorization server does not offer the refresh_token grant (grant_types_supported): you will sign in again whenever the access token expires"}
	}
	if len(as.GrantTypesSupported) == 0 {
		grants = "the authorization server does not list its grant types"
	}
	switch {
	case as.OpenID && as.offersOffline():
		return Refresh{true, "an OpenID provider: offline_access is asked for with prompt=consent (OpenID Connect Core §11)"}
	case as.OpenID:
		return Refresh{false, "an OpenID provider that does not offer offline_access (scopes_supported): OpenID Connect Core §11 ties refresh tokens to it, so it may issue none, and you sign in again at every expiry; if it has a parameter of its own for one, add it with --auth-param"}
	case as.offersOffline():
		return Refresh{true, "offline_access is listed, and asked for"}
	case len(as.GrantTypesSupported) == 0:
		return Refresh{false, grants + " (RFC 8414 then means no refresh_token): it may issue no refresh token, and you sign in again at every expiry"}
	}
	return Refresh{true, grants}
}

// Quirks says in words what the profile changes in the requests, one line each, for doctor: the
// resource indicator, the scopes, the refresh token, the parameters, PKCE, registration.
func (p Profile) Quirks() []string {
	var out []string
	switch p.Resource {
	case ResourceOmitted:
		out = append(out, "no resource parameter: "+p.ResourceWhy)
	case ResourceAsAudience:
		out = append(out, "audience=<the server's resource> instead of resource: "+p.ResourceWhy)
	}
	if p.QualifyScopes {
		out = append(out, "scopes qualified with the resource (<resource>/<scope>), or <resource>/.default when the server names none; "+
			"when the API's application ID URI is not the server's URL, set the scopes yourself (--scopes \"api://<app-id>/.default\")")
	}
	switch p.Offline {
	case OfflineScope:
		out = append(out, "offline_access asked for, without prompt=consent: "+p.OfflineWhy)
	case OfflineParams:
		out = append(out, "no offline_access: "+p.OfflineWhy)
	case OfflineAlways:
		out = append(out, "nothing asked for a refresh token: "+p.OfflineWhy)
	}
	if len(p.AuthParams) > 0 {
		kv := make([]string, len(p.AuthParams))
		for i, x := range p.AuthParams {
			kv[i] = x.Key + "=" + x.Value
		}
		out = append(out, "authorization parameters "+strings.Join(kv, " "))
	}
	if p.UndeclaredS256 {
		out = append(out, "PKCE S256 used though the metadata does not advertise it: "+p.Title+" documents it")
	}
	if p.NoRegistration {
		out = append(out, "no dynamic registration: a client registered beforehand is needed: "+p.Register)
	}
	if p.IDToken != "" {
		out = append(out, "the access token is sent; --send-token id sends the ID token: "+p.IDToken)
	}
	return append(out, p.Notes...)
}

// Describe says in words what the settings change, one line each, for doctor.
func (s Settings) Describe() []string {
	var out []string
	if len(s.AuthParams) > 0 {
		keys := make([]string, 0, len(s.AuthParams))
		for k := range s.AuthParams {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + s.AuthParams[k]
		}
		out = append(out, "authorization parameters "+strings.Join(keys, " ")+" (--auth-param)")
	}
	switch {
	case s.NoResource:
		out = append(out, "no resource parameter on any request (--no-resource)")
	case s.NoResourceOnRefresh:
		out = append(out, "no resource parameter on refresh requests (--no-resource-on-refresh)")
	}
	if s.FixedScopes {
		out = append(out, "the configured scopes, as given (--scopes)")
	}
	if s.SendIDToken {
		out = append(out, "the ID token is sent to the server, not the access token; openid is asked for (--send-token id)")
	}
	return out
}
