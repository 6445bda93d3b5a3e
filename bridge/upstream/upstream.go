package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/paramheaders"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/redact"
	"github.com/mcp-broker/mcp-broker/broker/wwwauth"
)

// HTTP header names of the MCP transports.
const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerLastEventID     = "Last-Event-Id"
	headerMethod          = "Mcp-Method"
	headerName            = "Mcp-Name"
	headerDPoPNonce       = "DPoP-Nonce"     // RFC 9449 §9: a nonce for the next proofs
	errUseDPoPNonce       = "use_dpop_nonce" // RFC 9449 §9: send it again with the nonce
	acceptPost            = "application/json, text/event-stream"
	acceptStream          = "text/event-stream"
)

// Credentials authorize requests to the server. The bridge implements it with the broker;
// None is the implementation for servers without authorization.
type Credentials interface {
	// Authorize puts the credential on req, whose method and URL are final: a header, and for
	// a DPoP-bound token (RFC 9449) a proof made for this one request. It returns the value of
	// the credential header it set ("" when none), which Refresh gets back if the server
	// refuses it.
	Authorize(ctx context.Context, req *http.Request) (value string, err error)
	// Nonce is told the nonce the server at u supplied in a DPoP-Nonce header (RFC 9449 §9),
	// for the proofs of the next requests to its origin.
	Nonce(u *url.URL, nonce string)
	// Refresh is told that the server answered 401 to a request that carried value ("" when
	// it carried none), with scope, the scope its challenge names ("" for none): what the
	// sign-in asks for, should one be needed. It returns nil once a new credential is ready to
	// retry with.
	Refresh(ctx context.Context, rejected, scope string) error
	// StepUp is told that the server answered 403 insufficient_scope to operation (for
	// example "tools/call admin_action") and wants scope. It returns nil once a credential
	// with more scope is ready, or an error to give up with.
	StepUp(ctx context.Context, operation, scope string) error
	// StepUpDone is told that operation went through after a StepUp.
	StepUpDone(operation string)
}

// None is Credentials for a server that needs no authorization: a 401 or 403 is final.
type None struct{}

// Authorize sets nothing.
func (None) Authorize(context.Context, *http.Request) (string, error) { return "", nil }

// Nonce has no proof to put it in.
func (None) Nonce(*url.URL, string) {}

// Refresh cannot help.
func (None) Refresh(context.Context, string, string) error {
	return errors.New("the server asks for authorization, but none is configured")
}

// StepUp cannot help.
func (None) StepUp(context.Context, string, string) error {
	return errors.New("the server asks for more scope, but no authorization is configured")
}

// StepUpDone does nothing.
func (None) StepUpDone(string) {}

// ToolTable is what the transport needs of the table of the tools' designated parameters
// (SEP-2243). Its owner keeps it across connections (the bridge replaces a stateless
// connection when the server was unreachable, and the client lists its tools once).
type ToolTable interface {
	// Params returns the parameters tool designates for Mcp-Param-* headers, or why the tool
	// was left out of the client's tools list: a call to it is then answered with that
	// reason and not sent.
	Params(tool string) ([]paramheaders.Param, error)
	// Listed is handed every answer to a stateless tools/list, the client's and the
	// transport's own, and returns the message the client is to get in its place (for the
	// transport's own, that is dropped).
	Listed(answer []byte) []byte
}

// Handler receives a message from the server: a response, a server-to-client request or a
// notification, or a batch of them. It may be called from several goroutines at once (one
// per response stream); msg belongs to the handler.
type Handler func(msg []byte, env jsonrpc.Envelope)

