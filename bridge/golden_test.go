package bridge_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenAnswer is what the fake server answers to each request: the request's raw id and
// method, and values a relay that re-encodes would damage (big integers, escapes), spread over
// several lines as a pretty-printing server would.
func goldenAnswer(id json.RawMessage, method string) string {
	return fmt.Sprintf("{\n  \"jsonrpc\": \"2.0\",\n  \"id\": %s,\n  \"result\": {\"method\": %q, \"big\": 123456789012345678901234567890, \"text\": \"\\u00e9\\n\\t\"}\n}", id, method)
}

func TestRelayGolden(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, msg message) {
		body := bytes.TrimSpace(msg.Raw)
		switch {
		case len(body) > 0 && body[0] == '[':
			var batch []message
			json.Unmarshal(body, &batch)
			var answers []string
			for _, m := range batch {
				if m.ID != nil {
					answers = append(answers, goldenAnswer(m.ID, m.Method))
				}
			}
			writeJSON(w, "["+strings.Join(answers, ",\n")+"]")
		case msg.ID == nil:
			w.WriteHeader(http.StatusAccepted)
		case msg.Method == "resources/read":
			// SSE: a notification first, then the answer split over data lines.
			answer := goldenAnswer(msg.ID, msg.Method)
			writeEvents(w,
				`id: 1`+"\n"+`data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"reading"}}`,
				": a comment",
				"event: message\nid: 2\ndata: "+strings.ReplaceAll(answer, "\n", "\ndata: "))
		default:
			writeJSON(w, goldenAnswer(msg.ID, msg.Method))
		}
	})
	srv := config.Server{Name: "golden", URL: f.URL(), Transport: config.TransportStreamableHTTP}
	c := run(t, bridge.Options{Server: srv, Broker: newBroker(t, srv, "", nil)})

	in, err := os.ReadFile(filepath.Join("testdata", "relay", "client.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		line := sc.Text()
		before := len(f.posts())
		c.send(line)
		for range answersTo(line) {
			out.Write(c.recv())
			out.WriteByte('\n')
		}
		if !strings.Contains(line, "notifications/initialized") {
			// Wait for it to reach the server, so the server's record has the client's order.
			waitFor(t, func() bool { return len(f.posts()) > before })
		}
	}
	// The notification after the last request must reach the server before we look.
	c.closeStdin()

	var server bytes.Buffer
	for _, p := range f.posts() {
		server.Write(p)
		server.WriteByte('\n')
	}
	golden(t, "stdout.golden", out.Bytes())
	golden(t, "server.golden", server.Bytes())

	// What the client sent reached the server byte for byte (but for initialized, which
	// the bridge sends itself).
	for _, line := range strings.Split(strings.TrimSpace(string(in)), "\n") {
		if strings.Contains(line, "notifications/initialized") {
			continue
		}
		if !bytes.Contains(server.Bytes(), []byte(line+"\n")) {
			t.Errorf("the server never got %s", line)
		}
	}
	if n := bytes.Count(server.Bytes(), []byte("notifications/initialized")); n != 1 {
		t.Errorf("the server got notifications/initialized %d times", n)
	}
	for _, r := range f.all() {
		if r.Method == http.MethodPost && !bytes.Contains(r.Body, []byte(`"initialize"`)) && r.Header.Get("Mcp-Session-Id") != fakeSession {
			t.Errorf("a POST without the session: %s", r.Body)
		}
	}
}

// answersTo is how many messages the client gets for one of its lines.
func answersTo(line string) []struct{} {
	switch {
	case strings.HasPrefix(line, "["):
		return make([]struct{}, 1) // one batch answer
	case strings.Contains(line, `"resources/read"`):
		return make([]struct{}, 2) // a notification, then the answer
	case strings.Contains(line, `"id"`):
		return make([]struct{}, 1)
	}
	return nil
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "relay", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
