package model

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

var t0 = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func signedIn(name string) broker.ServerStatus {
	exp := t0.Add(time.Hour)
	return broker.ServerStatus{Name: name, URL: "https://" + name + ".example/mcp", Auth: config.AuthOAuth,
		SignedIn: true, State: broker.StateSignedIn, Expiry: &exp}
}

func signedOut(name string) broker.ServerStatus {
	return broker.ServerStatus{Name: name, URL: "https://" + name + ".example/mcp", Auth: config.AuthOAuth,
		State: broker.StateSignInRequired}
}

func bridge(server string, pid int, st status.State, lastErr string) status.Bridge {
	return status.Bridge{Server: server, PID: pid, State: st, LastError: lastErr, Started: t0}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name        string
		servers     []broker.ServerStatus
		bridges     []status.Bridge
		want        State
		perServer   map[string]State
		waiting     []string
		problem     map[string]string
		sessions    map[string]int
		connected   map[string]int
		wantBridges int
	}{
		{name: "nothing configured", want: Empty},
		{
			name: "bridges of an unknown server only", bridges: []status.Bridge{bridge("ghost", 10, status.StateError, "unknown server")},
			want: Empty, wantBridges: 1,
		},
		{name: "one signed in", servers: []broker.ServerStatus{signedIn("studio")}, want: OK, perServer: map[string]State{"studio": OK}},
		{
			name: "signed in and connected twice", servers: []broker.ServerStatus{signedIn("studio")},
			bridges: []status.Bridge{bridge("studio", 10, status.StateConnected, ""), bridge("studio", 11, status.StateConnected, "")},
			want:    OK, sessions: map[string]int{"studio": 2}, connected: map[string]int{"studio": 2}, wantBridges: 2,
		},
		{
			name: "one needs sign-in, one fine", servers: []broker.ServerStatus{signedIn("a"), signedOut("b")},
			want: SignInNeeded, perServer: map[string]State{"a": OK, "b": SignInNeeded},
		},
		{
			// The state file says signed in, but the server rejected the token: the bridge knows better.
			name: "bridge waits although the state says signed in", servers: []broker.ServerStatus{signedIn("studio")},
			bridges: []status.Bridge{bridge("studio", 10, status.StateNeedsSignIn, ""), bridge("studio", 11, status.StateConnected, "")},
			want:    SignInNeeded, waiting: []string{"studio"}, sessions: map[string]int{"studio": 2}, connected: map[string]int{"studio": 1}, wantBridges: 2,
		},
		{
			name: "reconnecting is an error with the bridge's reason", servers: []broker.ServerStatus{signedIn("a"), signedOut("b")},
			bridges: []status.Bridge{bridge("a", 10, status.StateReconnecting, "server unreachable")},
			want:    Error, perServer: map[string]State{"a": Error, "b": SignInNeeded}, problem: map[string]string{"a": "server unreachable", "b": ""}, wantBridges: 1,
		},
		{
			name: "error without a reason gets one", servers: []broker.ServerStatus{signedIn("a")},
			bridges: []status.Bridge{bridge("a", 10, status.StateError, "")},
			want:    Error, problem: map[string]string{"a": "the server cannot be reached"}, wantBridges: 1,
		},
		{
			name: "first reason wins among failing bridges", servers: []broker.ServerStatus{signedIn("a")},
			bridges: []status.Bridge{bridge("a", 10, status.StateConnected, ""), bridge("a", 11, status.StateReconnecting, "timeout"), bridge("a", 12, status.StateError, "other")},
			want:    Error, problem: map[string]string{"a": "timeout"}, wantBridges: 3,
		},
		{
			name: "waiting and failing: error wins but waiting still shows", servers: []broker.ServerStatus{signedOut("a")},
			bridges: []status.Bridge{bridge("a", 10, status.StateNeedsSignIn, ""), bridge("a", 11, status.StateReconnecting, "down")},
			want:    Error, waiting: []string{"a"}, wantBridges: 2,
		},
		{
			name: "starting is fine", servers: []broker.ServerStatus{signedIn("a")},
			bridges: []status.Bridge{bridge("a", 10, status.StateStarting, "")},
			want:    OK, sessions: map[string]int{"a": 1}, connected: map[string]int{"a": 0}, wantBridges: 1,
		},
		{
			name: "servers are sorted by name", servers: []broker.ServerStatus{signedIn("zeta"), signedIn("alpha")},
			want: OK, perServer: map[string]State{"alpha": OK, "zeta": OK},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := Build(tt.servers, tt.bridges, t0)
			if snap.State != tt.want {
				t.Errorf("State = %v, want %v", snap.State, tt.want)
			}
			if got := snap.Waiting(); !slices.Equal(got, tt.waiting) {
				t.Errorf("Waiting = %q, want %q", got, tt.waiting)
			}
			if len(snap.Bridges) != tt.wantBridges {
				t.Errorf("%d bridges, want %d", len(snap.Bridges), tt.wantBridges)
			}
			if !slices.IsSortedFunc(snap.Servers, func(a, b Server) int {
				if a.Name < b.Name {
					return -1
				}
				return 1
			}) {
				t.Errorf("servers not sorted: %+v", snap.Servers)
			}
			for name, want := range tt.perServer {
				if srv, ok := snap.Server(name); !ok || srv.State != want {
					t.Errorf("server %s: state %v (found %v), want %v", name, srv.State, ok, want)
				}
			}
			for name, want := range tt.problem {
				if srv, _ := snap.Server(name); srv.Problem != want {
					t.Errorf("server %s: problem %q, want %q", name, srv.Problem, want)
				}
			}
			for name, want := range tt.sessions {
				if srv, _ := snap.Server(name); srv.Sessions() != want {
					t.Errorf("server %s: %d sessions, want %d", name, srv.Sessions(), want)
				}
			}
			for name, want := range tt.connected {
				if srv, _ := snap.Server(name); srv.Connected() != want {
					t.Errorf("server %s: %d connected, want %d", name, srv.Connected(), want)
				}
			}
		})
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Empty: "empty", OK: "ok", SignInNeeded: "sign-in needed", Error: "error", State(42): "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
	if !(Empty < OK && OK < SignInNeeded && SignInNeeded < Error) {
		t.Error("states are not ordered from nothing to worst")
	}
}

