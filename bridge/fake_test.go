package bridge_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fake is a scripted Streamable HTTP server for behaviours the demo server cannot show. It
// records every request; handle decides the answers to requests other than initialize and
// notifications (which it answers itself unless handle is set for them).
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	handle func(w http.ResponseWriter, r *http.Request, msg message)
	// initGate, if set, holds the answer to initialize until it is closed.
	initGate chan struct{}

	mu       sync.Mutex
	requests []recorded
}

// recorded is one HTTP request the fake saw.
type recorded struct {
	Method string
	Header http.Header
	Body   []byte
}

// message is the part of a JSON-RPC message the fake looks at; raw members keep their bytes.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Raw    []byte          `json:"-"`
}

const fakeSession = "fake-session-1"

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, msg message)) *fake {
	t.Helper()
	f := &fake{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) URL() string { return f.srv.URL + "/mcp" }

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{Method: r.Method, Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()
	if r.Method == http.MethodGet {
		if f.handle != nil {
			f.handle(w, r, message{})
			return
		}
		http.Error(w, "no GET stream", http.StatusMethodNotAllowed)
		return
	}
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusOK)
		return
	}
	var msg message
	if len(bytes.TrimSpace(body)) > 0 && body[0] == '{' {
		_ = json.Unmarshal(body, &msg)
	}
	msg.Raw = body
	switch {
	case msg.Method == "initialize":
		if f.initGate != nil {
			<-f.initGate
		}
		w.Header().Set("Mcp-Session-Id", fakeSession)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}}`, msg.ID)
	case msg.Method != "" && msg.ID == nil && f.handle == nil:
		w.WriteHeader(http.StatusAccepted)
	case f.handle != nil:
		f.handle(w, r, msg)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// posts returns the bodies of the POSTs received, in order.
func (f *fake) posts() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]byte
	for _, r := range f.requests {
		if r.Method == http.MethodPost {
			out = append(out, r.Body)
		}
	}
	return out
}

// all returns every recorded request.
func (f *fake) all() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

// writeEvents answers with an SSE stream of the given raw event texts (each without its
// terminating blank line), flushing after each.
func writeEvents(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, e := range events {
		io.WriteString(w, e+"\n\n")
		w.(http.Flusher).Flush()
	}
}
