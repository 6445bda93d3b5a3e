package discovery

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// CanonicalResource returns the canonical URI of the MCP server at serverURL,
// the RFC 8707 resource indicator the MCP specification ("Canonical Server
// URI") asks clients to send when the server publishes no resource metadata:
//
//   - scheme and host lowercased, the default port (80, 443) dropped;
//   - no fragment (RFC 8707 §2 forbids one), no userinfo;
//   - no trailing slash: "https://h/mcp/" becomes "https://h/mcp" and
//     "https://h/" becomes "https://h", the form the MCP specification
//     recommends; we cannot tell when a slash is significant, and an
//     authorization server that compares strings is likelier to hold the
//     slash-less form;
//   - the path's escaping and the query kept as given. RFC 8707 discourages
//     but allows a query, and when a server URL has one it may be what tells
//     two servers on one path apart, so dropping it could merge audiences.
//
// Only http and https URLs with a host are accepted.
func CanonicalResource(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("parsing server URL: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("server URL %s: scheme must be http or https", Redact(serverURL))
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("server URL %s has no host", Redact(serverURL))
	}
	if u.User != nil {
		return "", fmt.Errorf("server URL %s must not contain a user name or password", Redact(serverURL))
	}
	s := origin(u) + strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s, nil
}

// origin returns scheme://host[:port] of u, lowercased, without a default port.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

// CheckEndpoint reports whether raw is safe to use as an OAuth or metadata
// endpoint: an absolute http(s) URL with a host, no user name or password,
// no fragment, and https unless the host is a loopback host (localhost,
// 127.0.0.0/8, ::1), where plain http is allowed for development servers.
// Anything else (javascript:, data:, file:, a relative URL) is refused: these
// URLs come from servers we do not trust and end up in a browser or carry
// credentials.
func CheckEndpoint(raw string) error {
	if raw == "" {
		return errors.New("the URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("the URL cannot be parsed")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		return errors.New("the URL is not absolute")
	case scheme != "http" && scheme != "https":
		return fmt.Errorf("the URL uses the %q scheme; only https is allowed", truncate(scheme, 20))
	case u.Opaque != "" || u.Hostname() == "":
		return errors.New("the URL has no host")
	case u.User != nil:
		return errors.New("the URL contains a user name or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("the URL contains a fragment")
	case scheme == "http" && !IsLoopbackHost(u.Hostname()):
		return errors.New("the URL uses http; https is required except for loopback hosts")
	}
	return nil
}

// IsLoopbackHost reports whether host (without port or brackets) names the
// local machine: "localhost", an address in 127.0.0.0/8, or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wellKnownURL inserts /.well-known/<suffix> between the host and the path of
// u, the construction RFC 8414 §3.1 and RFC 9728 §3.1 share; a trailing
// slash of the path is dropped and the query kept. A path of "/" or "" gives
// the root form.
func wellKnownURL(u *url.URL, suffix string) string {
	s := origin(u) + "/.well-known/" + suffix + strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s
}

// hasPath reports whether u has a path beyond "/".
func hasPath(u *url.URL) bool { return strings.Trim(u.EscapedPath(), "/") != "" }

// ResourceMatches reports whether a token obtained for resource may be sent to the MCP
// server at serverURL: the rule resourceMatches applies to metadata, which is the rule that
// accepted the resource when the token was obtained. The broker applies it again to a stored
// token whenever it hands it out, so that a token never follows a server to a new URL.
func ResourceMatches(resource, serverURL string) bool { return resourceMatches(resource, serverURL) }

// resourceMatches reports whether the resource a server's metadata
// advertises identifies the server at serverURL. RFC 9728 §3.3 asks for
// identity with the URL requested; in practice MCP servers advertise either
// their endpoint URL or, when the metadata sits at the root well-known URL,
// their origin. We accept equal canonical forms, or an advertised resource
// on the same origin whose path is a whole-segment prefix of the server's
// path and which has no query (the rule draft-mcguinness-oauth-rfc9728bis
// proposes). A token for such a resource is still only good at that origin,
// so this never lets metadata send a token to another server.
func resourceMatches(advertised, serverURL string) bool {
	a, err := CanonicalResource(advertised)
	if err != nil {
		return false
	}
	s, err := CanonicalResource(serverURL)
	if err != nil {
		return false
	}
	if a == s {
		return true
	}
	au, err1 := url.Parse(a)
	su, err2 := url.Parse(s)
	if err1 != nil || err2 != nil || au.RawQuery != "" || !sameOrigin(au, su) {
		return false
	}
	ap, sp := au.EscapedPath(), su.EscapedPath()
	return ap == "" || strings.HasPrefix(sp, ap+"/")
}

// Redact returns u fit for a message or a log line: query values become
// "***" and a user name or password is removed, since some people put API
// keys in server URLs. Unparseable input is cut short rather than echoed whole.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return truncate(u, 80)
	}
	p.User = nil
	if p.RawQuery != "" {
		q := p.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"=***")
		}
		slices.Sort(keys)
		p.RawQuery = strings.Join(keys, "&")
	}
	return truncate(p.String(), 300)
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
