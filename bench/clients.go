package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/sse"
)

// transport is an MCP HTTP transport the bench measures.
type transport string

const (
	streamableHTTP transport = "streamable-http"
	legacySSE      transport = "sse"
)

// transports are measured in this order.
var transports = []transport{streamableHTTP, legacySSE}

// title is the transport's name in reports.
func (t transport) title() string {
	if t == legacySSE {
		return "legacy HTTP+SSE"
	}
	return "Streamable HTTP"
}

// kind is one of the clients compared.
type kind string

const (
	direct  kind = "direct"
	bridgeK kind = "bridge"
	// bridgeWatched is the bridge while someone watches its traffic (`mcp-broker traffic
	// --follow`, bodies off): what the timeline costs, against bridgeK, which no one watches.
	bridgeWatched kind = "bridge-watched"
	// bridgeWindow is the bridge while the app's Timeline window shows its traffic: the
	// watching of bridgeWatched, plus the app drawing every event on the same two cores.
	bridgeWindow kind = "bridge-window"
	mcpRemote    kind = "mcp-remote"
)

// kinds are measured, and shown, in this order.
var kinds = []kind{direct, bridgeK, bridgeWatched, bridgeWindow, mcpRemote}

// maxLine bounds one message read from a peer: the largest result and then some.
const maxLine = 2 * maxBlob

// session is one connected client: initialized, ready for tools/call.
type session interface {
	// call sends one request whose id is id and returns the raw answer. sizeHint is the size of
	// the answer expected, so that reading it costs one allocation (0: small).
	call(ctx context.Context, id int64, msg []byte, sizeHint int) ([]byte, error)
	// pid is the relay process, 0 for the direct client (which runs inside the bench).
	pid() int
	// close ends the session, bounded in time.
	close()
}

// The client's initialize, as Claude Code sends it.
const initializeMsg = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true},"elicitation":{}},"clientInfo":{"name":"mcp-broker-bench","version":"1.0.0"}}}`

const initializedMsg = `{"jsonrpc":"2.0","method":"notifications/initialized"}`

// echoRequest is the small tools/call.
func echoRequest(id int64) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + strconv.FormatInt(id, 10) +
		`,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello, world"}}}`)
}

// blobRequest asks for a result of n bytes of text.
func blobRequest(id int64, n int) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + strconv.FormatInt(id, 10) +
		`,"method":"tools/call","params":{"name":"blob","arguments":{"bytes":` + strconv.Itoa(n) + `}}}`)
}

// checkAnswer checks that answer is a successful response to id, at least minLen bytes long.
func checkAnswer(answer []byte, id int64, minLen int) error {
	env, err := jsonrpc.Parse(answer)
	switch {
	case err != nil:
		return fmt.Errorf("the answer to %d is not JSON: %w", id, err)
	case env.Kind != jsonrpc.KindResponse || string(env.ID) != strconv.FormatInt(id, 10):
		return fmt.Errorf("the answer to %d is not a response to it: %.200s", id, answer)
	case env.IsError || bytes.Contains(answer[:min(len(answer), 200)], []byte(`"isError":true`)):
		return fmt.Errorf("the answer to %d is an error: %.300s", id, answer)
	case len(answer) < minLen:
		return fmt.Errorf("the answer to %d has %d bytes, want at least %d", id, len(answer), minLen)
	}
	return nil
}

// waiters route answers to the goroutines waiting for them, by id.
type waiters struct {
	mu   sync.Mutex
	m    map[string]chan []byte
	err  error // once set, the peer is gone: every wait fails with it
	gone chan struct{}
}

func newWaiters() *waiters { return &waiters{m: map[string]chan []byte{}, gone: make(chan struct{})} }

func (w *waiters) add(id int64) chan []byte {
	ch := make(chan []byte, 1)
	w.mu.Lock()
	w.m[strconv.FormatInt(id, 10)] = ch
	w.mu.Unlock()
	return ch
}

