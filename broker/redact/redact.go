// Package redact makes server URLs fit for error messages, log lines and status files.
//
// People put API keys in MCP server URLs (https://mcp.example.com/mcp?api_key=…), and the
// same URL is what every "cannot reach the server at …" message wants to name. URL keeps
// what identifies the server (scheme, host, port, path) and drops what may be a secret
// (the query, user information, the fragment); Text does the same to a URL wherever it
// appears inside a longer text, such as an error from a library that quotes the URL it failed
// on. Both the broker and the bridge use it, so the package depends on nothing of either.
package redact

import (
	"net/url"
	"strings"
)

// Query is what stands in for a URL's query once redacted.
const Query = "?REDACTED"

// URL returns raw without its query (replaced by Query, so a reader knows there was one),
// user information and fragment. Whether a query holds a secret cannot be told from its
// names: a bare "?sk-…" has no name at all, so the whole of it goes.
//
// Input that does not parse as a URL is cut the same way, at its first '?' or '#' and after
// its last '@' before the path, rather than echoed whole.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return cut(raw)
	}
	hadQuery := u.RawQuery != "" || u.ForceQuery
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	s := u.String()
	if hadQuery {
		s += Query
	}
	return s
}

// cut redacts a string that is not a URL url.Parse accepts, by its characters alone.
func cut(raw string) string {
	s, hadQuery := raw, false
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		hadQuery = s[i] == '?'
		s = s[:i]
	}
	rest := s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	s = prefix + rest
	if hadQuery {
		s += Query
	}
	return s
}

// Text returns text with the secrets of the URL raw removed wherever they appear: the URL
// itself (as written, and as Go's net/url prints it) becomes URL(raw); its query after a '?'
// (a server's error page may echo the request's path and query) becomes Query; its user
// information before an '@' goes; and any query value or password of 8 bytes or more (what an
// API key looks like) found on its own becomes "REDACTED". Use it on error text that may quote
// the URL (a *url.Error does, as `Post "https://…?api_key=…": …`) before it reaches a person, a
// log or a file. A URL without a query, user information or fragment leaves text untouched.
func Text(text, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if red := cut(raw); red != raw {
			return strings.ReplaceAll(text, raw, red)
		}
		return text
	}
	if u.RawQuery == "" && u.User == nil && u.Fragment == "" && !u.ForceQuery {
		return text
	}
	red := URL(raw)
	for _, s := range []string{raw, u.String()} {
		text = strings.ReplaceAll(text, s, red)
	}
	if u.RawQuery != "" {
		for _, s := range []string{u.RawQuery, u.Query().Encode()} {
			text = strings.ReplaceAll(text, "?"+s, Query)
		}
	}
	if u.User != nil {
		text = strings.ReplaceAll(text, u.User.String()+"@", "")
	}
	var values []string
	for k, vs := range u.Query() {
		values = append(values, k) // "?sk-…" is all key
		values = append(values, vs...)
	}
	if p, ok := u.User.Password(); ok {
		values = append(values, p)
	}
	for _, v := range values {
		if len(v) >= minSecret {
			text = strings.ReplaceAll(text, v, "REDACTED")
		}
	}
	return text
}

// minSecret is the length from which a query value is taken for a secret on its own: shorter
// ones ("1", "true", "en") would redact ordinary words.
const minSecret = 8
