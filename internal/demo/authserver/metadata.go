package authserver

import (
	"net/http"
	"slices"
	"strings"
)

// Well-known path prefixes (RFC 8414 §3, OpenID Connect Discovery 1.0 §4).
const (
	wellKnownOAuth = "/.well-known/oauth-authorization-server"
	wellKnownOIDC  = "/.well-known/openid-configuration"
)

// metadataPaths lists the URL paths the metadata is served at. For an issuer
// with path P they are /.well-known/oauth-authorization-server/P,
// /.well-known/openid-configuration/P and P/.well-known/openid-configuration;
// without a path, the first two (the third is the same as the second).
func (s *Server) metadataPaths() []string {
	want := func(l MetadataLocation) bool {
		return len(s.opts.MetadataAt) == 0 || slices.Contains(s.opts.MetadataAt, l)
	}
	p := s.issuerPath
	var paths []string
	if want(MetadataOAuth) {
		paths = append(paths, wellKnownOAuth+p)
	}
	if want(MetadataOIDCInserted) || (p == "" && want(MetadataOIDCAppended)) {
		paths = append(paths, wellKnownOIDC+p)
	}
	if p != "" && want(MetadataOIDCAppended) {
		paths = append(paths, p+wellKnownOIDC)
	}
	return paths
}

// handleMetadata serves the RFC 8414 document, honest or hostile.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	if origin := s.opts.Hostile.CrossOriginRedirect; origin != "" {
		http.Redirect(w, r, strings.TrimSuffix(origin, "/")+r.URL.Path, http.StatusFound)
		return
	}
	writeJSON(w, http.StatusOK, s.metadata(r))
}

// metadata builds the document as seen by the client that sent r.
func (s *Server) metadata(r *http.Request) map[string]any {
	h := s.opts.Hostile
	issuer := s.issuerFor(r)
	m := map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                issuer + "/authorize",
		"token_endpoint":                        issuer + "/token",
		"scopes_supported":                      s.scopes,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 s.grantTypesSupported(),
		"token_endpoint_auth_methods_supported": s.authMethods,
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if !s.opts.DisableDCR {
		m["registration_endpoint"] = issuer + "/register"
	}
	if !s.opts.NoRevocation {
		m["revocation_endpoint"] = issuer + "/revoke"
		m["revocation_endpoint_auth_methods_supported"] = s.authMethods
	}
	if s.opts.UserInfo {
		m["userinfo_endpoint"] = issuer + "/userinfo"
	}
	if s.opts.Introspection {
		m["introspection_endpoint"] = issuer + "/introspect"
		m["introspection_endpoint_auth_methods_supported"] = s.authMethods
	}
	if s.opts.PrivateKeyJWT {
		m["token_endpoint_auth_signing_alg_values_supported"] = s.signingAlgs
		m["revocation_endpoint_auth_signing_alg_values_supported"] = s.signingAlgs
	}
	if s.opts.Device.Enabled {
		m["device_authorization_endpoint"] = issuer + "/device_authorization"
	}
	if s.opts.ISSParameter {
		m["authorization_response_iss_parameter_supported"] = true
	}
	if s.opts.CIMD {
		m["client_id_metadata_document_supported"] = true
	}
	if s.dpopEnabled() {
		m["dpop_signing_alg_values_supported"] = dpopAlgs
	}
	if s.opts.OpenID {
		// Required of an OpenID provider (OpenID Connect Discovery 1.0 §3).
		m["id_token_signing_alg_values_supported"] = []string{"ES256"}
		m["subject_types_supported"] = []string{"public"}
	}
	if s.opts.Deviations.IssuerTrailingSlash {
		m["issuer"] = s.declaredIssuer(r)
	}
	if h.IssuerMismatch {
		m["issuer"] = issuer + "/other"
	}
	if h.NoS256 {
		m["code_challenge_methods_supported"] = []string{"plain"}
	}
	if h.NoPKCEMetadata {
		delete(m, "code_challenge_methods_supported")
	}
	if h.InsecureTokenEndpoint {
		m["token_endpoint"] = "http://auth.example.com/token"
	}
	if h.JavascriptAuthorize {
		m["authorization_endpoint"] = "javascript:alert(1)"
	}
	if h.HugeMetadata {
		// A client must cap what it reads from a metadata URL; 2 MiB plus a
		// margin is past any sane cap.
		m["x_padding"] = strings.Repeat("x", 2<<20+4096)
	}
	return m
}

func (s *Server) grantTypesSupported() []string {
	g := []string{GrantAuthorizationCode}
	if !s.opts.NoRefreshTokens {
		g = append(g, GrantRefreshToken)
	}
	if s.opts.ClientCredentials {
		g = append(g, GrantClientCredentials)
	}
	if s.opts.JWTBearer {
		g = append(g, GrantJWTBearer)
	}
	if s.opts.TokenExchange {
		g = append(g, GrantTokenExchange)
	}
	if s.opts.Device.Enabled {
		g = append(g, GrantDeviceCode)
	}
	return g
}
