package httpclient

import (
	"context"
	"net"

	"github.com/mattn/go-ieproxy"
)

// WithDial replaces the client's dialer, for tests that reach host names no resolver knows
// without a proxy in between.
func WithDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(s *settings) { s.dial = dial }
}

// WithSystem returns s reading conf as the operating system's proxy settings.
func WithSystem(s Settings, conf ieproxy.ProxyConf) Settings {
	s.system = func() *systemProxy { return newSystemProxy(conf) }
	return s
}