// Options configure Connect.
type Options struct {
	// URL is the MCP endpoint (Streamable HTTP) or the SSE URL (legacy).
	URL string
	// Transport chooses the transport; "" means auto.
	Transport config.Transport
	// HTTP sends every request. It must have no overall Timeout (streams last for hours);
	// default httpclient.New(). Whatever client it is, Connect uses a copy with the redirect
	// policy of httpclient.CheckRedirect: the credential never follows a redirect to another
	// origin.
	HTTP *http.Client
	// Credentials authorize requests; default None.
	Credentials Credentials
	// OnMessage receives what the server sends. Required.
	OnMessage Handler
	// OnSession, if set, is called after a transparent re-initialization (a session 404) with
	// the new session's protocol version: the server may have changed its tools.
	OnSession func(protocolVersion string)
	// Tools, if set, is the table of the parameters the server's tools designate for
	// Mcp-Param-* headers (SEP-2243), which stateless (2026-07-28) Streamable HTTP requests
	// use: see ToolTable. Nil sends no parameter headers and relays tools/list as it is.
	Tools ToolTable
	// MaxMessage bounds one message from the server; default jsonrpc.DefaultMaxMessage. An
	// answer larger than that reaches OnMessage as an error answer to its request, which gives
	// the size and the limit; other messages larger than that are dropped.
	MaxMessage int
	// UserAgent is sent on every request.
	UserAgent string
	// Log receives diagnostics; default discards.
	Log *slog.Logger
}

