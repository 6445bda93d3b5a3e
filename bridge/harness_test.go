package bridge_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// wait bounds every wait of these tests: long enough for a 32 MiB relay under -race on a loaded
// 2-core machine (it took 16 s in a full make test), short enough
// that a hang fails the test rather than the whole run.
const wait = 60 * time.Second

// client plays Claude Code: it writes lines to the bridge's stdin and reads its stdout.
type client struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan []byte
	done  chan error
	mu    sync.Mutex
	other [][]byte // messages set aside by recvID
	stop  context.CancelFunc
}

// run starts bridge.Run in-process with pipes for stdin and stdout.
func run(t *testing.T, opts bridge.Options) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	opts.In, opts.Out = inR, outW
	if opts.Log == nil {
		opts.Log = newTestLogger(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{t: t, in: inW, lines: make(chan []byte, 1024), done: make(chan error, 1), stop: cancel}
	go func() {
		err := bridge.Run(ctx, opts)
		if err != nil {
			t.Logf("bridge.Run: %v", err)
		}
		outW.Close()
		inR.CloseWithError(fmt.Errorf("the bridge has exited: %v", err))
		c.done <- err
	}()
	go func() {
		defer close(c.lines)
		r := bufio.NewReaderSize(outR, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				if line[len(line)-1] != '\n' {
					t.Errorf("stdout: a message without its newline: %.200q", line)
				}
				c.lines <- bytes.TrimSuffix(line, []byte("\n"))
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-c.done:
		case <-time.After(wait):
			t.Error("the bridge did not exit after stdin closed")
		}
		cancel()
		inR.Close()
	})
	return c
}

// send writes one line.
func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("writing to the bridge: %v", err)
	}
}

// recv returns the next message.
func (c *client) recv() []byte {
	c.t.Helper()
	c.mu.Lock()
	if len(c.other) > 0 {
		m := c.other[0]
		c.other = c.other[1:]
		c.mu.Unlock()
		return m
	}
	c.mu.Unlock()
	select {
	case m, ok := <-c.lines:
		if !ok {
			c.t.Fatal("the bridge closed stdout")
		}
		return m
	case <-time.After(wait):
		c.t.Fatal("no message from the bridge")
	}
	return nil
}

// recvID returns the response with that exact raw id, setting other messages aside.
func (c *client) recvID(id string) []byte {
	c.t.Helper()
	c.mu.Lock()
	for i, m := range c.other {
		if rawID(m) == id && isResponse(m) {
			c.other = append(c.other[:i:i], c.other[i+1:]...)
			c.mu.Unlock()
			return m
		}
	}
	c.mu.Unlock()
	deadline := time.After(wait)
	for {
		select {
		case m, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("the bridge closed stdout before answering %s", id)
			}
			if rawID(m) == id && isResponse(m) {
				return m
			}
			c.mu.Lock()
			c.other = append(c.other, m)
			c.mu.Unlock()
		case <-deadline:
			c.t.Fatalf("no answer to id %s; other messages: %q", id, c.other)
		}
	}
}

// recvMethod returns the next message with that method, setting others aside.
func (c *client) recvMethod(method string) []byte {
	c.t.Helper()
	c.mu.Lock()
	for i, m := range c.other {
		if methodOf(m) == method {
			c.other = append(c.other[:i:i], c.other[i+1:]...)
			c.mu.Unlock()
			return m
		}
	}
	c.mu.Unlock()
	deadline := time.After(wait)
	for {
		select {
		case m, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("the bridge closed stdout before sending %s", method)
			}
			if methodOf(m) == method {
				return m
			}
			c.mu.Lock()
			c.other = append(c.other, m)
			c.mu.Unlock()
		case <-deadline:
			c.t.Fatalf("no %s from the bridge", method)
		}
	}
}

