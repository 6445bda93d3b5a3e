package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
)

// maxTokenBody bounds a token request body.
const maxTokenBody = 64 << 10

// tokenError is an RFC 6749 §5.2 error decided while handling a grant.
type tokenError struct{ code, desc string }

func errf(code, format string, args ...any) *tokenError {
	return &tokenError{code: code, desc: fmt.Sprintf(format, args...)}
}

// handleToken implements the token endpoint (RFC 6749 §3.2, OAuth 2.1 §3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, client, ok := s.clientRequest(w, r, EndpointToken)
	if !ok {
		return
	}
	if status := s.tokenOutage(); status != 0 {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "the token service is down\n")
		return
	}
	jkt, ok := s.tokenProof(w, r, form)
	if !ok {
		return
	}
	var resp tokenResponse
	var terr *tokenError
	switch form.Get("grant_type") {
	case GrantAuthorizationCode:
		resp, terr = s.grantAuthorizationCode(client, form)
	case GrantRefreshToken:
		resp, terr = s.grantRefreshToken(client, form)
	case GrantClientCredentials:
		resp, terr = s.grantClientCredentials(client, form)
	case GrantJWTBearer:
		resp, terr = s.grantJWTBearer(client, form)
	case GrantTokenExchange:
		resp, terr = s.grantTokenExchange(client, form)
	case GrantDeviceCode:
		resp, terr = s.grantDeviceCode(client, form)
	case "":
		terr = errf("invalid_request", "grant_type is required")
	default:
		terr = errf("unsupported_grant_type", "grant_type %q is not supported", form.Get("grant_type"))
	}
	if terr != nil {
		writeOAuthError(w, r, terr.code, terr.desc)
		return
	}
	if g := form.Get("grant_type"); s.opts.OpenID && (g == GrantAuthorizationCode || g == GrantRefreshToken || g == GrantDeviceCode) && slices.Contains(splitScopes(resp.Scope), "openid") {
		resp.IDToken = s.idToken(client.ID, resp.subject)
	}
	s.bindDPoP(&resp, jkt)
	writeJSON(w, http.StatusOK, s.tokenBody(resp))
}

// clientAuthFrom tells how the client authenticates (RFC 6749 §2.3.1, RFC 7521 §4.2): HTTP
// Basic, client_secret in the form, a client assertion, or not at all; secret is the secret or
// the assertion. Using two methods at once is an error. An assertion without client_id names
// its client in its (not yet verified) sub.
func clientAuthFrom(r *http.Request) (method, clientID, secret string, err *tokenError) {
	formID := r.PostForm.Get("client_id")
	user, pass, basic := r.BasicAuth()
	_, postSecret := r.PostForm["client_secret"]
	_, assertion := r.PostForm["client_assertion"]
	_, assertionType := r.PostForm["client_assertion_type"]
	switch {
	case (assertion || assertionType) && (basic || postSecret), basic && postSecret:
		return AuthClientSecretBasic, user, "", errf("invalid_request", "the client used more than one authentication method")
	case assertion || assertionType:
		if t := r.PostForm.Get("client_assertion_type"); t != clientAssertionType {
			return AuthPrivateKeyJWT, formID, "", errf("invalid_client", "client_assertion_type %q is not supported", t)
		}
		a := r.PostForm.Get("client_assertion")
		if formID == "" {
			formID = assertionSubject(a)
		}
		return AuthPrivateKeyJWT, formID, a, nil
	case basic:
		// The credentials are form-urlencoded before base64 (§2.3.1).
		id, secret := formUnescape(user), formUnescape(pass)
		if formID != "" && formID != id {
			return AuthClientSecretBasic, id, "", errf("invalid_client", "client_id in the form differs from the Basic credentials")
		}
		return AuthClientSecretBasic, id, secret, nil
	case postSecret:
		return AuthClientSecretPost, formID, r.PostForm.Get("client_secret"), nil
	default:
		return AuthNone, formID, "", nil
	}
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// authenticate checks that the client authenticated exactly as registered.
func (s *Server) authenticate(r *http.Request, method, clientID, secret string) (*Client, *tokenError) {
	if clientID == "" {
		return nil, errf("invalid_client", "client authentication failed: no client_id")
	}
	client, err := s.lookupClient(r.Context(), clientID, false)
	if err != nil {
		return nil, errf("invalid_client", "client authentication failed: unknown client")
	}
	if method != client.AuthMethod {
		return nil, errf("invalid_client", "client authentication failed: the client is registered for %s, not %s", client.AuthMethod, method)
	}
	switch method {
	case AuthNone:
	case AuthPrivateKeyJWT:
		if terr := s.verifyAssertion(r, client, secret); terr != nil {
			return nil, terr
		}
	default:
		if subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
			return nil, errf("invalid_client", "client authentication failed: wrong secret")
		}
	}
	return client, nil
}

