package authserver

import (
	"crypto"
	"net/http"
	"net/url"
	"time"
)

// Token endpoint client authentication methods (RFC 7591 §2,
// token_endpoint_auth_method).
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	// AuthPrivateKeyJWT is a client assertion signed with the client's private key
	// (RFC 7523 §2.2); see Options.PrivateKeyJWT.
	AuthPrivateKeyJWT = "private_key_jwt"
)

// Grant types (RFC 6749) this server knows.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	// GrantJWTBearer is the JWT bearer grant (RFC 7523 §2.1).
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// GrantTokenExchange is the token exchange grant (RFC 8693 §2.1).
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4).
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
)

// Defaults applied by New to zero-valued options.
var (
	// DefaultScopes is scopes_supported when Options.Scopes is empty.
	DefaultScopes = []string{"mcp:read", "mcp:write", "mcp:admin", "offline_access"}
	// DefaultAuthMethods is token_endpoint_auth_methods_supported when
	// Options.AuthMethods is empty.
	DefaultAuthMethods = []string{AuthNone, AuthClientSecretBasic, AuthClientSecretPost}
)

const (
	// DefaultAccessTokenTTL is the access token lifetime when
	// Options.AccessTokenTTL is zero.
	DefaultAccessTokenTTL = time.Hour
	// CodeTTL is how long an authorization code can be redeemed. OAuth 2.1
	// recommends a short life; 60 s is enough for a browser round trip.
	CodeTTL = 60 * time.Second
	// consentTTL bounds how long a consent page stays answerable.
	consentTTL = 10 * time.Minute
)

// DemoSubject is the subject (resource owner) of the tokens obtained through
// the authorization code grant, unless another user signs in: the consent page
// takes another user name, and SignInAs changes who is signed in for every
// authorization after it. There are no passwords: the demo trusts whoever
// holds the browser.
const DemoSubject = "demo-user"