func (o *Options) setDefaults() {
	o.HTTP = httpclient.Guard(o.HTTP)
	if o.Credentials == nil {
		o.Credentials = None{}
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = jsonrpc.DefaultMaxMessage
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Transport == "" {
		o.Transport = config.TransportAuto
	}
}

// Conn is a connection to one MCP server: a Streamable HTTP session (or the stateless
// requests of 2026-07-28), or a legacy HTTP+SSE stream.
type Conn interface {
	// Send delivers one client message (a request, a notification, a response to a server
	// request, or a batch). For Streamable HTTP it returns once the server has answered every
	// request in msg (the answers went to OnMessage); for legacy SSE once the POST is
	// accepted (the answers arrive on the stream). Send has no timeout of its own: a tool may
	// run for an hour.
	Send(ctx context.Context, msg []byte, env jsonrpc.Envelope) error
	// Transport is the transport in use: config.TransportStreamableHTTP or TransportSSE.
	Transport() config.Transport
	// ProtocolVersion is the revision the server chose in initialize ("" when stateless).
	ProtocolVersion() string
	// Lost is closed when the connection can carry nothing more (the legacy stream ended);
	// LostErr then says why. A Streamable HTTP connection is never lost: each request stands
	// alone and a lost session is re-initialized by Send.
	Lost() <-chan struct{}
	LostErr() error
	// Close ends the connection: it stops the streams and, for a Streamable HTTP session,
	// sends DELETE, bounded by ctx.
	Close(ctx context.Context)
}

// Connect opens a connection to the server at opts.URL. initialize is the client's initialize
// request, exactly as the client sent it; Connect returns the server's answer (with the
// client's id) after sending notifications/initialized itself. A nil initialize means a
// client of the 2026-07-28 revision, which has no handshake: Connect then does no I/O.
//
// An answer to initialize that is a JSON-RPC error comes back as an *InitializeError.
func Connect(ctx context.Context, opts Options, initialize []byte) (Conn, []byte, error) {
	opts.setDefaults()
	if opts.OnMessage == nil {
		return nil, nil, errors.New("upstream: no OnMessage handler")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("upstream: invalid server URL %q", redact.URL(opts.URL))
	}
	if initialize == nil {
		if opts.Transport == config.TransportSSE {
			return nil, nil, errors.New("a client without initialize (protocol 2026-07-28) cannot use the legacy SSE transport")
		}
		return newStreamable(opts, u, nil), nil, nil
	}
	env, err := jsonrpc.Parse(initialize)
	if err != nil || env.Kind != jsonrpc.KindRequest || env.Method != "initialize" {
		return nil, nil, errors.New("upstream: Connect needs an initialize request")
	}
	switch opts.Transport {
	case config.TransportSSE:
		return dialLegacy(ctx, opts, u, initialize, env)
	case config.TransportStreamableHTTP:
		c := newStreamable(opts, u, initialize)
		answer, err := c.open(ctx, initialize, env)
		if err != nil {
			c.Close(ctx)
			return nil, nil, err
		}
		return c, answer, nil
	}
	// auto: the fallback of the 2025-03-26 transport spec.
	c := newStreamable(opts, u, initialize)
	answer, err := c.open(ctx, initialize, env)
	if err == nil {
		return c, answer, nil
	}
	c.Close(ctx)
	var se *StatusError
	if !errors.As(err, &se) || (se.Status != http.StatusBadRequest && se.Status != http.StatusNotFound && se.Status != http.StatusMethodNotAllowed) {
		return nil, nil, err
	}
	opts.Log.Info("Streamable HTTP refused initialize; trying the legacy SSE transport", "status", se.Status)
	lc, answer, lerr := dialLegacy(ctx, opts, u, initialize, env)
	if lerr != nil {
		return nil, nil, fmt.Errorf("%w (and the legacy SSE transport failed too: %v)", err, lerr)
	}
	return lc, answer, nil
}

// StatusError is an HTTP answer that is neither a success nor a JSON-RPC message.
type StatusError struct {
	Method string // the HTTP method
	Status int
	// Body is the start of the response body, for people (servers put reasons there).
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("the server answered %s with HTTP %d %s", e.Method, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// UnreachableError says the server could not be reached or the connection broke: DNS,
// refused connection, TLS, reset.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "cannot reach the server: " + cleanNetError(e.Err) }
func (e *UnreachableError) Unwrap() error { return e.Err }

// InitializeError says the server answered initialize with a JSON-RPC error.
type InitializeError struct {
	// Response is the server's answer, with the id of the initialize request.
	Response []byte
}

func (e *InitializeError) Error() string {
	var r struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(e.Response, &r)
	return fmt.Sprintf("the server refused initialize: %s (code %d)", r.Error.Message, r.Error.Code)
}

// ErrLost is wrapped by the errors of a legacy connection whose stream has ended.
var ErrLost = errors.New("the connection to the server was lost")

// cleanNetError shortens Go's network error text for people: `Post "http://…": dial tcp …:
// connect: connection refused` becomes `dial tcp …: connect: connection refused`.
func cleanNetError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// base holds what both transports share: options, the authorized request loop, and the
// delivery of server messages (with interception of the answers to our own requests).
type base struct {
	opts Options
	log  *slog.Logger

	waitMu  sync.Mutex
	waiters map[string]chan []byte
	nwait   atomic.Int32
}

func newBase(opts Options) base {
	return base{opts: opts, log: opts.Log, waiters: map[string]chan []byte{}}
}

// expect registers interest in the answer to the request with id key: deliver hands it to
// the returned channel instead of OnMessage. cancel drops the registration.
func (b *base) expect(key string) (ch chan []byte, cancel func()) {
	ch = make(chan []byte, 1)
	b.waitMu.Lock()
	b.waiters[key] = ch
	b.waitMu.Unlock()
	b.nwait.Add(1)
	return ch, func() {
		b.waitMu.Lock()
		if b.waiters[key] == ch {
			delete(b.waiters, key)
			b.nwait.Add(-1)
		}
		b.waitMu.Unlock()
	}
}

// deliver passes one message from the server on, to a waiter or to OnMessage, and returns
// its envelope. Messages that are not JSON-RPC are logged and dropped: the client could do
// nothing with them either.
func (b *base) deliver(msg []byte) (jsonrpc.Envelope, bool) {
	env, err := jsonrpc.Parse(msg)
	if err != nil {
		b.log.Warn("the server sent something that is not a JSON-RPC message; dropped", "err", err, "bytes", len(msg))
		return env, false
	}
	if env.Kind == jsonrpc.KindResponse && b.nwait.Load() > 0 {
		key := env.IDKey()
		b.waitMu.Lock()
		ch, ok := b.waiters[key]
		if ok {
			delete(b.waiters, key)
			b.nwait.Add(-1)
		}
		b.waitMu.Unlock()
		if ok {
			ch <- msg
			return env, true
		}
	}
	b.opts.OnMessage(msg, env)
	return env, true
}

// maxStepUps bounds step-up rounds for one request whatever Credentials does (the broker
// allows 3 per operation).
const maxStepUps = 3

// maxNonceRetries bounds the retries of one request for a DPoP nonce: one is what RFC 9449 §9
// needs; the second covers a nonce that expired in between.
const maxNonceRetries = 2

// do sends the request build makes, with the credential, and deals with authorization: a
// 401 use_dpop_nonce retries with the server's nonce (RFC 9449 §9: the token is fine); any
// other 401 refreshes the credential once (handing on its challenge's scope, for a sign-in)
// and retries; a 403 insufficient_scope steps up and retries. operation names the request for
// step-up ("tools/call NAME", "GET stream"). The caller closes the response body.
func (b *base) do(ctx context.Context, operation string, build func(ctx context.Context) (*http.Request, error)) (*http.Response, error) {
	refreshed, stepUps, nonceRetries := false, 0, 0
	for {
		req, err := build(ctx)
		if err != nil {
			return nil, err
		}
		value, err := b.opts.Credentials.Authorize(ctx, req)
		if err != nil {
			return nil, err
		}
		if b.opts.UserAgent != "" {
			req.Header.Set("User-Agent", b.opts.UserAgent)
		}
		resp, err := b.opts.HTTP.Do(traceWrote(req))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if re := (*httpclient.RedirectError)(nil); errors.As(err, &re) {
				return nil, re // not unreachable: the server sent us elsewhere, and will again
			}
			return nil, &UnreachableError{Err: err}
		}
		nonce := resp.Header.Get(headerDPoPNonce)
		if nonce != "" {
			b.opts.Credentials.Nonce(req.URL, nonce)
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			scope := wwwauth.OAuth(resp.Header).Scope() // a DPoP server's challenge is DPoP
			discard(resp)
			if nonce != "" && nonceRetries < maxNonceRetries && wwwauth.DPoP(resp.Header).ErrorCode() == errUseDPoPNonce {
				nonceRetries++
				b.log.Info("the server wants a DPoP nonce; sending the request again with it", "operation", operation)
				continue
			}
			if refreshed {
				return nil, &StatusError{Method: req.Method, Status: resp.StatusCode, Body: "the server rejected a freshly renewed credential"}
			}
			refreshed = true
			b.log.Info("the server answered 401; renewing the credential", "operation", operation, "scope", scope)
			if err := b.opts.Credentials.Refresh(ctx, value, scope); err != nil {
				return nil, err
			}
			continue
		case http.StatusForbidden:
			ch := wwwauth.Bearer(resp.Header)
			if ch.ErrorCode() != "insufficient_scope" {
				ch = wwwauth.DPoP(resp.Header) // the challenge of a DPoP-bound token's scheme
			}
			if ch.ErrorCode() != "insufficient_scope" {
				break
			}
			discard(resp)
			if stepUps == maxStepUps {
				return nil, &StatusError{Method: req.Method, Status: resp.StatusCode, Body: fmt.Sprintf("still insufficient_scope for %s after %d step-ups (scope %q)", operation, maxStepUps, ch.Scope())}
			}
			stepUps++
			b.log.Info("the server wants more scope; stepping up", "operation", operation, "scope", ch.Scope())
			if err := b.opts.Credentials.StepUp(ctx, operation, ch.Scope()); err != nil {
				return nil, err
			}
			continue
		}
		if stepUps > 0 && resp.StatusCode < 300 {
			b.opts.Credentials.StepUpDone(operation)
		}
		return resp, nil
	}
}

// operation names a message for step-up accounting: the method, and the tool for tools/call.
func operation(env jsonrpc.Envelope) string {
	switch {
	case env.Kind == jsonrpc.KindBatch:
		return "batch"
	case env.ToolName != "":
		return env.Method + " " + env.ToolName
	case env.Method != "":
		return env.Method
	}
	return "response"
}

// discard drains a little of an unwanted body, so the connection can be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// maxErrorBody bounds what is read of an error response.
const maxErrorBody = 1 << 20

// readError turns a non-2xx answer into either JSON-RPC messages (a server that answers a
// request with an HTTP error and a JSON-RPC error body: those go to the client, which is
// what it would get from the server directly) or a *StatusError.
func (b *base) readError(resp *http.Response) (delivered []jsonrpc.Envelope, err error) {
	return b.errorBody(resp, readErrorBody(resp))
}

// readErrorBody reads (the start of) the body of a non-2xx answer, and closes it.
func readErrorBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return body
}

// errorBody is readError for a body already read.
func (b *base) errorBody(resp *http.Response, body []byte) (delivered []jsonrpc.Envelope, err error) {
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		if env, perr := jsonrpc.Parse(t); perr == nil && (env.Kind == jsonrpc.KindResponse || env.Kind == jsonrpc.KindBatch) {
			if env.Kind == jsonrpc.KindResponse && len(env.ID) > 0 && string(env.ID) != "null" {
				env, _ = b.deliver(t)
				return []jsonrpc.Envelope{env}, nil
			}
			if env.Kind == jsonrpc.KindBatch {
				env, _ = b.deliver(t)
				return []jsonrpc.Envelope{env}, nil
			}
		}
	}
	return nil, &StatusError{Method: resp.Request.Method, Status: resp.StatusCode, Body: snippet(body)}
}

