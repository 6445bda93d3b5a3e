//go:build peers

package peertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEverythingSession speaks to server-everything through the bridge the way a rich client
// does, over Streamable HTTP and legacy SSE, and checks what the Inspector CLI cannot see:
// progress notifications reach the client during a call, and the server's own requests
// (elicitation/create, sampling/createMessage, roots/list) reach the client and its answers
// reach the server, in the middle of a tool call.
func TestEverythingSession(t *testing.T) {
	p := requirePeers(t)
	for _, m := range []struct{ name, mode, transport string }{
		{"streamable-http", "streamableHttp", "streamable-http"},
		{"sse", "sse", "sse"},
	} {
		t.Run(m.name, func(t *testing.T) {
			url := p.startEverything(t, m.mode)
			home := t.TempDir()
			env := p.env(t, home, filepath.Join(home, "mcp-broker"), "file", "MCP_BROKER_LOG=debug")
			p.brokerCLI(t, env, "", "servers", "add", "everything", url, "--auth", "none", "--transport", m.transport)

			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c := startBridge(t, ctx, p.broker, env, "bridge", "--server", "everything")

			init := c.call(t, ctx, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{"roots":{"listChanged":true},"elicitation":{},"sampling":{}},"clientInfo":{"name":"peertest","version":"1"}}`)
			if !strings.Contains(string(init), `"everything`) && !strings.Contains(string(init), "Everything") {
				t.Errorf("initialize answered %.300s, not by server-everything", init)
			}
			c.notify(t, "notifications/initialized", `{}`)

			// The tools that need a client capability are registered after initialize.
			var tools struct {
				Tools []struct{ Name string } `json:"tools"`
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				decode(t, c.call(t, ctx, "tools/list", `{}`), &tools)
				names := fmt.Sprint(tools.Tools)
				if strings.Contains(names, "trigger-elicitation-request") && strings.Contains(names, "trigger-sampling-request") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("tools/list never listed the capability tools: %s", names)
				}
				time.Sleep(200 * time.Millisecond)
			}

			text := func(raw json.RawMessage) string {
				var r struct {
					IsError bool `json:"isError"`
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				}
				decode(t, raw, &r)
				if r.IsError || len(r.Content) == 0 {
					t.Errorf("tool result is an error or empty: %.500s", raw)
					return ""
				}
				var all []string
				for _, c := range r.Content {
					all = append(all, c.Text)
				}
				return strings.Join(all, "\n")
			}

			res := c.call(t, ctx, "tools/call", `{"name":"trigger-long-running-operation","arguments":{"duration":1,"steps":4},"_meta":{"progressToken":"peer-progress-1"}}`)
			if got := text(res); !strings.Contains(got, "completed") {
				t.Errorf("long-running operation: %q", got)
			}
			if n := c.progress("peer-progress-1"); n != 4 {
				t.Errorf("the client got %d progress notifications for the call, want 4 (one per step)", n)
			}

			if got := text(c.call(t, ctx, "tools/call", `{"name":"trigger-elicitation-request","arguments":{}}`)); !strings.Contains(got, "Ada Lovelace") {
				t.Errorf("elicitation: the server did not get the client's answer: %q", got)
			}
			if got := text(c.call(t, ctx, "tools/call", `{"name":"trigger-sampling-request","arguments":{"prompt":"say hi"}}`)); !strings.Contains(got, "a canned completion") {
				t.Errorf("sampling: the server did not get the client's answer: %q", got)
			}
			if got := text(c.call(t, ctx, "tools/call", `{"name":"get-roots-list","arguments":{}}`)); !strings.Contains(got, "file:///peertest/project") {
				t.Errorf("roots: the server did not get the client's roots: %q", got)
			}
			for _, method := range []string{"elicitation/create", "sampling/createMessage", "roots/list"} {
				if c.asked(method) == 0 {
					t.Errorf("the server's %s never reached the client", method)
				}
			}
			c.close(t)
		})
	}
}

// stdioClient is a JSON-RPC client on a bridge's stdio that answers the server's requests.
type stdioClient struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *strings.Builder
	done   chan struct{} // the reader's end

	mu        sync.Mutex
	next      int
	waiting   map[string]chan json.RawMessage
	progressN map[string]int // notifications/progress per token
	requests  map[string]int // server-to-client requests per method
}

