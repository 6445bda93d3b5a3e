package bridge_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

func TestGarbageLine(t *testing.T) {
	m := demoServer(t)
	srv := config.Server{Name: "demo", URL: m.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	for _, garbage := range []string{"this is not json", `{"jsonrpc":"2.0","id":1,`, "\x00\xff"} {
		c.send(garbage)
		got := c.recv()
		if !bytes.HasPrefix(got, []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,`)) {
			t.Errorf("answer to %q = %s", garbage, got)
		}
	}
	c.send(`[1,2]`)
	if got := c.recv(); !bytes.HasPrefix(got, []byte(`[{"jsonrpc":"2.0","id":null,"error":{"code":-32600,`)) {
		t.Errorf("answer to a batch of numbers = %s", got)
	}
	// Blank lines are not messages.
	c.send("")
	c.send("   ")
	if got := toolText(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"still here"}}`)); got != "still here" {
		t.Errorf("after garbage: %q", got)
	}
}

func TestBigResult(t *testing.T) {
	const size = 32 << 20
	big := strings.Repeat("x", size)
	for _, sse := range []bool{false, true} {
		t.Run(fmt.Sprintf("sse=%v", sse), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
				if msg.ID == nil {
					w.WriteHeader(http.StatusAccepted)
					return
				}
				body := `{"jsonrpc":"2.0","id":` + string(msg.ID) + `,"result":{"content":[{"type":"text","text":"` + big + `"}]}}`
				if sse {
					writeEvents(w, "data: "+body)
					return
				}
				writeJSON(w, body)
			})
			srv := config.Server{Name: "big", URL: f.URL()}
			c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
			c.initialize()
			start := time.Now()
			c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big"}}`)
			got := c.recvID("1")
			t.Logf("32 MiB relayed in %s", time.Since(start))
			want := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + big + `"}]}}`
			if sha256.Sum256(got) != sha256.Sum256([]byte(want)) {
				t.Errorf("the result differs: %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestBigRequest(t *testing.T) {
	const size = 32 << 20
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		writeJSON(w, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"got":%d}}`, msg.ID, len(msg.Raw)))
	})
	srv := config.Server{Name: "big", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil), MaxMessage: 40 << 20})
	c.initialize()
	line := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"blob":"` + strings.Repeat("y", size) + `"}}}`
	c.send(line)
	if got := c.recvID("1"); !bytes.Contains(got, []byte(fmt.Sprintf(`"got":%d`, len(line)))) {
		t.Errorf("answer = %s", got)
	}
	// Over the limit: dropped with an error, and the bridge carries on.
	c.send(`{"jsonrpc":"2.0","id":2,"method":"x","params":"` + strings.Repeat("z", 41<<20) + `"}`)
	if got := c.recv(); !bytes.Contains(got, []byte("larger than")) {
		t.Errorf("answer to an oversized line = %.200s", got)
	}
	if got := c.call(3, "ping", ""); got["result"] == nil {
		t.Errorf("ping after an oversized line = %v", got)
	}
}

func TestServerRequestAnsweredLate(t *testing.T) {
	// A person answers an elicitation in their own time: a minute here (ten seconds with
	// -short). It runs beside the other tests, so the minute is mostly not added to the run.
	t.Parallel()
	wait := 60 * time.Second
	if testing.Short() {
		wait = 10 * time.Second
	}
	answers := make(chan []byte, 1)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		switch {
		case msg.Method == "tools/call":
			// The server asks the client for its roots on the request's stream and answers
			// the call only once the client has answered.
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"jsonrpc":"2.0","id":"srv-1","method":"roots/list","params":{}}`+"\n\n")
			w.(http.Flusher).Flush()
			select {
			case a := <-answers:
				io.WriteString(w, `data: {"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"content":[{"type":"text","text":"roots: `+strings.ReplaceAll(string(a), `"`, `'`)+`"}]}}`+"\n\n")
			case <-r.Context().Done():
			}
		case msg.ID != nil && msg.Method == "":
			answers <- msg.Raw // the client's answer to roots/list
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	srv := config.Server{Name: "roots", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get-roots-list"}}`)
	req := c.recvMethod("roots/list")
	if string(req) != `{"jsonrpc":"2.0","id":"srv-1","method":"roots/list","params":{}}` {
		t.Errorf("server request relayed as %s", req)
	}
	time.Sleep(wait) // no timeout of ours applies, on either side
	answer := `{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[{"uri":"file:///w","name":"w"}]}}`
	c.send(answer)
	if got := toolText(t, decode(t, c.recvID("1"))); got != "roots: "+strings.ReplaceAll(answer, `"`, `'`) {
		t.Errorf("the call's result = %q", got)
	}
}

func TestSessionExpired(t *testing.T) {
	m := demoServer(t)
	srv := config.Server{Name: "demo", URL: m.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.call(1, "tools/list", "")
	if n := m.ExpireSessions(); n != 1 {
		t.Fatalf("expired %d sessions, want 1", n)
	}
	if got := toolText(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"again"}}`)); got != "again" {
		t.Errorf("after the session expired: %q", got)
	}
	c.recvMethod("notifications/tools/list_changed")
	if got := toolText(t, c.call(3, "tools/call", `{"name":"echo","arguments":{"message":"and again"}}`)); got != "and again" {
		t.Errorf("on the new session: %q", got)
	}
}

func TestServerRestart(t *testing.T) {
	for _, transport := range []config.Transport{config.TransportStreamableHTTP, config.TransportSSE} {
		t.Run(string(transport), func(t *testing.T) {
			m := mcpserver.New(mcpserver.Options{NoAuth: true})
			base, err := m.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := strings.TrimPrefix(base, "http://")
			u := m.URL()
			if transport == config.TransportSSE {
				u = m.SSEURL()
			}
			srv := config.Server{Name: "restart", URL: u, Transport: transport}
			c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
			c.initialize()
			c.call(1, "tools/list", "")
			m.Close()

			// Down: answered at once with an error naming the server and the cause.
			res := c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"x"}}`)
			e := errorOf(t, res)
			if msg, _ := e["message"].(string); !contains(msg, `"restart"`, u) || e["code"] != float64(-32000) {
				t.Errorf("error while down = %v", e)
			}

			m2 := mcpserver.New(mcpserver.Options{NoAuth: true})
			if _, err := m2.Start(addr); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m2.Close() })
			// Back: the bridge reconnects by itself.
			id := 10
			waitFor(t, func() bool {
				id++
				res := c.call(id, "tools/call", `{"name":"echo","arguments":{"message":"back"}}`)
				if res["error"] != nil {
					time.Sleep(200 * time.Millisecond)
					return false
				}
				return toolText(t, res) == "back"
			})
		})
	}
}

