package bridge_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestURLSecretRedacted: an API key in the server URL's query never reaches the client's
// errors, the status file or the logs, whatever fails: a server that is down, one that answers
// 500 or 404 to everything, and one that fails only tool calls once the session is up.
func TestURLSecretRedacted(t *testing.T) {
	const secret = "SECRET123"
	failing := func(code int) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nope: "+r.URL.String(), code) // servers echo the URL too
		}
	}
	for _, tt := range []struct {
		name   string
		handle func(http.ResponseWriter, *http.Request) // nil: nothing listens
		fake   func(w http.ResponseWriter, r *http.Request, msg message)
	}{
		{name: "down"},
		{name: "500", handle: failing(http.StatusInternalServerError)},
		{name: "404", handle: failing(http.StatusNotFound)},
		{name: "call-fails", fake: func(w http.ResponseWriter, r *http.Request, msg message) {
			switch {
			case r.Method == http.MethodGet:
				http.Error(w, "no stream", http.StatusMethodNotAllowed)
			case msg.Method == "tools/call":
				http.Error(w, "broken: "+r.URL.String(), http.StatusInternalServerError)
			case msg.Method == "tools/list":
				http.Error(w, "gone: "+r.URL.String(), http.StatusNotFound)
			default:
				w.WriteHeader(http.StatusAccepted)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var base string
			switch {
			case tt.fake != nil:
				base = strings.TrimSuffix(newFake(t, tt.fake).URL(), "/mcp")
			case tt.handle != nil:
				s := newHTTPServer(t, http.HandlerFunc(tt.handle))
				base = s
			default:
				base = "http://" + testenv.FreeAddrs(t, 1)[0]
			}
			u := base + "/mcp?api_key=" + secret
			srv := config.Server{Name: "keyed", URL: u}
			var logs testenv.SyncBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			env := newBrokerEnv(t, srv, "")
			b, err := broker.New(broker.Options{ConfigPath: env.config, Secrets: env.store, Opener: &opener.Browser{}, Log: log})
			if err != nil {
				t.Fatal(err)
			}
			statusDir, cacheDir := filepath.Join(t.TempDir(), "bridges"), t.TempDir()
			c := run(t, bridge.Options{Server: srv, Broker: b, Log: log, StatusDir: statusDir, CacheDir: cacheDir, ToolsListWait: 10 * time.Second})
			var seen []string
			seen = append(seen, string(c.send0(initializeMsg, "0")))
			c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			for i, m := range []string{"tools/call", "tools/list", "tools/call"} {
				got := c.send0(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":{"name":"x"}}`, i+1, m), fmt.Sprint(i+1))
				seen = append(seen, string(got))
			}
			// At least one real failure reached the client, naming the server without its key.
			all := strings.Join(seen, "\n")
			if !strings.Contains(all, `"error"`) || !strings.Contains(all, base+"/mcp?REDACTED") {
				t.Errorf("no error naming the redacted URL reached the client:\n%s", all)
			}
			// The status file, once it shows the failure.
			var file string
			waitFor(t, func() bool {
				bs, _ := status.List(statusDir)
				if len(bs) != 1 || (bs[0].LastError == "" && bs[0].State != status.StateConnected) {
					return false
				}
				entries, _ := os.ReadDir(statusDir)
				for _, e := range entries {
					if data, err := os.ReadFile(filepath.Join(statusDir, e.Name())); err == nil {
						file = string(data)
					}
				}
				return file != ""
			})
			if !strings.Contains(file, base+"/mcp?REDACTED") {
				t.Errorf("the status file does not name the server's redacted URL:\n%s", file)
			}
			c.closeStdin()
			var cache string
			if entries, _ := os.ReadDir(cacheDir); len(entries) > 0 {
				data, _ := os.ReadFile(filepath.Join(cacheDir, entries[0].Name()))
				cache = string(data)
			}
			if tt.name == "call-fails" && cache == "" {
				t.Error("the answer to initialize was not cached")
			}
			for what, text := range map[string]string{"the client's messages": all, "the status file": file, "the logs": logs.String(), "the initialize cache": cache} {
				if strings.Contains(text, secret) {
					t.Errorf("%s hold the URL's secret:\n%s", what, text)
				}
			}
		})
	}
}

// send0 sends a request and returns the answer with that raw id.
func (c *client) send0(msg, id string) []byte {
	c.t.Helper()
	c.send(msg)
	return c.recvID(id)
}

// newHTTPServer serves h on 127.0.0.1 until the test ends and returns its base URL.
func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	f := newFake(t, nil)
	f.srv.Config.Handler = h
	return f.srv.URL
}
