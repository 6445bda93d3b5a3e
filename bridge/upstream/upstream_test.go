package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

const initMsg = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// sink collects what OnMessage receives.
type sink struct {
	mu   sync.Mutex
	msgs []string
	ch   chan string
}

func newSink() *sink { return &sink{ch: make(chan string, 100)} }

func (s *sink) handle(msg []byte, _ jsonrpc.Envelope) {
	s.mu.Lock()
	s.msgs = append(s.msgs, string(msg))
	s.mu.Unlock()
	s.ch <- string(msg)
}

func (s *sink) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-s.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	return ""
}

func send(t *testing.T, c Conn, msg string) error {
	t.Helper()
	env, err := jsonrpc.Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return c.Send(t.Context(), []byte(msg), env)
}

// legacyServer is a scripted HTTP+SSE server of 2024-11-05: GET ssePath gives a stream that
// starts with an endpoint event; POSTs are answered 202 and their answers go on the stream.
type legacyServer struct {
	*httptest.Server
	endpoint string // what the endpoint event says
	mu       sync.Mutex
	streams  []chan string
	gets     int
	posts    []*http.Request
}

func newLegacyServer(t *testing.T, endpoint string) *legacyServer {
	s := &legacyServer{endpoint: endpoint}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *legacyServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		ch := make(chan string, 10)
		s.mu.Lock()
		s.gets++
		s.streams = append(s.streams, ch)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: endpoint\ndata: %s\n\n", s.endpoint)
		w.(http.Flusher).Flush()
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					return // the server drops the stream
				}
				fmt.Fprintf(w, "event: message\ndata: %s\n\n", m)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	case http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.posts = append(s.posts, r.Clone(context.Background()))
		ch := s.streams[len(s.streams)-1]
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		json.Unmarshal(body, &m)
		switch {
		case m.Method == "initialize":
			ch <- `{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"protocolVersion":"2024-11-05","capabilities":{},"serverInfo":{"name":"legacy","version":"1"}}}`
		case m.ID != nil && m.Method != "":
			ch <- `{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"method":"` + m.Method + `"}}`
		}
	default:
		http.Error(w, "no", http.StatusMethodNotAllowed)
	}
}

// drop ends the current stream.
func (s *legacyServer) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.streams[len(s.streams)-1])
}

func TestLegacyRelativeEndpoint(t *testing.T) {
	for _, ep := range []string{"/base/message?sessionId=a", "message?sessionId=a"} {
		s := newLegacyServer(t, ep)
		out := newSink()
		c, answer, err := Connect(t.Context(), Options{URL: s.URL + "/base/sse", Transport: config.TransportSSE, OnMessage: out.handle}, []byte(initMsg))
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if !strings.Contains(string(answer), `"legacy"`) || c.Transport() != config.TransportSSE || c.ProtocolVersion() != "2024-11-05" {
			t.Errorf("%s: answer %s, transport %s", ep, answer, c.Transport())
		}
		if err := send(t, c, `{"jsonrpc":"2.0","id":"x","method":"tools/list"}`); err != nil {
			t.Fatal(err)
		}
		if got := out.next(t); got != `{"jsonrpc":"2.0","id":"x","result":{"method":"tools/list"}}` {
			t.Errorf("answer on the stream: %s", got)
		}
		s.mu.Lock()
		for _, p := range s.posts {
			if p.URL.Path != "/base/message" || p.URL.Query().Get("sessionId") != "a" {
				t.Errorf("%s: POST went to %s", ep, p.URL)
			}
		}
		s.mu.Unlock()
		c.Close(t.Context())
	}
}

func TestLegacyEndpointOtherOrigin(t *testing.T) {
	var hit bool
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer other.Close()
	s := newLegacyServer(t, other.URL+"/message")
	_, _, err := Connect(t.Context(), Options{URL: s.URL + "/sse", Transport: config.TransportSSE, OnMessage: newSink().handle}, []byte(initMsg))
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("Connect = %v, want a refusal", err)
	}
	if hit {
		t.Error("a message went to the other origin")
	}
}

