package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// writeJSON writes v as a JSON body. Everything this server answers in JSON
// is either a secret or changes on every call, so nothing may be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is an RFC 6749 §5.2 (and RFC 7591 §3.2.2) error body.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeOAuthError answers with an RFC 6749 error: 401 for invalid_client,
// 400 otherwise. A client that tried HTTP Basic gets a Basic challenge, as
// §5.2 requires.
func writeOAuthError(w http.ResponseWriter, r *http.Request, code, description string) {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
		if _, _, ok := r.BasicAuth(); ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
	}
	writeJSON(w, status, oauthError{Code: code, Description: description})
}

// splitScopes parses a space-delimited scope parameter (RFC 6749 §3.3).
func splitScopes(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// validRedirectURI accepts https URLs and loopback http URLs
// (127.0.0.1, localhost, [::1], any port), without a fragment, as OAuth 2.1
// §8.4 and RFC 8252 §7.3 allow for native clients.
func validRedirectURI(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Fragment != "" || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "127.0.0.1" || h == "localhost" || h == "::1"
	}
	return false
}

// validResource checks an RFC 8707 resource: an absolute URI without a
// fragment.
func validResource(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.IsAbs() && u.Host != "" && u.Fragment == ""
}
