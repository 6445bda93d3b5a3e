package secrets

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// startBusAt runs a private dbus-daemon that provides no services, listening only at
// dir/bus, until the test ends.
func startBusAt(t *testing.T, dir string) {
	t.Helper()
	daemon := testenv.RequireTool(t, "dbus-daemon", "apt-get install dbus-daemon")
	conf := filepath.Join(dir, "bare.conf")
	if err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, daemon, "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	// It prints its address once it listens.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "unix:path=") {
		t.Fatalf("dbus-daemon did not start: %q, %v", line, err)
	}
}

// TestProbeFindsTheBusInTheRuntimeFolder starts a bus that listens only at
// $XDG_RUNTIME_DIR/bus and checks that, with DBUS_SESSION_BUS_ADDRESS unset (a bare
// environment), the keychain reaches it: the probe gets past the bus and finds that no
// Secret Service runs on it, instead of finding no bus.
func TestProbeFindsTheBusInTheRuntimeFolder(t *testing.T) {
	dir, err := os.MkdirTemp("", "bus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	startBusAt(t, dir)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	k := NewKeychain(10 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = k.Get(ctx, "oauth-token/x")
	assertClassified(t, err, ErrNoKeychain, "no keychain")
	assertHint(t, err, hint.StartKeychain)
	if strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Fatalf("Get = %v: the bus at $XDG_RUNTIME_DIR/bus was not found", err)
	}
	if got, want := os.Getenv("DBUS_SESSION_BUS_ADDRESS"), fmt.Sprintf("unix:path=%s/bus", dir); got != want {
		t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q for go-keyring", got, want)
	}
}
