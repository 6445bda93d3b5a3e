package status

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/runtimedir"
)

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPublishListClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bridges")
	p, err := Publish(dir, Bridge{Server: "studio", URL: "https://mcp.example.com/mcp", Transport: "auto", State: StateStarting}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", fi.Mode().Perm())
	}
	eventually(t, func() bool { l, _ := List(dir); return len(l) == 1 })

	p.Update(func(b *Bridge) {
		b.State, b.Transport, b.ProtocolVersion, b.Client = StateConnected, "streamable-http", "2025-06-18", "claude-code 2.0"
	})
	for range 5 {
		p.CountFromClient()
		p.CountToClient()
	}
	p.CountToClient()
	// Within a second of a change, the file says so.
	eventually(t, func() bool {
		l, _ := List(dir)
		return len(l) == 1 && l[0].State == StateConnected && l[0].Messages == Counts{FromClient: 5, ToClient: 6}
	})
	l, _ := List(dir)
	b := l[0]
	if b.Server != "studio" || b.PID != os.Getpid() || b.Client != "claude-code 2.0" || b.ProtocolVersion != "2025-06-18" || b.Started.IsZero() || b.Since.IsZero() {
		t.Errorf("listed %+v", b)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(p.Path()); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("status file mode: %v %v", fi.Mode(), err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(p.Path()); !os.IsNotExist(err) {
		t.Errorf("status file left after Close: %v", err)
	}
	if l, _ := List(dir); len(l) != 0 {
		t.Errorf("listed after Close: %+v", l)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestListIgnoresAndRemovesDeadBridges(t *testing.T) {
	dir := t.TempDir()
	dead := deadPID(t)
	write := func(name string, v any) string {
		data, _ := json.Marshal(v)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	stale := write(fileName("gone", dead), Bridge{Server: "gone", PID: dead, State: StateConnected})
	live := write(fileName("here", os.Getpid()), Bridge{Server: "here", PID: os.Getpid(), State: StateConnected})
	write("damaged.1.json", "{not json")
	write(fileName("liar", os.Getpid()+1), Bridge{Server: "liar", PID: os.Getpid()}) // name and content disagree
	write(".here.json.tmp-123", Bridge{Server: "here", PID: os.Getpid()})

	l, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].Server != "here" {
		t.Errorf("List = %+v, want only the live bridge", l)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the dead bridge's file was not removed")
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live bridge's file is gone: %v", err)
	}
	if l, err := List(filepath.Join(dir, "missing")); err != nil || len(l) != 0 {
		t.Errorf("List of a missing folder = %v, %v", l, err)
	}
}

func TestTray(t *testing.T) {
	dir := t.TempDir()
	if TrayRunning(dir) {
		t.Fatal("a tray runs before any announced itself")
	}
	withdraw, err := AnnounceTray(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !TrayRunning(dir) {
		t.Error("the announced tray is not seen")
	}
	if err := withdraw(); err != nil {
		t.Fatal(err)
	}
	if TrayRunning(dir) {
		t.Error("the tray is seen after withdrawing")
	}
	// A tray that crashed left its file: its pid is dead, so it does not count.
	data, _ := json.Marshal(Tray{PID: deadPID(t), Started: time.Now()})
	os.WriteFile(filepath.Join(dir, trayFile), data, 0o600)
	if TrayRunning(dir) {
		t.Error("a dead tray counts as running")
	}
}

func TestRuntimeDir(t *testing.T) {
	t.Setenv(EnvRuntimeDir, "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	if d, _ := RuntimeDir(); d != "/run/user/1000/mcp-broker" {
		t.Errorf("with XDG_RUNTIME_DIR: %q", d)
	}
	if d, _ := RuntimeDir(); BridgesDir(d) != "/run/user/1000/mcp-broker/bridges" {
		t.Errorf("BridgesDir: %q", BridgesDir(d))
	}
	t.Setenv("XDG_RUNTIME_DIR", "relative/ignored")
	want := filepath.Join(os.TempDir(), "mcp-broker")
	if runtime.GOOS != "windows" {
		want += "-" + strconv.Itoa(os.Getuid())
	}
	if dir, ok := runtimedir.Dir(); ok {
		want = filepath.Join(dir, "mcp-broker") // this machine has /run/user/<uid>
	}
	if d, _ := RuntimeDir(); d != want {
		t.Errorf("without XDG_RUNTIME_DIR: %q, want %q", d, want)
	}
	t.Setenv(EnvRuntimeDir, "/x/y")
	if d, _ := RuntimeDir(); d != "/x/y" {
		t.Errorf("with %s: %q", EnvRuntimeDir, d)
	}
	t.Setenv(EnvRuntimeDir, "rel")
	if _, err := RuntimeDir(); err == nil {
		t.Errorf("a relative %s is accepted", EnvRuntimeDir)
	}
}

// TestRuntimeDirFrom: RuntimeDirFrom reads the environment it is given, not the process's.
func TestRuntimeDirFrom(t *testing.T) {
	t.Setenv(EnvRuntimeDir, t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	own, xdgDir := t.TempDir(), t.TempDir()
	mine := map[string]string{EnvRuntimeDir: own}
	if d, err := RuntimeDirFrom(func(k string) string { return mine[k] }); err != nil || d != own {
		t.Errorf("RuntimeDirFrom with %s = %q, %v", EnvRuntimeDir, d, err)
	}
	xdg := map[string]string{"XDG_RUNTIME_DIR": xdgDir}
	if d, err := RuntimeDirFrom(func(k string) string { return xdg[k] }); err != nil || d != filepath.Join(xdgDir, "mcp-broker") {
		t.Errorf("RuntimeDirFrom with XDG_RUNTIME_DIR = %q, %v", d, err)
	}
}

// TestRuntimeDirWithoutXDG checks that a bridge started with a bare environment (no
// XDG_RUNTIME_DIR) uses the folder a tray started with the desktop's environment uses,
// /run/user/<uid>/mcp-broker, when /run/user/<uid> is the user's; and the temp folder only
// when it is not.
func TestRuntimeDirWithoutXDG(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /run/user on Windows")
	}
	t.Setenv(EnvRuntimeDir, "")
	runUser := filepath.Join(t.TempDir(), "run", "user")
	uid := os.Getuid()
	if err := os.MkdirAll(filepath.Join(runUser, strconv.Itoa(uid)), 0o700); err != nil {
		t.Fatal(err)
	}
	bare := func(string) string { return "" }
	desktop := func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return filepath.Join(runUser, strconv.Itoa(uid))
		}
		return ""
	}
	tray, _ := runtimeDir(runtimedir.Finder{Getenv: desktop, RunUser: runUser, UID: uid})
	bridge, _ := runtimeDir(runtimedir.Finder{Getenv: bare, RunUser: runUser, UID: uid})
	if want := filepath.Join(runUser, strconv.Itoa(uid), "mcp-broker"); tray != want || bridge != want {
		t.Errorf("runtime folder with the desktop's environment %q, with a bare one %q; want both %q", tray, bridge, want)
	}
	other, _ := runtimeDir(runtimedir.Finder{Getenv: bare, RunUser: runUser, UID: uid + 1})
	if want := filepath.Join(os.TempDir(), "mcp-broker-"+strconv.Itoa(uid+1)); other != want {
		t.Errorf("runtime folder without /run/user/<uid> = %q, want %q", other, want)
	}
}

func TestEnsureFixesMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("modes are ACLs on Windows")
	}
	parent := filepath.Join(t.TempDir(), "mcp-broker-test")
	dir := filepath.Join(parent, "bridges")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, parent} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if err := Ensure(file); err == nil {
		t.Error("Ensure accepted a file")
	}
}

