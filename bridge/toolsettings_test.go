package bridge_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// The tools of the fake below, with the odd spacing and escapes a lossless relay keeps.
const (
	readTool   = `{"name":"read","description":"Reads caf\u00e9 <b>", "inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}}`
	writeTool  = `{ "name" : "write", "inputSchema" : {"type":"object","properties":{"x":{"type":"string"}}}, "annotations":{"readOnlyHint":false} }`
	deleteTool = `{"name":"delete","inputSchema":{"type":"object"}}`
)

// toolsAnswer is the fake's answer to tools/list with id, holding tools.
func toolsAnswer(id string, tools ...string) string {
	return `{"jsonrpc":"2.0", "id":` + id + `,"result":{"tools":[` + strings.Join(tools, ",") + `], "_meta":{"k":"v"}}}`
}

// toolsFake serves the three tools above, answers tools/call with the tool's name, and answers
// prompts/list with bytes a re-encoding would change.
func toolsFake(t *testing.T) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		switch msg.Method {
		case "tools/list":
			writeJSON(w, toolsAnswer(string(msg.ID), readTool, writeTool, deleteTool))
		case "tools/call":
			var p struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(msg.Params, &p)
			writeJSON(w, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":%q}]}}`, msg.ID, p.Name))
		case "prompts/list":
			writeJSON(w, fmt.Sprintf(`{"jsonrpc":"2.0" ,"id":%s,"result":{"prompts":[{"name":"\u00e9"}]}}`, msg.ID))
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
}

// toolCalls returns the names of the tools the fake was asked to call.
func toolCalls(f *fake) []string {
	var names []string
	for _, body := range f.posts() {
		var m struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &m) == nil && m.Method == "tools/call" {
			names = append(names, m.Params.Name)
		}
	}
	return names
}

// TestToolSettings drives a running bridge through its tool settings, changed in the
// configuration as `mcp-broker tools` changes them: hidden tools leave tools/list (every other
// byte kept), calls of them are refused without reaching the server, read-only mode keeps only
// the tools annotated readOnlyHint, each change reaches the bridge within a second with
// notifications/tools/list_changed, and everything else relays byte for byte.
func TestToolSettings(t *testing.T) {
	f := toolsFake(t)
	srv := config.Server{Name: "fake", URL: f.URL(), Transport: config.TransportStreamableHTTP}
	env := newBrokerEnv(t, srv, "")
	b := env.broker(t, nil)
	toolsDir := t.TempDir()
	c := run(t, bridge.Options{Server: srv, Broker: b, ConfigPath: env.config, ToolsDir: toolsDir})
	c.initialize()

	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if got, want := string(c.recvID("1")), toolsAnswer("1", readTool, writeTool, deleteTool); got != want {
		t.Fatalf("tools/list with nothing hidden:\n%s\nwant the server's bytes\n%s", got, want)
	}
	// The Seen file is written off the relay's path.
	var seen toolpolicy.Seen
	waitFor(t, func() bool {
		var err error
		seen, err = toolpolicy.Load(toolsDir, "fake")
		return err == nil
	})
	if len(seen.Tools) != 3 || !seen.Tools[0].ReadOnly || seen.Tools[1].ReadOnly || seen.Tools[0].Description != "Reads café <b>" ||
		seen.Tools[2].Bytes != len(deleteTool) || seen.Tools[1].SchemaBytes != len(`{"type":"object","properties":{"x":{"type":"string"}}}`) {
		t.Errorf("tools seen: %+v", seen.Tools)
	}

	change := func(ch broker.ToolChange) {
		t.Helper()
		start := time.Now()
		if err := b.ChangeTools(t.Context(), "fake", ch); err != nil {
			t.Fatal(err)
		}
		c.recvMethod("notifications/tools/list_changed")
		if took := time.Since(start); took > time.Second {
			t.Errorf("the change reached the bridge after %s, want within a second", took)
		}
	}
	change(broker.ToolChange{Hide: []string{"delete"}})
	c.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if got, want := string(c.recvID("2")), toolsAnswer("2", readTool, writeTool); got != want {
		t.Errorf("tools/list with delete hidden:\n%s\nwant\n%s", got, want)
	}
	refused := errorOf(t, c.call(3, "tools/call", `{"name":"delete","arguments":{}}`))
	if refused["code"] != float64(jsonrpc.CodeInvalidParams) || !contains(fmt.Sprint(refused["message"]), `"delete"`, `"fake"`, "hidden") {
		t.Errorf("call of a hidden tool: %v", refused)
	}
	if got := toolText(t, c.call(4, "tools/call", `{"name":"write","arguments":{"x":"y"}}`)); got != "write" {
		t.Errorf("call of a shown tool: %q", got)
	}

	on := true
	change(broker.ToolChange{Show: []string{"delete"}, ReadOnly: &on})
	c.send(`{"jsonrpc":"2.0","id":5,"method":"tools/list"}`)
	if got, want := string(c.recvID("5")), toolsAnswer("5", readTool); got != want {
		t.Errorf("tools/list in read-only mode:\n%s\nwant\n%s", got, want)
	}
	if e := errorOf(t, c.call(6, "tools/call", `{"name":"write","arguments":{}}`)); !contains(fmt.Sprint(e["message"]), "read-only", "readOnlyHint") {
		t.Errorf("call of a tool not read-only in read-only mode: %v", e)
	}
	if got := toolText(t, c.call(7, "tools/call", `{"name":"read","arguments":{}}`)); got != "read" {
		t.Errorf("call of a read-only tool in read-only mode: %q", got)
	}
	if got := toolCalls(f); strings.Join(got, ",") != "write,read" {
		t.Errorf("the server was asked to call %q, want only the tools shown", got)
	}

	// Everything else passes byte for byte.
	c.send(`{"jsonrpc":"2.0","id":8,"method":"prompts/list"}`)
	if got, want := string(c.recvID("8")), `{"jsonrpc":"2.0" ,"id":8,"result":{"prompts":[{"name":"\u00e9"}]}}`; got != want {
		t.Errorf("prompts/list = %s, want the server's bytes %s", got, want)
	}

	// A save that leaves the settings as they are tells the client nothing.
	off := false
	change(broker.ToolChange{ReadOnly: &off})
	if err := b.ChangeTools(t.Context(), "fake", broker.ToolChange{ReadOnly: &off}); err != nil {
		t.Fatal(err)
	}
	c.send(`{"jsonrpc":"2.0","id":9,"method":"tools/list"}`)
	c.recvID("9")
	for _, m := range c.other {
		if methodOf(m) == "notifications/tools/list_changed" {
			t.Error("list_changed after a save that changed nothing")
		}
	}
}

// TestToolSettingsAtStart: settings in the configuration when the bridge starts apply from the
// first tools/list, and without a configuration to watch.
func TestToolSettingsAtStart(t *testing.T) {
	f := toolsFake(t)
	srv := config.Server{Name: "fake", URL: f.URL(), Transport: config.TransportStreamableHTTP, HiddenTools: []string{"write"}}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
	c.initialize()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if got, want := string(c.recvID("1")), toolsAnswer("1", readTool, deleteTool); got != want {
		t.Errorf("tools/list:\n%s\nwant\n%s", got, want)
	}
	errorOf(t, c.call(2, "tools/call", `{"name":"write"}`))
	if got := toolCalls(f); len(got) != 0 {
		t.Errorf("the server was asked to call %q", got)
	}
}
