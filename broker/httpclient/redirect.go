package httpclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// MaxRedirects is how many redirects one request may follow, as many as Go's default policy.
const MaxRedirects = 10

// RedirectError is the error of a request that carried a credential and was redirected to
// another origin. Client.Do returns it inside a *url.Error whose URL is the redirect's
// Location, query string included: unwrap it with errors.As rather than print the *url.Error.
type RedirectError struct {
	// From is the origin the credential belongs to, To the one the redirect pointed at, both
	// as Origin writes them: no path, no query, no user information.
	From, To string
}

// Error implements error.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("the server at %s redirected to %s, another origin; refusing to send credentials there", e.From, e.To)
}

// CheckRedirect is the redirect policy of every client (http.Client.CheckRedirect): it follows
// up to MaxRedirects redirects within the origin of the first request (via[0]) with the
// request as it is; a redirect that leaves the origin fails with a *RedirectError when the
// request carries a credential, and is followed without credential headers nor Referer when it
// does not.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	first := via[0]
	if SameOrigin(first.URL, req.URL) {
		return nil
	}
	if carriesCredential(first) {
		return &RedirectError{From: Origin(first.URL), To: Origin(req.URL)}
	}
	// Nothing to keep at home but what Go adds by itself: the Referer (the previous URL, query
	// string included) and any of the headers it counts as sensitive.
	for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2", "Referer"} {
		req.Header.Del(h)
	}
	return nil
}

// Origin returns the origin of u (RFC 6454) as scheme://host:port, with the scheme and host in
// lower case and the port always written (80 for http, 443 for https when u has none), so that
// two URLs have the same origin exactly when their Origins are equal. An IPv6 host is bracketed.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			return scheme + "://" + host
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// SameOrigin reports whether a and b have the same scheme, host and port.
func SameOrigin(a, b *url.URL) bool { return Origin(a) == Origin(b) }

// credentialKey marks a context made by WithCredential.
type credentialKey struct{}

// WithCredential marks the requests made with ctx as carrying a credential the policy cannot
// see in their headers: the body of an OAuth token request holds an authorization code and its
// PKCE verifier, a refresh token or a client secret, and a 307 or 308 would send it again.
//
// Without the mark, a request carries a credential when its URL has user information, or when
// it has any header besides the protocol headers in publicHeaders: Authorization (a bearer
// token, HTTP Basic client authentication), Cookie, and a configured API-key header whatever
// its name.
func WithCredential(ctx context.Context) context.Context {
	return context.WithValue(ctx, credentialKey{}, true)
}

// publicHeaders are the request headers that are never a credential: the ones the broker's
// and the bridge's clients send besides the credential. Listing what is not secret, rather
// than what is, makes a credential header of any name count as one.
var publicHeaders = map[string]bool{
	"Accept":               true,
	"Accept-Encoding":      true,
	"Accept-Language":      true,
	"Cache-Control":        true,
	"Content-Length":       true,
	"Content-Type":         true,
	"User-Agent":           true,
	"Last-Event-Id":        true, // MCP Streamable HTTP: resuming a stream
	"Mcp-Method":           true, // MCP 2026-07-28: the method of a request
	"Mcp-Name":             true, // MCP 2026-07-28: the tool, prompt or resource
	"Mcp-Protocol-Version": true,
	"Mcp-Session-Id":       true, // identifies a session, never authorizes (MCP: servers must not use it so)
}

// carriesCredential reports whether r (the first request of a redirect chain: the one its
// caller built) carries a credential.
func carriesCredential(r *http.Request) bool {
	if r.Context().Value(credentialKey{}) != nil || r.URL.User != nil {
		return true
	}
	for name := range r.Header {
		if !publicHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
			return true
		}
	}
	return false
}