// snippet returns the start of a body as one printable line.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// mediaType returns the lowercased media type of a Content-Type header.
func mediaType(h http.Header) string {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// readBody reads a JSON body of at most max bytes. A body of known length is read into one
// buffer of that size; one of unknown length (chunked) into chunks of growing size, joined once
// at the end: a buffer that doubles as it fills would copy and clear a 32 MiB answer several
// times over.
func readBody(resp *http.Response, max int) ([]byte, error) {
	tooBig := func() error { return fmt.Errorf("the server's answer is more than the %d-byte limit", max) }
	if resp.ContentLength > int64(max) {
		return nil, tooBig()
	}
	readErr := func(err error) error {
		return &UnreachableError{Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if resp.ContentLength >= 0 {
		buf := make([]byte, resp.ContentLength)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, readErr(err)
		}
		return buf, nil
	}
	var chunks [][]byte
	total, size := 0, 32<<10
	for {
		chunk := make([]byte, size)
		n, err := io.ReadFull(resp.Body, chunk)
		chunks = append(chunks, chunk[:n])
		total += n
		if total > max {
			return nil, tooBig()
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, readErr(err)
		}
		size = min(size*2, 4<<20)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// trimJSONSpace returns body without the JSON whitespace around its value (a slice of it, no
// copy). Many servers end a JSON body with a newline (Go's json.Encoder does); relayed as is, that
// newline would make the stdio writer compact the whole message into a copy, which for a 32 MiB
// answer is a third 32 MiB buffer and a pass over every byte, to remove one byte the line
// framing replaces anyway.
func trimJSONSpace(body []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(body) > 0 && isSpace(body[len(body)-1]) {
		body = body[:len(body)-1]
	}
	for len(body) > 0 && isSpace(body[0]) {
		body = body[1:]
	}
	return body
}

// requestIDs returns the id keys of the requests in a message (one, or those of a batch):
// the answers Send waits for.
func requestIDs(env jsonrpc.Envelope) map[string]bool {
	switch env.Kind {
	case jsonrpc.KindRequest:
		return map[string]bool{env.IDKey(): true}
	case jsonrpc.KindBatch:
		ids := map[string]bool{}
		for _, e := range env.Batch {
			if e.Kind == jsonrpc.KindRequest {
				ids[e.IDKey()] = true
			}
		}
		return ids
	}
	return nil
}

// answered removes from want the ids that env answers.
func answered(want map[string]bool, env jsonrpc.Envelope) {
	switch env.Kind {
	case jsonrpc.KindResponse:
		delete(want, env.IDKey())
	case jsonrpc.KindBatch:
		for _, e := range env.Batch {
			if e.Kind == jsonrpc.KindResponse {
				delete(want, e.IDKey())
			}
		}
	}
}
