// Package loopback receives the OAuth authorization response on a short-lived HTTP server bound
// to 127.0.0.1, the "loopback interface redirection" of RFC 8252 §7.3.
//
// The flow: [Listen] binds a port and yields the redirect URI to register and send; the caller
// opens the browser; [Server.Wait] serves until the callback arrives, lets the caller's [Check]
// judge it (state, iss), shows the user a page that says how it went, and shuts the server down.
//
// Any web page the user visits meanwhile can make the browser request the callback URL (an
// <img> pointing at 127.0.0.1:PORT needs no permission), so a callback whose state is wrong is
// not the answer: it gets the same plain 400 page as any stray request, is logged (bounded, and
// without its values), and Wait keeps waiting. The first callback with the right state wins;
// anything after it is told the sign-in has finished.
//
// When the browser runs on another machine (over SSH, into a container) it cannot reach
// 127.0.0.1 here; the person then pastes the address it ended on, and [Server.Deliver] judges
// that as the callback itself would have been judged.
//
// The authorization code is a secret: it never appears in an error, a log line or a page.
package loopback

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout is how long Wait waits for the browser unless [WithTimeout] says otherwise:
// long enough to sign in with a password manager and a second factor, short enough that a
// forgotten tab does not hold the sign-in lock for long.
const DefaultTimeout = 5 * time.Minute

// shutdownGrace bounds the graceful shutdown in Wait: long enough for the browser to receive the
// page the last handler wrote, short enough that nobody notices.
const shutdownGrace = 1500 * time.Millisecond

var (
	// ErrPortInUse is wrapped by Listen's error when the requested fixed port is taken, typically
	// by another sign-in in progress or another program. With port 0 it cannot happen.
	ErrPortInUse = errors.New("the port is already in use by another program or sign-in")

	// ErrTimeout is wrapped by Wait's error when the browser did not come back in time.
	ErrTimeout = errors.New("timed out waiting for the browser sign-in")

	// ErrClosed is wrapped by Wait's error when the Server was closed before or while waiting.
	ErrClosed = errors.New("the sign-in callback server was closed")

	// ErrWrongState is what a [Check] wraps when the callback's state is not this sign-in's:
	// Wait then ignores that callback, as a forgery, and keeps waiting for the real one.
	ErrWrongState = errors.New("the sign-in response does not belong to this sign-in (state mismatch)")
)

// Callback is the authorization response as it arrived in the redirect's query (RFC 6749
// §4.1.2 and §4.1.2.1, RFC 9207 for iss). Values are raw, as sent: Check compares state and iss
// exactly. Code is secret; Callback's String, GoString and LogValue leave it out.
type Callback struct {
	Code             string
	State            string
	Iss              string
	Error            string
	ErrorDescription string
	ErrorURI         string
}

// Check decides whether a callback is acceptable. It must verify state (and iss, when the
// authorization server advertises RFC 9207 support) before anything else, including before
// trusting an error response, since anyone who can reach the port can forge one.
//
// A wrong or missing state must be reported with an error wrapping [ErrWrongState]: Wait then
// ignores the callback as a forgery and keeps waiting. Any other error means the response is
// ours but unacceptable (a wrong iss is a mix-up attack, RFC 9207): it shows the failure page
// with the error's message (so it must hold no secret) and ends Wait with that error.
//
// Wait calls Check on the handler goroutine for each callback until one is not a forgery, one
// callback at a time.
type Check func(Callback) error

// ProviderError is Wait's error when the callback that passed Check was an error response from
// the authorization server (RFC 6749 §4.1.2.1). Its fields are sanitized for display: printable
// characters only, and bounded in length.
type ProviderError struct {
	Code        string // error, e.g. "access_denied"
	Description string // error_description, may be empty
	URI         string // error_uri, kept only when it is an http or https URL
}

