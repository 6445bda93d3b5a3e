package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// bridgeProc is `mcp-broker bridge` run as Claude Code runs it: a child with pipes.
type bridgeProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr testenv.SyncBuffer // read while the bridge runs
	exited chan struct{}
	start  time.Time
}

// startBridge starts the bridge with the CLI's private folders plus a private runtime and
// cache folder.
func (c *cli) startBridge(args ...string) *bridgeProc {
	c.t.Helper()
	p := &bridgeProc{t: c.t, lines: make(chan []byte, 100), exited: make(chan struct{})}
	p.cmd = exec.Command(needBinary(c.t), append([]string{"bridge"}, args...)...)
	p.cmd.Env = c.environ()
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		c.t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				p.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	c.t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			c.t.Error("the bridge did not exit")
		}
	})
	return p
}

func (p *bridgeProc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("writing to the bridge: %v\nstderr: %s", err, p.stderr.String())
	}
}

// recv returns the next stdout line, which must be one JSON object or array ending in "\n".
func (p *bridgeProc) recv() map[string]any {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("the bridge closed stdout; stderr: %s", p.stderr.String())
		}
		var m map[string]any
		if !bytes.HasSuffix(line, []byte("\n")) || json.Unmarshal(line, &m) != nil {
			p.t.Fatalf("stdout carried something that is not one JSON-RPC message per line: %q", line)
		}
		return m
	case <-time.After(15 * time.Second):
		p.t.Fatalf("no answer from the bridge; stderr: %s", p.stderr.String())
	}
	return nil
}

// recvID skips notifications until the response with that id.
func (p *bridgeProc) recvID(id float64) map[string]any {
	p.t.Helper()
	for {
		m := p.recv()
		if m["id"] == id {
			return m
		}
	}
}

// waitExit closes stdin (or not) and returns the exit code and how long the exit took.
func (p *bridgeProc) waitExit(from time.Time) (int, time.Duration) {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("the bridge did not exit; stderr: %s", p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(from)
}

const e2eInitialize = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{},"elicitation":{}},"clientInfo":{"name":"claude-code","version":"2.1.0"}}}`

// bridgeCLI returns a CLI of the real binary with bridgeVars.
func bridgeCLI(t *testing.T) *cli {
	return newBinaryCLI(t, bridgeVars(t)...)
}

// bridgeVars are a file secret store, private runtime and cache folders, and no server from
// the environment.
func bridgeVars(t *testing.T) []string {
	return []string{"MCP_BROKER_SECRET_STORE=file", "MCP_BROKER_RUNTIME_DIR=" + t.TempDir(), "XDG_CACHE_HOME=" + t.TempDir(), "MCP_BROKER_SERVER="}
}

type bridgeStatusDoc struct {
	Bridges []struct {
		Server    string `json:"server"`
		PID       int    `json:"pid"`
		State     string `json:"state"`
		Client    string `json:"client"`
		Transport string `json:"transport"`
		Messages  struct {
			FromClient int `json:"from_client"`
			ToClient   int `json:"to_client"`
		} `json:"messages"`
	} `json:"bridges"`
}

func TestBridgeSignedIn(t *testing.T) {
	_, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
	c := bridgeCLI(t)
	c.ok("", "servers", "add", "demo", m.URL())
	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("login: %s", r.stderr)
	}
	for _, transport := range []string{"streamable-http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			u := m.URL()
			if transport == "sse" {
				// The SSE endpoint is its own resource: configure and sign in to it too.
				u = m.SSEURL()
				c.ok("", "servers", "add", "demo-sse", u, "--transport", "sse")
				if r := c.login("demo-sse", follow(t)); r.code != 0 {
					t.Fatalf("login: %s", r.stderr)
				}
			}
			name := map[string]string{"streamable-http": "demo", "sse": "demo-sse"}[transport]
			p := c.startBridge("--server", name)
			p.send(e2eInitialize)
			init := p.recvID(0)
			if info := init["result"].(map[string]any)["serverInfo"].(map[string]any); info["name"] != mcpserver.ServerName {
				t.Errorf("initialize = %v", init)
			}
			p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
			who := p.recvID(1)
			if text := fmt.Sprint(who["result"]); !strings.Contains(text, "resource="+u) {
				t.Errorf("whoami = %v", who)
			}
			p.send("garbage")
			if e := p.recv(); e["id"] != nil || e["error"].(map[string]any)["code"] != float64(-32700) {
				t.Errorf("answer to garbage = %v", e)
			}

			// `status` lists the live bridge. The bridge writes its status file in the background
			// (a relay never waits for the disk), so the file may lag the answers just read.
			var doc bridgeStatusDoc
			listed := func() bool {
				doc = bridgeStatusDoc{}
				if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &doc); err != nil {
					t.Fatal(err)
				}
				return len(doc.Bridges) == 1 && doc.Bridges[0].Server == name && doc.Bridges[0].PID == p.cmd.Process.Pid && doc.Bridges[0].Client == "claude-code 2.1.0"
			}
			for deadline := time.Now().Add(5 * time.Second); !listed() && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if !listed() {
				t.Errorf("status --json bridges = %+v", doc.Bridges)
			}
			if out := c.ok("", "status").stdout; !strings.Contains(out, "Live bridges") || !strings.Contains(out, "claude-code 2.1.0") {
				t.Errorf("status: %s", out)
			}

			closed := time.Now()
			p.stdin.Close()
			if code, took := p.waitExit(closed); code != 0 || took > time.Second {
				t.Errorf("exit %d after %s; stderr: %s", code, took, p.stderr.String())
			}
			doc = bridgeStatusDoc{}
			json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &doc)
			if len(doc.Bridges) != 0 {
				t.Errorf("bridges after exit: %+v", doc.Bridges)
			}
			for _, secret := range c.secretValues() {
				if strings.Contains(p.stderr.String(), secret) {
					t.Error("stderr leaks a secret")
				}
			}
			if h := m.Hits(); h.TokenInQuery != 0 {
				t.Errorf("a token went in a query string: %+v", h)
			}
		})
	}
}

func TestBridgeSignals(t *testing.T) {
	m := mcpserver.New(mcpserver.Options{NoAuth: true})
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := bridgeCLI(t)
	c.ok("", "servers", "add", "open", m.URL(), "--auth", "none")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := c.startBridge("--server", "open")
			p.send(e2eInitialize)
			p.recvID(0)
			for i := 1; i <= 10; i++ {
				p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, i))
			}
			sent := time.Now()
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code, took := p.waitExit(sent); code != 0 || took > time.Second {
				t.Errorf("exit %d after %s; stderr: %s", code, took, p.stderr.String())
			}
		})
	}
}

func TestBridgeURL(t *testing.T) {
	m := mcpserver.New(mcpserver.Options{NoAuth: true})
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := bridgeCLI(t)
	p := c.startBridge("--url", m.URL())
	p.send(e2eInitialize)
	p.recvID(0)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"unconfigured"}}}`)
	if got := fmt.Sprint(p.recvID(1)["result"]); !strings.Contains(got, "unconfigured") {
		t.Errorf("echo = %s", got)
	}
	p.stdin.Close()
	p.waitExit(time.Now())
	var list []map[string]any
	json.Unmarshal([]byte(c.ok("", "servers", "list", "--json").stdout), &list)
	if len(list) != 1 || !strings.HasPrefix(list[0]["name"].(string), "url-127.0.0.1-") || list[0]["url"] != m.URL() {
		t.Errorf("servers after --url: %v", list)
	}
}

