// Package httpclient builds every HTTP client of the broker and the bridge, so that one place
// decides how they reach servers: the transport (bounded connection set-up, the proxy and the
// certificate authorities of a Network, HTTP/2) and the redirect policy that keeps credentials
// on the origin they belong to.
//
// Left to itself, Go's http.Client copies a request's headers to wherever a redirect points: a
// custom header (an API key in X-API-Key) to any host, Authorization and Cookie to the same
// host name on another port or scheme (https to http included) and to its subdomains; and a
// 307 or 308 sends the body (an OAuth token request's code, refresh token or client secret)
// again. CheckRedirect replaces those rules with one, keyed on the origin (scheme, host, port)
// of the first request:
//   - a redirect within the origin is followed as it is, credential included;
//   - a redirect that leaves it is refused with a *RedirectError when the request carries a
//     credential (see WithCredential for what counts), and otherwise followed without any
//     credential header and without a Referer (it can hold a query string, and query strings
//     can hold API keys).
//
// New builds a client with the policy; Guard puts it on a client someone else built (a test's,
// or one passed in an Options struct). The check runs only when a server redirects: it costs a
// request that is not redirected nothing.
//
// A Network (network.go) is the user's proxy and CA settings made ready: the configuration's
// proxy, else the environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), else the operating
// system's (system.go), never for a loopback host; and the system's certificate authorities
// plus those of a CA file. The command line, the bridge and the tray build one from the
// configuration and hand it to every client they make with WithNetwork.
package httpclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Option configures New.
type Option func(*settings)

type settings struct {
	timeout time.Duration
	network *Network
	dial    func(ctx context.Context, network, addr string) (net.Conn, error) // tests only
}

// WithTimeout bounds each request, body included, to d. Leave it out for clients whose
// requests may last for hours (the bridge's streams and tool calls).
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// New returns a client with the redirect policy of CheckRedirect and its own transport: no
// overall timeout unless WithTimeout says so (a stream or a long tool call may last for hours),
// but bounded connection set-up, the proxy and certificate authorities of its Network (see
// WithNetwork), HTTP/2 where the server offers it, and enough idle connections for a bridge that keeps ten requests in flight. Each client
// has its own connection pool, so build one per program part and keep it.
func New(opts ...Option) *http.Client {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if s.network == nil {
		s.network = defaultNetwork()
	}
	return &http.Client{Transport: newTransport(s), Timeout: s.timeout, CheckRedirect: CheckRedirect}
}

func newTransport(s settings) *http.Transport {
	var tlsConfig *tls.Config
	if s.network.roots != nil {
		tlsConfig = &tls.Config{RootCAs: s.network.roots}
	}
	dial := s.dial
	if dial == nil {
		dial = (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext
	}
	return &http.Transport{
		Proxy:                 s.network.proxy,
		TLSClientConfig:       tlsConfig,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Guard returns a copy of c that follows redirects by CheckRedirect; c itself is not changed,
// and the copy shares its transport (and so its connections). A redirect policy c already has
// runs after ours, on the redirects ours lets through. Guard(nil) is New().
func Guard(c *http.Client) *http.Client {
	if c == nil {
		return New()
	}
	g := *c
	if next := c.CheckRedirect; next != nil {
		g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := CheckRedirect(req, via); err != nil {
				return err
			}
			return next(req, via)
		}
	} else {
		g.CheckRedirect = CheckRedirect
	}
	return &g
}
