package wwwauth

import (
	"net/http"
	"strings"
)

// Limits that keep Parse's output small whatever a server sends. Parsing is
// a single pass over the input either way; these bound the allocations, so a
// hostile header cannot make us build thousands of maps.
const (
	maxChallenges = 32 // per call, over all header values
	maxParams     = 32 // per challenge; further parameters are skipped
)

// Challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1): an auth scheme followed by either a token68 or a list
// of auth parameters.
type Challenge struct {
	// Scheme is the auth scheme as the server spelled it ("Bearer", "basic").
	// Schemes are case-insensitive: compare with strings.EqualFold.
	Scheme string
	// Params holds the auth parameters, names lowercased (they are
	// case-insensitive), values unquoted with their \-escapes undone. When a
	// server repeats a parameter, the first value wins.
	Params map[string]string
	// Token68 is the challenge's token68 form (RFC 9110 §11.2), which some
	// schemes use instead of parameters; "" when the challenge has parameters.
	Token68 string
}

// ResourceMetadata returns the challenge's resource_metadata parameter
// (RFC 9728 §5.1): the URL of the server's protected-resource metadata.
// It is "" when absent or when c is nil.
func (c *Challenge) ResourceMetadata() string { return c.param("resource_metadata") }

// Scope returns the challenge's scope parameter (RFC 6750 §3): the
// space-separated scopes the server wants. It is "" when absent or c is nil.
func (c *Challenge) Scope() string { return c.param("scope") }

// ErrorCode returns the challenge's error parameter (RFC 6750 §3.1), such
// as "invalid_token" or "insufficient_scope". It is "" when absent or c is
// nil. (Not named Error: that would make *Challenge an error, and fmt would
// print a challenge as its error code.)
func (c *Challenge) ErrorCode() string { return c.param("error") }

func (c *Challenge) param(name string) string {
	if c == nil {
		return ""
	}
	return c.Params[name]
}

// Algs returns the challenge's algs parameter (RFC 9449 §7.1), split on
// spaces: the JWS algorithms a DPoP resource server accepts in proofs. It is
// nil when absent or when c is nil.
func (c *Challenge) Algs() []string {
	if v := c.param("algs"); v != "" {
		return strings.Fields(v)
	}
	return nil
}

// Bearer returns the first Bearer challenge among the WWW-Authenticate
// headers of h, or nil when there is none.
func Bearer(h http.Header) *Challenge { return first(h, "Bearer") }

// DPoP returns the first DPoP challenge (RFC 9449 §7.1) among the
// WWW-Authenticate headers of h, or nil when there is none. A resource server
// that accepts DPoP-bound tokens sends one, alone or beside a Bearer
// challenge (§7.2); its parameters are those of Bearer (resource_metadata,
// scope, error) plus algs, and error="use_dpop_nonce" asks for a proof with
// the nonce of the DPoP-Nonce header (§9).
func DPoP(h http.Header) *Challenge { return first(h, "DPoP") }

// OAuth returns the first challenge of a scheme that presents OAuth access
// tokens, Bearer or DPoP, or nil when there is none: the one whose scope,
// error and resource_metadata concern the token a client sends.
func OAuth(h http.Header) *Challenge {
	for _, c := range Parse(h.Values("WWW-Authenticate")) {
		if strings.EqualFold(c.Scheme, "Bearer") || strings.EqualFold(c.Scheme, "DPoP") {
			return &c
		}
	}
	return nil
}

func first(h http.Header, scheme string) *Challenge {
	for _, c := range Parse(h.Values("WWW-Authenticate")) {
		if strings.EqualFold(c.Scheme, scheme) {
			return &c
		}
	}
	return nil
}

// Parse parses the values of one or more WWW-Authenticate headers into their
// challenges, in order. A value may hold several challenges separated by
// commas; parameter values may be tokens or quoted strings with \-escapes.
//
// Real servers send malformed headers, so the parser is lenient rather than
// strict: it skips what it cannot read up to the next comma and keeps going,
// accepts parameters that lack their separating comma, and takes an
// unterminated quoted string to the end of the value. It never panics, does
// work linear in the input, and returns at most 32 challenges of at most 32
// parameters each.
func Parse(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := challengeParser{s: v}
		out = p.parse(out)
		if len(out) >= maxChallenges {
			break
		}
	}
	return out
}

