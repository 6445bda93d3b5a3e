package upstream

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge/paramheaders"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// table is a ToolTable that learns from every list, as the bridge's does.
type table struct {
	mu       sync.Mutex
	params   map[string][]paramheaders.Param
	rejected map[string]error
	listed   int
}

func newTable() *table {
	return &table{params: map[string][]paramheaders.Param{}, rejected: map[string]error{}}
}

func (t *table) Params(tool string) ([]paramheaders.Param, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.params[tool], t.rejected[tool]
}

func (t *table) Listed(answer []byte) []byte {
	l, err := paramheaders.ReadList(answer)
	if err != nil {
		return answer
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.listed++
	for _, tool := range l.Tools {
		t.params[tool.Name], t.rejected[tool.Name] = tool.Params, tool.Invalid
	}
	return l.Answer
}

// statelessServer records every POST and answers with answer.
type statelessServer struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []posted
	answer func(w http.ResponseWriter, p posted)
}

type posted struct {
	header http.Header
	body   string
	msg    struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params struct {
			Name   string          `json:"name"`
			Cursor json.RawMessage `json:"cursor"`
			Meta   map[string]any  `json:"_meta"`
		} `json:"params"`
	}
}

func newStatelessServer(t *testing.T, answer func(w http.ResponseWriter, p posted)) *statelessServer {
	s := &statelessServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p := posted{header: r.Header.Clone(), body: string(body)}
		_ = json.Unmarshal(body, &p.msg)
		s.mu.Lock()
		s.posts = append(s.posts, p)
		s.mu.Unlock()
		s.answer(w, p)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *statelessServer) all() []posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]posted(nil), s.posts...)
}

func jsonAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"p1"}`

// The headers conformance 0.2's http-custom-headers checks, from the arguments it asks for.
func TestToolCallHeaders(t *testing.T) {
	srv := newStatelessServer(t, func(w http.ResponseWriter, p posted) {
		jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":`+string(p.msg.ID)+`,"result":{}}`)
	})
	tools := newTable()
	tools.Listed([]byte(`{"jsonrpc":"2.0","id":0,"result":{"tools":[{"name":"test_custom_headers","inputSchema":{"type":"object","properties":{
		"region":{"type":"string","x-mcp-header":"Region"},"priority":{"type":"integer","x-mcp-header":"Priority"},
		"verbose":{"type":"boolean","x-mcp-header":"Verbose"},"debug":{"type":"boolean","x-mcp-header":"Debug"},
		"empty_val":{"type":"string","x-mcp-header":"EmptyVal"},"method_val":{"type":"string","x-mcp-header":"Method"},
		"float_val":{"type":"number"},"non_ascii_val":{"type":"string","x-mcp-header":"NonAscii"},
		"whitespace_val":{"type":"string","x-mcp-header":"Whitespace"},"leading_space_val":{"type":"string","x-mcp-header":"LeadingSpace"},
		"trailing_space_val":{"type":"string","x-mcp-header":"TrailingSpace"},"internal_space_val":{"type":"string","x-mcp-header":"InternalSpace"},
		"control_char_val":{"type":"string","x-mcp-header":"ControlChar"},"crlf_val":{"type":"string","x-mcp-header":"CrLf"},
		"tab_val":{"type":"string","x-mcp-header":"Tab"},"query":{"type":"string"}}}}]}}`))
	out := newSink()
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, OnMessage: out.handle, Tools: tools}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_custom_headers","arguments":{"region":"us-west1","priority":42,"verbose":false,"debug":true,"empty_val":"","method_val":"test-method","float_val":3.14159,"non_ascii_val":"Hello, 世界","whitespace_val":" padded ","leading_space_val":" us-west1","trailing_space_val":"us-west1 ","internal_space_val":"us west 1","control_char_val":"line1\nline2","crlf_val":"line1\r\nline2","tab_val":"\tindented","query":"SELECT * FROM users"},` + meta + `}}`
	if err := send(t, c, call); err != nil {
		t.Fatal(err)
	}
	if got := out.next(t); got != `{"jsonrpc":"2.0","id":2,"result":{}}` {
		t.Errorf("answer = %s", got)
	}
	want := map[string]string{
		"Mcp-Method": "tools/call", "Mcp-Name": "test_custom_headers",
		"Mcp-Param-Region": "us-west1", "Mcp-Param-Priority": "42", "Mcp-Param-Verbose": "false", "Mcp-Param-Debug": "true",
		"Mcp-Param-Emptyval": "=?base64??=", "Mcp-Param-Method": "test-method",
		"Mcp-Param-Nonascii":      "=?base64?SGVsbG8sIOS4lueVjA==?=",
		"Mcp-Param-Whitespace":    "=?base64?IHBhZGRlZCA=?=",
		"Mcp-Param-Leadingspace":  "=?base64?IHVzLXdlc3Qx?=",
		"Mcp-Param-Trailingspace": "=?base64?dXMtd2VzdDEg?=",
		"Mcp-Param-Internalspace": "us west 1",
		"Mcp-Param-Controlchar":   "=?base64?bGluZTEKbGluZTI=?=",
		"Mcp-Param-Crlf":          "=?base64?bGluZTENCmxpbmUy?=",
		"Mcp-Param-Tab":           "=?base64?CWluZGVudGVk?=",
	}
	posts := srv.all()
	if len(posts) != 1 {
		t.Fatalf("%d POSTs, want 1", len(posts))
	}
	h := posts[0].header
	for name, v := range want {
		if got := h.Values(name); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %q, want %q", name, got, v)
		}
	}
	for name := range h {
		if strings.HasPrefix(name, "Mcp-Param-") && want[name] == "" {
			t.Errorf("an undesignated parameter was mirrored: %s: %s", name, h.Get(name))
		}
	}
	if posts[0].body != call {
		t.Errorf("the body changed:\n%s", posts[0].body)
	}
}

