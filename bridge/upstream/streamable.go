package upstream

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/paramheaders"
	"github.com/mcp-broker/mcp-broker/bridge/retry"
	"github.com/mcp-broker/mcp-broker/bridge/sse"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// errClosed is returned by Send after Close.
var errClosed = errors.New("the connection to the server is closed")

// maxResumes bounds consecutive attempts to resume a response stream that make no progress.
const maxResumes = 5

// replayID is the id of the initialize requests the transport sends by itself (after a session
// 404). A prefix no client uses keeps its answer apart from the client's.
const replayID = `"mcp-broker-reinitialize"`

// streamable is a Streamable HTTP connection: a session opened with the client's initialize,
// or (init == nil) the stateless requests of the 2026-07-28 revision.
type streamable struct {
	base
	url      string
	init     []byte // the client's initialize, for re-initialization; nil when stateless
	lost     chan struct{}
	ctx      context.Context // the connection's life: the GET stream, re-initialization
	cancel   context.CancelFunc
	streams  sync.WaitGroup
	reinitMu sync.Mutex
	ownIDs   atomic.Uint64 // numbers the requests the transport sends by itself (tools.go)

	mu        sync.Mutex
	session   string
	version   string
	getCancel context.CancelFunc // the GET stream of the current session
	ready     chan struct{}      // closed once the session's initialized notification is out
	closed    bool
}

