package bridge_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// The tools of conformance 0.2.0-alpha.12's http-invalid-tool-headers, over two pages, plus one tool that
// designates nested and top-level parameters.
var (
	validTools = []string{
		`{"name":"valid_tool","inputSchema":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}},"required":["region"]}}`,
		`{"name":"nested","description":"caf\u00e9 <&>","inputSchema":{"type":"object","properties":{"target":{"type":"object","properties":{"zone":{"type":"string","x-mcp-header":"Zone"}}},"n":{"type":"integer","x-mcp-header":"N"}}}}`,
	}
	invalidTools = map[string]string{
		"invalid_empty_header":        `{"type":"object","properties":{"value":{"type":"string","x-mcp-header":""}}}`,
		"invalid_object_header":       `{"type":"object","properties":{"data":{"type":"object","x-mcp-header":"Data"}}}`,
		"invalid_array_header":        `{"type":"object","properties":{"items":{"type":"array","items":{"type":"string"},"x-mcp-header":"Items"}}}`,
		"invalid_null_header":         `{"type":"object","properties":{"nil":{"type":"null","x-mcp-header":"Nil"}}}`,
		"invalid_number_header":       `{"type":"object","properties":{"score":{"type":"number","x-mcp-header":"Score"}}}`,
		"invalid_duplicate_same_case": `{"type":"object","properties":{"field1":{"type":"string","x-mcp-header":"Region"},"field2":{"type":"string","x-mcp-header":"Region"}}}`,
		"invalid_duplicate_diff_case": `{"type":"object","properties":{"field1":{"type":"string","x-mcp-header":"MyField"},"field2":{"type":"string","x-mcp-header":"myfield"}}}`,
		"invalid_space_in_name":       `{"type":"object","properties":{"value":{"type":"string","x-mcp-header":"My Region"}}}`,
		"invalid_colon_in_name":       `{"type":"object","properties":{"value":{"type":"string","x-mcp-header":"Region:Primary"}}}`,
		"invalid_non_ascii_name":      `{"type":"object","properties":{"value":{"type":"string","x-mcp-header":"Région"}}}`,
		"invalid_control_char_name":   `{"type":"object","properties":{"value":{"type":"string","x-mcp-header":"Region\t1"}}}`,
	}
	pageOne = []string{"invalid_empty_header", "invalid_object_header", "invalid_array_header", "invalid_null_header", "invalid_duplicate_same_case"}
	pageTwo = []string{"invalid_number_header", "invalid_duplicate_diff_case", "invalid_space_in_name", "invalid_colon_in_name", "invalid_non_ascii_name", "invalid_control_char_name"}
)

func invalidTool(name string) string {
	return fmt.Sprintf(`{"name":%q,"inputSchema":%s}`, name, invalidTools[name])
}

// listPage is a tools/list answer as the server sends it.
func listPage(id string, tools []string, next string) string {
	cursor := ""
	if next != "" {
		cursor = `,"nextCursor":"` + next + `"`
	}
	return `{"jsonrpc":"2.0","id":` + id + `,"result":{"resultType":"complete","tools":[` + strings.Join(tools, ",") + `]` + cursor + `,"ttlMs":0}}`
}

// headerServer is a stateless (2026-07-28) server with the tools above, or (sessions) one of
// the 2025 era whose tools are the same.
func headerServer(t *testing.T) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		switch {
		case r.Method != http.MethodPost:
			http.Error(w, "no GET stream", http.StatusMethodNotAllowed)
			return
		case msg.ID == nil:
			w.WriteHeader(http.StatusAccepted)
			return
		}
		var p struct {
			Cursor string `json:"cursor"`
		}
		_ = json.Unmarshal(msg.Params, &p)
		switch {
		case msg.Method == "tools/list" && p.Cursor == "":
			tools := []string{validTools[0]}
			for _, name := range pageOne {
				tools = append(tools, invalidTool(name))
			}
			writeJSON(w, listPage(string(msg.ID), tools, "page two"))
		case msg.Method == "tools/list":
			tools := []string{}
			for _, name := range pageTwo {
				tools = append(tools, invalidTool(name))
			}
			writeJSON(w, listPage(string(msg.ID), append(tools, validTools[1]), ""))
		default:
			writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"content":[]}}`)
		}
	})
}

// logBuffer is a log the test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

// A stateless client sees the tools list without the tools whose x-mcp-header is invalid,
// every other byte as the server sent it; each rejected tool is named in a warning once;
// calls carry the designated parameters' headers; a call to a rejected tool never leaves.
func TestParamHeadersStateless(t *testing.T) {
	f := headerServer(t)
	logs := &logBuffer{}
	srv := config.Server{Name: "modern", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil), Log: slog.New(slog.NewTextHandler(logs, nil))})

	for round := range 2 {
		c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + modernMeta + `}}`)
		if got, want := string(c.recvID("1")), listPage("1", validTools[:1], "page two"); got != want {
			t.Errorf("round %d, page one:\n got %s\nwant %s", round, got, want)
		}
		c.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"page two",` + modernMeta + `}}`)
		if got, want := string(c.recvID("2")), listPage("2", validTools[1:], ""); got != want {
			t.Errorf("round %d, page two:\n got %s\nwant %s", round, got, want)
		}
	}
	text := logs.String()
	for name := range invalidTools {
		if n := strings.Count(text, "tool="+name+" "); n != 1 {
			t.Errorf("%s is named in %d warnings, want 1:\n%s", name, n, text)
		}
	}
	if !strings.Contains(text, `level=WARN msg="leaving a tool out of tools/list: its x-mcp-header is invalid" server=modern tool=invalid_space_in_name reason="the x-mcp-header \"My Region\" at /properties/value holds ' ', which an HTTP header name cannot"`) {
		t.Errorf("the warning does not give the reason:\n%s", text)
	}

	resultOf(t, c.call(3, "tools/call", `{"name":"valid_tool","arguments":{"region":"us-west1"},`+modernMeta+`}`))
	resultOf(t, c.call(4, "tools/call", `{"name":"nested","arguments":{"target":{"zone":"Zürich"},"n":7},`+modernMeta+`}`))
	e := errorOf(t, c.call(5, "tools/call", `{"name":"invalid_duplicate_diff_case","arguments":{"field1":"a","field2":"b"},`+modernMeta+`}`))
	if e["code"] != float64(-32602) || !strings.Contains(e["message"].(string), `"invalid_duplicate_diff_case" is not available`) {
		t.Errorf("a call to a rejected tool: %v", e)
	}

	var calls []recorded
	for _, r := range f.all() {
		if r.Header.Get("Mcp-Method") == "tools/call" {
			calls = append(calls, r)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("the server got %d calls, want 2 (none to the rejected tool)", len(calls))
	}
	if h := calls[0].Header; h.Get("Mcp-Param-Region") != "us-west1" {
		t.Errorf("valid_tool: Mcp-Param-Region %q", h.Get("Mcp-Param-Region"))
	}
	if h := calls[1].Header; h.Get("Mcp-Param-Zone") != "=?base64?WsO8cmljaA==?=" || h.Get("Mcp-Param-N") != "7" || h.Get("Mcp-Param-Region") != "" {
		t.Errorf("nested: %v", h)
	}
}