// A session (2025 era) has no parameter headers, whatever the table knows.
func TestToolCallHeadersOnlyStateless(t *testing.T) {
	var mu sync.Mutex
	var params []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if strings.HasPrefix(name, "Mcp-Param-") {
				mu.Lock()
				params = append(params, name)
				mu.Unlock()
			}
		}
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case strings.Contains(string(body), `"initialize"`):
			w.Header().Set("Mcp-Session-Id", "s")
			jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25"}}`)
		case strings.Contains(string(body), `"id"`):
			mu.Lock()
			calls++
			mu.Unlock()
			jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":2,"result":{}}`)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	tools := newTable()
	tools.params["t"] = []paramheaders.Param{{Path: []string{"a"}, Name: "A", Type: "string"}}
	tools.rejected["bad"] = io.ErrUnexpectedEOF
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, OnMessage: newSink().handle, Tools: tools}, []byte(initMsg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	for _, call := range []string{
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":{"a":"x"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"bad","arguments":{}}}`,
	} {
		if err := send(t, c, call); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(params) > 0 || calls != 2 {
		t.Errorf("a session's calls: %d sent, with %v", calls, params)
	}
}

// A call to a tool left out of the list is answered by the transport, and never sent.
func TestToolCallRefused(t *testing.T) {
	srv := newStatelessServer(t, func(w http.ResponseWriter, p posted) {
		jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":`+string(p.msg.ID)+`,"result":{}}`)
	})
	tools := newTable()
	tools.Listed([]byte(`{"jsonrpc":"2.0","id":0,"result":{"tools":[{"name":"invalid_colon_in_name","inputSchema":{"properties":{"value":{"type":"string","x-mcp-header":"Region:Primary"}}}}]}}`))
	out := newSink()
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, OnMessage: out.handle, Tools: tools}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if err := send(t, c, `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"invalid_colon_in_name","arguments":{"value":"x"},`+meta+`}}`); err != nil {
		t.Fatal(err)
	}
	var answer struct {
		ID    string
		Error struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal([]byte(out.next(t)), &answer); err != nil {
		t.Fatal(err)
	}
	if answer.ID != "c" || answer.Error.Code != -32602 || !strings.Contains(answer.Error.Message, `"invalid_colon_in_name" is not available`) || !strings.Contains(answer.Error.Message, `"Region:Primary"`) {
		t.Errorf("answer = %+v", answer)
	}
	if n := len(srv.all()); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
}

// After a HeaderMismatch, the tools are listed again (every page, with the call's _meta but
// its progress token) and the call retried once with the headers the list now designates.
// Neither the mismatch nor the transport's own lists reach the client.
func TestHeaderMismatchRelists(t *testing.T) {
	srv := newStatelessServer(t, func(w http.ResponseWriter, p posted) {
		id := string(p.msg.ID)
		switch {
		case p.msg.Method == "tools/list" && p.msg.Params.Cursor == nil:
			jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":`+id+`,"result":{"tools":[{"name":"other","inputSchema":{"type":"object"}}],"nextCursor":"page2"}}`)
		case p.msg.Method == "tools/list":
			jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":`+id+`,"result":{"tools":[{"name":"new_tool","inputSchema":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}}}}]}}`)
		case p.header.Get("Mcp-Param-Region") != "eu":
			jsonAnswer(w, 400, `{"jsonrpc":"2.0","id":`+id+`,"error":{"code":-32020,"message":"Header mismatch: Mcp-Param-Region is missing"}}`)
		default:
			jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":`+id+`,"result":{"content":[]}}`)
		}
	})
	tools := newTable()
	out := newSink()
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, OnMessage: out.handle, Tools: tools}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if err := send(t, c, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"new_tool","arguments":{"region":"eu"},`+meta+`}}`); err != nil {
		t.Fatal(err)
	}
	if got := out.next(t); got != `{"jsonrpc":"2.0","id":5,"result":{"content":[]}}` {
		t.Errorf("answer = %s", got)
	}
	posts := srv.all()
	var methods []string
	for _, p := range posts {
		methods = append(methods, p.msg.Method)
	}
	if strings.Join(methods, " ") != "tools/call tools/list tools/list tools/call" {
		t.Fatalf("the server got %v", methods)
	}
	for i, p := range posts[1:3] {
		m := p.msg.Params.Meta
		if p.header.Get("Mcp-Method") != "tools/list" || p.header.Get("Mcp-Protocol-Version") != "2026-07-28" ||
			m["io.modelcontextprotocol/protocolVersion"] != "2026-07-28" || m["io.modelcontextprotocol/clientCapabilities"] == nil || m["progressToken"] != nil {
			t.Errorf("list %d: headers %v, _meta %v", i, p.header, m)
		}
		if !strings.HasPrefix(string(p.msg.ID), `"mcp-broker-relist-`) {
			t.Errorf("list %d: id %s", i, p.msg.ID)
		}
	}
	if string(posts[2].msg.Params.Cursor) != `"page2"` {
		t.Errorf("the second page was asked with cursor %s", posts[2].msg.Params.Cursor)
	}
	if posts[3].body != posts[0].body {
		t.Error("the retry is not the client's call")
	}
	if len(out.ch) > 0 {
		t.Errorf("the client got more: %s", <-out.ch)
	}
}