func TestLegacyLost(t *testing.T) {
	s := newLegacyServer(t, "/message")
	c, _, err := Connect(t.Context(), Options{URL: s.URL + "/sse", Transport: config.TransportSSE, OnMessage: newSink().handle}, []byte(initMsg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	s.drop()
	select {
	case <-c.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the dropped stream was not noticed")
	}
	if !errors.Is(c.LostErr(), ErrLost) {
		t.Errorf("LostErr = %v", c.LostErr())
	}
	if err := send(t, c, `{"jsonrpc":"2.0","id":2,"method":"ping"}`); !errors.Is(err, ErrLost) {
		t.Errorf("Send on a lost connection = %v", err)
	}
}

// creds is Credentials for tests: a token that Refresh replaces.
type creds struct {
	mu        sync.Mutex
	token     string
	refreshed []string
	scopes    []string // the challenges' scopes, one per Refresh
	refresh   func(rejected string) error
	stepUps   []string
}

func (c *creds) Authorize(_ context.Context, req *http.Request) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	req.Header.Set("Authorization", "Bearer "+c.token)
	return "Bearer " + c.token, nil
}

func (c *creds) Nonce(*url.URL, string) {}

func (c *creds) Refresh(_ context.Context, rejected, scope string) error {
	c.mu.Lock()
	c.refreshed = append(c.refreshed, rejected)
	c.scopes = append(c.scopes, scope)
	c.mu.Unlock()
	if c.refresh != nil {
		return c.refresh(rejected)
	}
	c.mu.Lock()
	c.token += "+"
	c.mu.Unlock()
	return nil
}

func (c *creds) StepUp(_ context.Context, op, scope string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stepUps = append(c.stepUps, op+"|"+scope)
	c.token += "!"
	return nil
}

func (c *creds) StepUpDone(string) {}

func TestAutoNeverFallsBackOnAuthErrors(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		var gets int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				gets++
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(status)
		}))
		signIn := errors.New("sign in, please")
		cr := &creds{token: "t", refresh: func(string) error { return signIn }}
		_, _, err := Connect(t.Context(), Options{URL: srv.URL + "/mcp", Credentials: cr, OnMessage: newSink().handle}, []byte(initMsg))
		srv.Close()
		switch status {
		case http.StatusUnauthorized:
			if !errors.Is(err, signIn) || len(cr.refreshed) != 1 || cr.refreshed[0] != "Bearer t" {
				t.Errorf("401: Connect = %v, refreshed %q", err, cr.refreshed)
			}
		case http.StatusForbidden:
			var se *StatusError
			if !errors.As(err, &se) || se.Status != http.StatusForbidden {
				t.Errorf("403: Connect = %v", err)
			}
		}
		if gets != 0 {
			t.Errorf("%d: fell back to the legacy transport", status)
		}
	}
}

func TestRefreshOnceAndStepUp(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		mu.Lock()
		seen = append(seen, r.Method+" "+auth)
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case auth == "Bearer old":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", scope="read"`)
			w.WriteHeader(http.StatusUnauthorized)
		case strings.Contains(string(body), "admin") && !strings.HasSuffix(auth, "!"):
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="read admin"`)
			w.WriteHeader(http.StatusForbidden)
		case strings.Contains(string(body), `"initialize"`):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}`)
		case strings.Contains(string(body), `"id"`):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{}}`)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	cr := &creds{token: "old"}
	out := newSink()
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, Credentials: cr, OnMessage: out.handle}, []byte(initMsg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if len(cr.refreshed) != 1 || cr.scopes[0] != "read" {
		t.Errorf("refreshed %d times with the scopes %q, want once with the challenge's", len(cr.refreshed), cr.scopes)
	}
	if err := send(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin"}}`); err != nil {
		t.Fatal(err)
	}
	if len(cr.stepUps) != 1 || cr.stepUps[0] != "tools/call admin|read admin" {
		t.Errorf("step-ups = %q", cr.stepUps)
	}
	if got := out.next(t); got != `{"jsonrpc":"2.0","id":2,"result":{}}` {
		t.Errorf("answer = %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if !strings.Contains(s, "Bearer ") {
			t.Errorf("a request without the credential: %s", s)
		}
	}
}

func TestInitializeError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Unsupported protocol version"}}`)
	}))
	defer srv.Close()
	_, answer, err := Connect(t.Context(), Options{URL: srv.URL, OnMessage: newSink().handle}, []byte(initMsg))
	var ie *InitializeError
	if !errors.As(err, &ie) || !strings.Contains(string(ie.Response), `"id":1`) || answer != nil || !strings.Contains(err.Error(), "Unsupported protocol version") {
		t.Errorf("Connect = %v, answer %s", err, answer)
	}
}

func TestHeaderValue(t *testing.T) {
	tests := map[string]string{
		"get_weather":        "get_weather",
		"file:///a b.json":   "file:///a b.json",
		"Hello, 世界":          "=?base64?SGVsbG8sIOS4lueVjA==?=",
		" padded ":           "=?base64?IHBhZGRlZCA=?=",
		"line1\nline2":       "=?base64?bGluZTEKbGluZTI=?=",
		"=?base64?literal?=": "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=",
		"2026-07-28":         "2026-07-28",
		"us west 1":          "us west 1",
		"tab\tinside":        "=?base64?dGFiCWluc2lkZQ==?=",
		"\tindented":         "=?base64?CWluZGVudGVk?=",
		"line1\r\nline2":     "=?base64?bGluZTENCmxpbmUy?=",
		"":                   "=?base64??=",
		"=?base64??=":        "=?base64?PT9iYXNlNjQ/Pz0=?=",
		"del\x7f":            "=?base64?ZGVsfw==?=",
	}
	for in, want := range tests {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithID(t *testing.T) {
	got := withID([]byte(initMsg), replayID)
	env, err := jsonrpc.Parse(got)
	if err != nil || env.Kind != jsonrpc.KindRequest || string(env.ID) != replayID || env.Method != "initialize" {
		t.Errorf("withID = %s (%v)", got, err)
	}
	if !strings.Contains(string(got), `"params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`) {
		t.Errorf("params changed: %s", got)
	}
}