func TestExitWithRequestsInFlight(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		if msg.Method == "tools/call" {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // a slow tool: answers never
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	before := runtime.NumGoroutine()
	srv := config.Server{Name: "slow", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	for i := 1; i <= 10; i++ {
		c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"slow"}}`, i))
	}
	waitFor(t, func() bool { return len(f.posts()) >= 12 }) // initialize, initialized, 10 calls
	err, took := c.closeStdin()
	if err != nil {
		t.Errorf("Run: %v", err)
	}
	if took > time.Second {
		t.Errorf("the bridge took %s to exit, want < 1 s", took)
	}
	var deleted bool
	for _, r := range f.all() {
		if r.Method == http.MethodDelete && r.Header.Get("Mcp-Session-Id") == fakeSession {
			deleted = true
		}
	}
	if !deleted {
		t.Error("the session was not ended with DELETE")
	}
	// Nothing of the bridge is left running.
	f.srv.CloseClientConnections()
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		left := strings.Contains(stacks, "mcp-broker/bridge.") || strings.Contains(stacks, "mcp-broker/bridge/upstream.") ||
			strings.Contains(stacks, "net/http.(*persistConn)")
		if !left && runtime.NumGoroutine() <= before+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after exit (%d before, %d now):\n%s", before, runtime.NumGoroutine(), stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestInitializeWhileUnreachable(t *testing.T) {
	addr := freeAddr(t)
	srv := config.Server{Name: "away", URL: "http://" + addr + "/mcp"}
	cache := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil), CacheDir: cache})
	start := time.Now()
	init := c.initialize()
	if took := time.Since(start); took > time.Second {
		t.Errorf("initialize answered after %s, want < 1 s", took)
	}
	res := resultOf(t, init)
	if info, _ := res["serverInfo"].(map[string]any); info["name"] != "away" || res["protocolVersion"] != "2025-06-18" {
		t.Errorf("minimal initialize result = %v", res)
	}
	caps, _ := res["capabilities"].(map[string]any)
	for _, k := range []string{"tools", "prompts", "resources"} {
		if c, _ := caps[k].(map[string]any); c["listChanged"] != true {
			t.Errorf("capabilities.%s = %v, want listChanged", k, caps[k])
		}
	}
	e := errorOf(t, c.call(1, "tools/list", ""))
	if msg, _ := e["message"].(string); !contains(msg, `"away"`, "unreachable", "refused") {
		t.Errorf("tools/list while unreachable: %v", e)
	}

	// The server comes up: the bridge connects, tells the client, and relays.
	m := mcpserver.New(mcpserver.Options{NoAuth: true})
	if _, err := m.Start(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c.recvMethod("notifications/tools/list_changed")
	c.recvMethod("notifications/prompts/list_changed")
	c.recvMethod("notifications/resources/list_changed")
	if tools := resultOf(t, c.call(2, "tools/list", ""))["tools"].([]any); len(tools) != 4 {
		t.Errorf("tools/list once connected: %v", tools)
	}
	c.closeStdin()

	// Next time, initialize is answered from the cache while the server is down.
	m.Close()
	c2 := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil), CacheDir: cache})
	start = time.Now()
	res = resultOf(t, c2.initialize())
	if took := time.Since(start); took > time.Second {
		t.Errorf("initialize answered after %s, want < 1 s", took)
	}
	if info, _ := res["serverInfo"].(map[string]any); info["name"] != mcpserver.ServerName {
		t.Errorf("initialize from the cache = %v", res)
	}
	if caps, _ := res["capabilities"].(map[string]any); caps["tools"].(map[string]any)["listChanged"] != true {
		t.Errorf("cached capabilities lack listChanged: %v", caps)
	}
}

func TestStatelessRequests(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
	})
	srv := config.Server{Name: "modern", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	c.call(1, "tools/call", `{"name":"get_weather","arguments":{},`+meta+`}`)
	c.call(2, "resources/read", `{"uri":"file:///projects/é.json",`+meta+`}`)
	c.call(3, "tools/list", `{`+meta+`}`)
	want := []struct{ method, name string }{
		{"tools/call", "get_weather"}, {"resources/read", "=?base64?ZmlsZTovLy9wcm9qZWN0cy/DqS5qc29u?="}, {"tools/list", ""},
	}
	reqs := f.all()
	if len(reqs) != len(want) {
		t.Fatalf("the server got %d requests, want %d (no initialize)", len(reqs), len(want))
	}
	for i, r := range reqs {
		h := r.Header
		if h.Get("Mcp-Method") != want[i].method || h.Get("Mcp-Name") != want[i].name || h.Get("Mcp-Protocol-Version") != "2026-07-28" || h.Get("Mcp-Session-Id") != "" {
			t.Errorf("request %d headers: method %q name %q version %q session %q", i, h.Get("Mcp-Method"), h.Get("Mcp-Name"), h.Get("Mcp-Protocol-Version"), h.Get("Mcp-Session-Id"))
		}
	}
}

// Claude Code probes with a 2026-07-28 server/discover before it sends initialize: the probe
// must not lock the bridge into stateless requests.
func TestDiscoverProbeThenInitialize(t *testing.T) {
	for _, transport := range []config.Transport{config.TransportAuto, config.TransportStreamableHTTP, config.TransportSSE} {
		t.Run(string(transport), func(t *testing.T) {
			m := demoServer(t)
			u := m.URL()
			if transport == config.TransportSSE {
				u = m.SSEURL()
			}
			srv := config.Server{Name: "demo", URL: u, Transport: transport}
			c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
			meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
			c.send(`{"jsonrpc":"2.0","id":"probe","method":"server/discover","params":{` + meta + `}}`)
			c.recvID(`"probe"`) // an answer or an error, depending on the transport
			res := resultOf(t, c.initialize())
			if v, _ := res["protocolVersion"].(string); v == "" || v == "2026-07-28" {
				t.Errorf("initialize answered with protocolVersion %q, want the server's 2025 revision", v)
			}
			if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"after the probe"}}`)); got != "after the probe" {
				t.Errorf("tools/call after the probe: %q", got)
			}
		})
	}
}

