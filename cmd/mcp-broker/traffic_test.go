package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestTrafficFilters reads events files as bridges write them and checks what `traffic` and
// its filters print.
func TestTrafficFilters(t *testing.T) {
	c := newCLI(t)
	if r := c.ok("", "traffic"); !strings.Contains(r.stderr, "No traffic recorded") || r.stdout != "" {
		t.Errorf("traffic with nothing recorded: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	dir := traffic.Dir(c.runtime)
	if err := status.Ensure(dir); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	write := func(name string, events ...traffic.Event) {
		var b strings.Builder
		for i, e := range events {
			e.Time = at.Add(time.Duration(i) * time.Millisecond)
			line, _ := json.Marshal(e)
			b.Write(append(line, '\n'))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("studio.101.jsonl",
		traffic.Event{Server: "studio", PID: 101, Kind: traffic.KindStep, Step: "refresh", Outcome: traffic.OutcomeFailed, Error: "the sign-in has expired"},
		traffic.Event{Server: "studio", PID: 101, Kind: traffic.KindMessage, Dir: traffic.ToServer, Type: "request", Method: "tools/call", ID: "4", Size: 80},
		traffic.Event{Server: "studio", PID: 101, Kind: traffic.KindMessage, Dir: traffic.ToClient, Type: "response", Method: "tools/call", ID: "4", Size: 2048, ElapsedMS: 12.5,
			Body: json.RawMessage(`{"jsonrpc":"2.0","id":4,"result":{}}`)})
	write("docs.202.jsonl",
		traffic.Event{Server: "docs", PID: 202, Kind: traffic.KindMessage, Dir: traffic.ToServer, Type: "request", Method: "tools/list", ID: "1", Size: 50},
		traffic.Event{Server: "docs", PID: 202, Kind: traffic.KindMessage, Dir: traffic.ToClient, Type: "response", Method: "tools/list", ID: "1", Size: 90, ErrorCode: -32601, ErrorMessage: "Method not found"})

	all := c.ok("", "traffic").stdout
	for _, want := range []string{
		"studio (bridge pid 101)", "docs (bridge pid 202)", "• refresh failed: the sign-in has expired",
		"→ tools/call #4  80 B", "← tools/call #4  2.0 KiB  12.5 ms", `    {"jsonrpc":"2.0","id":4,"result":{}}`,
		"← tools/list #1  90 B  error -32601: Method not found",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("traffic lacks %q:\n%s", want, all)
		}
	}
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"--server", "docs"}, []string{"tools/list"}, []string{"studio", "refresh"}},
		{[]string{"--method", "tools/call"}, []string{"→ tools/call #4", "← tools/call #4"}, []string{"tools/list", "refresh"}},
		{[]string{"--method", "tools/"}, []string{"tools/call", "tools/list"}, []string{"refresh"}},
		{[]string{"--errors"}, []string{"refresh failed", "error -32601"}, []string{"→ tools/call", "→ tools/list"}},
	} {
		out := c.ok("", append([]string{"traffic"}, tc.args...)...).stdout
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("traffic %v lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("traffic %v shows %q:\n%s", tc.args, n, out)
			}
		}
	}

	if r := c.run("", "traffic", "--bodies", "maybe"); r.code != exitUsage {
		t.Errorf("--bodies maybe: exit %d, want %d", r.code, exitUsage)
	}
	for _, v := range []string{"on", "off"} {
		c.ok("", "traffic", "--bodies", v)
		f, err := config.Load(filepath.Join(c.dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if f.TrafficBodies != (v == "on") {
			t.Errorf("after --bodies %s, traffic_bodies = %v", v, f.TrafficBodies)
		}
	}
}

// TestTrafficFollowsABridge runs a bridge and `traffic --follow --bodies on` in process: the
// bridge, told by the configuration, writes the messages with their bodies, and the watcher
// prints them as they come.
func TestTrafficFollowsABridge(t *testing.T) {
	m := mcpserver.New(mcpserver.Options{NoAuth: true})
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := newCLI(t)
	c.ok("", "servers", "add", "open", m.URL(), "--auth", "none")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var watched, werr testenv.SyncBuffer
	following := make(chan int, 1)
	go func() {
		following <- run(ctx, []string{"traffic", "--follow", "--bodies", "on", "--server", "open"}, strings.NewReader(""), &watched, &werr, c.osEnv(""))
	}()
	waitUntil(t, "the watcher", func() bool { return traffic.Watched(traffic.Dir(c.runtime), time.Now()) })

	in, stdin := io.Pipe()
	var out, errb testenv.SyncBuffer
	bridged := make(chan int, 1)
	go func() {
		bridged <- run(ctx, []string{"bridge", "--server", "open"}, in, &out, &errb, c.osEnv(""))
	}()
	// The bridge looks for a watcher once a second: ask until its answer shows in the timeline.
	io.WriteString(stdin, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`+"\n")
	id := 1
	waitUntil(t, "tools/list in the timeline", func() bool {
		io.WriteString(stdin, `{"jsonrpc":"2.0","id":`+strconv.Itoa(id)+`,"method":"tools/list"}`+"\n")
		id++
		s := watched.String()
		return strings.Contains(s, "← tools/list #") && strings.Contains(s, `"tools":[`)
	})
	if !strings.Contains(watched.String(), "open[") {
		t.Errorf("--follow lines do not name their session:\n%s", watched.String())
	}
	stdin.Close()
	if code := <-bridged; code != 0 {
		t.Errorf("bridge exit %d: %s", code, errb.String())
	}
	cancel()
	if code := <-following; code != 0 {
		t.Errorf("traffic --follow exit %d: %s", code, werr.String())
	}
}

// waitUntil polls cond every 50 ms until it holds, failing the test after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not in time", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