// requestedResource reads the RFC 8707 resource parameter: at most one, an
// absolute URI, required when Options.RequireResource is set.
func (s *Server) requestedResource(form url.Values) (string, *tokenError) {
	rs := form["resource"]
	switch {
	case len(rs) > 1:
		return "", errf("invalid_target", "only one resource may be requested")
	case len(rs) == 1 && !validResource(rs[0]):
		return "", errf("invalid_target", "resource must be an absolute URI without a fragment")
	case len(rs) == 0 && s.opts.RequireResource:
		return "", errf("invalid_target", "the resource parameter is required")
	case len(rs) == 1:
		return rs[0], nil
	}
	return "", nil
}

// grantAuthorizationCode redeems a code (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (s *Server) grantAuthorizationCode(client *Client, form url.Values) (tokenResponse, *tokenError) {
	if !slices.Contains(client.GrantTypes, GrantAuthorizationCode) {
		return tokenResponse{}, errf("unauthorized_client", "the client may not use the authorization_code grant")
	}
	code, verifier := form.Get("code"), form.Get("code_verifier")
	if code == "" {
		return tokenResponse{}, errf("invalid_request", "code is required")
	}
	if verifier == "" {
		return tokenResponse{}, errf("invalid_request", "code_verifier is required (PKCE)")
	}
	if s.opts.Mimic.EntraScopes != "" && form.Has("resource") {
		return tokenResponse{}, errf("invalid_request", aadsts9010010)
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		return tokenResponse{}, terr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ac, ok := s.codes[code]
	if !ok || ac.clientID != client.ID {
		return tokenResponse{}, errf("invalid_grant", "the authorization code is invalid")
	}
	if ac.used {
		// A replayed code may have been stolen: revoke what it produced
		// (RFC 6749 §4.1.2).
		s.stats.CodeReuse++
		if ac.issued != nil {
			ac.issued.revoked = true
		}
		return tokenResponse{}, errf("invalid_grant", "the authorization code was already used")
	}
	ac.used = true // single use, even when the checks below fail
	switch {
	case !s.now().Before(ac.expiry):
		return tokenResponse{}, errf("invalid_grant", "the authorization code has expired")
	case form.Get("redirect_uri") != ac.redirectURI:
		return tokenResponse{}, errf("invalid_grant", "redirect_uri does not match the authorization request")
	case s256(verifier) != ac.challenge:
		return tokenResponse{}, errf("invalid_grant", "PKCE verification failed")
	case ac.resource != "" && resource != "" && resource != ac.resource:
		return tokenResponse{}, errf("invalid_target", "resource differs from the authorization request")
	}
	if ac.resource != "" {
		resource = ac.resource
	}
	f := s.newFamilyLocked(client.ID, ac.subject)
	ac.issued = f
	s.stats.CodeExchanges++
	return s.issueLocked(f, ac.scopes, ac.scopes, resource, s.refreshAllowed(client) && !ac.noRefresh), nil
}

// refreshAllowed reports whether client gets refresh tokens.
func (s *Server) refreshAllowed(client *Client) bool {
	return !s.opts.NoRefreshTokens && slices.Contains(client.GrantTypes, GrantRefreshToken)
}