func TestEqualAndNewlyWaiting(t *testing.T) {
	servers := []broker.ServerStatus{signedIn("a"), signedIn("b")}
	idle := Build(servers, nil, t0)
	later := Build(servers, nil, t0.Add(time.Minute))
	if !idle.Equal(later) {
		t.Error("snapshots that differ only in At are not Equal")
	}
	waitA := Build(servers, []status.Bridge{bridge("a", 10, status.StateNeedsSignIn, "")}, t0)
	if idle.Equal(waitA) {
		t.Error("a waiting bridge made no difference")
	}
	waitAB := Build(servers, []status.Bridge{bridge("a", 10, status.StateNeedsSignIn, ""), bridge("b", 11, status.StateNeedsSignIn, "")}, t0)
	counted := Build(servers, []status.Bridge{{Server: "a", PID: 10, State: status.StateNeedsSignIn, Started: t0, Messages: status.Counts{FromClient: 1}}}, t0)
	if counted.Equal(waitA) {
		t.Error("a message count change made no difference (the status window shows counts)")
	}
	tests := []struct {
		name       string
		prev, next Snapshot
		want       []string
	}{
		{"nothing waits", idle, idle, nil},
		{"a starts waiting", idle, waitA, []string{"a"}},
		{"a still waits", waitA, waitA, nil},
		{"b joins", waitA, waitAB, []string{"b"}},
		{"both stop", waitAB, idle, nil},
		{"from an empty first snapshot", Snapshot{}, waitAB, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewlyWaiting(tt.prev, tt.next); !slices.Equal(got, tt.want) {
				t.Errorf("NewlyWaiting = %q, want %q", got, tt.want)
			}
		})
	}
}

// fixture is a config folder and a bridges folder, as the tray sees them.
type fixture struct {
	paths Paths
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	return fixture{paths: Paths{Config: filepath.Join(dir, "config", "config.json"), Bridges: filepath.Join(dir, "run", "bridges")}}
}