func newStreamable(opts Options, u *url.URL, init []byte) *streamable {
	ctx, cancel := context.WithCancel(context.Background())
	return &streamable{base: newBase(opts), url: u.String(), init: init, lost: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// withID returns msg with its id replaced. The other members keep their exact bytes
// (json.RawMessage); only their order may change, which JSON-RPC does not care about.
func withID(msg []byte, id string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return msg
	}
	m["id"] = json.RawMessage(id)
	out, err := json.Marshal(m)
	if err != nil {
		return msg
	}
	return out
}

func (c *streamable) Transport() config.Transport { return config.TransportStreamableHTTP }

func (c *streamable) ProtocolVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// Lost is never closed: a Streamable HTTP connection survives anything by re-initializing.
func (c *streamable) Lost() <-chan struct{} { return c.lost }
func (c *streamable) LostErr() error        { return nil }

func (c *streamable) current() (session, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, c.version
}

// waitReady waits until the session's initialized notification has been sent.
func (c *streamable) waitReady(ctx context.Context) error {
	c.mu.Lock()
	ready := c.ready
	c.mu.Unlock()
	if ready == nil {
		return nil
	}
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// open sends initialize (msg, whose id is env's) without a session and, once answered, the
// initialized notification; it then starts the GET stream. It returns the server's answer.
func (c *streamable) open(ctx context.Context, msg []byte, env jsonrpc.Envelope) ([]byte, error) {
	key := env.IDKey()
	ch, cancel := c.expect(key)
	defer cancel()
	resp, err := c.post(ctx, msg, env, "", "")
	if err != nil {
		return nil, err
	}
	session := resp.Header.Get(headerSessionID)
	if resp.StatusCode >= 300 {
		if _, err := c.readError(resp); err != nil {
			return nil, err
		}
	} else if err := c.handle(ctx, resp, env); err != nil {
		return nil, err
	}
	var answer []byte
	select {
	case answer = <-ch:
	default:
		return nil, fmt.Errorf("the server did not answer initialize (HTTP %d)", resp.StatusCode)
	}
	version, rpcErr := initializeResult(answer)
	if rpcErr {
		return answer, &InitializeError{Response: answer}
	}
	// notifications/initialized goes out in the background, so that the client has its answer
	// one round trip sooner; Send holds every other message until it has been sent.
	ready := make(chan struct{})
	c.mu.Lock()
	c.session, c.version, c.ready = session, version, ready
	c.mu.Unlock()
	c.streams.Add(1)
	go func() {
		defer c.streams.Done()
		defer close(ready)
		if err := c.notifyInitialized(c.ctx); err != nil && c.ctx.Err() == nil {
			c.log.Warn("the server did not take notifications/initialized", "err", err)
		}
		// The GET stream must be open before the first request goes out: a server that sends
		// a request (elicitation, sampling) while handling a tool call puts it on that stream
		// if it exists, and loses it if the stream is still on its way. A server that is slow
		// to answer the GET costs at most getHeadStart.
		answered := c.startListening(session)
		select {
		case <-answered:
		case <-time.After(getHeadStart):
			c.log.Debug("the GET stream is slow to open; going on without waiting")
		case <-c.ctx.Done():
		}
	}()
	return answer, nil
}

// getHeadStart bounds how long a new session's requests wait for its GET stream to open.
const getHeadStart = time.Second

// initializeResult reads the protocol version from an answer to initialize, and whether the
// answer is an error.
func initializeResult(answer []byte) (version string, isError bool) {
	var r struct {
		Result *struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if err := json.Unmarshal(answer, &r); err != nil || r.Result == nil {
		return "", true
	}
	return r.Result.ProtocolVersion, false
}

// initializedNotification is what the bridge sends after initialize, on the client's behalf:
// the client's own is dropped, because the bridge opens sessions by itself too.
var initializedNotification = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

func (c *streamable) notifyInitialized(ctx context.Context) error {
	env := jsonrpc.Envelope{Kind: jsonrpc.KindNotification, Method: "notifications/initialized"}
	session, version := c.current()
	resp, err := c.post(ctx, initializedNotification, env, session, version)
	if err != nil {
		return fmt.Errorf("sending notifications/initialized: %w", err)
	}
	if resp.StatusCode >= 300 {
		_, err := c.readError(resp)
		return fmt.Errorf("sending notifications/initialized: %w", err)
	}
	discard(resp)
	return nil
}

// reinit opens a new session after the server forgot failed (a 404): it replays the client's
// initialize under our own id, swallows the answer, and sends initialized. Concurrent callers
// that saw the same dead session wait for one re-initialization.
func (c *streamable) reinit(ctx context.Context, failed string) error {
	c.reinitMu.Lock()
	defer c.reinitMu.Unlock()
	if s, _ := c.current(); s != failed {
		return nil // another request already did it
	}
	c.log.Info("the server forgot the session; initializing again")
	// Built here rather than up front: a session 404 is rare, and decoding and encoding the
	// client's initialize is a millisecond the bridge's cold start need not pay.
	replay := withID(c.init, replayID)
	env, err := jsonrpc.Parse(replay)
	if err != nil {
		return fmt.Errorf("replaying initialize: %w", err)
	}
	c.stopListening()
	c.mu.Lock()
	c.session = ""
	c.mu.Unlock()
	if _, err := c.open(ctx, replay, env); err != nil {
		return fmt.Errorf("initializing a new session: %w", err)
	}
	if c.opts.OnSession != nil {
		c.opts.OnSession(c.ProtocolVersion())
	}
	return nil
}

// Send posts msg and, for requests, waits for their answers (see Conn).
func (c *streamable) Send(ctx context.Context, msg []byte, env jsonrpc.Envelope) error {
	if c.init == nil && c.opts.Tools != nil && env.Kind == jsonrpc.KindRequest {
		switch env.Method {
		case "tools/list":
			return c.listTools(ctx, msg, env)
		case "tools/call":
			return c.callTool(ctx, msg, env)
		}
	}
	return c.send(ctx, msg, env)
}

// send is Send for any message.
func (c *streamable) send(ctx context.Context, msg []byte, env jsonrpc.Envelope) error {
	for attempt := 0; ; attempt++ {
		if c.ctx.Err() != nil {
			return errClosed
		}
		if err := c.waitReady(ctx); err != nil {
			return err
		}
		session, version := c.current()
		resp, err := c.post(ctx, msg, env, session, version)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusNotFound && session != "" && attempt < 2 {
			discard(resp)
			if err := c.reinit(ctx, session); err != nil {
				return err
			}
			continue
		}
		if resp.StatusCode >= 300 {
			_, err := c.readError(resp)
			return err
		}
		return c.handle(ctx, resp, env)
	}
}

// post sends one message. session and version are the session's (empty before initialize);
// params are the Mcp-Param-* headers of a stateless tools/call.
func (c *streamable) post(ctx context.Context, msg []byte, env jsonrpc.Envelope, session, version string, params ...paramheaders.Value) (*http.Response, error) {
	stateless := c.init == nil
	return c.do(ctx, operation(env), func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(msg))
		if err != nil {
			return nil, err
		}
		h := req.Header
		h.Set("Content-Type", "application/json")
		h.Set("Accept", acceptPost)
		if session != "" {
			h.Set(headerSessionID, session)
		}
		if version != "" {
			h.Set(headerProtocolVersion, version)
		}
		if stateless {
			setRequestMetadata(h, msg, env)
		}
		for _, p := range params {
			h.Set(p.Header, headerValue(p.Text))
		}
		return req, nil
	})
}

// handle reads a 2xx answer to a POST: JSON, an SSE stream (resumed if it breaks), or
// nothing (202).
func (c *streamable) handle(ctx context.Context, resp *http.Response, env jsonrpc.Envelope) error {
	want := requestIDs(env)
	switch mediaType(resp.Header) {
	case "application/json":
		body, err := readBody(resp, c.opts.MaxMessage)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if body = trimJSONSpace(body); len(body) == 0 {
			return nil
		}
		got, _ := c.deliver(body)
		answered(want, got)
		if len(want) > 0 {
			return errors.New("the server's JSON answer did not answer the request")
		}
		return nil
	case "text/event-stream":
		return c.readResponseStream(ctx, resp.Body, want)
	}
	discard(resp)
	if len(want) > 0 && resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the server answered with HTTP %d and content type %q instead of JSON or an event stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return nil
}

// readResponseStream reads a POST's SSE answer until every request in want is answered. A
// stream that ends early is resumed with GET and Last-Event-ID after the server's retry:
// delay, as long as the server gave its events ids (2025-11-25: servers may close a response
// stream at any time, and a disconnect is not a cancellation).
func (c *streamable) readResponseStream(ctx context.Context, body io.ReadCloser, want map[string]bool) error {
	var cur streamCursor
	failures := 0
	for {
		progressed, err := c.readEvents(body, &cur, want)
		body.Close()
		if len(want) == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cur.lastID == "" {
			return streamEnded(err)
		}
		if progressed {
			failures = 0
		}
		failures++
		if failures > maxResumes {
			return streamEnded(err)
		}
		wait := cur.retry
		if wait <= 0 {
			wait = retry.Backoff(failures)
		}
		c.log.Info("the response stream ended before the answer; resuming", "after", wait, "err", err)
		if !retry.Sleep(ctx, wait) {
			return ctx.Err()
		}
		session, version := c.current()
		resp, err := c.get(ctx, session, version, cur.lastID)
		if err != nil {
			var ue *UnreachableError
			if errors.As(err, &ue) {
				continue // the server may come back: try again after the delay
			}
			return err
		}
		if resp.StatusCode != http.StatusOK || mediaType(resp.Header) != "text/event-stream" {
			discard(resp)
			return fmt.Errorf("the response stream broke and the server refused to resume it (HTTP %d)", resp.StatusCode)
		}
		body = resp.Body
	}
}

func streamEnded(err error) error {
	if err != nil && !errors.Is(err, io.EOF) {
		return &UnreachableError{Err: fmt.Errorf("the response stream broke before the answer: %w", err)}
	}
	return errors.New("the server closed the response stream before answering")
}

// streamCursor is where a stream was: its last event id and the server's reconnection delay.
type streamCursor struct {
	lastID string
	retry  time.Duration
}

// readEvents delivers the messages of an SSE stream until it ends or, when want is not nil,
// until every id in want is answered. It reports whether it delivered anything.
func (c *base) readEvents(body io.Reader, cur *streamCursor, want map[string]bool) (progressed bool, err error) {
	err = c.eachEvent(body, cur, func(typ string, data []byte) (bool, error) {
		if len(data) == 0 || (typ != "" && typ != "message") {
			return false, nil // a priming event, a keep-alive, or an event type MCP does not define
		}
		env, ok := c.deliver(data)
		progressed = true
		if ok && want != nil {
			answered(want, env)
			return len(want) == 0, nil
		}
		return false, nil
	})
	return progressed, err
}

// eachEvent reads an SSE stream, keeping cur up to date, and calls fn with each event's type
// and data until the stream ends (the error; io.EOF at a clean end) or fn says stop (nil).
func (c *base) eachEvent(body io.Reader, cur *streamCursor, fn func(typ string, data []byte) (stop bool, err error)) error {
	r := sse.NewReader(body, c.opts.MaxMessage)
	over := &overflow{}
	r.Overflow(over)
	defer func() {
		// retry: takes effect when read, even in an event the stream never finished.
		if d, ok := r.Retry(); ok {
			cur.retry = d
		}
	}()
	for {
		ev, err := r.Next()
		if errors.Is(err, sse.ErrTooLarge) {
			cur.lastID = r.LastEventID()
			msg := c.tooLarge(over)
			over.reset()
			if msg == nil {
				continue
			}
			if stop, err := fn("message", msg); err != nil || stop {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if ev.HasID {
			cur.lastID = ev.ID
		}
		stop, err := fn(ev.Type, ev.Data)
		if err != nil || stop {
			return err
		}
	}
}

// overflow takes the data of an SSE event too large to relay: it counts the bytes and outlines
// the JSON-RPC envelope, keeping neither.
type overflow struct {
	size    int64
	outline jsonrpc.Outline
}

func (o *overflow) Write(p []byte) (int, error) {
	o.size += int64(len(p))
	return o.outline.Write(p)
}

func (o *overflow) reset() {
	o.size = 0
	o.outline.Reset()
}

// tooLarge stands in for a message the server sent that is larger than the limit: an answer
// (or a batch of answers) is replaced by an error answer to the same request(s), which says
// why, so that the client's request fails at once instead of waiting for an answer that will
// never come (the server considers it sent). Anything else is dropped (nil): a notification
// is lost, and a server request too large to relay goes unanswered, as it would with a client
// that had to refuse it.
func (c *base) tooLarge(o *overflow) []byte {
	limit := c.opts.MaxMessage
	env, ok := o.outline.Envelope()
	if !ok || (env.Kind != jsonrpc.KindResponse && env.Kind != jsonrpc.KindBatch) {
		c.log.Warn("the server sent a message larger than the limit; dropped", "bytes", o.size, "limit", limit, "kind", env.Kind.String())
		return nil
	}
	text := fmt.Sprintf("mcp-broker: the server's answer is %d bytes, more than the %d-byte limit: dropped (the limit is mcp-broker bridge --max-message)", o.size, limit)
	data := map[string]int64{"size": o.size, "limit": int64(limit)}
	if env.Kind == jsonrpc.KindResponse {
		c.log.Warn("the server's answer is larger than the limit; answering with an error", "id", string(env.ID), "bytes", o.size, "limit", limit)
		return jsonrpc.ErrorResponse(env.ID, jsonrpc.CodeUpstream, text, data)
	}
	out := []byte{'['}
	for _, e := range env.Batch {
		if e.Kind != jsonrpc.KindResponse {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, jsonrpc.ErrorResponse(e.ID, jsonrpc.CodeUpstream, text, data)...)
	}
	if len(out) == 1 {
		c.log.Warn("the server sent a batch larger than the limit, without answers; dropped", "bytes", o.size, "limit", limit)
		return nil
	}
	c.log.Warn("the server's batch of answers is larger than the limit; answering each with an error", "bytes", o.size, "limit", limit)
	return append(out, ']')
}

// get opens a GET stream, resuming after lastID when it is not empty.
func (c *streamable) get(ctx context.Context, session, version, lastID string) (*http.Response, error) {
	return c.do(ctx, "GET stream", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", acceptStream)
		if session != "" {
			req.Header.Set(headerSessionID, session)
		}
		if version != "" {
			req.Header.Set(headerProtocolVersion, version)
		}
		if lastID != "" {
			req.Header.Set(headerLastEventID, lastID)
		}
		return req, nil
	})
}

// startListening opens the optional GET stream of a session in the background. The channel
// it returns is closed once the server has answered the first GET (with a stream, a refusal
// or an error), or at once when there is no stream to open.
func (c *streamable) startListening(session string) <-chan struct{} {
	answered := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.init == nil {
		close(answered)
		return answered
	}
	if c.getCancel != nil {
		c.getCancel()
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.getCancel = cancel
	c.streams.Add(1)
	go func() {
		defer c.streams.Done()
		c.listen(ctx, session, answered)
	}()
	return answered
}

func (c *streamable) stopListening() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.getCancel != nil {
		c.getCancel()
		c.getCancel = nil
	}
}

// listen keeps the GET stream of a session open, reconnecting with Last-Event-ID after the
// server's retry: delay (or a backoff) until ctx ends, the server says it has no such stream
// (404 or 405 on the first attempt) or forgets the session (404). It closes answered once the
// first attempt has its answer.
func (c *streamable) listen(ctx context.Context, session string, answered chan<- struct{}) {
	var cur streamCursor
	failures := 0
	defer func() {
		if answered != nil {
			close(answered)
		}
	}()
	for attempt := 1; ; attempt++ {
		_, version := c.current()
		resp, err := c.get(ctx, session, version, cur.lastID)
		if answered != nil {
			close(answered)
			answered = nil
		}
		switch {
		case ctx.Err() != nil:
			if err == nil {
				resp.Body.Close()
			}
			return
		case err != nil:
			failures++
			c.log.Info("GET stream failed", "err", err, "attempt", failures)
		case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotFound:
			discard(resp)
			if attempt == 1 {
				c.log.Debug("the server offers no GET stream", "status", resp.StatusCode)
			} else {
				c.log.Info("the server no longer has the session's GET stream", "status", resp.StatusCode)
			}
			return
		case resp.StatusCode != http.StatusOK || mediaType(resp.Header) != "text/event-stream":
			discard(resp)
			failures++
			c.log.Info("GET stream refused", "status", resp.StatusCode, "attempt", failures)
		default:
			progressed, err := c.readEvents(resp.Body, &cur, nil)
			resp.Body.Close()
			if ctx.Err() != nil {
				return
			}
			if progressed || cur.lastID != "" {
				failures = 0
			}
			failures++
			c.log.Debug("GET stream ended", "err", err)
		}
		wait := cur.retry
		if wait <= 0 || failures > 1 {
			wait = max(wait, retry.Backoff(failures))
		}
		if !retry.Sleep(ctx, wait) {
			return
		}
	}
}

// Close stops the GET stream and ends the session with DELETE, bounded by ctx.
func (c *streamable) Close(ctx context.Context) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	session, version := c.session, c.version
	c.mu.Unlock()
	c.cancel()
	if session != "" {
		resp, err := c.do(ctx, "DELETE", func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set(headerSessionID, session)
			if version != "" {
				req.Header.Set(headerProtocolVersion, version)
			}
			return req, nil
		})
		if err == nil {
			discard(resp)
		} else {
			c.log.Debug("ending the session", "err", err)
		}
	}
	c.streams.Wait()
}

