package authserver

import (
	"net/http"
	"net/url"

	"github.com/mcp-broker/mcp-broker/internal/demo/internal/dpopcheck"
)

// dpopAlgs is dpop_signing_alg_values_supported: what dpopcheck verifies, less the rare ones.
var dpopAlgs = []string{"ES256", "ES384", "RS256", "PS256"}

// dpopState is what the token endpoint keeps for DPoP (RFC 9449). It is guarded by Server.mu,
// but for replays, which guards itself.
type dpopState struct {
	nonce   string            // the nonce proofs must carry with Options.DPoPNonce ("" before the first)
	refresh map[string]string // the key (jkt) each bound refresh token is bound to
	replays dpopcheck.Replays
}

func (s *Server) dpopEnabled() bool { return s.opts.DPoP || s.opts.DPoPNonce }

// RotateDPoPNonce replaces the nonce the token endpoint wants in proofs (Options.DPoPNonce):
// the next token request of every client is answered use_dpop_nonce with the new one.
func (s *Server) RotateDPoPNonce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dpop.nonce = randomToken()[:22]
}

// tokenProof checks the DPoP proof of a token request, if it has one, and returns the
// thumbprint of its key ("" for none) to bind the tokens to. A proof that fails a check of
// RFC 9449 §4.3, a proof without the nonce (§8), and a request without a proof for a bound
// refresh token, or with another key's, are answered here, and ok is false.
func (s *Server) tokenProof(w http.ResponseWriter, r *http.Request, form url.Values) (jkt string, ok bool) {
	if !s.dpopEnabled() {
		return "", true
	}
	var bound string
	if form.Get("grant_type") == GrantRefreshToken {
		s.mu.Lock()
		bound = s.dpop.refresh[form.Get("refresh_token")]
		s.mu.Unlock()
	}
	headers := r.Header.Values("DPoP")
	if len(headers) == 0 {
		if bound != "" {
			writeOAuthError(w, r, "invalid_dpop_proof", "the refresh token is bound to a DPoP key: its request needs a proof")
			return "", false
		}
		return "", true // RFC 9449 §5: without a proof, a Bearer token
	}
	now := s.now()
	p, err := dpopcheck.Check(headers, dpopcheck.Want{Method: r.Method, URL: s.issuerFor(r) + "/token", Now: now})
	if err != nil {
		writeOAuthError(w, r, "invalid_dpop_proof", err.Error())
		return "", false
	}
	if s.opts.DPoPNonce {
		s.mu.Lock()
		if s.dpop.nonce == "" {
			s.dpop.nonce = randomToken()[:22]
		}
		nonce := s.dpop.nonce
		if p.Nonce != nonce {
			s.stats.DPoPNonceChallenges++
		}
		s.mu.Unlock()
		if p.Nonce != nonce {
			w.Header().Set("DPoP-Nonce", nonce)
			writeOAuthError(w, r, "use_dpop_nonce", "the authorization server requires a nonce in DPoP proofs")
			return "", false
		}
	}
	if !s.dpop.replays.Fresh(p.JTI, now) {
		writeOAuthError(w, r, "invalid_dpop_proof", "the DPoP proof was used before")
		return "", false
	}
	if bound != "" && bound != p.JKT {
		writeOAuthError(w, r, "invalid_dpop_proof", "the refresh token is bound to another DPoP key")
		return "", false
	}
	return p.JKT, true
}

// bindDPoP binds the tokens of resp to the key jkt, when there is one: the access token's
// TokenInfo.JKT, the refresh token's key for its next use, and token_type DPoP (RFC 9449 §5).
func (s *Server) bindDPoP(resp *tokenResponse, jkt string) {
	if jkt == "" || resp.AccessToken == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if at := s.access[resp.AccessToken]; at != nil {
		at.info.JKT = jkt
	}
	if resp.RefreshToken != "" {
		if s.dpop.refresh == nil {
			s.dpop.refresh = map[string]string{}
		}
		s.dpop.refresh[resp.RefreshToken] = jkt
	}
	resp.TokenType = "DPoP"
	s.stats.DPoPBound++
}