// When listing again changes nothing the call needs, the call is not sent again: the client
// gets the server's HeaderMismatch.
func TestHeaderMismatchUnchanged(t *testing.T) {
	srv := newStatelessServer(t, func(w http.ResponseWriter, p posted) {
		id := string(p.msg.ID)
		if p.msg.Method == "tools/list" {
			jsonAnswer(w, 200, `{"jsonrpc":"2.0","id":`+id+`,"result":{"tools":[{"name":"t","inputSchema":{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"A"}}}}]}}`)
			return
		}
		jsonAnswer(w, 400, `{"jsonrpc":"2.0","id":`+id+`,"error":{"code":-32020,"message":"Header mismatch"}}`)
	})
	tools := newTable()
	tools.params["t"] = []paramheaders.Param{{Path: []string{"a"}, Name: "A", Type: "string"}}
	out := newSink()
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, OnMessage: out.handle, Tools: tools}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if err := send(t, c, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t","arguments":{"a":"x"},`+meta+`}}`); err != nil {
		t.Fatal(err)
	}
	if got := out.next(t); got != `{"jsonrpc":"2.0","id":5,"error":{"code":-32020,"message":"Header mismatch"}}` {
		t.Errorf("answer = %s", got)
	}
	var methods []string
	for _, p := range srv.all() {
		methods = append(methods, p.msg.Method)
	}
	if strings.Join(methods, " ") != "tools/call tools/list" {
		t.Errorf("the server got %v", methods)
	}
}

// The client's tools/list reaches it through the table, whether the answer comes as JSON or
// on an event stream.
func TestToolsListThroughTheTable(t *testing.T) {
	list := `{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"invalid_empty_header","inputSchema":{"properties":{"value":{"type":"string","x-mcp-header":""}}}},{"name":"ok","inputSchema":{}}]}}`
	for _, stream := range []bool{false, true} {
		srv := newStatelessServer(t, func(w http.ResponseWriter, p posted) {
			if !stream {
				jsonAnswer(w, 200, list)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\nid: 1\ndata: "+list+"\n\n")
		})
		tools := newTable()
		out := newSink()
		c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, OnMessage: out.handle, Tools: tools}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := send(t, c, `{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{`+meta+`}}`); err != nil {
			t.Fatal(err)
		}
		if stream {
			if got := out.next(t); !strings.Contains(got, "notifications/message") {
				t.Errorf("stream: first message %s", got)
			}
		}
		if got := out.next(t); got != `{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"ok","inputSchema":{}}]}}` {
			t.Errorf("stream %v: answer = %s", stream, got)
		}
		if _, why := tools.Params("invalid_empty_header"); why == nil {
			t.Errorf("stream %v: the table did not learn the list", stream)
		}
		c.Close(t.Context())
	}
}