// setRequestMetadata adds the headers of the 2026-07-28 revision, which mirror the body:
// Mcp-Method, Mcp-Name (params.name of tools/call and prompts/get, params.uri of
// resources/read) and MCP-Protocol-Version from params._meta.
func setRequestMetadata(h http.Header, msg []byte, env jsonrpc.Envelope) {
	if env.Method == "" {
		return
	}
	h.Set(headerMethod, env.Method)
	if env.ToolName != "" {
		h.Set(headerName, headerValue(env.ToolName))
	}
	var m struct {
		Params struct {
			Meta struct {
				ProtocolVersion string `json:"io.modelcontextprotocol/protocolVersion"`
			} `json:"_meta"`
		} `json:"params"`
	}
	if err := json.Unmarshal(msg, &m); err == nil && m.Params.Meta.ProtocolVersion != "" {
		h.Set(headerProtocolVersion, headerValue(m.Params.Meta.ProtocolVersion))
	}
}

// headerValue encodes a value for an HTTP header the way the 2026-07-28 transport says: as
// is when it is plain visible ASCII and spaces, without surrounding spaces, else =?base64?…?=.
// A tab anywhere counts as the control character it is (the specification lists control
// characters among what needs Base64; HTTP would carry an inner tab, but an intermediary may
// fold it, and every conforming server decodes Base64).
func headerValue(v string) string {
	plain := v != "" && v[0] != ' ' && v[len(v)-1] != ' '
	for i := 0; plain && i < len(v); i++ {
		if b := v[i]; b < 0x20 || b > 0x7e {
			plain = false
		}
	}
	if plain && !(len(v) >= len("=?base64?")+2 && v[:9] == "=?base64?" && v[len(v)-2:] == "?=") {
		return v
	}
	return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
}
