package authserver

import (
	"crypto/ecdsa"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The assertion grants: the JWT bearer grant (RFC 7523) that workloads and enterprise clients
// use at an authorization server, and the token exchange (RFC 8693) by which an enterprise
// identity provider turns its ID token into an ID-JAG (SEP-990). One Server can play either
// side: an identity provider (OpenID, TokenExchange) and an authorization server (JWTBearer)
// that trusts it.

// Token types of the token exchange (RFC 8693 §3, SEP-990).
const (
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeIDJAG   = "urn:ietf:params:oauth:token-type:id-jag"
)

// defaultIDJAGTTL is an ID-JAG's lifetime when Options.IDJAGTTL is zero.
const defaultIDJAGTTL = 5 * time.Minute

// PublicKey is the key the server's JWTs are signed with, for another server to Trust.
func (s *Server) PublicKey() *ecdsa.PublicKey { return &s.key.private.PublicKey }

// Trust makes the JWT bearer grant take assertions that issuer signed with key: a workload's
// platform, or an identity provider's ID-JAGs.
func (s *Server) Trust(issuer string, key *ecdsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trusted[issuer] = key
}

// SetIDJAGClient sets the client id an ID-JAG for audience names (its client_id claim): the
// client's id at that authorization server, which an identity provider knows by its
// configuration (SEP-990 §6.1). Without one, it names the client that asked for it.
func (s *Server) SetIDJAGClient(audience, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jagClients[audience] = clientID
}

// SignJWT returns a JWT of header typ with claims, signed by the server's key, for tests that
// need one this server (or another that Trusts it) accepts: a workload's identity token, say.
func (s *Server) SignJWT(typ string, claims map[string]any) (string, error) {
	return s.key.sign(typ, claims)
}

// IssueIDToken returns an ID token of this server for subject, issued to clientID, valid for
// ttl: what a person's sign-in would have given, for tests that hand one in.
func (s *Server) IssueIDToken(clientID, subject string, ttl time.Duration) string {
	now := s.now()
	tok, err := s.key.sign(TypeJWT, map[string]any{
		"iss": s.Issuer(), "sub": subject, "aud": clientID, "email": emailOf(subject),
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
	if err != nil {
		panic("signing an ID token: " + err.Error()) // only a broken key fails
	}
	return tok
}

// emailOf is the email address of a demo user: the user name when it is one, else the name at
// example.com.
func emailOf(user string) string {
	if strings.Contains(user, "@") {
		return user
	}
	return user + "@example.com"
}

// idToken issues an ID token for a sign-in (Options.OpenID).
func (s *Server) idToken(clientID, subject string) string {
	ttl := s.opts.IDTokenTTL
	if ttl <= 0 {
		s.mu.Lock()
		ttl = s.ttl
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.stats.IDTokens++
	s.mu.Unlock()
	return s.IssueIDToken(clientID, subject, ttl)
}

// grantJWTBearer implements RFC 7523 §2.1 (and SEP-990 §5 for an ID-JAG).
func (s *Server) grantJWTBearer(client *Client, form url.Values) (tokenResponse, *tokenError) {
	switch {
	case !s.opts.JWTBearer:
		return tokenResponse{}, errf("unsupported_grant_type", "the JWT bearer grant is not enabled")
	case !slices.Contains(client.GrantTypes, GrantJWTBearer):
		return tokenResponse{}, errf("unauthorized_client", "the client may not use the JWT bearer grant")
	case form.Get("assertion") == "":
		return tokenResponse{}, errf("invalid_request", "assertion is required")
	}
	scopes := splitScopes(form.Get("scope"))
	if !subset(scopes, s.scopes) {
		return tokenResponse{}, errf("invalid_scope", "the requested scope is not supported")
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		return tokenResponse{}, terr
	}
	assertion := form.Get("assertion")
	s.mu.Lock()
	key := s.trusted[peekIssuer(assertion)]
	s.mu.Unlock()
	if key == nil {
		return tokenResponse{}, errf("invalid_grant", "the assertion's issuer is not trusted")
	}
	a, err := verifyES256(assertion, key, s.now())
	if err != nil {
		return tokenResponse{}, errf("invalid_grant", "the assertion is not valid: %v", err)
	}
	issuer := s.Issuer()
	switch {
	case !slices.Contains(a.audience(), issuer):
		return tokenResponse{}, errf("invalid_grant", "the assertion's audience is not this server")
	case a.str("sub") == "":
		return tokenResponse{}, errf("invalid_grant", "the assertion names no subject")
	}
	if a.typ == TypeIDJAG {
		jagResource := a.str("resource")
		switch {
		case a.str("client_id") != client.ID:
			return tokenResponse{}, errf("invalid_grant", "the ID-JAG was issued to another client")
		case resource != "" && resource != jagResource:
			return tokenResponse{}, errf("invalid_target", "resource differs from the ID-JAG's")
		}
		resource = jagResource
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFamilyLocked(client.ID, a.str("sub"))
	s.stats.JWTBearerGrants++
	return s.issueLocked(f, scopes, scopes, resource, false), nil
}

// grantTokenExchange implements RFC 8693 §2 as an enterprise identity provider does for
// SEP-990: an ID token this server issued to the client, for an ID-JAG.
func (s *Server) grantTokenExchange(client *Client, form url.Values) (tokenResponse, *tokenError) {
	switch {
	case !s.opts.TokenExchange:
		return tokenResponse{}, errf("unsupported_grant_type", "token exchange is not enabled")
	case form.Get("subject_token") == "":
		return tokenResponse{}, errf("invalid_request", "subject_token is required")
	case form.Get("subject_token_type") != TokenTypeIDToken:
		return tokenResponse{}, errf("invalid_request", "subject_token_type must be %s", TokenTypeIDToken)
	case form.Get("requested_token_type") != TokenTypeIDJAG:
		return tokenResponse{}, errf("invalid_request", "requested_token_type must be %s", TokenTypeIDJAG)
	case form.Get("audience") == "":
		return tokenResponse{}, errf("invalid_request", "audience is required")
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		return tokenResponse{}, terr
	}
	if resource == "" {
		return tokenResponse{}, errf("invalid_request", "resource is required")
	}
	id, err := verifyES256(form.Get("subject_token"), &s.key.private.PublicKey, s.now())
	switch {
	case err != nil:
		return tokenResponse{}, errf("invalid_grant", "the ID token is not valid: %v", err)
	case id.str("iss") != s.Issuer():
		return tokenResponse{}, errf("invalid_grant", "the ID token was not issued here")
	case !slices.Contains(id.audience(), client.ID):
		// SEP-990 §4.1: the ID token's audience is the client making the request.
		return tokenResponse{}, errf("invalid_grant", "the ID token was issued to another client")
	}
	audience := form.Get("audience")
	ttl := s.opts.IDJAGTTL
	if ttl <= 0 {
		ttl = defaultIDJAGTTL
	}
	s.mu.Lock()
	jagClient := s.jagClients[audience]
	s.mu.Unlock()
	if jagClient == "" {
		jagClient = client.ID
	}
	now := s.now()
	claims := map[string]any{
		"iss": s.Issuer(), "sub": id.str("sub"), "aud": audience, "resource": resource, "client_id": jagClient,
		"jti": randomToken(), "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	if sc := form.Get("scope"); sc != "" {
		claims["scope"] = sc
	}
	jag, err := s.key.sign(TypeIDJAG, claims)
	if err != nil {
		return tokenResponse{}, errf("server_error", "signing the ID-JAG failed")
	}
	s.mu.Lock()
	s.stats.TokenExchanges++
	s.mu.Unlock()
	return tokenResponse{
		AccessToken: jag, TokenType: "N_A", IssuedTokenType: TokenTypeIDJAG,
		ExpiresIn: int64(ttl / time.Second), Scope: form.Get("scope"),
	}, nil
}
