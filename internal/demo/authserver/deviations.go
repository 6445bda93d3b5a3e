package authserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// Deviations holds switches that make the server depart from the specifications the way
// hand-written servers often do, each in one precise way, so that a client's tolerance of them,
// and its diagnosis of them, can be tested against a real HTTP server. Unlike Hostile, each is
// the mistake of a well-meaning server, not an attack. The zero value follows the
// specifications.
type Deviations struct {
	// JSONBodies makes the token and revocation endpoints read only JSON bodies, as a server
	// built on a JSON body parser does; a form-encoded request is refused as JSONRefusal says.
	JSONBodies JSONRefusal
	// ExpiresInString writes expires_in as a string ("3600") rather than a number.
	ExpiresInString bool
	// NoExpiresIn leaves expires_in out of token responses (the tokens still expire).
	NoExpiresIn bool
	// LowerCaseTokenType writes token_type "bearer".
	LowerCaseTokenType bool
	// NoTokenType leaves token_type out of token responses.
	NoTokenType bool
	// Registration200 answers a dynamic registration 200 OK instead of 201 Created.
	Registration200 bool
	// OmitRedirectURIs leaves redirect_uris out of the registration answer; the client's are
	// registered all the same.
	OmitRedirectURIs bool
	// RedirectURIs, when set, are registered for every dynamic client in place of those it
	// asks for: the registration answer lists them, and the authorization endpoint accepts
	// nothing else.
	RedirectURIs []string
	// IssuerTrailingSlash makes the metadata name the issuer with a trailing slash that the
	// issuer the server is reached at (Issuer, which an MCP server lists) lacks; with
	// ISSParameter, redirects carry the issuer with the slash too, as the server's own.
	IssuerTrailingSlash bool
	// StubAuthorize, when not zero, makes the authorization endpoint a stub answering every
	// request with this status and the JSON error {"error":"not_implemented"}, as servers that
	// only meant to offer client credentials do.
	StubAuthorize int
}

// JSONRefusal is how a token endpoint that reads only JSON answers a form
// (Deviations.JSONBodies).
type JSONRefusal int

// The refusals.
const (
	// FormsRead: forms are read, as RFC 6749 §3.2 has it.
	FormsRead JSONRefusal = iota
	// RefuseUnsupportedMediaType: 415 with the JSON error invalid_request, "Unsupported
	// content type", as a server that checks the Content-Type does.
	RefuseUnsupportedMediaType
	// RefuseAsIfEmpty: the form is read as an empty JSON body, as an Express app behind
	// express.json() sees it, and refused for what is then missing ("grant_type is required",
	// "no client_id").
	RefuseAsIfEmpty
)

// jsonForm reads a client's request to the token or revocation endpoint the way a server that
// reads only JSON does (Deviations.JSONBodies): a JSON object's string members become the
// form; a form is refused (answered, and ok false) or read as empty. It sets r.PostForm, which
// the client authentication reads.
func (s *Server) jsonForm(w http.ResponseWriter, r *http.Request, mediaType string) (ok bool) {
	r.PostForm = url.Values{}
	if mediaType == "application/json" {
		var obj map[string]any
		if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
			writeOAuthError(w, r, "invalid_request", "the body is not a JSON object")
			return false
		}
		for k, v := range obj {
			if str, isString := v.(string); isString {
				r.PostForm.Set(k, str)
			}
		}
		return true
	}
	if s.opts.Deviations.JSONBodies == RefuseUnsupportedMediaType {
		writeJSON(w, http.StatusUnsupportedMediaType, oauthError{Code: "invalid_request", Description: "Unsupported content type: " + mediaType})
		return false
	}
	return true // an empty body, as far as this server can tell
}

// tokenBody is the token response as the server writes it: resp, bent as Deviations say.
func (s *Server) tokenBody(resp tokenResponse) any {
	d := s.opts.Deviations
	if !d.ExpiresInString && !d.NoExpiresIn && !d.LowerCaseTokenType && !d.NoTokenType && resp.RefreshLifetime == nil {
		return resp
	}
	b, _ := json.Marshal(resp)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if resp.RefreshLifetime != nil {
		m[s.opts.Mimic.RefreshExpiry] = *resp.RefreshLifetime
	}
	switch {
	case d.NoExpiresIn:
		delete(m, "expires_in")
	case d.ExpiresInString:
		m["expires_in"] = fmt.Sprint(resp.ExpiresIn)
	}
	switch {
	case d.NoTokenType:
		delete(m, "token_type")
	case d.LowerCaseTokenType:
		m["token_type"] = "bearer"
	}
	return m
}

// declaredIssuer is the issuer the server names itself by, in its metadata and in iss: its
// issuer, with a trailing slash under Deviations.IssuerTrailingSlash.
func (s *Server) declaredIssuer(r *http.Request) string {
	if s.opts.Deviations.IssuerTrailingSlash {
		return s.issuerFor(r) + "/"
	}
	return s.issuerFor(r)
}

// stubAuthorize answers as an authorization endpoint that was never built
// (Deviations.StubAuthorize).
func (s *Server) stubAuthorize(w http.ResponseWriter, r *http.Request) {
	s.record(r, EndpointAuthorize, r.URL.Query(), "", r.URL.Query().Get("client_id"))
	writeJSON(w, s.opts.Deviations.StubAuthorize, oauthError{Code: "not_implemented", Description: "this server has no authorization page"})
}

// registeredRedirectURIs are the redirect URIs to register for a client that asked for these.
func (s *Server) registeredRedirectURIs(asked []string) []string {
	if uris := s.opts.Deviations.RedirectURIs; len(uris) > 0 {
		return slices.Clone(uris)
	}
	return slices.Clone(asked)
}
