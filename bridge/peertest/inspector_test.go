//go:build peers

package peertest

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInspector drives the bridge with the MCP Inspector CLI (2.x) against server-everything
// over Streamable HTTP and legacy SSE: tools/list, tools/call of echo, get-sum and the
// long-running tool with a progress token, resources/read, prompts/get, and its load mode
// (200 calls, 10 in flight), with no error.
func TestInspector(t *testing.T) {
	p := requirePeers(t)
	modes := []struct{ name, mode, transport string }{
		{"streamable-http", "streamableHttp", "streamable-http"},
		{"sse", "sse", "sse"},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			url := p.startEverything(t, m.mode)
			home := t.TempDir()
			configDir := filepath.Join(home, "mcp-broker")
			env := p.env(t, home, configDir, "file")
			p.brokerCLI(t, env, "", "servers", "add", "everything", url, "--auth", "none", "--transport", m.transport)

			// The Inspector passes the server only what -e gives it (and a few basics).
			inspect := func(args ...string) json.RawMessage {
				t.Helper()
				argv := []string{"--require", p.preload,
					p.modules("@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js"),
					"--cli", "--format", "json", "-q", "--connect-timeout", "20000",
					"-e", "MCP_BROKER_SERVER=everything", "-e", "MCP_BROKER_CONFIG_DIR=" + configDir,
					"-e", "MCP_BROKER_SECRET_STORE=file", "-e", "MCP_BROKER_RUNTIME_DIR=" + filepath.Join(home, "runtime")}
				argv = append(append(argv, args...), "--", p.broker, "bridge")
				r := run(t, 90*time.Second, home, env, "", filepath.Join(p.nodeBin, "node"), argv...)
				var out struct {
					Result json.RawMessage `json:"result"`
					Error  json.RawMessage `json:"error"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &out); r.err != nil || err != nil || out.Error != nil || out.Result == nil {
					t.Fatalf("inspector %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.err, r.stdout, lastLines(r.stderr, 30))
				}
				return out.Result
			}

			var tools struct {
				Tools []struct{ Name string } `json:"tools"`
			}
			decode(t, inspect("--method", "tools/list"), &tools)
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			for _, want := range []string{"echo", "get-sum", "trigger-long-running-operation"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools/list lacks %s: %v", want, names)
				}
			}

			calls := []struct {
				args []string
				want string
			}{
				{[]string{"--tool-name", "echo", "--tool-arg", "message=hello from the bridge"}, "hello from the bridge"},
				{[]string{"--tool-name", "get-sum", "--tool-arg", "a=19", "b=23"}, "42"},
				// The progress token makes the server send notifications/progress through
				// the bridge while the call runs.
				{[]string{"--tool-name", "trigger-long-running-operation", "--tool-arg", "duration=1", "steps=4",
					"--tool-metadata", "progressToken=peer-progress"}, "Long running operation completed"},
			}
			for _, c := range calls {
				var res struct {
					IsError bool `json:"isError"`
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				}
				decode(t, inspect(append([]string{"--method", "tools/call"}, c.args...)...), &res)
				if res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, c.want) {
					t.Errorf("tools/call %s = %+v, want text with %q", c.args[1], res, c.want)
				}
			}

			var resource struct {
				Contents []struct {
					URI  string `json:"uri"`
					Text string `json:"text"`
				} `json:"contents"`
			}
			const uri = "demo://resource/static/document/architecture.md"
			decode(t, inspect("--method", "resources/read", "--uri", uri), &resource)
			if len(resource.Contents) != 1 || resource.Contents[0].URI != uri || !strings.Contains(resource.Contents[0].Text, "Architecture") {
				t.Errorf("resources/read %s = %.300s", uri, resource.Contents)
			}

			var prompt struct {
				Messages []struct {
					Content struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"messages"`
			}
			decode(t, inspect("--method", "prompts/get", "--prompt-name", "args-prompt", "--prompt-args", "city=Paris", "state=Texas"), &prompt)
			if len(prompt.Messages) == 0 || !strings.Contains(prompt.Messages[0].Content.Text, "Paris, Texas") {
				t.Errorf("prompts/get args-prompt = %+v", prompt)
			}

			var load struct {
				Requests, OK, ToolErrors, Errors int
				ErrorMessages                    []string `json:"errorMessages"`
				Throughput                       float64  `json:"throughput"`
				LatencyMs                        struct{ P50, P99 float64 }
			}
			decode(t, inspect("--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=load",
				"--load", "--load-requests", "200", "--load-concurrency", "10"), &load)
			if load.Requests != 200 || load.OK != 200 || load.Errors != 0 || load.ToolErrors != 0 {
				t.Errorf("inspector --load: %+v, want 200 requests, all ok", load)
			}
			t.Logf("%s: --load 200 calls, 10 in flight: %d ok, %.0f calls/s, p50 %.1f ms, p99 %.1f ms",
				m.name, load.OK, load.Throughput, load.LatencyMs.P50, load.LatencyMs.P99)
		})
	}
}

func decode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %.300s: %v", raw, err)
	}
}
