package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker"
)

// setup writes a configuration with the servers name=URL and returns its path.
func setup(t *testing.T, servers ...[2]string) string {
	t.Helper()
	dir := t.TempDir()
	type srv struct {
		Name string `json:"name"`
		URL  string `json:"url"`
		Auth string `json:"auth"`
	}
	doc := struct {
		Version int   `json:"version"`
		Servers []srv `json:"servers"`
	}{Version: 1}
	for _, s := range servers {
		doc.Servers = append(doc.Servers, srv{s[0], s[1], "oauth"})
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBuild makes a report about a server that never answers and one that refuses, with a
// live bridge whose last error quotes a token and a log file that holds one: every section is
// there, the silent server's diagnosis stops at its timeout, and no secret is left.
func TestBuild(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) }) // first: Close waits for the handlers
	refuse := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(refuse.Close)
	const (
		apiKey = "QueryKey1234567"
		token  = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
		opaque = "Tq7pW2xZ9vL4mK8nR3sY6uB1cD5fG0hJ"
	)
	slowURL := hang.URL + "/mcp?api_key=" + apiKey
	cfg := setup(t, [2]string{"slow", slowURL}, [2]string{"gone", refuse.URL + "/mcp"})

	runtime := t.TempDir()
	bridges := status.BridgesDir(runtime)
	if err := status.Ensure(bridges); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b := status.Bridge{Server: "slow", URL: slowURL, PID: os.Getpid(), Started: now.Add(-time.Minute), Since: now, State: status.StateError,
		Transport: "streamable-http", Client: "claude-code 2.0",
		LastError: "calling " + slowURL + ": 401 with Authorization: Bearer " + opaque}
	data, _ := json.Marshal(b)
	if err := os.WriteFile(filepath.Join(bridges, fmt.Sprintf("slow.%d.json", b.PID)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "bridge.log")
	if err := os.WriteFile(logFile, []byte("time=x level=WARN msg=first\ntime=y level=WARN msg=\"refresh failed\" token="+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	text, err := Build(t.Context(), Options{ConfigPath: cfg, RuntimeDir: runtime, Version: "v9.9.9", LogFile: logFile,
		Getenv: func(k string) string { return map[string]string{"XDG_SESSION_TYPE": "wayland"}[k] }, DoctorTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Versions", "- mcp-broker: v9.9.9", "- Desktop session: wayland", "### Status", "slow", "gone",
		"### Network", "### Live bridges", "claude-code 2.0", "Bearer " + Redacted, "### Diagnosis (doctor)", "#### slow", "#### gone",
		"(stopped after 500ms", "### Log (last lines of " + logFile + ")", "msg=first"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{apiKey, token, opaque} {
		if strings.Contains(text, secret) {
			t.Errorf("the report holds %q:\n%s", secret, text)
		}
	}
	if i, j := strings.Index(text, "#### slow"), strings.Index(text, "#### gone"); i > j {
		t.Errorf("diagnoses out of the configuration's order:\n%s", text)
	}
}

func TestBuildOneServer(t *testing.T) {
	refuse := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(refuse.Close)
	cfg := setup(t, [2]string{"a", refuse.URL + "/a"}, [2]string{"b", refuse.URL + "/b"})
	text, err := Build(t.Context(), Options{ConfigPath: cfg, Server: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "#### b") || strings.Contains(text, "#### a") || strings.Contains(text, refuse.URL+"/a") {
		t.Errorf("a report on b alone:\n%s", text)
	}
	if !strings.Contains(text, "Could not list them: no runtime folder") {
		t.Errorf("the bridges section must say why it is empty:\n%s", text)
	}
	_, err = Build(t.Context(), Options{ConfigPath: cfg, Server: "nope"})
	if _, ok := errors.AsType[*broker.UnknownServerError](err); !ok {
		t.Errorf("Build of an unknown server = %v, want an UnknownServerError", err)
	}
}

// TestBuildRecordedRenewal: a background renewal the authorization server refused, as the
// broker records it in state.json, is in the server's diagnosis, so a report never says a
// server has no problem while its sign-in is gone.
func TestBuildRecordedRenewal(t *testing.T) {
	refuse := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(refuse.Close)
	cfg := setup(t, [2]string{"gone", refuse.URL + "/mcp"})
	state := `{"servers": {"gone": {"renewal_failure": {"at": "2026-12-06T10:02:00Z", "kind": "refused", "reason": "the sign-in server refused the refresh token"}}}}`
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := Build(t.Context(), Options{ConfigPath: cfg, Now: time.Date(2026, 12, 6, 10, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "last renewal") || !strings.Contains(text, "the sign-in server refused the refresh token") {
		t.Errorf("the report does not show the refused renewal:\n%s", text)
	}
}

func TestSession(t *testing.T) {
	for _, tt := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"XDG_SESSION_TYPE": "x11", "XDG_CURRENT_DESKTOP": "GNOME"}, "x11 (GNOME)"},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "wayland"},
		{"linux", map[string]string{"DISPLAY": ":99"}, "x11"},
		{"linux", nil, "none (no display)"},
		{"darwin", nil, "macOS"},
		{"windows", nil, "Windows"},
	} {
		if got := Session(tt.goos, func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("Session(%s, %v) = %q, want %q", tt.goos, tt.env, got, tt.want)
		}
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := range 5000 { // well past maxLogTail
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", 20))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := tail(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "line 4999 ") || !strings.HasPrefix(lines[0], "line 4997 ") {
		t.Errorf("tail = %q", lines)
	}
	if _, err := tail(filepath.Join(t.TempDir(), "none"), 3); err == nil {
		t.Error("tail of a missing file must fail")
	}
}

// TestBuildTraffic puts an events file with more events than the report keeps, a body that
// holds a secret and a failed step whose error quotes a token in the runtime folder: the
// report carries the last TrafficEvents events of the reported server only, each by its
// envelope, never the body, and the token scrubbed.
func TestBuildTraffic(t *testing.T) {
	refuse := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(refuse.Close)
	cfg := setup(t, [2]string{"a", refuse.URL + "/a"}, [2]string{"b", refuse.URL + "/b"})
	runtime := t.TempDir()
	dir := traffic.Dir(runtime)
	if err := status.Ensure(dir); err != nil {
		t.Fatal(err)
	}
	const (
		bodySecret = "body-secret-5e6f7a8b9c"
		token      = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var lines []byte
	add := func(e traffic.Event) {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, data...), '\n')
	}
	for i := range TrafficEvents + 5 {
		add(traffic.Event{Time: start.Add(time.Duration(i) * time.Second), Server: "a", PID: 42, Kind: traffic.KindMessage,
			Dir: traffic.ToServer, Type: "request", Method: fmt.Sprintf("tools/call-%02d", i), ID: fmt.Sprint(i), Size: 100 + i,
			Body: json.RawMessage(`{"arguments":{"password":"` + bodySecret + `"}}`)})
	}
	add(traffic.Event{Time: start.Add(time.Hour), Server: "a", PID: 42, Kind: traffic.KindMessage, Dir: traffic.ToClient,
		Type: "response", Method: "tools/call", ID: "7", Size: 80, ElapsedMS: 12.5, ErrorCode: -32000, ErrorMessage: "upstream broke"})
	add(traffic.Event{Time: start.Add(2 * time.Hour), Server: "a", PID: 42, Kind: traffic.KindStep, Step: "refresh",
		Outcome: traffic.OutcomeFailed, Error: "refreshing with Authorization: Bearer " + token})
	if err := os.WriteFile(filepath.Join(dir, "a.42.jsonl"), lines, 0o600); err != nil {
		t.Fatal(err)
	}
	other := `{"time":"2026-01-02T03:04:05Z","server":"b","pid":43,"kind":"message","dir":"to-server","type":"request","method":"only-b","id":"1","size":9}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "b.43.jsonl"), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}

	text, err := Build(t.Context(), Options{ConfigPath: cfg, RuntimeDir: runtime, Server: "a", DoctorTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Traffic (last 30 events per server)", "tools/call-34", "tools/call-07",
		"error -32000: upstream broke", "12.5ms", "refresh", "failed: refreshing with Authorization: Bearer " + Redacted, "03:04:12.000"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"tools/call-04 ", bodySecret, "password", token, "only-b"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the report holds %q:\n%s", unwanted, text)
		}
	}

	empty, err := Build(t.Context(), Options{ConfigPath: cfg, RuntimeDir: t.TempDir(), Server: "b", DoctorTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(empty, "None recorded") {
		t.Errorf("a report without events files:\n%s", empty)
	}
}
