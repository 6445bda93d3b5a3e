package bridge_test

import (
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

// legacyFake is an HTTP+SSE server whose stream can be dropped; it never answers tools/call.
type legacyFake struct {
	*httptest.Server
	mu      sync.Mutex
	streams []chan string
	inits   []string // the initialize requests it got
	calls   int      // the tools/call requests it got
}

func newLegacyFake(t *testing.T) *legacyFake {
	f := &legacyFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			ch := make(chan string, 10)
			f.mu.Lock()
			f.streams = append(f.streams, ch)
			n := len(f.streams)
			f.mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "event: endpoint\ndata: messages?session=%d\n\n", n)
			w.(http.Flusher).Flush()
			for {
				select {
				case m, ok := <-ch:
					if !ok {
						return
					}
					fmt.Fprintf(w, "event: message\ndata: %s\n\n", m)
					w.(http.Flusher).Flush()
				case <-r.Context().Done():
					return
				}
			}
		}
		body, _ := io.ReadAll(r.Body)
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		json.Unmarshal(body, &m)
		f.mu.Lock()
		ch := f.streams[len(f.streams)-1]
		switch m.Method {
		case "initialize":
			f.inits = append(f.inits, string(body))
		case "tools/call":
			f.calls++
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		switch {
		case m.Method == "initialize":
			ch <- `{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{}},"serverInfo":{"name":"legacy","version":"1"}}}`
		case m.Method == "tools/call":
			// held: the stream will drop first
		case m.ID != nil && m.Method != "":
			ch <- `{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{}}`
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *legacyFake) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.streams[len(f.streams)-1])
}

func TestLegacyStreamLost(t *testing.T) {
	f := newLegacyFake(t)
	srv := config.Server{Name: "old", URL: f.URL + "/sse", Transport: config.TransportSSE}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`)
	// Drop the stream once the call is on the server: a request still on its way would get
	// the "could not be sent" error instead.
	waitFor(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.streams) == 1 && f.calls == 1 })
	f.drop()
	e := errorOf(t, decode(t, c.recvID("1")))
	if msg := e["message"].(string); !contains(msg, `"old"`, "lost", "may or may not have been carried out") {
		t.Errorf("in-flight request after the stream was lost: %v", e)
	}
	// A new session, with the client's own initialize replayed and its answer swallowed.
	c.recvMethod("notifications/tools/list_changed")
	if res := c.call(2, "ping", ""); res["result"] == nil {
		t.Errorf("ping on the new session = %v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.inits) != 2 || f.inits[0] != f.inits[1] || !strings.Contains(f.inits[1], `"clientInfo":{"name":"claude-code"`) {
		t.Errorf("initialize requests: %q", f.inits)
	}
}
