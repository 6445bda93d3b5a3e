// Package toolpolicy applies a server's tool settings (config.Server.HiddenTools and ReadOnly)
// to the answers to tools/list the bridge relays, and describes the tools it saw there: the
// bridge keeps that description in a file per server (Seen), from which `mcp-broker tools`
// and the tray show what each tool costs in Claude Code's context.
//
// A tool's cost is estimated as the length in bytes of its definition as the server sends it
// (name, title, description, inputSchema, annotations: the element of result.tools) divided by
// four, the usual rule of thumb for English text and JSON in Claude's tokenizer. It is an
// estimate: Claude Code rewrites the definitions it puts in the model's context.
//
// It imports nothing of the bridge but paramheaders, whose Cut it uses to take hidden tools out
// of an answer while keeping every other byte.
package toolpolicy

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/mcp-broker/mcp-broker/bridge/paramheaders"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// Policy is what a server's settings say to hide.
type Policy struct {
	// Hidden are the names of the tools hidden whatever their annotations.
	Hidden []string
	// ReadOnly hides every tool not annotated readOnlyHint: true.
	ReadOnly bool
}

// FromServer reads the policy of a configured server.
func FromServer(s config.Server) Policy {
	return Policy{Hidden: slices.Clone(s.HiddenTools), ReadOnly: s.ReadOnly}
}

// Empty reports whether the policy hides nothing: the bridge then reads no tools/call.
func (p Policy) Empty() bool { return len(p.Hidden) == 0 && !p.ReadOnly }

// Equal reports whether two policies hide the same tools.
func (p Policy) Equal(q Policy) bool {
	if p.ReadOnly != q.ReadOnly || len(p.Hidden) != len(q.Hidden) {
		return false
	}
	for _, h := range p.Hidden {
		if !slices.Contains(q.Hidden, h) {
			return false
		}
	}
	return true
}

// Hides reports whether the policy hides the tool name, annotated readOnlyHint: true or not.
func (p Policy) Hides(name string, readOnly bool) bool {
	return (p.ReadOnly && !readOnly) || slices.Contains(p.Hidden, name)
}

// Tool is what the bridge saw of one tool. It holds nothing secret: what the server tells
// every client about the tool.
type Tool struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// ReadOnly: the tool is annotated readOnlyHint: true.
	ReadOnly bool `json:"read_only"`
	// Annotations are the tool's annotations as sent (the hints: readOnlyHint,
	// destructiveHint, idempotentHint, openWorldHint, title).
	Annotations json.RawMessage `json:"annotations,omitempty"`
	// SchemaBytes is the length of its inputSchema, Bytes that of its whole definition.
	SchemaBytes int `json:"schema_bytes"`
	Bytes       int `json:"bytes"`
}

// Tokens estimates what the tool's definition costs in the model's context: see the package
// comment.
func (t Tool) Tokens() int { return EstimateTokens(t.Bytes) }

// EstimateTokens turns a length in bytes of JSON definitions into tokens, rounding up.
func EstimateTokens(bytes int) int { return (bytes + 3) / 4 }

// Apply reads an answer to tools/list: it returns the answer without the tools p hides (the
// very bytes given when it hides none) and every tool the answer holds, hidden or not. An
// error means the answer cannot be taken apart safely; the caller relays it as it is.
func Apply(answer []byte, p Policy) ([]byte, []Tool, error) {
	var tools []Tool
	out, err := paramheaders.Cut(answer, func(raw []byte) bool {
		t, ok := readTool(raw)
		if !ok {
			return true // not a tool the client can call either: not ours to judge
		}
		tools = append(tools, t)
		return !p.Hides(t.Name, t.ReadOnly)
	})
	if err != nil {
		return answer, nil, err
	}
	return out, tools, nil
}

// readTool decodes one element of result.tools.
func readTool(raw []byte) (Tool, bool) {
	var d struct {
		Name        string          `json:"name"`
		Title       string          `json:"title"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"inputSchema"`
		Annotations json.RawMessage `json:"annotations"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &d) != nil || d.Name == "" {
		return Tool{}, false
	}
	t := Tool{Name: d.Name, Title: d.Title, Description: d.Description, SchemaBytes: len(d.InputSchema), Bytes: len(raw)}
	if len(d.Annotations) > 0 && d.Annotations[0] == '{' {
		var a struct {
			ReadOnlyHint bool `json:"readOnlyHint"`
		}
		if json.Unmarshal(d.Annotations, &a) == nil {
			t.ReadOnly = a.ReadOnlyHint
		}
		t.Annotations = json.RawMessage(compact(d.Annotations))
	}
	return t, true
}

// compact returns raw without insignificant spaces (raw itself if it cannot).
func compact(raw []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
