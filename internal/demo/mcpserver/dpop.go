package mcpserver

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/internal/dpopcheck"
)

// dpopAlgs are the proof algorithms the server names (algs, dpop_signing_alg_values_supported).
var dpopAlgs = []string{"ES256", "ES384", "RS256", "PS256"}

// dpopState is the server's DPoP (RFC 9449) state, guarded by Server.mu but for replays.
type dpopState struct {
	nonce   string // the nonce proofs must carry with Options.DPoPNonce ("" before the first)
	replays dpopcheck.Replays
}

func (s *Server) dpopEnabled() bool {
	return s.opts.DPoP || s.opts.DPoPOnly || s.opts.DPoPRequired || s.opts.DPoPNonce
}

func (s *Server) dpopOnly() bool { return s.opts.DPoPOnly || s.opts.DPoPRequired }

// RotateDPoPNonce replaces the nonce the server wants in proofs (Options.DPoPNonce): the next
// request of every client is answered use_dpop_nonce with the new one.
func (s *Server) RotateDPoPNonce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dpop.nonce = newNonce()
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// challenges are the challenges of a 401 or 403 with params: Bearer ones for a server
// without DPoP; for one with DPoP a Bearer challenge and a DPoP one naming its algorithms
// (RFC 9449 §7.2), or the DPoP one alone when the server takes only DPoP-bound tokens or the
// request presented one (the error is then the DPoP scheme's).
func (s *Server) challenges(r *http.Request, params [][2]string) []challenge {
	if !s.dpopEnabled() {
		return []challenge{{"Bearer", params}}
	}
	algs := [2]string{"algs", strings.Join(dpopAlgs, " ")}
	scheme, _, _ := authorization(r)
	if s.dpopOnly() || strings.EqualFold(scheme, "DPoP") {
		return []challenge{{"DPoP", append(params, algs)}}
	}
	return []challenge{{"Bearer", params}, {"DPoP", [][2]string{algs}}}
}

// checkDPoP checks how a request presents its token, which is valid and for this resource: a
// DPoP-bound token must come with the DPoP scheme and a proof of its key for this request
// (RFC 9449 §7.1, §4.3), with the server's nonce when it wants one (§9), and a server that
// takes only DPoP-bound tokens refuses the rest. It answers the request itself when it
// refuses it, and then returns false.
func (s *Server) checkDPoP(w http.ResponseWriter, r *http.Request, endpoint, token string, info authserver.TokenInfo) bool {
	scheme, _, _ := authorization(r)
	usesDPoP := strings.EqualFold(scheme, "DPoP")
	switch {
	case !usesDPoP && info.JKT != "":
		s.unauthorized(w, r, endpoint, "invalid_token", "the access token is DPoP-bound: present it with the DPoP scheme and a proof")
		return false
	case !usesDPoP && s.dpopOnly():
		s.unauthorized(w, r, endpoint, "invalid_token", "this server accepts DPoP-bound tokens only")
		return false
	case !usesDPoP:
		return true
	case info.JKT == "":
		s.unauthorized(w, r, endpoint, "invalid_token", "the access token is not DPoP-bound: present it with the Bearer scheme")
		return false
	}
	now := time.Now()
	p, err := dpopcheck.Check(r.Header.Values("DPoP"), dpopcheck.Want{Method: r.Method, URL: s.baseFor(r) + r.URL.Path, AccessToken: token, Now: now})
	switch {
	case err != nil:
		s.badProof(w, r, endpoint, err.Error())
		return false
	case p.JKT != info.JKT:
		s.badProof(w, r, endpoint, "the DPoP proof's key is not the one the access token is bound to")
		return false
	}
	if s.opts.DPoPNonce {
		s.mu.Lock()
		if s.dpop.nonce == "" {
			s.dpop.nonce = newNonce()
		}
		nonce := s.dpop.nonce
		s.mu.Unlock()
		if p.Nonce != nonce {
			s.count(func(h *Hits) { h.DPoPNonceChallenges++ })
			w.Header().Set("DPoP-Nonce", nonce)
			s.unauthorized(w, r, endpoint, "use_dpop_nonce", "the resource server requires a nonce in DPoP proofs")
			return false
		}
	}
	if !s.dpop.replays.Fresh(p.JTI, now) {
		s.badProof(w, r, endpoint, "the DPoP proof was used before")
		return false
	}
	s.count(func(h *Hits) { h.DPoPAuthorized++ })
	return true
}

// badProof answers 401 invalid_dpop_proof (RFC 9449 §7.1).
func (s *Server) badProof(w http.ResponseWriter, r *http.Request, endpoint, why string) {
	s.count(func(h *Hits) { h.BadProofs++ })
	why = strings.NewReplacer(`"`, "'", `\`, "").Replace(why) // writeChallenge does not escape
	s.unauthorized(w, r, endpoint, "invalid_dpop_proof", why)
}
