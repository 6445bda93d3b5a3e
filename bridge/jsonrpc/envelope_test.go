package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		kind     Kind
		id       string // exact bytes, "" for nil
		method   string
		isError  bool
		token    string
		toolName string
	}{
		{name: "request", msg: `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, kind: KindRequest, id: `1`, method: "tools/list"},
		{name: "notification", msg: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, kind: KindNotification, method: "notifications/initialized"},
		{name: "response", msg: `{"jsonrpc":"2.0","id":"a","result":{}}`, kind: KindResponse, id: `"a"`},
		{name: "error response", msg: `{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}}`, kind: KindResponse, id: `7`, isError: true},
		{name: "error null is not an error", msg: `{"id":7,"result":1,"error":null}`, kind: KindResponse, id: `7`},
		{name: "parse error response with null id", msg: `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`, kind: KindResponse, id: `null`, isError: true},
		{name: "big integer id", msg: `{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}`, kind: KindRequest, id: `12345678901234567890`, method: "ping"},
		{name: "huge integer id", msg: `{"id":123456789012345678901234567890123456789,"method":"ping"}`, kind: KindRequest, id: `123456789012345678901234567890123456789`, method: "ping"},
		{name: "negative id", msg: `{"id":-42,"method":"ping"}`, kind: KindRequest, id: `-42`, method: "ping"},
		{name: "float id", msg: `{"id":1.50e+3,"method":"ping"}`, kind: KindRequest, id: `1.50e+3`, method: "ping"},
		{name: "string id with escapes", msg: `{"id":"a\"b\\c\u00e9\n","method":"ping"}`, kind: KindRequest, id: `"a\"b\\c\u00e9\n"`, method: "ping"},
		{name: "unicode string id", msg: `{"id":"日本語-🎉","method":"ping"}`, kind: KindRequest, id: `"日本語-🎉"`, method: "ping"},
		{name: "null id request", msg: `{"id":null,"method":"ping"}`, kind: KindRequest, id: `null`, method: "ping"},
		{name: "whitespace everywhere", msg: " \t{ \"id\" :\r\n 5 , \"method\" : \"ping\" }\n ", kind: KindRequest, id: `5`, method: "ping"},
		{name: "keys in any order", msg: `{"params":{"name":"echo"},"method":"tools/call","id":"x","jsonrpc":"2.0"}`, kind: KindRequest, id: `"x"`, method: "tools/call", toolName: "echo"},
		{name: "tool name and progress token", msg: `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"long","arguments":{"name":"decoy","_meta":{"progressToken":"decoy"}},"_meta":{"progressToken":"tok-1"}}}`, kind: KindRequest, id: `3`, method: "tools/call", token: `"tok-1"`, toolName: "long"},
		{name: "numeric progress token", msg: `{"id":3,"method":"tools/call","params":{"_meta":{"progressToken":98765432109876543210},"name":"x"}}`, kind: KindRequest, id: `3`, method: "tools/call", token: `98765432109876543210`, toolName: "x"},
		{name: "prompt name", msg: `{"id":1,"method":"prompts/get","params":{"name":"greet","arguments":{}}}`, kind: KindRequest, id: `1`, method: "prompts/get", toolName: "greet"},
		{name: "resource uri", msg: `{"id":1,"method":"resources/read","params":{"uri":"file:///a%20b","name":"not this"}}`, kind: KindRequest, id: `1`, method: "resources/read", toolName: "file:///a%20b"},
		{name: "escaped tool name", msg: `{"id":1,"method":"tools/call","params":{"name":"e\u0063ho"}}`, kind: KindRequest, id: `1`, method: "tools/call", toolName: "echo"},
		{name: "name ignored for other methods", msg: `{"id":1,"method":"tools/list","params":{"name":"x"}}`, kind: KindRequest, id: `1`, method: "tools/list"},
		{name: "non-string name", msg: `{"id":1,"method":"tools/call","params":{"name":5}}`, kind: KindRequest, id: `1`, method: "tools/call"},
		{name: "progress token on notification", msg: `{"method":"notifications/x","params":{"_meta":{"progressToken":1}}}`, kind: KindNotification, method: "notifications/x", token: `1`},
		{name: "unknown method", msg: `{"jsonrpc":"2.0","id":1,"method":"vendor/thing.do"}`, kind: KindRequest, id: `1`, method: "vendor/thing.do"},
		{name: "escaped method", msg: `{"id":1,"method":"tools\/call"}`, kind: KindRequest, id: `1`, method: "tools/call"},
		{name: "escaped key", msg: `{"\u0069d":9,"m\u0065thod":"ping"}`, kind: KindRequest, id: `9`, method: "ping"},
		{name: "duplicate key last wins", msg: `{"id":1,"id":2,"method":"a","method":"b"}`, kind: KindRequest, id: `2`, method: "b"},
		{name: "params array", msg: `{"id":1,"method":"x","params":[1,2,{"name":"n"}]}`, kind: KindRequest, id: `1`, method: "x"},
		{name: "no jsonrpc member still routed", msg: `{"id":1,"result":true}`, kind: KindResponse, id: `1`},
		{name: "method not a string", msg: `{"id":1,"method":5}`, kind: KindInvalid, id: `1`},
		{name: "object id", msg: `{"id":{"a":1},"method":"ping"}`, kind: KindInvalid, id: `{"a":1}`, method: ""},
		{name: "boolean id", msg: `{"id":true,"result":1}`, kind: KindInvalid, id: `true`},
		{name: "response without id", msg: `{"result":1}`, kind: KindInvalid},
		{name: "empty object", msg: `{}`, kind: KindInvalid},
		{name: "scalar", msg: `42`, kind: KindInvalid},
		{name: "string", msg: `"hello"`, kind: KindInvalid},
		{name: "null", msg: `null`, kind: KindInvalid},
		{name: "empty batch", msg: `[]`, kind: KindInvalid},
		{name: "keys differing in case are not ours", msg: `{"ID":1,"Method":"ping"}`, kind: KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Parse([]byte(tt.msg))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if env.Kind != tt.kind {
				t.Errorf("Kind = %v, want %v", env.Kind, tt.kind)
			}
			if got := string(env.ID); got != tt.id || (tt.id == "") != (env.ID == nil) {
				t.Errorf("ID = %q (nil %v), want %q", got, env.ID == nil, tt.id)
			}
			if env.Method != tt.method {
				t.Errorf("Method = %q, want %q", env.Method, tt.method)
			}
			if env.IsError != tt.isError {
				t.Errorf("IsError = %v, want %v", env.IsError, tt.isError)
			}
			if got := string(env.ProgressToken); got != tt.token {
				t.Errorf("ProgressToken = %q, want %q", got, tt.token)
			}
			if env.ToolName != tt.toolName {
				t.Errorf("ToolName = %q, want %q", env.ToolName, tt.toolName)
			}
		})
	}
}

func TestParseBatch(t *testing.T) {
	msg := `[{"jsonrpc":"2.0","id":1,"method":"a"}, {"jsonrpc":"2.0","method":"n"} ,{"id":"x","result":[]},42,[{"id":1,"method":"nested"}]]`
	env, err := Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if env.Kind != KindBatch || env.ID != nil {
		t.Fatalf("Kind = %v, ID = %q; want batch without id", env.Kind, env.ID)
	}
	want := []struct {
		kind   Kind
		id     string
		method string
	}{
		{KindRequest, "1", "a"},
		{KindNotification, "", "n"},
		{KindResponse, `"x"`, ""},
		{KindInvalid, "", ""},
		{KindInvalid, "", ""},
	}
	if len(env.Batch) != len(want) {
		t.Fatalf("len(Batch) = %d, want %d", len(env.Batch), len(want))
	}
	for i, w := range want {
		e := env.Batch[i]
		if e.Kind != w.kind || string(e.ID) != w.id || e.Method != w.method {
			t.Errorf("Batch[%d] = {%v %q %q}, want {%v %q %q}", i, e.Kind, e.ID, e.Method, w.kind, w.id, w.method)
		}
	}
}

func TestParseInvalidJSON(t *testing.T) {
	bad := []string{
		``, ` `, `{`, `}`, `{"id":1`, `{"id":1,}`, `{"id" 1}`, `{id:1}`, `{"id":01}`, `{"id":1.}`, `{"id":.5}`,
		`{"id":1e}`, `{"id":-}`, `{"id":+1}`, `{"id":"a}`, `{"id":"\x"}`, `{"id":"\u12"}`, "{\"id\":\"a\tb\"}",
		`{"id":tru}`, `{"id":nul}`, `{"id":1} {}`, `{"id":1}x`, `[1,]`, `[,1]`, `[1 2]`, `{"a":[}`, `{"a":{]}`,
		`{"a":1,"b"}`, `{"a":1 "b":2}`, "\xef\xbb\xbf{}", `[{"id":1,"method":"a"}`, `{"id":1,"method":"x","params":{"name":}}`,
		`{"method":"x","params":{"_meta":{"progressToken":}}}`, `{"method":"x","params":{"_meta":{,}}}`, `'a'`, `NaN`,
	}
	for _, msg := range bad {
		if json.Valid([]byte(msg)) {
			t.Fatalf("test bug: %q is valid JSON", msg)
		}
		_, err := Parse([]byte(msg))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error = %v, want ErrSyntax", msg, err)
		}
	}
}

