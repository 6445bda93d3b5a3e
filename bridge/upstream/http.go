package upstream

import (
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the client the transports use by default: no overall timeout (a
// stream or a long tool call may last for hours), but bounded connection set-up, proxies from
// the environment, HTTP/2 where the server offers it, and enough idle connections for a
// client that keeps ten requests in flight.
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t}
}