// Options configures a Server. The zero value is a sensible server: DCR
// enabled, rotating refresh tokens, consent page, default scopes and
// authentication methods, one-hour access tokens.
type Options struct {
	// BaseURL is the scheme://host:port the server is reached at, used to
	// build the issuer and endpoint URLs. Start and Serve set it from the
	// listener; leave it empty then. When the Handler is mounted elsewhere
	// and BaseURL is empty, it is derived from each request (Host header,
	// https when the connection is TLS).
	BaseURL string
	// Issuer is an optional path suffix such as "/tenant1": the issuer is
	// BaseURL+Issuer, the endpoints live under that path and the metadata is
	// served at the RFC 8414 and OpenID Connect locations for it.
	Issuer string
	// Scopes is scopes_supported; empty means DefaultScopes.
	Scopes []string
	// AccessTokenTTL is the access token lifetime; zero means
	// DefaultAccessTokenTTL. SetAccessTokenTTL changes it later.
	AccessTokenTTL time.Duration
	// NoRefreshTokens stops the server from issuing refresh tokens. By
	// default a refresh token (rotating on every use) is issued to clients
	// whose grant_types include refresh_token.
	NoRefreshTokens bool
	// SessionMax ends every person's grant this long after its sign-in (the code or device
	// grant that started it), as identity providers cap a session (Keycloak's SSO Session
	// Max, Entra ID's sign-in frequency): its refresh tokens are refused from then on
	// (invalid_grant). Zero means never. Mimic.RefreshExpiry says so in token responses.
	SessionMax time.Duration
	// AutoApprove makes GET /authorize redirect at once with a code, like the
	// MCP conformance suite's server; otherwise a consent page is shown.
	AutoApprove bool
	// RequireResource rejects authorization and token requests without an
	// RFC 8707 `resource` parameter (invalid_target).
	RequireResource bool
	// ISSParameter advertises authorization_response_iss_parameter_supported
	// and adds `iss` to every authorization redirect (RFC 9207).
	ISSParameter bool
	// CIMD advertises client_id_metadata_document_supported and accepts an
	// https URL as client_id, fetching the Client ID Metadata Document with
	// CIMDClient.
	CIMD bool
	// CIMDClient fetches Client ID Metadata Documents; nil means a client
	// with a 10 s timeout. Tests pass an httptest TLS server's client.
	CIMDClient *http.Client
	// DisableDCR removes the registration endpoint (and its metadata field).
	DisableDCR bool
	// OIDCRegistration applies the application_type rules of OpenID Connect Dynamic Client
	// Registration 1.0 (§2) to registrations, as OIDC providers do: application_type is "web"
	// (the default when it is left out) or "native"; a web client registers only https
	// redirect URIs on hosts other than loopback, a native one only http loopback ones. So a
	// desktop client that leaves application_type out is refused (invalid_redirect_uri), which
	// is why MCP 2026-07-28 makes clients send it.
	OIDCRegistration bool
	// UserInfo serves an OpenID Connect UserInfo endpoint (OpenID Connect Core
	// §5.3) at /userinfo and advertises it (userinfo_endpoint): an access
	// token of a person's grant whose scopes hold "openid" gets its user's
	// sub, email and preferred_username; any other token is refused.
	UserInfo bool
	// Introspection serves an RFC 7662 introspection endpoint at /introspect
	// and advertises it (introspection_endpoint). A client authenticates as
	// at the token endpoint and may introspect the tokens issued to it, which
	// answer their sub, username, client_id, scope and expiry; any other
	// token reads as inactive (§2.2), as do expired and revoked ones.
	Introspection bool
	// NoRevocation removes the RFC 7009 revocation endpoint (and its metadata field), like
	// the many servers that have none.
	NoRevocation bool
	// AuthMethods is token_endpoint_auth_methods_supported; empty means
	// DefaultAuthMethods. Registration with any other method is refused.
	AuthMethods []string
	// ClientCredentials enables the client_credentials grant for
	// confidential clients.
	ClientCredentials bool
	// JWTBearer enables the JWT bearer grant (RFC 7523) for clients
	// registered with it: the assertion must be signed by an issuer this
	// server trusts (Trust), name this server's issuer as its audience and not
	// have expired. An ID-JAG (typ oauth-id-jag+jwt, enterprise-managed
	// authorization) must also name the authenticated client in its client_id
	// claim, and its resource claim becomes the token's resource.
	JWTBearer bool
	// OpenID makes the server an OpenID Connect provider of sorts: an
	// authorization code or refresh grant whose scope holds "openid" also
	// returns an ID token (ES256, signed with the server's key) for the
	// grant's user, valid for IDTokenTTL.
	OpenID bool
	// IDTokenTTL is the lifetime of ID tokens; zero means the access token's.
	IDTokenTTL time.Duration
	// TokenExchange makes the server an enterprise identity provider: it
	// exchanges an ID token it issued (RFC 8693, subject_token_type id_token)
	// for an ID-JAG (requested_token_type id-jag) for the audience and
	// resource asked, valid for IDJAGTTL.
	TokenExchange bool
	// IDJAGTTL is the lifetime of ID-JAGs; zero means five minutes.
	IDJAGTTL time.Duration
	// PrivateKeyJWT accepts private_key_jwt (RFC 7523 §2.2) from clients
	// registered beforehand with a public key (Client.PublicKey), and
	// advertises it with token_endpoint_auth_signing_alg_values_supported.
	// The assertion must be typed client-authentication+jwt, name the issuer
	// as its only audience (RFC 10070 §4), expire, and carry a jti that is
	// not used again.
	PrivateKeyJWT bool
	// SigningAlgs are the assertion algorithms accepted and advertised with
	// PrivateKeyJWT; empty means ES256 and RS256.
	SigningAlgs []string
	// NoMetadata serves no metadata document at all, like servers of the
	// 2025-03-26 era that expect clients to fall back to /authorize, /token
	// and /register at the base URL.
	NoMetadata bool
	// MetadataAt restricts where the metadata document is served; empty
	// means every location that applies to the issuer. Tests use it to check
	// a client's discovery order.
	MetadataAt []MetadataLocation
	// DPoP makes the server bind tokens to DPoP proofs (RFC 9449): it advertises
	// dpop_signing_alg_values_supported, checks the proof of a token request that has one,
	// and then answers token_type DPoP with tokens bound to the proof's key (TokenInfo.JKT);
	// refreshing a bound grant needs a proof with the same key. A request without a proof
	// gets a Bearer token, as RFC 9449 §5 allows.
	DPoP bool
	// DPoPNonce makes the token endpoint require its nonce in proofs (RFC 9449 §8): a proof
	// without the current one is answered 400 use_dpop_nonce with a DPoP-Nonce header.
	// RotateDPoPNonce changes it. It implies DPoP.
	DPoPNonce bool
	// Hostile makes the server misbehave on purpose; see Hostile.
	Hostile Hostile
	// Deviations make the server bend the rules the way hand-written servers do; see
	// Deviations.
	Deviations Deviations
	// Mimic makes the server follow real identity providers' rules; see Mimic.
	Mimic Mimic
	// Device enables the device authorization grant (RFC 8628); see DeviceOptions.
	Device DeviceOptions
	// Now is the clock; nil means time.Now. Expiry of codes and tokens is
	// computed from it.
	Now func() time.Time
}