// challengeParser scans one header value. Every loop iteration consumes at
// least one byte, which is what keeps the work linear and the parser
// terminating on any input.
type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) parse(out []Challenge) []Challenge {
	for len(out) < maxChallenges {
		p.skipSeparators()
		if p.i >= len(p.s) {
			break
		}
		scheme := p.token()
		if scheme == "" || !p.atDelimiter() {
			// Not a challenge (a stray quote, "=x", "Bearer=x"): skip the element.
			p.skipToComma()
			continue
		}
		c := Challenge{Scheme: scheme}
		p.skipOWS()
		if t, ok := p.token68(); ok {
			c.Token68 = t
		} else {
			p.params(&c)
		}
		out = append(out, c)
	}
	return out
}

// params reads the auth parameters that follow a scheme, stopping at the
// comma that begins the next challenge (one not followed by "name=").
func (p *challengeParser) params(c *Challenge) {
	if !p.looksLikeParam() {
		p.skipToComma()
		return
	}
	for p.i < len(p.s) {
		name := strings.ToLower(p.token())
		p.skipOWS()
		p.i++ // the '=' that looksLikeParam saw
		p.skipOWS()
		if value, ok := p.value(); ok {
			if c.Params == nil {
				c.Params = make(map[string]string)
			}
			if _, dup := c.Params[name]; !dup && len(c.Params) < maxParams {
				c.Params[name] = value
			}
		}
		p.skipOWS()
		if p.i < len(p.s) && p.s[p.i] != ',' && !p.looksLikeParam() {
			p.skipToComma() // junk after the value
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.skipSeparators()
		}
		if !p.looksLikeParam() {
			return // end of value, or the next challenge's scheme
		}
	}
}

// value reads a quoted string or a token-like run up to a comma or space.
func (p *challengeParser) value() (string, bool) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			ch := p.s[p.i]
			p.i++
			switch {
			case ch == '"':
				return b.String(), true
			case ch == '\\' && p.i < len(p.s):
				b.WriteByte(p.s[p.i])
				p.i++
			default:
				b.WriteByte(ch)
			}
		}
		return b.String(), true // unterminated: lenient, keep what we have
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ' ' && p.s[p.i] != '\t' && p.s[p.i] != '"' {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// token68 reads a token68 when that is what follows the scheme: token68
// characters, optional trailing '=', then the end of the value or a comma.
// Otherwise it consumes nothing.
func (p *challengeParser) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	end := j
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return "", false
	}
	t := p.s[p.i:end]
	p.i = j
	return t, true
}

// looksLikeParam reports whether a "token BWS =" starts at the cursor.
func (p *challengeParser) looksLikeParam() bool {
	j := p.i
	for j < len(p.s) && isTchar(p.s[j]) {
		j++
	}
	if j == p.i {
		return false
	}
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	return j < len(p.s) && p.s[j] == '='
}

func (p *challengeParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// atDelimiter reports whether the cursor sits where a scheme may end.
func (p *challengeParser) atDelimiter() bool {
	return p.i >= len(p.s) || p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ','
}

func (p *challengeParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *challengeParser) skipSeparators() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

// skipToComma moves to the next comma outside a quoted string, or the end.
func (p *challengeParser) skipToComma() {
	inQuote := false
	for p.i < len(p.s) {
		switch ch := p.s[p.i]; {
		case inQuote && ch == '\\':
			p.i++
		case ch == '"':
			inQuote = !inQuote
		case !inQuote && ch == ',':
			return
		}
		p.i++
	}
}

// isTchar reports whether b is a token character (RFC 9110 §5.6.2).
func isTchar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// isToken68Char reports whether b may appear in a token68 before its
// trailing '=' padding (RFC 9110 §11.2).
func isToken68Char(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", b) >= 0
}