// call sends a request and returns its decoded response.
func (c *client) call(id int, method, params string) map[string]any {
	c.t.Helper()
	msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q`, id, method)
	if params != "" {
		msg += `,"params":` + params
	}
	c.send(msg + "}")
	return decode(c.t, c.recvID(fmt.Sprint(id)))
}

// closeStdin ends the session the way Claude Code does, and returns Run's error and how long
// the bridge took to exit.
func (c *client) closeStdin() (error, time.Duration) {
	c.t.Helper()
	start := time.Now()
	c.in.Close()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err, time.Since(start)
	case <-time.After(wait):
		c.t.Fatal("the bridge did not exit after stdin closed")
	}
	return nil, 0
}

const initializeMsg = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true},"elicitation":{}},"clientInfo":{"name":"claude-code","version":"2.0.0"}}}`

// initialize sends initialize and notifications/initialized, and returns the answer.
func (c *client) initialize() map[string]any {
	c.t.Helper()
	c.send(initializeMsg)
	res := decode(c.t, c.recvID("0"))
	c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return res
}

func decode(t *testing.T, msg []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatalf("not JSON: %.300q: %v", msg, err)
	}
	return m
}

func rawID(msg []byte) string {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return ""
	}
	return string(m.ID)
}

func isResponse(msg []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(msg, &m) != nil {
		return false
	}
	_, r := m["result"]
	_, e := m["error"]
	return r || e
}

func methodOf(msg []byte) string {
	var m struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(msg, &m)
	return m.Method
}

// resultOf returns the result object of a response, failing on an error response.
func resultOf(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	r, ok := m["result"].(map[string]any)
	if !ok {
		t.Fatalf("not a result: %v", m)
	}
	return r
}

// errorOf returns the error object of a response, failing on a result.
func errorOf(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("not an error: %v", m)
	}
	return e
}

// toolText is the first text content of a tools/call result.
func toolText(t *testing.T, m map[string]any) string {
	t.Helper()
	content, _ := resultOf(t, m)["content"].([]any)
	if len(content) == 0 {
		t.Fatalf("no content: %v", m)
	}
	first, _ := content[0].(map[string]any)
	s, _ := first["text"].(string)
	return s
}

// brokerEnv is a config file and a secret store that several brokers (processes) share.
type brokerEnv struct {
	config string
	store  *secrets.Memory
}

// newBrokerEnv configures srv (auth none unless set) in a new config and store.
func newBrokerEnv(t *testing.T, srv config.Server, secret string) *brokerEnv {
	t.Helper()
	e := &brokerEnv{config: filepath.Join(t.TempDir(), "config.json"), store: secrets.NewMemory()}
	if srv.Auth == "" {
		srv.Auth = config.AuthNone
	}
	if err := e.broker(t, nil).AddServer(t.Context(), srv, secret); err != nil {
		t.Fatal(err)
	}
	return e
}

// broker returns a broker on the shared config and store whose browser is op (nil: a
// browser that follows the sign-in redirects at once).
func (e *brokerEnv) broker(t *testing.T, op opener.Opener) *broker.Broker {
	t.Helper()
	if op == nil {
		op = &opener.Browser{}
	}
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: op, SignInTimeout: 20 * time.Second, Log: newTestLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newBroker returns a broker with srv configured, secrets in memory, and op as its browser.
func newBroker(t *testing.T, srv config.Server, secret string, op opener.Opener) *broker.Broker {
	t.Helper()
	return newBrokerEnv(t, srv, secret).broker(t, op)
}

// demoServer starts the in-repo MCP server without authorization.
func demoServer(t *testing.T) *mcpserver.Server {
	t.Helper()
	s := mcpserver.New(mcpserver.Options{NoAuth: true})
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// authServers starts the in-repo authorization server and an MCP server that trusts it.
func authServers(t *testing.T, asOpts authserver.Options, mcpOpts mcpserver.Options) (*authserver.Server, *mcpserver.Server) {
	t.Helper()
	asOpts.AutoApprove = true
	as := authserver.New(asOpts)
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	mcpOpts.Verifier = as
	mcpOpts.AuthServers = []string{as.Issuer()}
	m := mcpserver.New(mcpOpts)
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return as, m
}

// httpGet is a bounded GET for tests.
func httpGet(t *testing.T, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// contains reports whether s contains every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