func (w *waiters) drop(id int64) {
	w.mu.Lock()
	delete(w.m, strconv.FormatInt(id, 10))
	w.mu.Unlock()
}

// deliver hands an answer to its waiter; it reports whether there was one.
func (w *waiters) deliver(key string, msg []byte) bool {
	w.mu.Lock()
	ch, ok := w.m[key]
	delete(w.m, key)
	w.mu.Unlock()
	if ok {
		ch <- msg
	}
	return ok
}

// fail ends every wait, now and later, with err.
func (w *waiters) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
		close(w.gone)
	}
}

// wait waits for the answer on ch.
func (w *waiters) wait(ctx context.Context, id int64, ch chan []byte) ([]byte, error) {
	select {
	case msg := <-ch:
		return msg, nil
	case <-w.gone:
		w.drop(id)
		w.mu.Lock()
		defer w.mu.Unlock()
		return nil, w.err
	case <-ctx.Done():
		w.drop(id)
		return nil, ctx.Err()
	}
}

// ---- the direct client: Streamable HTTP ----

// newHTTPClient is a client like the bridge's: keep-alive connections, enough idle ones for
// ten requests in flight, no proxy (everything is on 127.0.0.1).
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// directHTTP speaks Streamable HTTP straight to the server, as a Go MCP client would.
type directHTTP struct {
	client  *http.Client
	url     string
	auth    string
	session string
	version string
}

// dialDirectHTTP initializes a session on a fresh HTTP client (new connections: a cold start).
func dialDirectHTTP(ctx context.Context, endpoint, auth string) (*directHTTP, error) {
	d := &directHTTP{client: newHTTPClient(), url: endpoint, auth: auth}
	answer, hdr, err := d.post(ctx, []byte(initializeMsg), "0", 0)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	var r struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if err := json.Unmarshal(answer, &r); err != nil || r.Result.ProtocolVersion == "" {
		d.close()
		return nil, fmt.Errorf("initialize: unexpected answer %.200s", answer)
	}
	d.session, d.version = hdr.Get("Mcp-Session-Id"), r.Result.ProtocolVersion
	if _, _, err := d.post(ctx, []byte(initializedMsg), "", 0); err != nil {
		d.close()
		return nil, fmt.Errorf("notifications/initialized: %w", err)
	}
	return d, nil
}

func (d *directHTTP) call(ctx context.Context, id int64, msg []byte, sizeHint int) ([]byte, error) {
	answer, _, err := d.post(ctx, msg, strconv.FormatInt(id, 10), sizeHint)
	return answer, err
}

// post sends msg and returns the answer whose id key is want ("" for a notification).
func (d *directHTTP) post(ctx context.Context, msg []byte, want string, sizeHint int) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(msg))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", d.auth)
	if d.session != "" {
		req.Header.Set("Mcp-Session-Id", d.session)
		req.Header.Set("Mcp-Protocol-Version", d.version)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	if want == "" {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, resp.Header, nil
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") {
		answer, err := readSSEAnswer(resp.Body, want)
		return answer, resp.Header, err
	}
	answer, err := readAll(resp.Body, sizeHint)
	return answer, resp.Header, err
}

// readAll reads r into one buffer of capacity sizeHint (plus a little), growing it only if the
// hint was short.
func readAll(r io.Reader, sizeHint int) ([]byte, error) {
	buf := make([]byte, 0, sizeHint+4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readSSEAnswer reads an SSE response until the message whose id key is want.
func readSSEAnswer(body io.Reader, want string) ([]byte, error) {
	r := sse.NewReader(body, maxLine)
	for {
		ev, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading the event stream: %w", err)
		}
		if len(ev.Data) == 0 {
			continue
		}
		if env, err := jsonrpc.Parse(ev.Data); err == nil && env.Kind == jsonrpc.KindResponse && env.IDKey() == want {
			return ev.Data, nil
		}
	}
}

func (d *directHTTP) pid() int { return 0 }

func (d *directHTTP) close() {
	if d.session != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, d.url, nil)
		if err == nil {
			req.Header.Set("Authorization", d.auth)
			req.Header.Set("Mcp-Session-Id", d.session)
			req.Header.Set("Mcp-Protocol-Version", d.version)
			if resp, err := d.client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		cancel()
	}
	d.client.CloseIdleConnections()
}