// startBridge starts mcp-broker with args as a client's stdio server.
func startBridge(t *testing.T, ctx context.Context, bin string, env []string, args ...string) *stdioClient {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.WaitDelay = 3 * time.Second
	c := &stdioClient{cmd: cmd, stderr: &strings.Builder{}, done: make(chan struct{}),
		waiting: map[string]chan json.RawMessage{}, progressN: map[string]int{}, requests: map[string]int{}}
	cmd.Stderr = &lockedWriter{w: c.stderr}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go c.read(t, stdout) // ends when the bridge closes stdout
	t.Cleanup(func() {
		c.stdin.Close()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", lastLines(c.stderr.String(), 60))
		}
	})
	return c
}

// lockedWriter serialises writes into a strings.Builder read by the test.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (c *stdioClient) read(t *testing.T, r io.Reader) {
	defer close(c.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("the bridge wrote a line that is not JSON: %.200q", sc.Text())
			continue
		}
		switch {
		case m.Method != "" && len(m.ID) > 0:
			c.mu.Lock()
			c.requests[m.Method]++
			c.mu.Unlock()
			c.write(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,` + answer(m.Method) + `}`)
		case m.Method == "notifications/progress":
			var p struct {
				ProgressToken any `json:"progressToken"`
			}
			_ = json.Unmarshal(m.Params, &p)
			c.mu.Lock()
			c.progressN[fmt.Sprint(p.ProgressToken)]++
			c.mu.Unlock()
		case m.Method != "":
		default:
			c.mu.Lock()
			ch := c.waiting[string(m.ID)]
			delete(c.waiting, string(m.ID))
			c.mu.Unlock()
			if ch == nil {
				t.Errorf("an answer to no request: %.300s", sc.Text())
				continue
			}
			if m.Error != nil {
				ch <- append(json.RawMessage(`{"error":`), append(m.Error, '}')...)
				continue
			}
			ch <- m.Result
		}
	}
}

// answer is what the client says to a server-to-client request.
func answer(method string) string {
	switch method {
	case "roots/list":
		return `"result":{"roots":[{"uri":"file:///peertest/project","name":"project"}]}`
	case "elicitation/create":
		return `"result":{"action":"accept","content":{"name":"Ada Lovelace","check":true,"firstLine":"It was a dark and stormy night.","email":"ada@example.com","homepage":"https://example.com","birthdate":"1815-12-10","integer":36,"number":1.5,"untitledSingleSelectEnum":"option1","titledSingleSelectEnum":"value1","legacyTitledEnum":"opt1","untitledMultipleSelectEnum":["option1"],"titledMultipleSelectEnum":["value1"]}}`
	case "sampling/createMessage":
		return `"result":{"role":"assistant","model":"peertest","stopReason":"endTurn","content":{"type":"text","text":"a canned completion"}}`
	case "ping":
		return `"result":{}`
	}
	return `"error":{"code":-32601,"message":"not supported by this test client"}`
}

func (c *stdioClient) write(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.stdin, line+"\n")
}

// call sends a request with a string id (ids pass through the bridge untouched) and returns
// its result; an error answer fails the test.
func (c *stdioClient) call(t *testing.T, ctx context.Context, method, params string) json.RawMessage {
	t.Helper()
	c.mu.Lock()
	c.next++
	id := fmt.Sprintf(`"peer-%d"`, c.next)
	ch := make(chan json.RawMessage, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	c.write(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`)
	select {
	case res := <-ch:
		if strings.HasPrefix(string(res), `{"error":`) {
			t.Fatalf("%s: %s", method, res)
		}
		return res
	case <-c.done:
		t.Fatalf("%s: the bridge closed its stdout", method)
	case <-ctx.Done():
		t.Fatalf("%s: no answer: %v", method, ctx.Err())
	}
	return nil
}

func (c *stdioClient) notify(t *testing.T, method, params string) {
	t.Helper()
	c.write(`{"jsonrpc":"2.0","method":"` + method + `","params":` + params + `}`)
}

func (c *stdioClient) progress(token string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.progressN[token]
}

func (c *stdioClient) asked(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[method]
}

// close ends the session like Claude Code: stdin EOF, and the bridge must leave on its own.
func (c *stdioClient) close(t *testing.T) {
	t.Helper()
	start := time.Now()
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Errorf("the bridge did not close its stdout within 5 s of stdin EOF")
	}
	t.Logf("the bridge left %s after stdin EOF", time.Since(start).Round(time.Millisecond))
}