// MetadataLocation names one of the well-known URLs the metadata document
// can be served at, for an issuer https://host/P (P may be empty).
type MetadataLocation int

const (
	// MetadataOAuth is /.well-known/oauth-authorization-server/P (RFC 8414).
	MetadataOAuth MetadataLocation = iota + 1
	// MetadataOIDCInserted is /.well-known/openid-configuration/P (the
	// RFC 8414 style applied to OpenID discovery).
	MetadataOIDCInserted
	// MetadataOIDCAppended is P/.well-known/openid-configuration (OpenID
	// Connect Discovery 1.0). Without a path it is the same URL as
	// MetadataOIDCInserted.
	MetadataOIDCAppended
)

// Hostile holds switches for client-side security tests. Each makes the
// server misbehave in exactly one way; the zero value is an honest server.
type Hostile struct {
	// IssuerMismatch makes the metadata `issuer` differ from the issuer URL
	// the document was fetched for (issuer + "/other").
	IssuerMismatch bool
	// NoS256 advertises code_challenge_methods_supported = ["plain"].
	NoS256 bool
	// NoPKCEMetadata omits code_challenge_methods_supported.
	NoPKCEMetadata bool
	// InsecureTokenEndpoint advertises token_endpoint =
	// "http://auth.example.com/token" (plain http, not loopback).
	InsecureTokenEndpoint bool
	// JavascriptAuthorize advertises authorization_endpoint =
	// "javascript:alert(1)".
	JavascriptAuthorize bool
	// WrongState makes authorization redirects carry a state other than the
	// one the client sent.
	WrongState bool
	// WrongISS makes authorization redirects carry iss=WrongIssuer (whether
	// or not ISSParameter is set).
	WrongISS bool
	// ErrorRedirect answers every valid authorization request with a
	// redirect carrying error=access_denied and an error_description.
	ErrorRedirect bool
	// NoAccessToken makes token responses lack access_token.
	NoAccessToken bool
	// HugeMetadata pads the metadata document to more than 2 MiB.
	HugeMetadata bool
	// CrossOriginRedirect, if set to an origin (scheme://host:port), makes
	// every metadata request answer 302 to that origin with the same path.
	CrossOriginRedirect string
	// RejectResourceOnRefresh makes refresh requests that carry `resource`
	// fail with invalid_target, as some deployed servers do.
	RejectResourceOnRefresh bool
}

// WrongIssuer is the `iss` sent on redirects when Hostile.WrongISS is set.
const WrongIssuer = "https://attacker.example.com"

// Client is a registered OAuth client.
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client secret; empty for public clients.
	Secret string
	// Name is the human-readable client_name shown on the consent page.
	Name string
	// RedirectURIs must contain the authorization request's redirect_uri
	// exactly.
	RedirectURIs []string
	// AuthMethod is the token_endpoint_auth_method the client must use.
	// RegisterClient defaults it to "private_key_jwt" with a PublicKey, else
	// to "none" without a Secret and to "client_secret_basic" with one.
	AuthMethod string
	// PublicKey verifies the client's assertions (private_key_jwt): an
	// *ecdsa.PublicKey or *rsa.PublicKey. Only RegisterClient sets one.
	PublicKey crypto.PublicKey
	// GrantTypes the client may use. RegisterClient defaults it to
	// authorization_code and refresh_token. (DCR follows RFC 7591: omitted
	// means authorization_code only, so no refresh token.)
	GrantTypes []string
}

