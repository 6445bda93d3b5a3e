package bridge_test

import (
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

func TestRelayDemoServer(t *testing.T) {
	for _, tt := range []struct {
		transport config.Transport
		path      func(srvURL, sseURL string) string
	}{
		{config.TransportStreamableHTTP, func(u, _ string) string { return u }},
		{config.TransportSSE, func(_, s string) string { return s }},
		{config.TransportAuto, func(u, _ string) string { return u }},
		{config.TransportAuto, func(_, s string) string { return s }}, // falls back to legacy
	} {
		t.Run(string(tt.transport), func(t *testing.T) {
			m := demoServer(t)
			srv := config.Server{Name: "demo", URL: tt.path(m.URL(), m.SSEURL()), Transport: tt.transport}
			c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})
			init := c.initialize()
			info, _ := resultOf(t, init)["serverInfo"].(map[string]any)
			if info["name"] != "mcp-broker-demo" {
				t.Errorf("initialize answered by %v, want the server's own answer", info)
			}
			tools := resultOf(t, c.call(1, "tools/list", ""))["tools"].([]any)
			if len(tools) != 4 {
				t.Errorf("tools/list: %d tools", len(tools))
			}
			if got := toolText(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"héllo\nworld"}}`)); got != "héllo\nworld" {
				t.Errorf("echo = %q", got)
			}
			if got := toolText(t, c.call(3, "tools/call", `{"name":"add","arguments":{"a":2,"b":40}}`)); got != "42" {
				t.Errorf("add = %q", got)
			}
			if err, took := c.closeStdin(); err != nil || took > time.Second {
				t.Errorf("exit: %v after %s", err, took)
			}
		})
	}
}