func TestBridgeUsage(t *testing.T) {
	t.Parallel()
	c := newCLI(t, bridgeVars(t)...)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bridge"}, 2, "which server"},
		{[]string{"bridge", "--server", "a", "--url", "https://x.example/mcp"}, 2, "not both"},
		{[]string{"bridge", "--server", "nope"}, 1, "no server named"},
		{[]string{"bridge", "--url", "http://x.example/mcp"}, 1, "https"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestBridgeColdStart measures what Claude Code waits for: from launching the bridge to the
// answer to initialize, with a stored token. It reports the median; the bound only catches a
// bridge that waits on something it should not (a GUI, the network before answering).
func TestBridgeColdStart(t *testing.T) {
	_, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
	c := bridgeCLI(t)
	c.ok("", "servers", "add", "demo", m.URL())
	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("login: %s", r.stderr)
	}
	var times []time.Duration
	for range 7 {
		p := c.startBridge("--server", "demo")
		p.send(e2eInitialize)
		p.recvID(0)
		times = append(times, time.Since(p.start))
		p.stdin.Close()
		p.waitExit(time.Now())
	}
	slices.Sort(times)
	t.Logf("cold start to the initialize answer: median %s (min %s, max %s)", times[len(times)/2], times[0], times[len(times)-1])
	if times[len(times)/2] > time.Second {
		t.Errorf("median cold start %s, want well under a second", times[len(times)/2])
	}
}

// TestBridgeSignInElsewhere: without a credential the bridge answers initialize at once, offers
// the sign-in tool, and holds a tool call until `mcp-broker login` (another process) signs in.
func TestBridgeSignInElsewhere(t *testing.T) {
	_, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
	c := bridgeCLI(t)
	c.ok("", "servers", "add", "demo", m.URL())
	p := c.startBridge("--server", "demo", "--no-browser")
	sent := time.Now()
	p.send(e2eInitialize)
	p.recvID(0)
	if took := time.Since(sent); took > time.Second {
		t.Errorf("initialize answered after %s, want < 1 s", took)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if tools := fmt.Sprint(p.recvID(1)["result"]); !strings.Contains(tools, "sign_in_demo") {
		t.Errorf("tools/list before sign-in = %s", tools)
	}
	p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"worth the wait"}}}`)
	var doc bridgeStatusDoc
	json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &doc)
	if len(doc.Bridges) != 1 || doc.Bridges[0].State != "needs sign-in" {
		t.Errorf("status while waiting = %+v", doc.Bridges)
	}
	if r := c.login("demo", follow(t)); r.code != 0 {
		t.Fatalf("login: %s", r.stderr)
	}
	if got := fmt.Sprint(p.recvID(2)["result"]); !strings.Contains(got, "worth the wait") {
		t.Errorf("the held call = %s", got)
	}
}