func TestParseNesting(t *testing.T) {
	// encoding/json accepts 10000 levels and rejects 10001; so must Parse (inside params, where
	// the envelope itself already holds two levels, and as a bare array).
	for _, depth := range []int{maxDepth - 2, maxDepth - 1, maxDepth + 5, 1_000_000} {
		inner := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		for _, msg := range []string{
			`{"id":1,"method":"x","params":{"a":` + inner + `}}`,
			inner,
			`{"id":1,"method":"x","params":{"_meta":{"progressToken":` + inner + `}}}`,
		} {
			_, err := Parse([]byte(msg))
			if valid := json.Valid([]byte(msg)); (err == nil) != valid {
				t.Errorf("depth %d (%d bytes): Parse error %v, json.Valid %v", depth, len(msg), err, valid)
			}
		}
	}
	// Mixed objects and arrays deeper than the inline stack.
	deep := strings.Repeat(`{"a":[`, 300) + strings.Repeat(`]}`, 300)
	if _, err := Parse([]byte(`{"id":1,"result":` + deep + `}`)); err != nil {
		t.Errorf("mixed nesting: %v", err)
	}
	if _, err := Parse([]byte(`{"id":1,"result":` + strings.Repeat(`{"a":[`, 300) + strings.Repeat(`}]`, 300) + `}`)); err == nil {
		t.Error("mismatched brackets accepted")
	}
}

