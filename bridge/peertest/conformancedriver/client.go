package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// client speaks JSON-RPC over the bridge's stdio. One goroutine reads; requests wait for
// their answers on channels; server-to-client requests go to onRequest as they come.
type client struct {
	mu        sync.Mutex
	w         io.Writer
	nextID    int
	waiting   map[string]chan message
	onRequest func(message) // answers a server-to-client request
	changed   chan struct{} // notifications/tools/list_changed, coalesced
	readErr   chan error    // the reader's end
}

// message is one JSON-RPC message, loosely.
type message struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data,omitempty"`
	} `json:"error,omitempty"`
}

// rpcError is a JSON-RPC error answer to one of the client's requests.
type rpcError struct {
	method  string
	code    int
	message string
	data    json.RawMessage
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("%s: error %d: %s", e.method, e.code, e.message)
}

func newClient(w io.Writer, r io.Reader, onRequest func(message)) *client {
	c := &client{w: w, waiting: map[string]chan message{}, onRequest: onRequest,
		changed: make(chan struct{}, 1), readErr: make(chan error, 1)}
	go c.read(r) // ends when the bridge closes its stdout
	return c
}

func (c *client) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			logf("bridge wrote a line that is not a JSON-RPC message: %q", truncate(line))
			continue
		}
		switch {
		case m.Method != "" && len(m.ID) > 0:
			logf("<- request %s", m.Method)
			c.onRequest(m)
		case m.Method != "":
			logf("<- notification %s", m.Method)
			if m.Method == "notifications/tools/list_changed" {
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
		default:
			c.mu.Lock()
			ch := c.waiting[string(m.ID)]
			delete(c.waiting, string(m.ID))
			c.mu.Unlock()
			if ch == nil {
				logf("<- an answer nobody asked for: %q", truncate(line))
				continue
			}
			ch <- m
		}
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	c.readErr <- err
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func (c *client) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.w.Write(append(b, '\n'))
	return err
}

// notify sends a notification.
func (c *client) notify(method string) error {
	return c.send(map[string]any{"jsonrpc": "2.0", "method": method})
}

// reply answers a server-to-client request with a result.
func (c *client) reply(id json.RawMessage, result any) {
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "result": result}); err != nil {
		logf("answering request %s: %v", id, err)
	}
}

// replyError answers a server-to-client request with an error.
func (c *client) replyError(id json.RawMessage, code int, text string) {
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": text}}); err != nil {
		logf("answering request %s: %v", id, err)
	}
}

// call sends a request under a new id and waits for its answer; an error answer is an
// *rpcError.
func (c *client) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan message, 1)
	c.waiting[fmt.Sprint(id)] = ch
	c.mu.Unlock()
	logf("-> %s (id %d)", method, id)
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, fmt.Errorf("%s: writing to the bridge: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, &rpcError{method: method, code: m.Error.Code, message: m.Error.Message, data: m.Error.Data}
		}
		return m.Result, nil
	case err := <-c.readErr:
		c.readErr <- err
		return nil, fmt.Errorf("%s: the bridge closed its stdout: %w", method, err)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}