// ---- the direct client: legacy HTTP+SSE ----

// directSSE speaks the legacy transport straight to the server: one GET stream carries the
// answers to the messages POSTed to the endpoint it names.
type directSSE struct {
	client   *http.Client
	auth     string
	endpoint string
	w        *waiters
	cancel   context.CancelFunc
	done     chan struct{}
}

// dialDirectSSE opens the stream on a fresh HTTP client and initializes.
func dialDirectSSE(ctx context.Context, sseURL, auth string) (*directSSE, error) {
	streamCtx, cancel := context.WithCancel(context.Background())
	d := &directSSE{client: newHTTPClient(), auth: auth, w: newWaiters(), cancel: cancel, done: make(chan struct{})}
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, sseURL, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", auth)
	stop := context.AfterFunc(ctx, cancel) // the handshake ends with ctx
	defer stop()
	resp, err := d.client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("GET %s: HTTP %d", sseURL, resp.StatusCode)
	}
	endpoint := make(chan string, 1)
	base, _ := url.Parse(sseURL)
	go d.read(resp.Body, base, endpoint)
	select {
	case d.endpoint = <-endpoint:
	case <-d.w.gone:
		d.close()
		return nil, fmt.Errorf("the stream ended before its endpoint event: %w", d.w.err)
	case <-ctx.Done():
		d.close()
		return nil, ctx.Err()
	}
	if _, err := d.call(ctx, 0, []byte(initializeMsg), 0); err != nil {
		d.close()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if err := d.postOnly(ctx, []byte(initializedMsg)); err != nil {
		d.close()
		return nil, fmt.Errorf("notifications/initialized: %w", err)
	}
	return d, nil
}

// read delivers the stream's answers until it ends.
func (d *directSSE) read(body io.ReadCloser, base *url.URL, endpoint chan<- string) {
	defer close(d.done)
	defer body.Close()
	r := sse.NewReader(body, maxLine)
	for {
		ev, err := r.Next()
		if err != nil {
			d.w.fail(fmt.Errorf("the event stream ended: %w", err))
			return
		}
		if ev.Type == "endpoint" {
			ref, err := url.Parse(strings.TrimSpace(string(ev.Data)))
			if err != nil {
				d.w.fail(fmt.Errorf("bad endpoint event: %w", err))
				return
			}
			select {
			case endpoint <- base.ResolveReference(ref).String():
			default:
			}
			continue
		}
		if len(ev.Data) == 0 {
			continue
		}
		if env, err := jsonrpc.Parse(ev.Data); err == nil && env.Kind == jsonrpc.KindResponse {
			d.w.deliver(env.IDKey(), ev.Data)
		}
	}
}

func (d *directSSE) postOnly(ctx context.Context, msg []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint, bytes.NewReader(msg))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", d.auth)
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST: HTTP %d", resp.StatusCode)
	}
	return nil
}

func (d *directSSE) call(ctx context.Context, id int64, msg []byte, _ int) ([]byte, error) {
	ch := d.w.add(id)
	if err := d.postOnly(ctx, msg); err != nil {
		d.w.drop(id)
		return nil, err
	}
	return d.w.wait(ctx, id, ch)
}

func (d *directSSE) pid() int { return 0 }

func (d *directSSE) close() {
	d.cancel()
	select {
	case <-d.done:
	case <-time.After(2 * time.Second):
	}
	d.client.CloseIdleConnections()
}

// ---- a relay driven over stdio, as Claude Code drives it ----

// stdioSession runs a relay (the bridge or mcp-remote) and speaks MCP to it on stdio: one
// message per line.
type stdioSession struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *jsonrpc.Writer
	w      *waiters
	hint   atomic.Int64 // the size of the largest answer expected next
	exited chan struct{}
}