// grantRefreshToken rotates a refresh token (RFC 6749 §6, OAuth 2.1 §4.3).
// The old token dies; presenting it again revokes the whole family.
func (s *Server) grantRefreshToken(client *Client, form url.Values) (tokenResponse, *tokenError) {
	if !s.refreshAllowed(client) {
		return tokenResponse{}, errf("unauthorized_client", "the client may not use the refresh_token grant")
	}
	rt := form.Get("refresh_token")
	if rt == "" {
		return tokenResponse{}, errf("invalid_request", "refresh_token is required")
	}
	if s.opts.Hostile.RejectResourceOnRefresh && form.Has("resource") {
		return tokenResponse{}, errf("invalid_target", "resource is not accepted on refresh")
	}
	if s.opts.Mimic.EntraScopes != "" && form.Has("resource") {
		return tokenResponse{}, errf("invalid_request", aadsts9010010)
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		return tokenResponse{}, terr
	}
	requested := splitScopes(form.Get("scope"))

	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.refresh[rt]
	if !ok || rec.fam.clientID != client.ID {
		return tokenResponse{}, errf("invalid_grant", "the refresh token is invalid")
	}
	if rec.used {
		s.stats.RefreshReuse++
		rec.fam.revoked = true
		return tokenResponse{}, errf("invalid_grant", "the refresh token was already used; every token of this grant is now revoked")
	}
	if rec.fam.revoked {
		return tokenResponse{}, errf("invalid_grant", "the refresh token was revoked")
	}
	if m := s.opts.SessionMax; m > 0 && !s.now().Before(rec.fam.started.Add(m)) {
		return tokenResponse{}, errf("invalid_grant", "the session has ended: sign in again")
	}
	scopes := rec.scopes
	if len(requested) > 0 {
		if !subset(requested, rec.scopes) {
			return tokenResponse{}, errf("invalid_scope", "the requested scope exceeds the original grant")
		}
		scopes = requested
	}
	if rec.resource != "" && resource != "" && resource != rec.resource {
		return tokenResponse{}, errf("invalid_target", "resource differs from the original grant")
	}
	if rec.resource != "" {
		resource = rec.resource
	}
	rec.used = true
	s.stats.Refreshes++
	return s.issueLocked(rec.fam, scopes, rec.scopes, resource, true), nil
}

// grantClientCredentials implements RFC 6749 §4.4 for confidential clients.
func (s *Server) grantClientCredentials(client *Client, form url.Values) (tokenResponse, *tokenError) {
	switch {
	case !s.opts.ClientCredentials:
		return tokenResponse{}, errf("unsupported_grant_type", "the client_credentials grant is not enabled")
	case client.AuthMethod == AuthNone:
		return tokenResponse{}, errf("unauthorized_client", "client_credentials needs a confidential client")
	case !slices.Contains(client.GrantTypes, GrantClientCredentials):
		return tokenResponse{}, errf("unauthorized_client", "the client may not use the client_credentials grant")
	}
	scopes := splitScopes(form.Get("scope"))
	if !subset(scopes, s.scopes) {
		return tokenResponse{}, errf("invalid_scope", "the requested scope is not supported")
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		return tokenResponse{}, terr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFamilyLocked(client.ID, client.ID)
	s.stats.ClientCredentialsGrants++
	return s.issueLocked(f, scopes, scopes, resource, false), nil
}

// s256 is the PKCE S256 transformation (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// clientRequest reads a client's form POST to the token or revocation endpoint (both take the
// same body and the same client authentication), records it, and authenticates the client.
// On any error it has already answered, and ok is false.
func (s *Server) clientRequest(w http.ResponseWriter, r *http.Request, endpoint string) (form url.Values, client *Client, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	perr := r.ParseForm()
	if s.opts.Deviations.JSONBodies != FormsRead {
		if !s.jsonForm(w, r, mt) {
			s.record(r, endpoint, r.PostForm, "", "")
			return nil, nil, false
		}
		mt, perr = "application/x-www-form-urlencoded", nil // read, as this server reads
	}
	form = r.PostForm
	method, clientID, secret, authErr := clientAuthFrom(r)
	s.record(r, endpoint, form, method, clientID)
	switch {
	case mt != "application/x-www-form-urlencoded":
		writeOAuthError(w, r, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return nil, nil, false
	case perr != nil:
		writeOAuthError(w, r, "invalid_request", "the form could not be parsed")
		return nil, nil, false
	case authErr != nil:
		writeOAuthError(w, r, authErr.code, authErr.desc)
		return nil, nil, false
	}
	client, terr := s.authenticate(r, method, clientID, secret)
	if terr != nil {
		writeOAuthError(w, r, terr.code, terr.desc)
		return nil, nil, false
	}
	return form, client, true
}
