package authserver

import (
	"net/http"
	"slices"
	"strings"
)

// The endpoints that tell a client whose grant a token is, for servers that offer them: the
// OpenID Connect UserInfo endpoint (Options.UserInfo) and the RFC 7662 introspection endpoint
// (Options.Introspection). A client such as mcp-broker asks them after a sign-in, to show the
// person which account each sign-in is.

// userInfo is the UserInfo response (OpenID Connect Core §5.3.2).
type userInfo struct {
	Subject           string `json:"sub"`
	Email             string `json:"email,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
}

// handleUserInfo answers a person's access token with its user's claims. The token comes in
// the Authorization header (RFC 6750 §2.1), by GET or POST (§5.3.1); it must hold the scope
// openid, as an OpenID provider's UserInfo endpoint asks.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.record(r, EndpointUserInfo, nil, "", "")
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	info, ok := s.Verify(tok)
	switch {
	case !strings.EqualFold(scheme, "Bearer") || !ok:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{Code: "invalid_token", Description: "the access token is missing, unknown, expired or revoked"})
		return
	case !slices.Contains(info.Scopes, "openid") || info.Subject == info.ClientID:
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		writeJSON(w, http.StatusForbidden, oauthError{Code: "insufficient_scope", Description: "the UserInfo endpoint needs a person's token with the scope openid"})
		return
	}
	s.mu.Lock()
	s.stats.UserInfoAnswers++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, userInfo{Subject: info.Subject, Email: emailOf(info.Subject), PreferredUsername: info.Subject})
}

// introspection is an RFC 7662 §2.2 response; an inactive token has Active alone.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Expiry    int64  `json:"exp,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Audience  string `json:"aud,omitempty"`
	Issuer    string `json:"iss,omitempty"`
}

// handleIntrospect describes a token to the client it was issued to (RFC 7662 §2). The client
// authenticates as at the token endpoint (§2.1 asks for some authorization, and the token
// endpoint's is this server's); a token of another client reads as inactive, as do unknown,
// expired, revoked and used ones (§2.2: an inactive token says nothing else).
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	form, client, ok := s.clientRequest(w, r, EndpointIntrospect)
	if !ok {
		return
	}
	tok := form.Get("token")
	if tok == "" {
		writeOAuthError(w, r, "invalid_request", "token is required")
		return
	}
	resp := s.introspect(client.ID, tok)
	if resp.Active {
		resp.Issuer = s.issuerFor(r)
	}
	writeJSON(w, http.StatusOK, resp)
}

// introspect describes tok (an access or refresh token) if it is active and clientID's.
func (s *Server) introspect(clientID, tok string) introspection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out introspection
	if at, ok := s.access[tok]; ok && !at.fam.revoked && at.fam.clientID == clientID && s.now().Before(at.info.Expiry) {
		out = introspection{Active: true, Scope: joinScopes(at.info.Scopes), ClientID: clientID, TokenType: "Bearer",
			Expiry: at.info.Expiry.Unix(), Subject: at.info.Subject, Audience: at.info.Resource}
	} else if rt, ok := s.refresh[tok]; ok && !rt.fam.revoked && !rt.used && rt.fam.clientID == clientID {
		out = introspection{Active: true, Scope: joinScopes(rt.scopes), ClientID: clientID, Subject: rt.fam.subject, Audience: rt.resource}
	} else {
		return introspection{}
	}
	if out.Subject != clientID {
		out.Username = out.Subject // a person's grant; a client's own has no user
	}
	s.stats.Introspections++
	return out
}
