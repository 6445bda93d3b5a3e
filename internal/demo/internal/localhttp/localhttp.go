// Package localhttp runs an http.Handler on a loopback listener in the
// background, for the demo authorization server and MCP server.
//
// Both demo servers need the same few steps (refuse anything but loopback,
// serve once, learn the base URL, shut down and wait for the accept loop to
// end); keeping them here keeps the two servers' lifecycles identical.
package localhttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// readHeaderTimeout bounds how long a connection may take to send its
// request headers, so a stalled client cannot hold a connection forever.
const readHeaderTimeout = 10 * time.Second

// Listen listens on addr, which must name a loopback host ("127.0.0.1:0",
// "[::1]:8080", "localhost:0"); empty means "127.0.0.1:0". Demo servers never
// listen on other interfaces.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parsing listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		// localhost may resolve to a non-loopback address on a broken
		// resolver; the literal cannot.
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("listening on %q: only loopback addresses are allowed", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

// IsLoopback reports whether a is a loopback IP address and port.
func IsLoopback(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().IsLoopback()
}

// Start listens on addr with Listen and hands the listener to serve, closing
// it when serve fails. It returns what serve returns: the base URL.
func Start(addr string, serve func(net.Listener) (string, error)) (string, error) {
	ln, err := Listen(addr)
	if err != nil {
		return "", err
	}
	base, err := serve(ln)
	if err != nil {
		_ = ln.Close()
		return "", err
	}
	return base, nil
}

// Server serves one handler on one loopback listener in the background. The
// zero value is ready to use; its methods are safe for concurrent use.
type Server struct {
	mu   sync.Mutex
	srv  *http.Server
	done chan struct{} // closed when the accept loop has returned
}

// Serve serves h on ln in the background until Close and returns the base
// URL, "http://" plus the listener's address. It refuses a listener that is
// not on a loopback address, and a second call.
func (s *Server) Serve(ln net.Listener, h http.Handler) (baseURL string, err error) {
	if !IsLoopback(ln.Addr()) {
		return "", fmt.Errorf("serving on %s: not a loopback address", ln.Addr())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("serving: server already started")
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout}
	done := make(chan struct{})
	s.srv, s.done = srv, done
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server and waits for its accept loop to exit. With a
// positive grace, requests in flight get that long to finish before their
// connections are cut; with zero they are cut at once (long-lived streams
// such as SSE would otherwise hold a graceful shutdown for its whole grace).
// Closing a server that never started, or closing twice, does nothing.
func (s *Server) Close(grace time.Duration) error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	var err error
	if grace > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			err = srv.Close()
		}
	} else {
		err = srv.Close()
	}
	<-done
	return err
}