// TokenInfo is what Verify knows about a valid access token.
type TokenInfo struct {
	// ClientID is the client the token was issued to.
	ClientID string
	// Subject is the resource owner: the user who signed in (DemoSubject
	// unless another did) for user grants, the client id for
	// client_credentials.
	Subject string
	// Scopes granted to this token.
	Scopes []string
	// Resource is the RFC 8707 resource (audience) the token is bound to;
	// empty if the client asked for none.
	Resource string
	// Expiry is when the token stops being valid.
	Expiry time.Time
	// JKT is the thumbprint of the DPoP key the token is bound to (RFC 9449 §6.1, cnf.jkt),
	// "" for a Bearer token: a resource server accepts it only with a proof of that key.
	JKT string
}

// Stats counts what happened, for tests.
type Stats struct {
	Registrations           int // successful DCR registrations
	Authorizations          int // authorization codes issued
	CodeExchanges           int // successful authorization_code grants
	Refreshes               int // successful refresh_token grants
	ClientCredentialsGrants int // successful client_credentials grants
	RefreshReuse            int // presentations of an already rotated refresh token
	CodeReuse               int // presentations of an already redeemed code
	CIMDFetches             int // Client ID Metadata Document fetches
	Revocations             int // tokens revoked at the revocation endpoint (RFC 7009)
	JWTBearerGrants         int // successful JWT bearer grants
	TokenExchanges          int // ID-JAGs issued by token exchange
	IDTokens                int // ID tokens issued (OpenID)
	DPoPBound               int // tokens issued bound to a DPoP key (RFC 9449)
	DPoPNonceChallenges     int // token requests answered use_dpop_nonce
	UserInfoAnswers         int // users told at the UserInfo endpoint (Options.UserInfo)
	Introspections          int // active tokens described at the introspection endpoint
	DeviceAuthorizations    int // device codes issued (RFC 8628)
	DeviceCodeGrants        int // successful device_code grants
	SlowDowns               int // polls answered slow_down
}

// Endpoint names used in Request.Endpoint.
const (
	EndpointAuthorize = "authorize"
	EndpointDecision  = "decision"
	EndpointToken     = "token"
	EndpointRegister  = "register"
	EndpointRevoke    = "revoke"
	// EndpointIntrospect is the RFC 7662 introspection endpoint (Options.Introspection).
	EndpointIntrospect = "introspect"
	// EndpointUserInfo is the OpenID Connect UserInfo endpoint (Options.UserInfo); its
	// Request has no Form.
	EndpointUserInfo = "userinfo"
	// EndpointDeviceAuthorization is the RFC 8628 device authorization endpoint.
	EndpointDeviceAuthorization = "device_authorization"
)

// Redacted replaces secret values in Request.Form.
const Redacted = "<redacted>"

// Request records one request to the authorize, decision, token, register,
// revocation, introspection or UserInfo endpoint, with secrets redacted.
type Request struct {
	// Endpoint is one of the Endpoint* constants.
	Endpoint string
	// Method is the HTTP method.
	Method string
	// Form holds the parameters: the query for authorize, the form body for
	// token, revoke and decision, and the JSON fields for register (arrays
	// as repeated values). client_secret, client_assertion, code,
	// code_verifier, refresh_token, access_token and token are replaced by
	// Redacted, so
	// Form.Has tells whether they were sent without revealing them.
	Form url.Values
	// AuthMethod is how the client authenticated at the token endpoint:
	// "none", "client_secret_basic", "client_secret_post" or
	// "private_key_jwt".
	AuthMethod string
	// ClientID is the client id from the form or the Basic credentials.
	ClientID string
	// Header holds a few non-secret request headers worth asserting on
	// (MCP-Protocol-Version, Content-Type, Accept).
	Header http.Header
	// Time is when the request arrived (per Options.Now).
	Time time.Time
}
