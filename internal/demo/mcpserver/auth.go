package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// maxPeekBody bounds the JSON-RPC body the middleware reads to find
// step-up tool calls.
const maxPeekBody = 4 << 20

// stepUpTool is the tool guarded by Options.StepUpScope.
const stepUpTool = "admin_action"

// protect wraps next with bearer authorization for the resource at endpoint
// (PathMCP or PathSSE): RFC 6750 header-only tokens, audience check
// (RFC 8707) and step-up for admin_action.
func (s *Server) protect(endpoint string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("access_token") {
			s.count(func(h *Hits) { h.TokenInQuery++ })
		}
		if s.opts.NoAuth {
			s.count(func(h *Hits) { h.Authorized++ })
			next.ServeHTTP(w, r)
			return
		}
		token, ok := s.accessToken(r)
		if !ok && s.opts.OpenInitialize && endpoint == PathMCP && r.Method == http.MethodPost {
			body, ok := peekBody(w, r)
			if !ok {
				return
			}
			if opensSession(body) {
				next.ServeHTTP(w, r)
				return
			}
		}
		if !ok {
			// No credentials: RFC 6750 §3.1 says no error code then.
			s.unauthorized(w, r, endpoint, "", "")
			return
		}
		var info authserver.TokenInfo
		if s.opts.Verifier != nil {
			info, ok = s.opts.Verifier.Verify(token)
		} else {
			ok = false
		}
		if !ok {
			s.unauthorized(w, r, endpoint, "invalid_token", "the access token is invalid, expired or revoked")
			return
		}
		if info.Resource != s.baseFor(r)+endpoint {
			s.unauthorized(w, r, endpoint, "invalid_token", "the access token was not issued for this resource")
			return
		}
		if !s.checkDPoP(w, r, endpoint, token, info) {
			return
		}
		if s.opts.StepUpScope != "" && r.Method == http.MethodPost && !slices.Contains(info.Scopes, s.opts.StepUpScope) {
			body, ok := peekBody(w, r)
			if !ok {
				return
			}
			if callsTool(body, stepUpTool) {
				s.insufficientScope(w, r, endpoint, info.Scopes)
				return
			}
		}
		s.count(func(h *Hits) { h.Authorized++; h.LastAuthorizationOK = true })
		next.ServeHTTP(w, r.WithContext(withTokenInfo(r.Context(), info)))
	})
}

// peekBody reads the request body for a look before the MCP handler gets it (restored), or
// answers 413 and reports false.
func peekBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPeekBody+1))
	if err != nil || len(body) > maxPeekBody {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// opensSession reports whether a JSON-RPC message is an initialize request or a notification:
// what Options.OpenInitialize lets through without a token.
func opensSession(body []byte) bool {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Method == "" {
		return false
	}
	return msg.Method == "initialize" || msg.ID == nil
}

// accessToken takes the token from the Authorization header (RFC 6750 §2.1;
// the scheme is case-insensitive): the Bearer scheme, or the DPoP scheme
// (RFC 9449 §7.1) when the server accepts DPoP. Query and body tokens are not
// accepted.
func (s *Server) accessToken(r *http.Request) (string, bool) {
	scheme, token, ok := authorization(r)
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP") && s.dpopEnabled()) {
		return "", false
	}
	return token, true
}

// authorization splits the one Authorization header into scheme and token.
func authorization(r *http.Request) (scheme, token string, ok bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return "", "", false
	}
	scheme, token, ok = strings.Cut(vals[0], " ")
	token = strings.TrimSpace(token)
	return scheme, token, ok && token != ""
}

// challengeMetadata returns the resource_metadata URL to put in challenges
// for endpoint, or "" when the PRM mode sends none.
func (s *Server) challengeMetadata(r *http.Request, endpoint string) string {
	if s.opts.PRM != PRMPathAndChallenge {
		return ""
	}
	return s.baseFor(r) + PathPRM + endpoint
}

// unauthorized answers 401 with an RFC 6750 / RFC 9728 §5.1 challenge:
// Bearer resource_metadata="…", scope="…"[, error="…", error_description="…"].
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, endpoint, code, desc string) {
	var params [][2]string
	if u := s.challengeMetadata(r, endpoint); u != "" {
		params = append(params, [2]string{"resource_metadata", u})
	}
	if s.opts.ChallengeScope != "" {
		params = append(params, [2]string{"scope", s.opts.ChallengeScope})
	}
	if code != "" {
		params = append(params, [2]string{"error", code}, [2]string{"error_description", desc})
	}
	s.count(func(h *Hits) { h.Unauthorized++; h.LastAuthorizationOK = false })
	writeChallenge(w, http.StatusUnauthorized, s.challenges(r, params), code)
}

// insufficientScope answers 403 for a step-up (RFC 6750 §3.1, MCP
// "scope challenge handling"): the scope the client needs is what it holds
// plus StepUpScope, so re-authorizing with it loses nothing; with
// StepUpMissingOnly, StepUpScope alone.
func (s *Server) insufficientScope(w http.ResponseWriter, r *http.Request, endpoint string, held []string) {
	need := slices.Clone(held)
	if s.opts.StepUpMissingOnly {
		need = nil
	}
	if !slices.Contains(need, s.opts.StepUpScope) {
		need = append(need, s.opts.StepUpScope)
	}
	params := [][2]string{{"error", "insufficient_scope"}, {"scope", strings.Join(need, " ")}}
	if u := s.challengeMetadata(r, endpoint); u != "" {
		params = append(params, [2]string{"resource_metadata", u})
	}
	s.count(func(h *Hits) { h.Forbidden++; h.LastAuthorizationOK = true })
	writeChallenge(w, http.StatusForbidden, s.challenges(r, params), "insufficient_scope")
}

// challenge is one challenge of a WWW-Authenticate header: a scheme and its
// parameters.
type challenge struct {
	scheme string
	params [][2]string
}

// writeChallenge writes the WWW-Authenticate header and a small JSON body.
// Parameter values never contain quotes or backslashes here (URLs, scope
// tokens, fixed sentences), so quoting needs no escaping.
func writeChallenge(w http.ResponseWriter, status int, chs []challenge, code string) {
	values := make([]string, len(chs))
	for i, ch := range chs {
		parts := make([]string, len(ch.params))
		for j, p := range ch.params {
			parts[j] = p[0] + `="` + p[1] + `"`
		}
		values[i] = ch.scheme
		if len(parts) > 0 {
			values[i] += " " + strings.Join(parts, ", ")
		}
	}
	w.Header().Set("WWW-Authenticate", strings.Join(values, ", "))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if code == "" {
		code = "unauthorized"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// callsTool reports whether a JSON-RPC message or batch calls tool name.
func callsTool(body []byte, name string) bool {
	body = bytes.TrimSpace(body)
	msgs := []json.RawMessage{body}
	if len(body) > 0 && body[0] == '[' {
		if err := json.Unmarshal(body, &msgs); err != nil {
			return false
		}
	}
	for _, m := range msgs {
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		if json.Unmarshal(m, &msg) == nil && msg.Method == "tools/call" && msg.Params.Name == name {
			return true
		}
	}
	return false
}

func (s *Server) count(f func(*Hits)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.hits)
}
