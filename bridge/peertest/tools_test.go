//go:build peers

package peertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClaudeCodeToolSettings runs the real Claude Code CLI (`claude -p`) with the bridge to
// server-everything, and reads the tools it offers the model from its request to a fake
// Anthropic API on 127.0.0.1 (ANTHROPIC_BASE_URL), inline or in its list of deferred tools: a tool hidden with `mcp-broker tools
// --hide` is absent from them, and read-only mode leaves only the tools annotated
// readOnlyHint. Claude Code needs no network or account for that.
func TestClaudeCodeToolSettings(t *testing.T) {
	p := requirePeers(t)
	model := fakeModel(t)
	home := t.TempDir()
	project := filepath.Join(home, "project")
	if err := os.MkdirAll(project, 0o700); err != nil {
		t.Fatal(err)
	}
	env := p.env(t, home, filepath.Join(home, "mcp-broker"), secretStore(),
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_AUTOUPDATER=1",
		"ANTHROPIC_BASE_URL="+model.srv.URL, "ANTHROPIC_API_KEY=sk-ant-test-not-a-key")
	url := p.startEverything(t, "streamableHttp")
	p.brokerCLI(t, env, "", "servers", "add", "remote", url, "--auth", "none", "--transport", "streamable-http")
	mcpConfig, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{"remote": map[string]any{
		"type": "stdio", "command": p.broker, "args": []string{"bridge"},
		"env": map[string]string{"MCP_BROKER_SERVER": "remote"},
	}}})
	// offered runs one prompt and returns the names of the server's tools Claude Code offered
	// the model.
	offered := func() []string {
		t.Helper()
		model.reset()
		r := run(t, 120*time.Second, project, env, "", p.modules(".bin", "claude"),
			"-p", "Say ok.", "--strict-mcp-config", "--mcp-config", string(mcpConfig))
		if r.err != nil {
			t.Fatalf("claude -p: %v\nstdout: %s\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		names := model.tools("mcp__remote__")
		if len(names) == 0 {
			t.Fatalf("Claude Code offered the model no tool of the server; it said %s %s; the model was sent %q; its log:\n%s", r.stdout, r.stderr, model.seen, claudeLogs(home, "remote"))
		}
		return names
	}

	p.brokerCLI(t, env, "", "tools", "remote", "--hide", "echo")
	tools := offered()
	t.Logf("with echo hidden, Claude Code offered: %s", strings.Join(tools, " "))
	if slices.Contains(tools, "echo") || !slices.Contains(tools, "get-sum") {
		t.Errorf("with echo hidden, Claude Code offered %q", tools)
	}
	// The bridge kept what it saw, hidden tools included, for `mcp-broker tools`.
	var doc struct {
		Tools []struct {
			Name     string `json:"name"`
			ReadOnly bool   `json:"read_only"`
			Shown    bool   `json:"shown"`
			Tokens   int    `json:"tokens"`
		} `json:"tools"`
	}
	if err := json.Unmarshal([]byte(p.brokerCLI(t, env, "", "tools", "remote", "--json")), &doc); err != nil {
		t.Fatal(err)
	}
	var readOnly []string
	seenEcho := false
	for _, tool := range doc.Tools {
		if tool.Name == "echo" {
			seenEcho = !tool.Shown && tool.Tokens > 0
		}
		if tool.ReadOnly {
			readOnly = append(readOnly, tool.Name)
		}
	}
	if !seenEcho || len(readOnly) == 0 || len(readOnly) == len(doc.Tools) {
		t.Fatalf("mcp-broker tools --json: %+v", doc)
	}

	p.brokerCLI(t, env, "", "tools", "remote", "--show", "echo", "--read-only", "on")
	tools = offered()
	t.Logf("in read-only mode, Claude Code offered: %s", strings.Join(tools, " "))
	slices.Sort(readOnly)
	if slices.Sort(tools); !slices.Equal(tools, readOnly) {
		t.Errorf("in read-only mode Claude Code offered %q, want the tools annotated readOnlyHint %q", tools, readOnly)
	}
}

// mcpToolName is the name Claude Code gives the model for an MCP server's tool.
var mcpToolName = regexp.MustCompile(`mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+`)

// model is a fake Anthropic Messages API: it records the tools of every request and answers
// "ok", streamed or not as asked.
type model struct {
	srv   *httptest.Server
	mu    sync.Mutex
	names map[string]bool
	seen  []string // the requests, for a failure message
}

func fakeModel(t *testing.T) *model {
	t.Helper()
	m := &model{names: map[string]bool{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *model) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names = map[string]bool{}
}

// tools returns the names of the tools offered so far that start with prefix, without it.
func (m *model) tools(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.names {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			out = append(out, rest)
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1/messages") || strings.Contains(r.URL.Path, "count_tokens") {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
		Tools  []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Claude Code offers a tool either in the request's tools, or by name in its system text's
	// list of deferred tools (loaded through ToolSearch): every mention counts.
	mentioned := mcpToolName.FindAllString(string(body), -1)
	m.mu.Lock()
	m.seen = append(m.seen, fmt.Sprintf("%s %s: %d tools, %d MCP tool mentions", r.Method, r.URL, len(req.Tools), len(mentioned)))
	for _, tool := range req.Tools {
		m.names[tool.Name] = true
	}
	for _, n := range mentioned {
		m.names[n] = true
	}
	m.mu.Unlock()
	message := map[string]any{"id": "msg_test", "type": "message", "role": "assistant", "model": req.Model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": map[string]int{"input_tokens": 1, "output_tokens": 1}}
	if !req.Stream {
		message["content"], message["stop_reason"] = []any{map[string]string{"type": "text", "text": "ok"}}, "end_turn"
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(message)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for _, e := range []struct {
		name string
		data any
	}{
		{"message_start", map[string]any{"type": "message_start", "message": message}},
		{"content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]string{"type": "text", "text": ""}}},
		{"content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]string{"type": "text_delta", "text": "ok"}}},
		{"content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}},
		{"message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]int{"output_tokens": 1}}},
		{"message_stop", map[string]any{"type": "message_stop"}},
	} {
		data, _ := json.Marshal(e.data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, data)
	}
}
