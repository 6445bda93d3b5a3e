package authserver

import (
	"net/http"
)

// handleRevoke implements the RFC 7009 token revocation endpoint. The client authenticates
// exactly as at the token endpoint. Revoking a refresh token revokes its whole grant, access
// tokens included (§2.1 lets a server do so, and it is what a sign-out should achieve);
// revoking an access token revokes that token alone. token_type_hint is only a hint: both
// kinds are looked up whatever it says. An unknown token is answered 200, as §2.2 asks; a
// token of another client is refused.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, client, ok := s.clientRequest(w, r, EndpointRevoke)
	if !ok {
		return
	}
	tok := form.Get("token")
	if tok == "" {
		writeOAuthError(w, r, "invalid_request", "token is required")
		return
	}
	if terr := s.revoke(client.ID, tok); terr != nil {
		writeOAuthError(w, r, terr.code, terr.desc)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// revoke revokes tok (a refresh or an access token) if it was issued to clientID.
func (s *Server) revoke(clientID, tok string) *tokenError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.refresh[tok]; ok {
		if rec.fam.clientID != clientID {
			return errf("invalid_grant", "the token was not issued to this client")
		}
		rec.fam.revoked = true
		s.stats.Revocations++
		return nil
	}
	if at, ok := s.access[tok]; ok {
		if at.fam.clientID != clientID {
			return errf("invalid_grant", "the token was not issued to this client")
		}
		delete(s.access, tok)
		s.stats.Revocations++
	}
	return nil
}
