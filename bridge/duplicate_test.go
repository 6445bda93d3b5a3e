package bridge_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// heldCalls is a Streamable HTTP fake whose tools/call answers wait until release, and which
// answers anything else (batches too) at once. It counts the tools/call requests it got.
type heldCalls struct {
	*fake
	release chan struct{}
	mu      sync.Mutex
	calls   int
	batches int
}

func newHeldCalls(t *testing.T) *heldCalls {
	h := &heldCalls{release: make(chan struct{})}
	h.fake = newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		switch {
		case r.Method == http.MethodGet:
			http.Error(w, "no stream", http.StatusMethodNotAllowed)
		case bytes.HasPrefix(bytes.TrimSpace(msg.Raw), []byte("[")):
			h.mu.Lock()
			h.batches++
			h.mu.Unlock()
			var elems []message
			_ = json.Unmarshal(msg.Raw, &elems)
			var out []string
			for _, e := range elems {
				out = append(out, `{"jsonrpc":"2.0","id":`+string(e.ID)+`,"result":{}}`)
			}
			writeJSON(w, "["+strings.Join(out, ",")+"]")
		case msg.Method == "tools/call":
			h.mu.Lock()
			h.calls++
			h.mu.Unlock()
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
			writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"content":[{"type":"text","text":"first"}]}}`)
		case msg.ID != nil:
			writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	return h
}

func (h *heldCalls) counts() (calls, batches int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, h.batches
}

// until returns the messages the bridge writes up to and including the answer with id
// (a raw id), in order.
func (c *client) until(id string) [][]byte {
	c.t.Helper()
	var got [][]byte
	for {
		m := c.recv()
		got = append(got, m)
		if rawID(m) == id && isResponse(m) {
			return got
		}
	}
}

// withID returns the messages that are responses with that raw id.
func withID(msgs [][]byte, id string) [][]byte {
	var out [][]byte
	for _, m := range msgs {
		if rawID(m) == id && isResponse(m) {
			out = append(out, m)
		}
	}
	return out
}

// TestDuplicateIDInFlight: a second request with the id of one still in flight is refused
// with -32600 naming the id, and never sent; the first gets its own answer, once.
func TestDuplicateIDInFlight(t *testing.T) {
	h := newHeldCalls(t)
	srv := config.Server{Name: "dup", URL: h.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`)
	waitFor(t, func() bool { n, _ := h.counts(); return n == 1 })
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"again"}}`)
	// A ping after it: its answer comes back once the duplicate has been dealt with.
	c.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	before := c.until("2")
	dups := withID(before, "1")
	if len(dups) != 1 {
		t.Fatalf("answers with id 1 before the first call's: %q, want one -32600", dups)
	}
	e := errorOf(t, decode(t, dups[0]))
	if e["code"] != float64(-32600) || !contains(e["message"].(string), "Invalid Request", "id 1", "in flight") {
		t.Errorf("the duplicate's answer: %v", e)
	}
	close(h.release)
	if got := toolText(t, decode(t, c.recvID("1"))); got != "first" {
		t.Errorf("the first call's answer: %q", got)
	}
	// Nothing more for id 1: a ping's answer comes next.
	c.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}`)
	if extra := withID(c.until("3"), "1"); len(extra) != 0 {
		t.Errorf("more answers with id 1: %q", extra)
	}
	if n, _ := h.counts(); n != 1 {
		t.Errorf("the server got %d tools/call requests, want 1", n)
	}
	// Once answered, the id may be used again.
	c.send(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if res := decode(t, c.recvID("1")); res["result"] == nil {
		t.Errorf("a request reusing an answered id: %v", res)
	}
}

