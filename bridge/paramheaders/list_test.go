package paramheaders

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Tools for the lists below, with the odd spacing and escapes a lossless relay must keep.
const (
	validTool   = `{"name":"valid_tool", "inputSchema":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}}},"description":"caf\u00e9 <b>"}`
	plainTool   = `{ "name" : "plain", "inputSchema" : {"type":"object"} }`
	emptyHeader = `{"name":"invalid_empty_header","inputSchema":{"type":"object","properties":{"value":{"type":"string","x-mcp-header":""}}}}`
	objHeader   = `{"name":"invalid_object_header","inputSchema":{"type":"object","properties":{"data":{"type":"object","x-mcp-header":"Data"}}}}`
)

func answer(tools ...string) string {
	return `{"jsonrpc":"2.0","id":7,"result":{"resultType":"complete","ttlMs":0,"tools":[` + strings.Join(tools, ",") + `],"nextCursor":"p2"}}`
}

func TestReadList(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		out      string // "" when the answer must come back as the same bytes
		tools    []string
		rejected map[string]string // tool → a part of the reason
	}{
		{name: "nothing rejected", in: answer(validTool, plainTool), tools: []string{"valid_tool", "plain"}},
		{
			name:     "the first, and the last",
			in:       answer(emptyHeader, validTool, "\n  "+plainTool+" ", objHeader),
			out:      answer(validTool, plainTool),
			tools:    []string{"invalid_empty_header", "valid_tool", "plain", "invalid_object_header"},
			rejected: map[string]string{"invalid_empty_header": "is empty", "invalid_object_header": "of type object"},
		},
		{
			name:     "in the middle",
			in:       answer(plainTool, objHeader, validTool),
			out:      answer(plainTool, validTool),
			tools:    []string{"plain", "invalid_object_header", "valid_tool"},
			rejected: map[string]string{"invalid_object_header": "of type object"},
		},
		{
			name:     "all of them",
			in:       answer(emptyHeader, objHeader),
			out:      answer(),
			tools:    []string{"invalid_empty_header", "invalid_object_header"},
			rejected: map[string]string{"invalid_empty_header": "", "invalid_object_header": ""},
		},
		{
			name:     "members before and after, spaces and escapes",
			in:       "{ \"id\" : \"x\\u0031\", \"result\" : { \"tools\" : [ " + objHeader + " , " + validTool + " ] , \"_meta\":{\"a\":[1, 2]} } , \"jsonrpc\":\"2.0\" }",
			out:      "{ \"id\" : \"x\\u0031\", \"result\" : { \"tools\" : [" + validTool + "] , \"_meta\":{\"a\":[1, 2]} } , \"jsonrpc\":\"2.0\" }",
			tools:    []string{"invalid_object_header", "valid_tool"},
			rejected: map[string]string{"invalid_object_header": ""},
		},
		{name: "an element that is not a tool is kept", in: answer(`null`, `7`, validTool), tools: []string{"valid_tool"}},
		{name: "an error answer", in: `{"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"no"}}`},
		{name: "no tools", in: `{"jsonrpc":"2.0","id":7,"result":{}}`},
		{name: "tools not an array", in: `{"jsonrpc":"2.0","id":7,"result":{"tools":null}}`},
		{name: "result not an object", in: `{"jsonrpc":"2.0","id":7,"result":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			l, err := ReadList(in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.out == "" {
				if &l.Answer[0] != &in[0] || len(l.Answer) != len(in) {
					t.Errorf("an answer with nothing rejected came back as other bytes: %s", l.Answer)
				}
			} else if string(l.Answer) != tt.out {
				t.Errorf("answer\n got %s\nwant %s", l.Answer, tt.out)
			}
			if tt.out != "" && !json.Valid(l.Answer) {
				t.Errorf("not JSON: %s", l.Answer)
			}
			var names []string
			for _, tool := range l.Tools {
				names = append(names, tool.Name)
				why, rejected := tt.rejected[tool.Name]
				switch {
				case rejected && (tool.Invalid == nil || !strings.Contains(tool.Invalid.Error(), why)):
					t.Errorf("%s: Invalid = %v, want %q", tool.Name, tool.Invalid, why)
				case !rejected && tool.Invalid != nil:
					t.Errorf("%s rejected: %v", tool.Name, tool.Invalid)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.tools, ",") {
				t.Errorf("tools %v, want %v", names, tt.tools)
			}
			if l.Rejected() != len(tt.rejected) {
				t.Errorf("Rejected = %d, want %d", l.Rejected(), len(tt.rejected))
			}
		})
	}
}

func TestReadListDesignations(t *testing.T) {
	l, err := ReadList([]byte(answer(validTool, plainTool)))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Tools) != 2 || !Equal(l.Tools[0].Params, []Param{{Path: []string{"region"}, Name: "Region", Type: "string"}}) || l.Tools[1].Params != nil {
		t.Errorf("tools = %+v", l.Tools)
	}
}

func TestReadListCursor(t *testing.T) {
	for in, want := range map[string]string{
		answer(validTool): `"p2"`,
		`{"jsonrpc":"2.0","id":1,"result":{"nextCursor":"","tools":[]}}`:   `""`,
		`{"jsonrpc":"2.0","id":1,"result":{"nextCursor":null,"tools":[]}}`: ``,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`:                   ``,
	} {
		l, err := ReadList([]byte(in))
		if err != nil || string(l.NextCursor) != want {
			t.Errorf("%s: NextCursor %s (%v), want %s", in, l.NextCursor, err, want)
		}
	}
}

