package authserver

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
)

// maxRegistrationBody bounds a registration request; real ones are < 2 KiB.
const maxRegistrationBody = 64 << 10

// registrationRequest holds the RFC 7591 §2 fields this server looks at.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	Scope                   string   `json:"scope"`
	ApplicationType         string   `json:"application_type"`
}

// registrationResponse is the RFC 7591 §3.2.1 answer.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
}

// handleRegister implements Dynamic Client Registration (RFC 7591).
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBody))
	var fields map[string]any
	if err == nil {
		err = json.Unmarshal(body, &fields)
	}
	s.record(r, EndpointRegister, jsonToValues(fields), "", "")
	if s.opts.Mimic.RegistrationNeedsToken && r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_token", "registration needs an API token"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_client_metadata", "the body must be a JSON object"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_client_metadata", "Content-Type must be application/json"})
		return
	}
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_client_metadata", "malformed client metadata"})
		return
	}
	c, code, desc := s.validateRegistration(req)
	if code != "" {
		writeJSON(w, http.StatusBadRequest, oauthError{code, desc})
		return
	}
	issued := s.now()
	s.mu.Lock()
	s.clients[c.ID] = c
	s.stats.Registrations++
	s.mu.Unlock()

	resp := registrationResponse{
		ClientID:                c.ID,
		ClientSecret:            c.Secret,
		ClientIDIssuedAt:        issued.Unix(),
		RedirectURIs:            c.RedirectURIs,
		TokenEndpointAuthMethod: c.AuthMethod,
		GrantTypes:              c.GrantTypes,
		ResponseTypes:           req.ResponseTypes,
		ClientName:              c.Name,
		Scope:                   req.Scope,
		ApplicationType:         req.ApplicationType,
	}
	if c.Secret != "" {
		never := int64(0) // RFC 7591: REQUIRED with a secret; 0 = never expires
		resp.ClientSecretExpiresAt = &never
	}
	status := http.StatusCreated
	if s.opts.Deviations.Registration200 {
		status = http.StatusOK
	}
	if s.opts.Deviations.OmitRedirectURIs {
		resp.RedirectURIs = nil
	}
	writeJSON(w, status, resp)
}

// validateRegistration applies the RFC 7591 defaults and this server's
// rules, returning the client to store or an error code and description.
func (s *Server) validateRegistration(req registrationRequest) (*Client, string, string) {
	method := req.TokenEndpointAuthMethod
	if method == "" {
		method = AuthClientSecretBasic // RFC 7591 §2 default
	}
	if !slices.Contains(s.authMethods, method) {
		return nil, "invalid_client_metadata", fmt.Sprintf("token_endpoint_auth_method %q is not supported", method)
	}
	if method == AuthPrivateKeyJWT {
		// It would need the client's jwks, which this server does not take at registration.
		return nil, "invalid_client_metadata", "a private_key_jwt client is registered beforehand, with its public key"
	}
	grants := req.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode} // RFC 7591 §2 default
	}
	supported := s.grantTypesSupported()
	for _, g := range grants {
		if !slices.Contains(supported, g) {
			return nil, "invalid_client_metadata", fmt.Sprintf("grant type %q is not supported", g)
		}
	}
	if slices.Contains(grants, GrantClientCredentials) && method == AuthNone {
		return nil, "invalid_client_metadata", "client_credentials needs a confidential client"
	}
	for _, rt := range req.ResponseTypes {
		if rt != "code" {
			return nil, "invalid_client_metadata", fmt.Sprintf("response type %q is not supported", rt)
		}
	}
	if slices.Contains(grants, GrantAuthorizationCode) && len(req.RedirectURIs) == 0 {
		return nil, "invalid_redirect_uri", "redirect_uris is required for the authorization_code grant"
	}
	for _, u := range req.RedirectURIs {
		if !validRedirectURI(u) {
			return nil, "invalid_redirect_uri", "redirect URIs must be https or http on a loopback host, without a fragment"
		}
	}
	if s.opts.OIDCRegistration {
		if code, desc := oidcApplicationType(req); code != "" {
			return nil, code, desc
		}
	}
	c := &Client{
		ID:           randomToken(),
		Name:         req.ClientName,
		RedirectURIs: s.registeredRedirectURIs(req.RedirectURIs),
		AuthMethod:   method,
		GrantTypes:   slices.Clone(grants),
	}
	if method != AuthNone {
		c.Secret = randomToken()
	}
	return c, "", ""
}

// oidcApplicationType checks a registration against OpenID Connect Dynamic Client Registration
// 1.0 §2 (Options.OIDCRegistration): application_type defaults to "web"; web clients use https
// redirect URIs off loopback, native clients http loopback ones.
func oidcApplicationType(req registrationRequest) (code, desc string) {
	typ := req.ApplicationType
	if typ == "" {
		typ = "web"
	}
	if typ != "web" && typ != "native" {
		return "invalid_client_metadata", fmt.Sprintf("application_type %q is neither web nor native", req.ApplicationType)
	}
	for _, raw := range req.RedirectURIs {
		u, _ := url.Parse(raw) // validRedirectURI parsed it already
		loopback := u.Scheme == "http" && (u.Hostname() == "localhost" || isLoopbackIP(u.Hostname()))
		switch {
		case typ == "web" && (u.Scheme != "https" || u.Hostname() == "localhost" || isLoopbackIP(u.Hostname())):
			return "invalid_redirect_uri", "a web client (application_type web, the default) registers only https redirect URIs on hosts other than loopback"
		case typ == "native" && !loopback:
			return "invalid_redirect_uri", "a native client registers only http loopback redirect URIs"
		}
	}
	return "", ""
}

// jsonToValues flattens a JSON object for Request.Form: strings as they are,
// arrays of strings as repeated values, anything else JSON-encoded.
func jsonToValues(m map[string]any) url.Values {
	out := url.Values{}
	for k, v := range m {
		switch t := v.(type) {
		case string:
			out.Add(k, t)
		case []any:
			for _, e := range t {
				if str, ok := e.(string); ok {
					out.Add(k, str)
				} else {
					b, _ := json.Marshal(e)
					out.Add(k, string(b))
				}
			}
		default:
			b, _ := json.Marshal(t)
			out.Add(k, string(b))
		}
	}
	return out
}