func TestParseLargeResult(t *testing.T) {
	msg := bigResponse(32<<20, `"req-\u00e9"`)
	env, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if env.Kind != KindResponse || string(env.ID) != `"req-\u00e9"` || env.IsError {
		t.Fatalf("got %v %q %v", env.Kind, env.ID, env.IsError)
	}
	// The id after the result is found too.
	msg = []byte(`{"jsonrpc":"2.0","result":` + string(bigResult(1<<20)) + `,"id":12345678901234567890}`)
	env, err = Parse(msg)
	if err != nil || string(env.ID) != "12345678901234567890" {
		t.Fatalf("id after result: %q, %v", env.ID, err)
	}
}

func TestParseDoesNotAliasBeyondID(t *testing.T) {
	msg := []byte(`{"id":"abc","method":"ping"}`)
	env, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(env.ID, 'X') // must not overwrite the message
	if string(msg) != `{"id":"abc","method":"ping"}` {
		t.Fatalf("message modified: %s", msg)
	}
}

func TestIDKey(t *testing.T) {
	key := func(msg string) string {
		t.Helper()
		env, err := Parse([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		return env.IDKey()
	}
	same := [][2]string{
		{`{"id":"a","result":1}`, `{"id":"\u0061","result":1}`},
		{`{"id":"é","result":1}`, `{"id":"\u00e9","result":1}`},
		{`{"id":"a/b","result":1}`, `{"id":"a\/b","result":1}`},
		{`{"id": 7 ,"result":1}`, `{"id":7,"result":1}`},
		{`{"id":{"a": [1, 2]},"result":1}`, `{"id":{"a":[1,2]},"result":1}`},
	}
	for _, p := range same {
		if a, b := key(p[0]), key(p[1]); a != b {
			t.Errorf("IDKey(%s) = %q, IDKey(%s) = %q; want equal", p[0], a, p[1], b)
		}
	}
	different := [][2]string{
		{`{"id":1,"result":1}`, `{"id":"1","result":1}`},
		{`{"id":1,"result":1}`, `{"id":1.0,"result":1}`},
		{`{"id":null,"result":1}`, `{"id":"null","result":1}`},
		{`{"id":"a b","result":1}`, `{"id":"ab","result":1}`},
		{`{"id":"a\"","result":1}`, `{"id":"a\\","result":1}`},
		{`{"id":12345678901234567890,"result":1}`, `{"id":12345678901234567891,"result":1}`},
	}
	for _, p := range different {
		if a, b := key(p[0]), key(p[1]); a == b {
			t.Errorf("IDKey(%s) == IDKey(%s) == %q; want different", p[0], p[1], a)
		}
	}
	if k := (Envelope{}).IDKey(); k != "" {
		t.Errorf("absent id key = %q", k)
	}
	for _, odd := range []string{`"`, `"a`, ` "a" `} { // hand-built envelopes must not panic
		_ = Envelope{ID: json.RawMessage(odd)}.IDKey()
	}
}

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		name    string
		id      json.RawMessage
		code    int
		message string
		data    any
		want    string
	}{
		{"null id", nil, CodeParseError, "parse error", nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`},
		{"big id", json.RawMessage(`12345678901234567890`), CodeUpstream, "down", nil, `{"jsonrpc":"2.0","id":12345678901234567890,"error":{"code":-32000,"message":"down"}}`},
		{"string id kept", json.RawMessage(`"a\u00e9"`), CodeInvalidRequest, "x", nil, `{"jsonrpc":"2.0","id":"a\u00e9","error":{"code":-32600,"message":"x"}}`},
		{"invalid id", json.RawMessage(`{`), CodeInternalError, "x", nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"x"}}`},
		{"pretty id compacted", json.RawMessage("{\n \"a\" : 1\n}"), -1, "x", nil, `{"jsonrpc":"2.0","id":{"a":1},"error":{"code":-1,"message":"x"}}`},
		{"escaped message", nil, CodeMethodNotFound, "a \"b\" \\ <c>\n\t\x01 \u2028 \xff é", nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"a \"b\" \\ <c>\n\t\u0001 \u2028 \ufffd é"}}`},
		{"data", json.RawMessage(`1`), CodeUpstream, "x", map[string]string{"server": "studio"}, `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x","data":{"server":"studio"}}}`},
		{"raw data", json.RawMessage(`1`), CodeUpstream, "x", json.RawMessage(" [1, 2]\n"), `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x","data":[1,2]}}`},
		{"unmarshallable data dropped", json.RawMessage(`1`), CodeUpstream, "x", func() {}, `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ErrorResponse(tt.id, tt.code, tt.message, tt.data)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			env, err := Parse(got)
			objectID := bytes.HasPrefix(got, []byte(`{"jsonrpc":"2.0","id":{`)) // KindInvalid by design
			if err != nil || !objectID && (env.Kind != KindResponse || !env.IsError) {
				t.Errorf("not a valid error response: %v %v", env.Kind, err)
			}
			var decoded struct {
				Error struct{ Message string }
			}
			if err := json.Unmarshal(got, &decoded); err != nil {
				t.Fatal(err)
			}
			if want := strings.ToValidUTF8(tt.message, "\uFFFD"); decoded.Error.Message != want {
				t.Errorf("message decodes to %q, want %q", decoded.Error.Message, want)
			}
			if bytes.ContainsAny(got, "\r\n") {
				t.Error("contains a newline")
			}
		})
	}
}

// bigResult returns a JSON object of about n bytes shaped like an MCP tool result: one large text
// content with escapes sprinkled in.
func bigResult(n int) []byte {
	var b bytes.Buffer
	b.Grow(n + 100)
	b.WriteString(`{"content":[{"type":"text","text":"`)
	line := `lorem ipsum dolor sit amet, \"quoted\" and \\ backslash \u00e9 tab\t newline\n `
	for b.Len() < n {
		b.WriteString(line)
	}
	b.WriteString(`"}],"isError":false}`)
	return b.Bytes()
}

func bigResponse(n int, id string) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + id + `,"result":` + string(bigResult(n)) + `}`)
}