// A member given twice would make which tools the client sees depend on the decoder.
func TestReadListDuplicates(t *testing.T) {
	for _, in := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"result":{"tools":[]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[` + objHeader + `],"tools":[]}}`,
	} {
		l, err := ReadList([]byte(in))
		if !errors.Is(err, errDuplicate) || string(l.Answer) != in {
			t.Errorf("%s: %v, answer %s", in, err, l.Answer)
		}
	}
}

func TestReadListNotJSON(t *testing.T) {
	in := []byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{]}}`)
	if l, err := ReadList(in); err == nil || string(l.Answer) != string(in) {
		t.Errorf("ReadList = %s, %v", l.Answer, err)
	}
}

func TestMentions(t *testing.T) {
	for in, want := range map[string]bool{
		answer(plainTool):                  false,
		answer(validTool):                  true,
		`{"a":"x-mcp-h\u0065ader"}`:        true,
		`{"tools":[{"name":"é","x":"y"}]}`: false,
	} {
		if got := Mentions([]byte(in)); got != want {
			t.Errorf("Mentions(%s) = %v", in, got)
		}
	}
}

func TestCut(t *testing.T) {
	in := answer(validTool, plainTool, emptyHeader)
	out, err := Cut([]byte(in), func(tool []byte) bool { return !strings.Contains(string(tool), `"plain"`) })
	if err != nil {
		t.Fatal(err)
	}
	if want := answer(validTool, emptyHeader); string(out) != want {
		t.Errorf("Cut =\n%s\nwant\n%s", out, want)
	}
	seen := 0
	same, err := Cut([]byte(in), func([]byte) bool { seen++; return true })
	if err != nil || string(same) != in || seen != 3 {
		t.Errorf("keeping all: %q, %v after %d tools", same, err, seen)
	}
	for _, a := range []string{`{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}}`, `{"jsonrpc":"2.0","id":1,"result":{}}`} {
		if got, err := Cut([]byte(a), func([]byte) bool { return false }); err != nil || string(got) != a {
			t.Errorf("Cut(%s) = %s, %v", a, got, err)
		}
	}
	if _, err := Cut([]byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[],"tools":[]}}`), func([]byte) bool { return true }); err == nil {
		t.Error("a tools member given twice was cut")
	}
}
