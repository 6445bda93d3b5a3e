package bridge_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestTrafficOnlyWhenWatched runs a bridge that signs in by itself to a real authorization
// server and relays to a real MCP server, both on 127.0.0.1: with no one watching it writes no
// timeline; once a watcher comes, its events file (0600) has the sign-in's steps, the
// messages with their methods and times to answer, and bodies, but no secret the store holds,
// even a token the server echoes back.
func TestTrafficOnlyWhenWatched(t *testing.T) {
	_, m := authServers(t, authserver.Options{}, mcpserver.Options{})
	srv := config.Server{Name: "demo", URL: m.URL(), Auth: config.AuthOAuth}
	env := newBrokerEnv(t, srv, "")
	b := env.broker(t, nil)
	dir := filepath.Join(t.TempDir(), "mcp-broker", "traffic")
	c := run(t, bridge.Options{Server: srv, Broker: b, TrafficDir: dir, TrafficBodies: func() bool { return true }})
	c.initialize()
	if got := toolText(t, c.call(1, "tools/call", `{"name":"echo","arguments":{"message":"unwatched"}}`)); got != "unwatched" {
		t.Fatalf("echo = %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the traffic folder holds %d files with no one watching", len(entries))
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := traffic.Watch(ctx, dir); err != nil {
		t.Fatal(err)
	}
	var path string
	waitFor(t, func() bool {
		matches, _ := filepath.Glob(filepath.Join(dir, "demo.*.jsonl"))
		if len(matches) == 1 {
			path = matches[0]
		}
		return path != ""
	})
	cred, err := b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(cred.Value, " ")
	// The server echoes the token: only the bridge's knowledge of its own secrets can catch it.
	if got := toolText(t, c.call(2, "tools/call", `{"name":"echo","arguments":{"message":"`+token+`"}}`)); got != token {
		t.Fatalf("echo = %q", got)
	}
	c.call(3, "no/such/method", `{}`)

	r := traffic.NewReader(dir)
	var events []traffic.Event
	var echoed, failed bool
	waitFor(t, func() bool {
		got, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, got...)
		for _, e := range got {
			echoed = echoed || e.Dir == traffic.ToClient && e.ID == "2" && e.Method == "tools/call" && e.ElapsedMS > 0 && len(e.Body) > 0
			failed = failed || e.Dir == traffic.ToClient && e.ID == "3" && e.ErrorCode != 0
		}
		return echoed && failed
	})
	steps := map[string]string{}
	for _, e := range events {
		if e.Kind == traffic.KindStep {
			steps[e.Step] = e.Outcome
		}
		if e.Kind == traffic.KindMessage && e.ID == "1" {
			t.Errorf("an event of a message relayed while no one watched: %+v", e)
		}
	}
	for _, step := range []string{"discovery", "registration", "authorization", "token"} {
		if steps[step] != traffic.OutcomeOK {
			t.Errorf("sign-in step %s: outcome %q, want ok (steps: %v)", step, steps[step], steps)
		}
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("events file mode = %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := env.store.Keys()
	if len(keys) == 0 {
		t.Fatal("the store holds no secret: the sign-in stored nothing")
	}
	for _, key := range keys {
		secret, err := env.store.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		// The store's items are JSON documents of several secrets, or a secret alone.
		for _, s := range append(jsonStrings(secret), secret) {
			if len(s) >= 12 && strings.Contains(string(data), s) {
				t.Errorf("the events file holds the secret of %s", key)
			}
		}
	}
	if strings.Contains(string(data), token) {
		t.Error("the events file holds the access token")
	}
}

// jsonStrings returns every string value in a JSON document (none when s is not JSON).
func jsonStrings(s string) []string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}
