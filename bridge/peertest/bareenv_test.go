//go:build peers

package peertest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestInspectorBareEnvironment runs the Inspector CLI with a bare environment of its own
// (HOME, PATH, USER, LOGNAME, SHELL, TERM) and lets it start `mcp-broker bridge` its default
// way, which passes the bridge only those variables: no DBUS_SESSION_BUS_ADDRESS, no
// XDG_RUNTIME_DIR. The server's token is in the real keyring (scripts/with-desktop.sh), whose
// bus the test makes reachable only where a systemd desktop has it, /run/user/<uid>/bus, in
// a private mount namespace (unshare) so that nothing of the machine's /run/user changes.
// A tools/call must succeed, with the credential read from that keyring; and the bridge's
// status file must appear in /run/user/<uid>/mcp-broker/bridges, where a tray started with
// the desktop's environment looks for it.
func TestInspectorBareEnvironment(t *testing.T) {
	p := requirePeers(t)
	testenv.RequireKeychain(t)
	unshare := testenv.RequireTool(t, "unshare", "apt-get install util-linux")
	bus, ok := strings.CutPrefix(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "unix:path=")
	if !ok {
		t.Fatalf("the session bus %q is not a socket path (run under scripts/with-desktop.sh)", os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	}
	bus, _, _ = strings.Cut(bus, ",")

	// A private mount namespace, as root or, for anyone else, as root of a user namespace:
	// either way the bridge runs as uid 0 there.
	ns := []string{unshare, "--mount", "--propagation", "private"}
	if os.Getuid() != 0 {
		ns = []string{unshare, "--user", "--map-root-user", "--mount", "--propagation", "private"}
	}
	if out, err := exec.Command(ns[0], append(ns[1:], "true")...).CombinedOutput(); err != nil {
		if testenv.InCI() {
			t.Fatalf("unshare cannot make a mount namespace here (CI=true): %v\n%s", err, out)
		}
		t.Skipf("unshare cannot make a mount namespace here: %v\n%s", err, out)
	}
	// The tmpfs goes over /run/user when it exists, else over /run.
	mountAt, runUser := "/run/user", "/run/user/0"
	if _, err := os.Stat("/run/user"); err != nil {
		mountAt = "/run"
	}

	url := startDemo(t)
	home := t.TempDir()
	// The bridge, with HOME only, finds its configuration in the default place.
	configDir := filepath.Join(home, ".config", "mcp-broker")
	env := p.env(t, home, configDir, "keychain")
	name := fmt.Sprintf("bare-%d", os.Getpid())
	p.brokerCLI(t, env, "", "servers", "add", name, url)
	p.loginHeadless(t, env, name)
	t.Cleanup(func() { p.brokerCLI(t, env, "", "servers", "remove", name) })

	// The command the Inspector starts: the bridge, fed the client's messages only once its
	// status file is seen (so that it cannot finish before being looked for), recording the
	// environment it got and where its status file appeared.
	wrapper := filepath.Join(home, "bridge.sh")
	fifo, seen, envFile := filepath.Join(home, "in.fifo"), filepath.Join(home, "status-seen"), filepath.Join(home, "bridge-env")
	script := fmt.Sprintf(`#!/bin/sh
rm -f %[1]q && mkfifo %[1]q || exit 1
exec 3<>%[1]q
env >%[4]q
%[2]q bridge --server %[3]q <%[1]q 3>&- &
pid=$!
i=0
while [ $i -lt 100 ] && [ ! -s %[5]q ]; do
	for f in %[6]q/mcp-broker/bridges/*.json; do
		[ -e "$f" ] && echo "$f" >%[5]q
	done
	i=$((i + 1))
	sleep 0.1
done
cat >&3
exec 3>&-
wait $pid
`, fifo, p.broker, name, envFile, seen, runUser)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}

	inner := `set -e
mount -t tmpfs -o mode=0755 tmpfs "$1"
mkdir -p "$2"
chmod 0700 "$2"
ln -s "$3" "$2/bus"
shift 3
exec "$@"`
	argv := append(ns[1:], "sh", "-c", inner, "sh", mountAt, runUser, bus,
		"env", "-i", "HOME="+home, "PATH="+p.nodeBin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"USER=root", "LOGNAME=root", "SHELL=/bin/sh", "TERM=dumb",
		filepath.Join(p.nodeBin, "node"), "--require", p.preload,
		p.modules("@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js"),
		"--cli", "--format", "json", "-q", "--connect-timeout", "20000",
		"--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello from a bare environment",
		"--", "/bin/sh", wrapper)
	r := run(t, 90*time.Second, home, os.Environ(), "", ns[0], argv...)

	bridgeEnv, _ := os.ReadFile(envFile)
	for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=", "MCP_BROKER_"} {
		if strings.Contains("\n"+string(bridgeEnv), "\n"+v) {
			t.Errorf("the bridge's environment has %s…: not the bare one this test is about:\n%s", v, bridgeEnv)
		}
	}
	var out struct {
		Result struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); r.err != nil || err != nil || out.Error != nil ||
		out.Result.IsError || len(out.Result.Content) == 0 || !strings.Contains(out.Result.Content[0].Text, "hello from a bare environment") {
		t.Fatalf("inspector tools/call: %v\nstdout: %s\nstderr: %s", r.err, r.stdout, lastLines(r.stderr, 30))
	}
	if where, _ := os.ReadFile(seen); len(where) == 0 {
		t.Errorf("the bridge's status file did not appear in %s/mcp-broker/bridges, where the tray looks", runUser)
	}
}
