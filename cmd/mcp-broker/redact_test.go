package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestURLSecretNotShown: a server URL with an API key in its query is configured; the bridge
// (logging at debug) fails to reach it; neither the client's error, the bridge's log, nor
// `status` and `status --json` (with the live bridge's status file) show the key.
func TestURLSecretNotShown(t *testing.T) {
	const secret = "SECRET123"
	base := "http://" + testenv.FreeAddrs(t, 1)[0]
	c := bridgeCLI(t)
	c.vars = append(c.vars, "MCP_BROKER_LOG=debug")
	c.ok("", "servers", "add", "keyed", base+"/mcp?api_key="+secret, "--auth", "none")
	p := c.startBridge("--server", "keyed")
	p.send(e2eInitialize)
	p.recvID(0)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}`)
	answer := p.recvID(1)
	if answer["error"] == nil {
		t.Fatalf("a call to a server that is down: %v", answer)
	}
	var asJSON string
	deadline := time.Now().Add(30 * time.Second)
	for {
		asJSON = c.ok("", "status", "--json").stdout
		var doc struct {
			Bridges []struct {
				LastError string `json:"last_error"`
			} `json:"bridges"`
		}
		if json.Unmarshal([]byte(asJSON), &doc) == nil && len(doc.Bridges) == 1 && doc.Bridges[0].LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status --json never showed the bridge's failure:\n%s", asJSON)
		}
		time.Sleep(50 * time.Millisecond)
	}
	text := c.ok("", "status").stdout
	p.stdin.Close()
	p.waitExit(time.Now())
	if !strings.Contains(asJSON, base+"/mcp?REDACTED") {
		t.Errorf("status --json does not name the server's redacted URL:\n%s", asJSON)
	}
	for what, out := range map[string]string{
		"the client's error": fmt.Sprint(answer), "status --json": asJSON, "status": text, "the bridge's log": p.stderr.String(),
	} {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows the URL's secret:\n%s", what, out)
		}
	}
}
