package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// promptly bounds the wait for an answer that must not wait for the stream to end.
const promptly = 10 * time.Second

// recvIDBefore returns the response with that raw id, or an error when ctx ends first.
func (c *client) recvIDBefore(ctx context.Context, id string) ([]byte, error) {
	c.t.Helper()
	c.mu.Lock()
	for i, m := range c.other {
		if rawID(m) == id && isResponse(m) {
			c.other = append(c.other[:i:i], c.other[i+1:]...)
			c.mu.Unlock()
			return m, nil
		}
	}
	c.mu.Unlock()
	for {
		select {
		case m, ok := <-c.lines:
			if !ok {
				return nil, fmt.Errorf("the bridge closed stdout before answering %s", id)
			}
			if rawID(m) == id && isResponse(m) {
				return m, nil
			}
			c.mu.Lock()
			c.other = append(c.other, m)
			c.mu.Unlock()
		case <-ctx.Done():
			return nil, fmt.Errorf("no answer to id %s: %w", id, ctx.Err())
		}
	}
}

// bigAnswer is an answer to id of more than size bytes, with the id first or (as the
// TypeScript SDK writes it) last.
func bigAnswer(id string, size int, idLast bool) string {
	result := `"result":{"content":[{"type":"text","text":"` + strings.Repeat("x", size) + `"}]}`
	if idLast {
		return `{` + result + `,"jsonrpc":"2.0","id":` + id + `}`
	}
	return `{"jsonrpc":"2.0","id":` + id + `,` + result + `}`
}

// TestOversizeEvent: an SSE event larger than the limit, on a stream the server then keeps
// open, fails its request at once with an error that gives the size and the limit; the stream
// and the session go on working.
func TestOversizeEvent(t *testing.T) {
	const limit = 1 << 20
	for _, tt := range []struct {
		name      string
		transport config.Transport
		idLast    bool
	}{
		{"streamable", config.TransportStreamableHTTP, false},
		{"streamable id last", config.TransportStreamableHTTP, true},
		{"legacy", config.TransportSSE, false},
		{"legacy id last", config.TransportSSE, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			big := bigAnswer("1", 2*limit, tt.idLast) // the id the client uses below
			var u string
			if tt.transport == config.TransportSSE {
				l := newLegacyEcho(t, func(body []byte) []string {
					var m message
					_ = json.Unmarshal(body, &m)
					switch {
					case m.Method == "tools/call" && strings.Contains(string(m.Params), `"big"`):
						return []string{big}
					case m.ID != nil:
						return []string{`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"content":[{"type":"text","text":"small"}]}}`}
					}
					return nil
				})
				u = l.URL + "/sse"
			} else {
				f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
					switch {
					case r.Method == http.MethodGet:
						http.Error(w, "no stream", http.StatusMethodNotAllowed)
					case msg.Method == "tools/call" && strings.Contains(string(msg.Params), `"big"`):
						writeEvents(w, "data: "+big)
						<-r.Context().Done() // and nothing more: the stream stays open
					case msg.ID != nil:
						writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"content":[{"type":"text","text":"small"}]}}`)
					default:
						w.WriteHeader(http.StatusAccepted)
					}
				})
				u = f.URL()
			}
			srv := config.Server{Name: "big", URL: u, Transport: tt.transport}
			c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil), MaxMessage: limit})
			c.initialize()
			c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big"}}`)
			ctx, cancel := context.WithTimeout(t.Context(), promptly)
			defer cancel()
			got, err := c.recvIDBefore(ctx, "1")
			if err != nil {
				t.Fatal(err)
			}
			e := errorOf(t, decode(t, got))
			if msg, _ := e["message"].(string); !contains(msg, fmt.Sprint(len(big)), fmt.Sprint(limit), "limit") {
				t.Errorf("the error does not give the size (%d) and the limit (%d): %v", len(big), limit, e)
			}
			// The session goes on: another call, on the same stream for legacy.
			if got := toolText(t, c.call(2, "tools/call", `{"name":"small"}`)); got != "small" {
				t.Errorf("a call after the oversize answer: %q", got)
			}
		})
	}
}