// TestDuplicateIDInBatch: a batch holding an id twice, or an id in flight, is refused whole,
// one -32600 per request, naming the duplicate; nothing of it reaches the server.
func TestDuplicateIDInBatch(t *testing.T) {
	h := newHeldCalls(t)
	srv := config.Server{Name: "dup", URL: h.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`)
	waitFor(t, func() bool { n, _ := h.counts(); return n == 1 })
	for _, tt := range []struct {
		name, batch, dup string
		ids              []string
	}{
		{"twice within", `[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","id":"b","method":"ping"},{"jsonrpc":"2.0","id":"a","method":"ping"}]`, `"a"`, []string{`"a"`, `"b"`, `"a"`}},
		{"in flight", `[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]`, `1`, []string{`5`, `1`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.send(tt.batch)
			var answer []json.RawMessage
			if err := json.Unmarshal(c.recv(), &answer); err != nil {
				t.Fatalf("the answer is not a batch: %v", err)
			}
			if len(answer) != len(tt.ids) {
				t.Fatalf("%d answers, want %d: %s", len(answer), len(tt.ids), answer)
			}
			named := false
			for i, a := range answer {
				m := decode(t, a)
				e := errorOf(t, m)
				if rawID(a) != tt.ids[i] || e["code"] != float64(-32600) {
					t.Errorf("answer %d: %s", i, a)
				}
				named = named || strings.Contains(e["message"].(string), "id "+tt.dup)
			}
			if !named {
				t.Errorf("no answer names the duplicate id %s: %s", tt.dup, answer)
			}
		})
	}
	if _, batches := h.counts(); batches != 0 {
		t.Errorf("the server got %d batches, want none", batches)
	}
	// The request in flight still gets its answer.
	close(h.release)
	if got := toolText(t, decode(t, c.recvID("1"))); got != "first" {
		t.Errorf("the first call's answer: %q", got)
	}
	// A batch without duplicates goes through.
	c.send(`[{"jsonrpc":"2.0","id":"x","method":"ping"},{"jsonrpc":"2.0","id":"y","method":"ping"}]`)
	if got := c.recv(); !bytes.Contains(got, []byte(`"id":"x","result"`)) || !bytes.Contains(got, []byte(`"id":"y","result"`)) {
		t.Errorf("a batch without duplicates: %s", got)
	}
}

// legacyEcho is an HTTP+SSE server that puts on its stream, for each POSTed message, what
// answer returns.
type legacyEcho struct {
	*httptest.Server
	stream chan string
}

func newLegacyEcho(t *testing.T, answer func(body []byte) []string) *legacyEcho {
	l := &legacyEcho{stream: make(chan string, 100)}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: endpoint\ndata: /messages\n\n")
			w.(http.Flusher).Flush()
			for {
				select {
				case m := <-l.stream:
					fmt.Fprintf(w, "event: message\ndata: %s\n\n", m)
					w.(http.Flusher).Flush()
				case <-r.Context().Done():
					return
				}
			}
		}
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		var m message
		_ = json.Unmarshal(body, &m)
		if m.Method == "initialize" {
			l.stream <- `{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{}},"serverInfo":{"name":"legacy","version":"1"}}}`
			return
		}
		for _, a := range answer(body) {
			l.stream <- a
		}
	}))
	t.Cleanup(l.Close)
	return l
}

// TestBatchAnswerOnce: a server that sends the answer to a batch twice (or a stale one) gets
// it to the client once.
func TestBatchAnswerOnce(t *testing.T) {
	l := newLegacyEcho(t, func(body []byte) []string {
		if bytes.HasPrefix(body, []byte("[")) {
			a := `[{"jsonrpc":"2.0","id":"a","result":{}},{"jsonrpc":"2.0","id":"b","result":{}}]`
			return []string{a, a}
		}
		var m message
		_ = json.Unmarshal(body, &m)
		if m.ID == nil {
			return nil
		}
		return []string{`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{}}`}
	})
	srv := config.Server{Name: "twice", URL: l.URL + "/sse", Transport: config.TransportSSE}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","id":"b","method":"ping"}]`)
	for m := c.recv(); !bytes.HasPrefix(m, []byte("[")); m = c.recv() {
	}
	// The server put both copies on its stream before it got the ping: once the ping's answer
	// is here, the second copy has been dealt with.
	c.send(`{"jsonrpc":"2.0","id":9,"method":"ping"}`)
	for _, m := range c.until("9") {
		if bytes.HasPrefix(m, []byte("[")) {
			t.Errorf("the batch answer reached the client again: %s", m)
		}
	}
}