// Error reports the refusal in the provider's own words.
func (e *ProviderError) Error() string {
	msg := "the authorization server refused: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// timeoutError is Wait's error on timeout: it names the duration and matches both ErrTimeout and
// context.DeadlineExceeded with errors.Is.
type timeoutError struct{ after time.Duration }

func (e timeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for the browser sign-in", e.after)
}

func (e timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Option configures Listen.
type Option func(*options)

type options struct {
	timeout time.Duration
	logger  *slog.Logger
}

// WithTimeout sets how long Wait waits for the callback; d <= 0 means [DefaultTimeout].
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithLogger sets where the server logs: the flow at debug level, forged callbacks at warn
// level; nil means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Server is the loopback redirect receiver. Create it with Listen, then call Wait once (or Close).
type Server struct {
	ln      net.Listener
	srv     *http.Server
	path    string
	port    int
	timeout time.Duration
	log     *slog.Logger

	check   Check        // set by Wait before serving starts, read by the handler
	mu      sync.Mutex   // one callback at a time is judged; guards decided and forged
	decided bool         // a callback that was not a forgery has been judged
	forged  int          // callbacks ignored for a wrong state
	outcome chan outcome // capacity 1: written once, by the callback that decided

	// ready is closed by Wait once check is set: Deliver waits for it.
	ready chan struct{}

	waited    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// outcome is what the first callback produced for Wait.
type outcome struct {
	cb  Callback
	err error
}

// Listen binds 127.0.0.1:port (port 0 picks a free port) for a server that will answer GET
// requests on path, such as "/callback". It never binds another interface: RFC 8252 §8.3 asks
// for the loopback IP literal, so no other machine and no DNS trick can reach it. The server
// starts answering in Wait; a browser that arrives earlier waits in the listen queue.
//
// If a fixed port is taken the error wraps [ErrPortInUse]. A port freed a moment ago by an
// earlier Server is reusable at once: Go sets SO_REUSEADDR on Unix listeners, so connections
// left in TIME_WAIT do not block the bind.
func Listen(ctx context.Context, port int, path string, opts ...Option) (*Server, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("starting the sign-in callback server: port %d out of range", port)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("starting the sign-in callback server: path %q must start with / and hold no query", path)
	}
	o := options{timeout: DefaultTimeout, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		if isAddrInUse(err) {
			return nil, fmt.Errorf("starting the sign-in callback server on %s: %w", addr, ErrPortInUse)
		}
		return nil, fmt.Errorf("starting the sign-in callback server on %s: %w", addr, err)
	}
	s := &Server{
		ln:      ln,
		path:    path,
		port:    ln.Addr().(*net.TCPAddr).Port,
		timeout: o.timeout,
		log:     o.logger,
		outcome: make(chan outcome, 1),
		ready:   make(chan struct{}),
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// RedirectURI is the redirect_uri to register and send: "http://127.0.0.1:<port><path>".
func (s *Server) RedirectURI() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) + s.path
}

// Port is the bound port, useful when Listen was given 0.
func (s *Server) Port() int { return s.port }

// Wait serves until a callback on the path has been handled, ctx is done, or the timeout
// passes, whichever comes first, then shuts the server down (gracefully, for at most a second
// or two, so the browser gets its page) before it returns. check must not be nil.
//
// Callbacks with a wrong state (check's error wraps [ErrWrongState], or the state is repeated)
// are forgeries: Wait answers them 400 and keeps waiting for the real one.
//
// It returns the callback that passed check, which then carries a code. When that callback is
// an error response it returns a *[ProviderError] instead. If check rejects the callback, Wait
// returns check's error as is. Otherwise the error wraps [ErrTimeout] (its message names the
// timeout), ctx's error, or [ErrClosed]. Wait may be called once.
func (s *Server) Wait(ctx context.Context, check Check) (Callback, error) {
	if !s.waited.CompareAndSwap(false, true) {
		return Callback{}, errors.New("waiting for the sign-in callback: Wait called twice")
	}
	if check == nil {
		_ = s.Close()
		return Callback{}, errors.New("waiting for the sign-in callback: no check given")
	}
	s.check = check // happens before the handler reads it: the serving goroutine starts below
	close(s.ready)  // and before Deliver reads it

	ctx, cancel := context.WithTimeoutCause(ctx, s.timeout, timeoutError{s.timeout})
	defer cancel()

	serveDone := make(chan error, 1)
	go func() { serveDone <- s.srv.Serve(s.ln) }() // ends when shutdown (or Close) closes the server
	s.log.DebugContext(ctx, "loopback: waiting for the sign-in callback", "redirect_uri", s.RedirectURI())

	var (
		res      outcome
		got      bool
		serveErr error
		served   bool
	)
	select {
	case res = <-s.outcome:
		got = true
	case serveErr = <-serveDone:
		served = true
	case <-ctx.Done():
	}
	s.shutdown(ctx)
	s.logForgedTotal(ctx)
	if !served {
		serveErr = <-serveDone
	}
	if !got {
		// A callback handled while we were stopping still counts: the user saw its page.
		select {
		case res = <-s.outcome:
			got = true
		default:
		}
	}
	switch {
	case got:
		if res.err != nil {
			return Callback{}, res.err
		}
		return res.cb, nil
	case ctx.Err() != nil:
		if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
			return Callback{}, cause
		}
		return Callback{}, fmt.Errorf("waiting for the browser sign-in: %w", ctx.Err())
	case serveErr == nil || errors.Is(serveErr, http.ErrServerClosed):
		return Callback{}, fmt.Errorf("waiting for the browser sign-in: %w", ErrClosed)
	default:
		return Callback{}, fmt.Errorf("serving the sign-in callback: %w", serveErr)
	}
}

// shutdown stops the server gracefully, bounded by shutdownGrace, then forcibly.
func (s *Server) shutdown(ctx context.Context) {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.log.DebugContext(ctx, "loopback: graceful shutdown timed out, closing", "error", err)
			_ = s.srv.Close()
		}
		s.closeErr = closeListener(s.ln)
	})
}

// Close stops the server at once, dropping open connections, and makes a pending or later Wait
// return an error wrapping [ErrClosed]. It is idempotent and safe to call after Wait.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.srv.Close()
		s.closeErr = errors.Join(err, closeListener(s.ln))
	})
	return s.closeErr
}

// closeListener closes ln, which http.Server closes itself only if Serve ran.
func closeListener(ln net.Listener) error {
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("closing the sign-in callback listener: %w", err)
	}
	return nil
}

// StateToken returns a fresh value for the OAuth state parameter: 32 bytes from crypto/rand,
// base64url without padding (RFC 6749 §10.12 asks for a non-guessable value bound to the session).
func StateToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating the state parameter: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