// TestURLSecretsNotPublished: the file and List carry the server's URL without its query, and
// a last error that quotes the URL without it either; List also cleans files written whole
// (by an older bridge).
func TestURLSecretsNotPublished(t *testing.T) {
	const raw = "http://127.0.0.1:9/mcp?api_key=SECRET123"
	dir := t.TempDir()
	p, err := Publish(dir, Bridge{Server: "keyed", URL: raw, State: StateStarting}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Update(func(b *Bridge) { b.State, b.LastError = StateReconnecting, `Post "`+raw+`": refused` })
	var file []byte
	eventually(t, func() bool {
		file, _ = os.ReadFile(p.Path())
		return strings.Contains(string(file), "refused")
	})
	if strings.Contains(string(file), "SECRET123") || !strings.Contains(string(file), "http://127.0.0.1:9/mcp?REDACTED") {
		t.Errorf("status file:\n%s", file)
	}
	p.Close()

	data, _ := json.Marshal(Bridge{Server: "old", PID: os.Getpid(), URL: raw, LastError: "at " + raw, State: StateReconnecting})
	if err := os.WriteFile(filepath.Join(dir, fileName("old", os.Getpid())), data, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := List(dir)
	if err != nil || len(l) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if l[0].URL != "http://127.0.0.1:9/mcp?REDACTED" || strings.Contains(l[0].LastError, "SECRET123") {
		t.Errorf("listed %+v", l[0])
	}
}

// TestSignInScope: the scope a sign-in asks for on behalf of a server's bridges is the union of
// what their servers' challenges named, and only that server's.
func TestSignInScope(t *testing.T) {
	bridges := []Bridge{
		{Server: "a", PID: 1, ChallengeScope: "mcp:basic"},
		{Server: "b", PID: 2, ChallengeScope: "other:scope"},
		{Server: "a", PID: 3, ChallengeScope: "mcp:read  mcp:basic"},
		{Server: "a", PID: 4},
	}
	for server, want := range map[string]string{"a": "mcp:basic mcp:read", "b": "other:scope", "c": ""} {
		if got := SignInScope(bridges, server); got != want {
			t.Errorf("SignInScope(%q) = %q, want %q", server, got, want)
		}
	}
}
