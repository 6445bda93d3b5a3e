package dpop

import (
	"net/http"
	"net/url"
	"sync"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// Bounds that keep a hostile server from growing Nonces: a nonce is short (servers send a few
// dozen characters), and a broker talks to a handful of origins.
const (
	maxNonceLen     = 1024
	maxNonceOrigins = 64
)

// Nonces remembers the last nonce each origin supplied. A server supplies one in a DPoP-Nonce
// header, with the use_dpop_nonce error that asks for it or on any other answer (RFC 9449
// §8.2), and expects it in every proof until it supplies another. The zero value is ready to
// use and safe for concurrent use.
//
// Nonces are kept per origin because that is what a nonce is scoped to: the authorization
// server's and the resource server's are different (§9), and so are two resource servers'.
type Nonces struct {
	mu       sync.Mutex
	byOrigin map[string]string
}

// For returns the nonce to put in a proof for a request to u, "" when its origin supplied none.
func (n *Nonces) For(u *url.URL) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.byOrigin[httpclient.Origin(u)]
}

// Remember keeps the nonce of a response from u, if it carries one, and reports whether it
// did. A value that is not a nonce (RFC 9449 §8.1: 1*NQCHAR; and short) is ignored.
func (n *Nonces) Remember(u *url.URL, h http.Header) bool {
	nonce := h.Get(HeaderNonce)
	if nonce == "" {
		return false
	}
	return n.Set(u, nonce)
}

// Set keeps nonce for the origin of u and reports whether it was a valid nonce.
func (n *Nonces) Set(u *url.URL, nonce string) bool {
	if !validNonce(nonce) {
		return false
	}
	origin := httpclient.Origin(u)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byOrigin == nil {
		n.byOrigin = map[string]string{}
	}
	if _, ok := n.byOrigin[origin]; !ok && len(n.byOrigin) >= maxNonceOrigins {
		clear(n.byOrigin) // a server that asks again gets its nonce back at once
	}
	n.byOrigin[origin] = nonce
	return true
}

// validNonce reports whether s is a nonce value: 1*NQCHAR (%x21 / %x23-5B / %x5D-7E), which
// leaves out space, '"' and '\', of at most maxNonceLen characters.
func validNonce(s string) bool {
	if s == "" || len(s) > maxNonceLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
