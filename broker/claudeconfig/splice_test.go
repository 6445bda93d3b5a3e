package claudeconfig

import (
	"strings"
	"testing"
)

// userPlan adds "studio" to the top-level mcpServers.
var userPlan = plan{keys: []string{"mcpServers"}, name: "studio", entry: Entry("studio", "/b/mcp-broker")}

// entryCompact and entrySpaced are the entry on one line, as the compact styles write it.
const (
	entryCompact = `{"type":"stdio","command":"/b/mcp-broker","args":["bridge"],"env":{"MCP_BROKER_SERVER":"studio"}}`
	entrySpaced  = `{"type": "stdio", "command": "/b/mcp-broker", "args": ["bridge"], "env": {"MCP_BROKER_SERVER": "studio"}}`
)

// entryAt is the entry indented at depth levels of two spaces, as a member's value.
func entryAt(depth int) string {
	in := strings.Repeat("  ", depth)
	return strings.ReplaceAll(`{
  "type": "stdio",
  "command": "/b/mcp-broker",
  "args": [
    "bridge"
  ],
  "env": {
    "MCP_BROKER_SERVER": "studio"
  }
}`, "\n", "\n"+in)
}

// TestSpliceLayouts checks how the new text takes the layout of its surroundings, on small
// documents; the realistic files are in TestAdd's golden files.
func TestSpliceLayouts(t *testing.T) {
	tests := []struct {
		name, in, want string
		status         Status
	}{
		{"empty object", `{}`, "{\n  \"mcpServers\": {\n    \"studio\": " + entryAt(2) + "\n  }\n}", StatusNew},
		{"compact", `{"a":1}`, `{"a":1,"mcpServers":{"studio":` + entryCompact + `}}`, StatusNew},
		{"compact spaced", `{"a": 1, "b": 2}`, `{"a": 1, "b": 2, "mcpServers": {"studio": ` + entrySpaced + `}}`, StatusNew},
		{"compact empty servers", `{ "mcpServers": { } }`, `{ "mcpServers": {"studio": ` + entrySpaced + `} }`, StatusNew},
		{"four spaces", "{\n    \"a\": 1\n}\n", `{
    "a": 1,
    "mcpServers": {
        "studio": {
            "type": "stdio",
            "command": "/b/mcp-broker",
            "args": [
                "bridge"
            ],
            "env": {
                "MCP_BROKER_SERVER": "studio"
            }
        }
    }
}
`, StatusNew},
		{"one-line servers in an indented file", "{\n  \"mcpServers\": {\"x\": {}}\n}",
			"{\n  \"mcpServers\": {\"x\": {}, \"studio\": " + entrySpaced + "}\n}", StatusNew},
		{"empty servers, indented", "{\n  \"a\": [],\n  \"mcpServers\": {}\n}",
			"{\n  \"a\": [],\n  \"mcpServers\": {\n    \"studio\": " + entryAt(2) + "\n  }\n}", StatusNew},
		{"duplicate keys: the last counts", `{"mcpServers":{"old":1},"mcpServers":{}}`,
			`{"mcpServers":{"old":1},"mcpServers":{"studio":` + entryCompact + `}}`, StatusNew},
		{"escaped key", `{"mcp\u0053ervers":{}}`, `{"mcp\u0053ervers":{"studio":` + entryCompact + `}}`, StatusNew},
		{"same without type", `{"mcpServers":{"studio":{"command":"/b/mcp-broker","args":["bridge"],"env":{"MCP_BROKER_SERVER":"studio"}}}}`, "", StatusSame},
		{"same, other key order", `{"mcpServers":{"studio":{"env":{"MCP_BROKER_SERVER":"studio"},"args":["bridge"],"command":"/b/mcp-broker","type":"stdio"}}}`, "", StatusSame},
		{"different env", `{"mcpServers":{"studio":{"command":"/b/mcp-broker","args":["bridge"],"env":{"MCP_BROKER_SERVER":"other"}}}}`, "", StatusDifferent},
		{"different args", `{"mcpServers":{"studio":{"type":"stdio","command":"/b/mcp-broker","args":[],"env":{"MCP_BROKER_SERVER":"studio"}}}}`, "", StatusDifferent},
		{"BOM and trailing space", "\xef\xbb\xbf{\"a\": 1}  \n", "\xef\xbb\xbf{\"a\": 1, \"mcpServers\": {\"studio\": " + entrySpaced + "}}  \n", StatusNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := userPlan.apply([]byte(tt.in), false)
			if err != nil {
				t.Fatal(err)
			}
			if e.status != tt.status || string(e.out) != tt.want {
				t.Errorf("apply(%q) = %s\n%s\nwant %s\n%s", tt.in, e.status, e.out, tt.status, tt.want)
			}
		})
	}
}

func TestFileErrorPositions(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
		reason    string
	}{
		{"{\n  \"a\": tru\n}", 2, 11, "invalid character '\\n'"},
		{`{"a": 1} x`, 1, 10, "after top-level value"},
		{"{\"é\": [1,,2]}", 1, 10, "invalid character ','"},
		{"\xef\xbb\xbf[]", 1, 1, "not a JSON object"},
		{`{"mcpServers": "x"}`, 1, 16, "mcpServers is a string"},
		{"{\n\"mcpServers\": 12}", 2, 15, "mcpServers is a number"},
		{`{"mcpServers": true}`, 1, 16, "a boolean"},
		{"{", 1, 2, "unexpected end"},
	}
	for _, tt := range tests {
		_, err := userPlan.apply([]byte(tt.in), false)
		fe, ok := err.(*FileError)
		if !ok || fe.Line != tt.line || fe.Column != tt.col || !strings.Contains(fe.Reason, tt.reason) {
			t.Errorf("apply(%q) = %v, want a *FileError at %d:%d with %q", tt.in, err, tt.line, tt.col, tt.reason)
		}
	}
}