// The same against a server of the 2025 era, which refuses requests without a session the way
// the TypeScript SDK does (400, "Server not initialized"): the probe gets that error, and the
// initialize that follows opens a session that every later request uses.
func TestDiscoverProbeAgainstAnOlderServer(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		if r.Header.Get("Mcp-Session-Id") == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}`)
			return
		}
		writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
	})
	srv := config.Server{Name: "older", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	c.send(`{"jsonrpc":"2.0","id":"probe","method":"server/discover","params":{` + meta + `}}`)
	errorOf(t, decode(t, c.recvID(`"probe"`)))
	c.initialize()
	resultOf(t, c.call(1, "tools/list", ""))
	for _, r := range f.all() {
		var m message
		_ = json.Unmarshal(r.Body, &m)
		if m.Method == "tools/list" && r.Header.Get("Mcp-Session-Id") != fakeSession {
			t.Errorf("tools/list went out with session %q, want %q", r.Header.Get("Mcp-Session-Id"), fakeSession)
		}
	}
}

func TestResumeResponseStream(t *testing.T) {
	var closedAt time.Time
	var resumedAt time.Time
	var lastEventID string
	pending := make(chan []byte, 1)
	f := newFake(t, nil)
	f.handle = func(w http.ResponseWriter, r *http.Request, msg message) {
		switch {
		case r.Method == http.MethodGet && r.Header.Get("Last-Event-Id") == "":
			http.Error(w, "no standalone stream", http.StatusMethodNotAllowed)
		case r.Method == http.MethodGet:
			f.mu.Lock()
			resumedAt, lastEventID = time.Now(), r.Header.Get("Last-Event-Id")
			f.mu.Unlock()
			writeEvents(w, "id: e-2\ndata: "+`{"jsonrpc":"2.0","id":`+string(<-pending)+`,"result":{"content":[{"type":"text","text":"resumed"}]}}`)
		case msg.Method == "tools/call":
			// Priming event with an id and a retry delay, then the stream closes early.
			writeEvents(w, "id: e-1\nretry: 500\ndata: ")
			pending <- msg.ID
			f.mu.Lock()
			closedAt = time.Now()
			f.mu.Unlock()
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}
	srv := config.Server{Name: "resume", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"test_reconnection"}`)); got != "resumed" {
		t.Errorf("result = %q", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if lastEventID != "e-1" {
		t.Errorf("resumed with Last-Event-ID %q, want e-1", lastEventID)
	}
	if d := resumedAt.Sub(closedAt); d < 450*time.Millisecond {
		t.Errorf("resumed %s after the stream closed, before the retry delay", d)
	}
}

func TestGETStreamReconnects(t *testing.T) {
	gets := make(chan string, 10)
	f := newFake(t, nil)
	f.handle = func(w http.ResponseWriter, r *http.Request, msg message) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		gets <- r.Header.Get("Last-Event-Id")
		n := len(gets)
		writeEvents(w, fmt.Sprintf("id: g-%d\nretry: 300\ndata: ", n),
			`data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)
	}
	srv := config.Server{Name: "get", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.recvMethod("notifications/tools/list_changed")
	select {
	case id := <-gets:
		if id != "" {
			t.Errorf("first GET carried Last-Event-ID %q", id)
		}
	case <-time.After(wait):
		t.Fatal("no GET stream")
	}
	select {
	case id := <-gets:
		if id != "g-1" {
			t.Errorf("reconnected with Last-Event-ID %q, want g-1", id)
		}
	case <-time.After(wait):
		t.Fatal("the GET stream was not reopened")
	}
	c.recvMethod("notifications/tools/list_changed")
}

func TestBearerOnEveryRequest(t *testing.T) {
	f := newFake(t, nil)
	f.handle = func(w http.ResponseWriter, r *http.Request, msg message) {
		if r.Method == http.MethodGet {
			writeEvents(w, ": keep-alive")
			<-r.Context().Done()
			return
		}
		if msg.ID != nil {
			writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
	srv := config.Server{Name: "static", URL: f.URL(), Auth: config.AuthBearer, Header: "X-Api-Key"}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "the-key", nil)})
	c.initialize()
	c.call(1, "tools/list", "")
	waitFor(t, func() bool {
		for _, r := range f.all() {
			if r.Method == http.MethodGet {
				return true
			}
		}
		return false
	})
	c.closeStdin()
	methods := map[string]bool{}
	for _, r := range f.all() {
		methods[r.Method] = true
		if r.Header.Get("X-Api-Key") != "the-key" {
			t.Errorf("%s without the credential", r.Method)
		}
	}
	if !methods[http.MethodPost] || !methods[http.MethodGet] || !methods[http.MethodDelete] {
		t.Errorf("methods seen: %v", methods)
	}
}

// TestBatchRefused: a server of the 2025-06-18 era refuses batches (the golden test has one
// that accepts them); each request of the batch gets an answer that says so.
func TestBatchRefused(t *testing.T) {
	m := demoServer(t)
	srv := config.Server{Name: "demo", URL: m.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"echo","arguments":{"message":"1"}}},{"jsonrpc":"2.0","id":"b","method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]`)
	for _, id := range []string{`"a"`, `"b"`} {
		if e := errorOf(t, decode(t, c.recvID(id))); !contains(e["message"].(string), "HTTP 400") {
			t.Errorf("answer to %s: %v", id, e)
		}
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		if msg.ID == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
	})
	f.initGate = make(chan struct{})
	srv := config.Server{Name: "slowinit", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.send(initializeMsg)
	c.recvID("0") // answered by the bridge while the server takes its time
	c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	c.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"x"}}`)
	c.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`)
	c.send(`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"y"}}`)
	// The bridge handles the client's messages in order, and answers ping itself while it has
	// no session: once the answer is here, the cancellation and request 6 have been taken in
	// while the server still held initialize.
	c.send(`{"jsonrpc":"2.0","id":7,"method":"ping"}`)
	c.recvID("7")
	close(f.initGate)
	c.recvID("6")
	for _, p := range f.posts() {
		if bytes.Contains(p, []byte(`"id":5`)) || bytes.Contains(p, []byte("cancelled")) {
			t.Errorf("the server got %s", p)
		}
	}
}