func (f fixture) servers(t *testing.T, names ...string) {
	t.Helper()
	file := &config.File{Version: config.Version}
	for _, n := range names {
		file.Servers = append(file.Servers, config.Server{Name: n, URL: "https://" + n + ".example/mcp", Auth: config.AuthOAuth})
	}
	if err := os.MkdirAll(filepath.Dir(f.paths.Config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := config.Save(f.paths.Config, file); err != nil {
		t.Fatal(err)
	}
}

// signIn writes the state file the broker writes after a sign-in (only the fields ReadStatus
// reads), without a token: none is needed to show the state.
func (f fixture) signIn(t *testing.T, name string, expiry time.Time) {
	t.Helper()
	data := `{"servers":{"` + name + `":{"token":{"issuer":"https://as.example","scope":"mcp:read","expiry":"` +
		expiry.Format(time.RFC3339) + `","refreshable":false}}}}`
	if err := os.WriteFile(filepath.Join(filepath.Dir(f.paths.Config), "state.json"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRead(t *testing.T) {
	f := newFixture(t)
	now := time.Now()

	if snap := Read(f.paths.Config, f.paths.Bridges, now); snap.State != Empty || snap.ConfigError != "" || len(snap.Servers) != 0 {
		t.Fatalf("no files: %+v", snap)
	}

	f.servers(t, "studio", "docs")
	snap := Read(f.paths.Config, f.paths.Bridges, now)
	if snap.State != SignInNeeded || len(snap.Servers) != 2 || snap.Servers[0].Name != "docs" {
		t.Fatalf("two new servers: %+v", snap)
	}

	f.signIn(t, "studio", now.Add(time.Hour))
	snap = Read(f.paths.Config, f.paths.Bridges, now)
	if srv, _ := snap.Server("studio"); !srv.SignedIn || srv.State != OK || srv.Expiry == nil {
		t.Fatalf("after sign-in: %+v", srv)
	}
	// The same files an hour later: the token has expired and cannot be refreshed.
	snap = Read(f.paths.Config, f.paths.Bridges, now.Add(2*time.Hour))
	if srv, _ := snap.Server("studio"); srv.SignedIn || srv.State != SignInNeeded {
		t.Fatalf("after expiry: %+v", srv)
	}

	// A real bridge status file, from a live process (this one).
	p, err := status.Publish(f.paths.Bridges, status.Bridge{Server: "studio", State: status.StateNeedsSignIn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { snap = Read(f.paths.Config, f.paths.Bridges, now); return len(snap.Bridges) == 1 })
	if got := snap.Waiting(); !slices.Equal(got, []string{"studio"}) {
		t.Errorf("Waiting = %q", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if snap = Read(f.paths.Config, f.paths.Bridges, now); len(snap.Bridges) != 0 || len(snap.Waiting()) != 0 {
		t.Errorf("after the bridge closed: %+v", snap)
	}

	// A malformed config file is reported, and left untouched.
	bad := []byte(`{"version": 1, "servers": [`)
	if err := os.WriteFile(f.paths.Config, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	snap = Read(f.paths.Config, f.paths.Bridges, now)
	if snap.State != Error || snap.ConfigError == "" {
		t.Errorf("malformed config: %+v", snap)
	}
	if got, _ := os.ReadFile(f.paths.Config); string(got) != string(bad) {
		t.Errorf("the malformed config was changed to %q", got)
	}
}

// waitFor polls cond for up to 10 s: generous, because a loaded 2-core CI machine can be slow,
// and the condition normally holds within milliseconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDefaultPaths(t *testing.T) {
	cfg, run := t.TempDir(), t.TempDir()
	t.Setenv(config.EnvConfigDir, cfg)
	t.Setenv(status.EnvRuntimeDir, run)
	p, err := DefaultPaths()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p.Config) != cfg || p.Bridges != status.BridgesDir(run) {
		t.Errorf("DefaultPaths = %+v", p)
	}
}

func TestClientName(t *testing.T) {
	for raw, want := range map[string]string{
		"claude-code 2.0.0": "Claude Code",
		"Claude-Code":       "Claude Code",
		"claude-ai 0.1":     "Claude",
		"cursor 1.2":        "cursor",
		"":                  "an MCP client",
		"  ":                "an MCP client",
	} {
		if got := ClientName(raw); got != want {
			t.Errorf("ClientName(%q) = %q, want %q", raw, got, want)
		}
	}
	srv := Build([]broker.ServerStatus{signedIn("a")}, []status.Bridge{
		{Server: "a", PID: 1, State: status.StateConnected, Client: "cursor 1"},
		{Server: "a", PID: 2, State: status.StateNeedsSignIn, Client: "claude-code 2.0.0"},
	}, t0).Servers[0]
	if got := srv.WaitingClient(); got != "Claude Code" {
		t.Errorf("WaitingClient = %q", got)
	}
	if got := Build([]broker.ServerStatus{signedIn("a")}, nil, t0).Servers[0].WaitingClient(); got != "" {
		t.Errorf("WaitingClient with nothing waiting = %q", got)
	}
}

// TestReadIdPs: the snapshot carries the identity providers, for "Sign in with your company
// account", and a change of their sign-in is a change of the snapshot.
func TestReadIdPs(t *testing.T) {
	f := newFixture(t)
	file := &config.File{
		Version: config.Version,
		Servers: []config.Server{{Name: "wiki", URL: "https://wiki.example/mcp", Auth: config.AuthEnterprise, ClientID: "w", IdP: "corp"}},
		IdPs:    []config.IdP{{Name: "corp", Issuer: "https://idp.example", ClientID: "c"}},
	}
	if err := os.MkdirAll(filepath.Dir(f.paths.Config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := config.Save(f.paths.Config, file); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	before := Read(f.paths.Config, f.paths.Bridges, now)
	if len(before.IdPs) != 1 || before.IdPs[0].SignedIn || !slices.Equal(before.IdPs[0].Servers, []string{"wiki"}) {
		t.Fatalf("IdPs = %+v", before.IdPs)
	}
	state := `{"servers":{},"idps":{"https://idp.example":{"client_id":"c","sub":"alice","refreshable":true}}}`
	if err := os.WriteFile(filepath.Join(filepath.Dir(f.paths.Config), "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	after := Read(f.paths.Config, f.paths.Bridges, now)
	if !after.IdPs[0].SignedIn || after.Equal(before) {
		t.Errorf("after the sign-in: %+v (equal to before: %v)", after.IdPs, after.Equal(before))
	}
	if srv, _ := after.Server("wiki"); !srv.SignedIn || srv.State != OK {
		t.Errorf("the enterprise server after the IdP sign-in = %+v", srv)
	}
}
