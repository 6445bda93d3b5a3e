package paramheaders

import (
	"reflect"
	"testing"
)

func TestValues(t *testing.T) {
	p := func(name, typ string, path ...string) Param { return Param{Path: path, Name: name, Type: typ} }
	call := func(args string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":` + args + `}}`
	}
	tests := []struct {
		name    string
		request string
		params  []Param
		want    []Value
	}{
		{
			name:    "conformance's test_custom_headers, before encoding",
			request: call(`{"region":"us-west1","priority":42,"verbose":false,"debug":true,"empty_val":"","method_val":"test-method","float_val":3.14159,"non_ascii_val":"Hello, 世界","crlf_val":"line1\r\nline2","tab_val":"\tindented","query":"SELECT * FROM users"}`),
			params: []Param{
				p("Region", "string", "region"), p("Priority", "integer", "priority"), p("Verbose", "boolean", "verbose"),
				p("Debug", "boolean", "debug"), p("EmptyVal", "string", "empty_val"), p("Method", "string", "method_val"),
				p("NonAscii", "string", "non_ascii_val"), p("CrLf", "string", "crlf_val"), p("Tab", "string", "tab_val"),
			},
			want: []Value{
				{"Mcp-Param-Region", "us-west1"}, {"Mcp-Param-Priority", "42"}, {"Mcp-Param-Verbose", "false"},
				{"Mcp-Param-Debug", "true"}, {"Mcp-Param-EmptyVal", ""}, {"Mcp-Param-Method", "test-method"},
				{"Mcp-Param-NonAscii", "Hello, 世界"}, {"Mcp-Param-CrLf", "line1\r\nline2"}, {"Mcp-Param-Tab", "\tindented"},
			},
		},
		{
			name:    "null and absent are omitted",
			request: call(`{"region":"us-east1","priority":1,"verbose":null,"query":"SELECT 1"}`),
			params:  []Param{p("Region", "string", "region"), p("Priority", "integer", "priority"), p("Verbose", "boolean", "verbose"), p("Debug", "boolean", "debug")},
			want:    []Value{{"Mcp-Param-Region", "us-east1"}, {"Mcp-Param-Priority", "1"}},
		},
		{
			name:    "nested",
			request: call(`{"target":{"zone":"eu-1","deep":{"n":-7}},"other":{"zone":"no"}}`),
			params:  []Param{p("Zone", "string", "target", "zone"), p("N", "integer", "target", "deep", "n"), p("Missing", "string", "absent", "x")},
			want:    []Value{{"Mcp-Param-Zone", "eu-1"}, {"Mcp-Param-N", "-7"}},
		},
		{
			name:    "integers in decimal, every digit kept",
			request: call(`{"a":42.0,"b":4.2e1,"c":12345678901234567890,"d":-0,"e":1e300,"f":3.5}`),
			params:  []Param{p("A", "integer", "a"), p("B", "integer", "b"), p("C", "integer", "c"), p("D", "integer", "d"), p("E", "integer", "e"), p("F", "integer", "f")},
			want:    []Value{{"Mcp-Param-A", "42"}, {"Mcp-Param-B", "42"}, {"Mcp-Param-C", "12345678901234567890"}, {"Mcp-Param-D", "-0"}, {"Mcp-Param-E", "1e300"}, {"Mcp-Param-F", "3.5"}},
		},
		{
			name:    "an argument of another type is mirrored as it is",
			request: call(`{"a":"42","b":7,"c":{"x":1},"d":[1]}`),
			params:  []Param{p("A", "integer", "a"), p("B", "string", "b"), p("C", "string", "c"), p("D", "string", "d")},
			want:    []Value{{"Mcp-Param-A", "42"}, {"Mcp-Param-B", "7"}},
		},
		{
			name:    "escapes in the body",
			request: call(`{"a":"\u00e9\"\\","b":"x"}`),
			params:  []Param{p("A", "string", "a")},
			want:    []Value{{"Mcp-Param-A", "é\"\\"}},
		},
		{name: "no arguments", request: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}`, params: []Param{p("A", "string", "a")}},
		{name: "arguments not an object", request: call(`[1]`), params: []Param{p("A", "string", "a")}},
		{name: "no designations", request: call(`{"a":"x"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Values([]byte(tt.request), tt.params); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Values = %q\nwant     %q", got, tt.want)
			}
		})
	}
}
