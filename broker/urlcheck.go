package broker

import (
	"fmt"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// TokenForOtherURLError says the stored token was obtained for another URL than the one the
// server is configured with now: its URL changed and the old token must not follow it. It
// matches ErrSignInRequired, since signing in again for the new URL is the way out.
type TokenForOtherURLError struct {
	Server string
	// TokenURL is the resource the token was obtained for; ServerURL the configured URL.
	TokenURL, ServerURL string
}

func (e *TokenForOtherURLError) Error() string {
	owner := "another URL"
	if e.TokenURL != "" {
		owner = redact.URL(e.TokenURL)
	}
	return fmt.Sprintf("the stored sign-in belongs to %s, not to the configured URL %s", owner, redact.URL(e.ServerURL))
}

// Hint is the next step: sign in for the configured URL.
func (e *TokenForOtherURLError) Hint() hint.Hint { return hint.SignIn }

// Is makes errors.Is(err, ErrSignInRequired) true.
func (e *TokenForOtherURLError) Is(target error) bool { return target == ErrSignInRequired }

// checkTokenURL refuses a stored token that was not obtained for the server's configured URL.
// The resource recorded with the token is compared by the rule discovery used to accept it
// (discovery.ResourceMatches: canonical forms, or a path prefix on the same origin), so a
// token is handed out for exactly the URLs its resource covers, and never after the server's
// URL moved elsewhere.
func checkTokenURL(srv config.Server, t *storedToken) error {
	if t.Resource != "" && discovery.ResourceMatches(t.Resource, srv.URL) {
		return nil
	}
	return &TokenForOtherURLError{Server: srv.Name, TokenURL: t.Resource, ServerURL: srv.URL}
}

// SameURLServers returns the names of the servers other than srv whose URL names the same
// server as srv's (SameServerURL), in the order of servers. Several entries for one server are
// how a person keeps two accounts there (work and personal): each entry has its own client
// registration and tokens, and status, servers add and doctor point the sharing out.
func SameURLServers(servers []config.Server, srv config.Server) []string {
	var out []string
	for _, s := range servers {
		if s.Name != srv.Name && SameServerURL(s.URL, srv.URL) {
			out = append(out, s.Name)
		}
	}
	return out
}

// SameServerURL reports whether two server URLs name the same server: their canonical forms
// (discovery.CanonicalResource: case of scheme and host, default port, trailing slash) are
// equal. URLs that have no canonical form are compared as written.
func SameServerURL(a, b string) bool {
	ca, errA := discovery.CanonicalResource(a)
	cb, errB := discovery.CanonicalResource(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ca == cb
}
