package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeNode is a `node` that plays the Inspector CLI: it records its arguments, one invocation
// a block, and answers tools/list with the bridge's placeholder the first time.
const fakeNode = `#!/bin/sh
printf '%s\n' "$@" >>"$FAKE_LOG"
echo '---' >>"$FAKE_LOG"
n=$(cat "$FAKE_COUNT" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n >"$FAKE_COUNT"
case "$*" in
*tools/list*)
	if [ $n -eq 1 ]; then
		echo '{"result":{"tools":[{"name":"sign_in_srv","inputSchema":{"type":"object"}}]}}'
	else
		echo '{"result":{"tools":[{"name":"add","inputSchema":{"type":"object","properties":{"a":{"type":"number"}}}}]}}'
	fi ;;
*'--tool-name fails'*) echo '{"error":"boom"}' >&2; exit 5 ;;
*tools/call*) echo '{"result":{"content":[]}}' ;;
esac
`

// TestInspector: the Inspector host lists the tools until the bridge's placeholder gives way,
// then makes the calls, each an invocation with the era of the run, the broker's settings
// passed with -e (the Inspector gives a stdio server a bare environment), and the bridge as
// its server; a failed invocation fails the run.
func TestInspector(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "node"), []byte(fakeNode), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(envInspector, "/opt/inspector/index.js")
	tests := []struct {
		name, version string
		ctx           scenarioContext
		era           string
		calls         []string // the --tool-name and --tool-args-json of each call
		wantErr       string
	}{
		{"tools listed and called", "2025-11-25", scenarioContext{}, "legacy", []string{"add", `{"a":1}`}, ""},
		{"stateless", "2026-07-28", scenarioContext{}, "modern", []string{"add", `{"a":1}`}, ""},
		{"the context's calls", "2026-07-28", scenarioContext{ToolCalls: []toolCall{{Name: "h", Arguments: []byte(`{"region":"us"}`)}}},
			"modern", []string{"h", `{"region":"us"}`}, ""},
		{"a call fails", "2025-11-25", scenarioContext{ToolCalls: []toolCall{{Name: "fails"}}}, "legacy", []string{"fails", `{}`}, "inspector --method tools/call --tool-name fails: exit status 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "argv")
			w := workspace{
				env:       append(os.Environ(), "FAKE_LOG="+log, "FAKE_COUNT="+log+".n"),
				bridgeEnv: []string{"MCP_BROKER_CONFIG_DIR=/c", "MCP_BROKER_SECRET_STORE=file"},
				bridgeLog: filepath.Join(t.TempDir(), "bridge.log"),
			}
			err := runInspector(t.Context(), "/bin/mcp-broker", w, scenario{version: tt.version, context: tt.ctx, serverURL: "http://s/mcp"})
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("runInspector = %v, want %q", err, tt.wantErr)
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			invocations := strings.Split(strings.TrimSuffix(string(b), "---\n"), "---\n")
			if len(invocations) != 3 {
				t.Fatalf("%d invocations, want tools/list twice and one call:\n%s", len(invocations), b)
			}
			for i, inv := range invocations {
				argv := strings.Split(strings.TrimSuffix(inv, "\n"), "\n")
				want := []string{"/opt/inspector/index.js", "--cli", "--format", "json", "-q", "--connect-timeout", "20000", "--protocol-era", tt.era,
					"-e", "MCP_BROKER_CONFIG_DIR=/c", "-e", "MCP_BROKER_SECRET_STORE=file", "-e", "MCP_BROKER_LOG_FILE=" + w.bridgeLog, "--method"}
				if !slices.Equal(argv[:len(want)], want) || !slices.Equal(argv[len(argv)-5:], []string{"--", "/bin/mcp-broker", "bridge", "--url", "http://s/mcp"}) {
					t.Errorf("invocation %d: %q", i, argv)
				}
				method := argv[len(want)]
				switch {
				case i < 2 && method != "tools/list":
					t.Errorf("invocation %d is %s, want tools/list", i, method)
				case i == 2 && !slices.Equal(argv[len(want):len(want)+5], []string{"tools/call", "--tool-name", tt.calls[0], "--tool-args-json", tt.calls[1]}):
					t.Errorf("invocation %d: %q, want a call of %s with %s", i, argv, tt.calls[0], tt.calls[1])
				}
			}
		})
	}
}