// startStdio starts argv with env, sends initialize at once and returns when it is answered,
// with the time from the start of the process to the answer: the cold start. The relay's
// stderr goes to stderrPath.
func startStdio(ctx context.Context, argv, env []string, stderrPath string) (*stdioSession, time.Duration, error) {
	errFile, err := os.OpenFile(stderrPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, err
	}
	defer errFile.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stderr = errFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	s := &stdioSession{cmd: cmd, stdin: stdin, out: jsonrpc.NewWriter(stdin), w: newWaiters(), exited: make(chan struct{})}
	ch := s.w.add(0)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	go s.read(stdout)
	// Written before the relay reads it, as Claude Code does: the pipe holds it.
	if err := s.out.Write([]byte(initializeMsg)); err != nil {
		s.close()
		return nil, 0, fmt.Errorf("writing initialize: %w", err)
	}
	answer, err := s.w.wait(ctx, 0, ch)
	cold := time.Since(start)
	if err != nil {
		s.close()
		return nil, 0, fmt.Errorf("initialize: %w (see %s)", err, stderrPath)
	}
	if env, err := jsonrpc.Parse(answer); err != nil || env.IsError {
		s.close()
		return nil, 0, fmt.Errorf("initialize: unexpected answer %.200s (see %s)", answer, stderrPath)
	}
	if err := s.out.Write([]byte(initializedMsg)); err != nil {
		s.close()
		return nil, 0, err
	}
	return s, cold, nil
}

// read delivers the relay's answers until its stdout closes, then reaps it.
func (s *stdioSession) read(stdout io.Reader) {
	defer close(s.exited)
	r := bufio.NewReaderSize(stdout, 1<<20)
	for {
		line, err := s.readLine(r)
		if len(line) > 0 {
			s.route(line)
		}
		if err != nil {
			s.w.fail(fmt.Errorf("the relay closed stdout: %w", err))
			_ = s.cmd.Wait()
			return
		}
	}
}

// readLine reads one line into a buffer sized for the answer expected, so that a big answer
// costs the driver one copy, as it costs the direct client.
func (s *stdioSession) readLine(r *bufio.Reader) ([]byte, error) {
	frag, err := r.ReadSlice('\n')
	if err == nil {
		return bytes.Clone(frag[:len(frag)-1]), nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return bytes.Clone(frag), err
	}
	line := make([]byte, 0, max(int(s.hint.Load())+4096, 2*len(frag)))
	line = append(line, frag...)
	for {
		frag, err = r.ReadSlice('\n')
		if err == nil {
			return append(line, frag[:len(frag)-1]...), nil
		}
		line = append(line, frag...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
		if len(line) > maxLine {
			return nil, errors.New("a line longer than the limit")
		}
	}
}

// route hands an answer to its caller and answers the relay's own requests (ping) at once.
func (s *stdioSession) route(line []byte) {
	env, err := jsonrpc.Parse(line)
	if err != nil {
		return
	}
	switch env.Kind {
	case jsonrpc.KindResponse:
		s.w.deliver(env.IDKey(), line)
	case jsonrpc.KindRequest:
		_ = s.out.Write([]byte(`{"jsonrpc":"2.0","id":` + string(env.ID) + `,"result":{}}`))
	}
}

func (s *stdioSession) call(ctx context.Context, id int64, msg []byte, sizeHint int) ([]byte, error) {
	if sizeHint > 0 {
		s.hint.Store(int64(sizeHint))
	}
	ch := s.w.add(id)
	if err := s.out.Write(msg); err != nil {
		s.w.drop(id)
		return nil, err
	}
	return s.w.wait(ctx, id, ch)
}

func (s *stdioSession) pid() int { return s.cmd.Process.Pid }

// close closes stdin, as Claude Code does at exit, and waits for the relay to go; one that
// lingers is killed.
func (s *stdioSession) close() {
	_ = s.stdin.Close()
	select {
	case <-s.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
}
