package discovery

import "slices"

// ResourceMetadata is the part of an OAuth 2.0 Protected Resource Metadata
// document (RFC 9728 §2) that an MCP client uses.
type ResourceMetadata struct {
	// Resource is the server's resource identifier; it must identify the
	// server we asked about (RFC 9728 §3.3).
	Resource string `json:"resource"`
	// AuthorizationServers lists issuer identifiers of authorization servers
	// that issue tokens for the resource; the MCP specification requires one.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported lists the scopes the resource understands; the MCP
	// client asks for all of them when the challenge names none.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported lists how tokens may be sent ("header", ...).
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceName is a human-readable name of the resource.
	ResourceName string `json:"resource_name,omitempty"`
	// DPoPSigningAlgValuesSupported lists the JWS algorithms the resource
	// accepts in DPoP proofs (RFC 9728 §2, RFC 9449): that it lists any says
	// it accepts DPoP-bound tokens.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// DPoPBoundAccessTokensRequired says the resource accepts only DPoP-bound
	// tokens (RFC 9728 §2).
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
}

// AuthServerMetadata is the part of an OAuth 2.0 Authorization Server
// Metadata document (RFC 8414 §2, also served as OpenID Connect Discovery)
// that an MCP client uses.
type AuthServerMetadata struct {
	// Issuer is the authorization server's issuer identifier; it must equal
	// the issuer the metadata URL was built from (RFC 8414 §3.3).
	Issuer string `json:"issuer"`
	// AuthorizationEndpoint is where the browser is sent to sign in.
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	// TokenEndpoint is where codes and refresh tokens are redeemed.
	TokenEndpoint string `json:"token_endpoint"`
	// RegistrationEndpoint is the RFC 7591 dynamic registration endpoint, if any.
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`
	// RevocationEndpoint is the RFC 7009 token revocation endpoint, if any.
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`
	// UserinfoEndpoint is the OpenID Connect UserInfo endpoint (OpenID Connect Discovery
	// §3), and IntrospectionEndpoint the RFC 7662 one (RFC 8414 §2), if any: where a client
	// may learn whose a token is. Neither is needed to sign in, so EndpointProblems leaves
	// them out; whoever calls one checks it first (CheckEndpoint).
	UserinfoEndpoint      string `json:"userinfo_endpoint,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	// DeviceAuthorizationEndpoint is the RFC 8628 device authorization
	// endpoint, if any: see OffersDeviceGrant.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`

	// ScopesSupported lists the scopes the server issues (offline_access is
	// requested only when it appears here).
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// ResponseTypesSupported lists the supported response_type values.
	ResponseTypesSupported []string `json:"response_types_supported,omitempty"`
	// GrantTypesSupported lists the supported grant types; see SupportsGrant
	// for the default when absent.
	GrantTypesSupported []string `json:"grant_types_supported,omitempty"`
	// TokenEndpointAuthMethodsSupported lists the client authentication
	// methods of the token endpoint; see AuthMethods for the default.
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// TokenEndpointAuthSigningAlgValuesSupported lists the JWS algorithms the
	// token endpoint accepts for private_key_jwt client assertions; absent
	// says nothing either way.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	// CodeChallengeMethodsSupported lists the PKCE methods; it must hold S256.
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`

	// ClientIDMetadataDocumentSupported says the server accepts an https URL
	// of a client metadata document as client_id (the MCP "CIMD" option).
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
	// AuthorizationResponseISSParameterSupported says authorization responses
	// carry the iss parameter (RFC 9207), which the client must then check.
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists the JWS algorithms the server
	// accepts in DPoP proofs (RFC 9449 §5.1): that it lists any says it
	// issues DPoP-bound tokens to clients that send one.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`

	// IDTokenSigningAlgValuesSupported lists the algorithms of ID tokens; OpenID
	// Connect Discovery 1.0 §3 requires it of every OpenID provider, so its
	// presence marks one (see OpenIDProvider).
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

// OpenIDProvider reports whether the metadata is an OpenID provider's: it lists
// ID token signing algorithms (required by OpenID Connect Discovery) or the
// openid scope. Such a server follows OpenID Connect Core §11, and may issue a
// refresh token for offline_access only with prompt=consent.
func (m *AuthServerMetadata) OpenIDProvider() bool {
	return m != nil && (len(m.IDTokenSigningAlgValuesSupported) > 0 || slices.Contains(m.ScopesSupported, "openid"))
}

// SupportsS256 reports whether the server advertises the PKCE S256 method.
// Absent code_challenge_methods_supported means no: RFC 8414 says PKCE is
// then not supported, and the MCP specification tells clients to refuse.
func (m *AuthServerMetadata) SupportsS256() bool {
	return m != nil && slices.Contains(m.CodeChallengeMethodsSupported, "S256")
}

// SupportsGrant reports whether the server supports grant type g. When the
// metadata omits grant_types_supported, RFC 8414 §2 defines the default as
// ["authorization_code", "implicit"].
func (m *AuthServerMetadata) SupportsGrant(g string) bool {
	if m == nil {
		return false
	}
	if len(m.GrantTypesSupported) == 0 {
		return g == "authorization_code" || g == "implicit"
	}
	return slices.Contains(m.GrantTypesSupported, g)
}

// GrantDeviceCode is the grant type of the device authorization grant
// (RFC 8628 §3.4), as grant_types_supported lists it.
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// OffersDeviceGrant reports whether the server offers the device
// authorization grant (RFC 8628), with which a person signs in on another
// device: it publishes a device_authorization_endpoint (RFC 8628 §4) and,
// when it lists its grant types at all, lists the device_code grant among
// them. (The RFC 8414 default list, used when grant_types_supported is
// absent, does not name it, but the endpoint alone says the server has it.)
func (m *AuthServerMetadata) OffersDeviceGrant() bool {
	if m == nil || m.DeviceAuthorizationEndpoint == "" {
		return false
	}
	return len(m.GrantTypesSupported) == 0 || slices.Contains(m.GrantTypesSupported, GrantDeviceCode)
}

// ValidateForDevice checks what the device sign-in needs before it may use
// m: a device authorization grant on offer (OffersDeviceGrant), and a token
// and a device authorization endpoint that pass CheckEndpoint, as does any
// registration or revocation endpoint. PKCE does not apply to this grant
// (no authorization code travels through a browser), so S256 is not asked
// for. It returns the first problem.
func (m *AuthServerMetadata) ValidateForDevice() error {
	if !m.OffersDeviceGrant() {
		return ErrNoDeviceGrant
	}
	for _, f := range []struct{ name, url string }{
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"registration_endpoint", m.RegistrationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
	} {
		switch {
		case f.url == "" && f.name == "token_endpoint":
			return &MissingFieldError{Field: f.name}
		case f.url == "":
		default:
			if err := CheckEndpoint(f.url); err != nil {
				return &InsecureEndpointError{Field: f.name, URL: f.url, Reason: err}
			}
		}
	}
	return nil
}

// AuthMethods returns the token endpoint's client authentication methods.
// When the metadata omits them, RFC 8414 §2 defines the default as
// ["client_secret_basic"].
func (m *AuthServerMetadata) AuthMethods() []string {
	if m == nil || len(m.TokenEndpointAuthMethodsSupported) == 0 {
		return []string{"client_secret_basic"}
	}
	return m.TokenEndpointAuthMethodsSupported
}

// ValidateForBrowser checks what the browser sign-in needs before it may use
// m: the endpoints, as EndpointProblems, and PKCE S256 (an error matching
// ErrNoS256). It returns the first problem. It does not check the issuer:
// that needs the issuer the metadata was fetched for (see
// Fetcher.AuthServerMetadata).
func (m *AuthServerMetadata) ValidateForBrowser() error {
	if errs := m.EndpointProblems(); len(errs) > 0 {
		return errs[0]
	}
	if !m.SupportsS256() {
		return &NoS256Error{Issuer: m.Issuer, Advertised: m.CodeChallengeMethodsSupported}
	}
	return nil
}

// EndpointProblems checks every endpoint the client may call or open:
// authorization and token endpoints must be present, and each present one
// (those two, registration, revocation) must pass CheckEndpoint. It returns
// one *MissingFieldError or *InsecureEndpointError per problem, in that
// field order, or nil.
func (m *AuthServerMetadata) EndpointProblems() []error {
	var errs []error
	for _, f := range []struct {
		name, url string
		required  bool
	}{
		{"authorization_endpoint", m.AuthorizationEndpoint, true},
		{"token_endpoint", m.TokenEndpoint, true},
		{"registration_endpoint", m.RegistrationEndpoint, false},
		{"revocation_endpoint", m.RevocationEndpoint, false},
	} {
		switch {
		case f.url == "" && f.required:
			errs = append(errs, &MissingFieldError{Field: f.name})
		case f.url == "":
		default:
			if err := CheckEndpoint(f.url); err != nil {
				errs = append(errs, &InsecureEndpointError{Field: f.name, URL: f.url, Reason: err})
			}
		}
	}
	return errs
}
