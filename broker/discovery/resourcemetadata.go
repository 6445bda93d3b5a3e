package discovery

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// checkResourceMetadataURL decides whether discovery may fetch rm, the resource_metadata URL
// of the server su's 401 challenge (already through CheckEndpoint). Nothing vouches for the
// challenge, and the GET leaves from the user's machine, so a hostile server could aim it at a
// service only this machine can reach (http://localhost:PORT/…). Allowed are the server's own
// origin, which answers for the server anyway (the in-repo demo and the MCP conformance suite
// serve their metadata there, loopback included), and https elsewhere, but not on this machine
// unless the server is on it too.
func checkResourceMetadataURL(su *url.URL, rm string) error {
	u, err := url.Parse(rm)
	if err != nil {
		return errors.New("the URL cannot be parsed")
	}
	if sameOrigin(su, u) {
		return nil
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return errors.New("it is not on the server's origin, so it must use https")
	}
	if onThisMachine(u.Hostname()) && !onThisMachine(su.Hostname()) {
		return errors.New("it points at this machine, but the server is not on it")
	}
	return nil
}

// onThisMachine reports whether a request to host stays on this machine: a loopback host, a
// name under .localhost (RFC 6761 §6.3; resolvers and browsers answer it with loopback), either
// with a final dot, or an unspecified address (0.0.0.0, ::), which connects to this machine.
func onThisMachine(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if IsLoopbackHost(h) || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsUnspecified()
}