// A client of the 2025 era has a session: x-mcp-header means nothing there, and the relay is
// lossless (the tools list as sent, every call sent, no parameter headers).
func TestParamHeadersSession(t *testing.T) {
	f := headerServer(t)
	srv := config.Server{Name: "older", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	tools := []string{validTools[0]}
	for _, name := range pageOne {
		tools = append(tools, invalidTool(name))
	}
	if got, want := string(c.recvID("1")), listPage("1", tools, "page two"); got != want {
		t.Errorf("tools/list:\n got %s\nwant %s", got, want)
	}
	resultOf(t, c.call(2, "tools/call", `{"name":"invalid_empty_header","arguments":{"value":"x"}}`))
	resultOf(t, c.call(3, "tools/call", `{"name":"valid_tool","arguments":{"region":"x"}}`))
	for _, r := range f.all() {
		for name := range r.Header {
			if strings.HasPrefix(name, "Mcp-Param-") {
				t.Errorf("a session's request carried %s", name)
			}
		}
	}
}

// A tool that gained a designation after the client listed the tools: the server answers the
// call without its header HeaderMismatch, and the bridge lists the tools again and retries
// the call with the header, as the specification says a client SHOULD. The client sees one
// answer, the result.
func TestParamHeadersMismatchRelists(t *testing.T) {
	var mu sync.Mutex
	designated := false
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		mu.Lock()
		d := designated
		mu.Unlock()
		switch {
		case r.Method != http.MethodPost:
			http.Error(w, "no GET stream", http.StatusMethodNotAllowed)
		case msg.Method == "tools/list" && d:
			writeJSON(w, listPage(string(msg.ID), validTools[:1], ""))
		case msg.Method == "tools/list":
			writeJSON(w, listPage(string(msg.ID), []string{`{"name":"valid_tool","inputSchema":{"type":"object"}}`}, ""))
		case d && r.Header.Get("Mcp-Param-Region") != "eu":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32020,"message":"Header mismatch: Mcp-Param-Region"}}`, msg.ID)
		default:
			writeJSON(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"content":[]}}`)
		}
	})
	srv := config.Server{Name: "modern", URL: f.URL()}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	resultOf(t, c.call(1, "tools/list", `{`+modernMeta+`}`))
	mu.Lock()
	designated = true
	mu.Unlock()
	resultOf(t, c.call(2, "tools/call", `{"name":"valid_tool","arguments":{"region":"eu"},`+modernMeta+`}`))
	var got []string
	for _, r := range f.all() {
		got = append(got, r.Header.Get("Mcp-Method")+" "+r.Header.Get("Mcp-Param-Region"))
	}
	if strings.Join(got, ",") != "tools/list ,tools/call ,tools/list ,tools/call eu" {
		t.Errorf("the server got %q", got)
	}
	// The next call has the header at once.
	resultOf(t, c.call(3, "tools/call", `{"name":"valid_tool","arguments":{"region":"eu"},`+modernMeta+`}`))
	if n := len(f.all()); n != 5 {
		t.Errorf("the server got %d requests, want 5", n)
	}
	c.send(`{"jsonrpc":"2.0","id":4,"method":"ping","params":{` + modernMeta + `}}`)
	if m := c.recv(); rawID(m) != "4" {
		t.Errorf("the client got %s before the answer to ping: the bridge's own list?", m)
	}
}
