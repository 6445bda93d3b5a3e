package keychaintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// envScenario tells a re-executed test binary which scenario to check inside
// the private session its parent prepared.
const envScenario = "MCP_BROKER_KEYCHAINTEST_SCENARIO"

// testPassword protects only the throw-away keyring of one scenario.
const testPassword = "keychaintest"

// scenario is a Secret Service situation, set up by a shell snippet run
// inside a fresh dbus-run-session before the test binary is started again.
type scenario struct {
	name    string
	setup   string // shell, run inside the private session
	bus     string // "" for the standard session bus config, "bare" for one without services
	display bool   // run under Xvfb, so that unlock prompts can be shown (and wait forever)
}

var scenarios = []scenario{
	{name: "locked", setup: "printf %s " + testPassword + " | gnome-keyring-daemon --unlock --components=secrets >/dev/null"},
	{name: "locked-display", display: true, setup: "printf %s " + testPassword + " | gnome-keyring-daemon --unlock --components=secrets >/dev/null"},
	// gnome-keyring is D-Bus activated on first use and finds no keyring.
	{name: "no-keyring"},
	{name: "no-provider", bus: "bare"},
}

// bareBusConfig is a session bus that knows no services: nothing provides
// org.freedesktop.secrets on it.
const bareBusConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// requireTools skips (fails in CI) unless the named programs are on PATH.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.InCI() {
				t.Fatalf("%s not found (CI=true: install the desktop test dependencies)", tool)
			}
			t.Skipf("%s not found", tool)
		}
	}
}

// TestScenarios runs each scenario in its own private session bus with its
// own keyring folders, so it touches neither the user's keychain nor the one
// other tests share.
func TestScenarios(t *testing.T) {
	if os.Getenv(envScenario) != "" {
		t.Skip("running as a scenario child")
	}
	requireTools(t, "dbus-run-session", "gnome-keyring-daemon")
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.display {
				requireTools(t, "xvfb-run", "Xvfb")
			}
			runScenario(t, sc)
		})
	}
}

func runScenario(t *testing.T, sc scenario) {
	// Not t.TempDir: a keyring daemon that outlives the session by a moment
	// could still write there while the test removes it, failing the test
	// for nothing. Removal here is best effort.
	root, err := os.MkdirTemp("", "keychaintest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	dirs := map[string]string{}
	for _, name := range []string{"HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"} {
		d := filepath.Join(root, strings.ToLower(name))
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		dirs[name] = d
	}

	args := []string{"dbus-run-session"}
	if sc.bus == "bare" {
		conf := filepath.Join(root, "bare.conf")
		if err := os.WriteFile(conf, fmt.Appendf(nil, bareBusConfig, root), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config-file="+conf)
	}
	script := sc.setup + "\nexec \"$0\" -test.run='^TestInScenario$' -test.v"
	if sc.setup == "" {
		script = "exec \"$0\" -test.run='^TestInScenario$' -test.v"
	}
	args = append(args, "--", "sh", "-c", script, os.Args[0])
	if sc.display {
		args = append([]string{"xvfb-run", "-a", "-s", "-screen 0 640x480x24 -nolisten tcp"}, args...)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	env := []string{envScenario + "=" + sc.name}
	for k, v := range dirs {
		env = append(env, k+"="+v)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DBUS_SESSION_BUS_ADDRESS", k == "DISPLAY", k == "WAYLAND_DISPLAY", dirs[k] != "":
			// The scenario provides its own, or none.
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestInScenario") {
		t.Fatalf("scenario %s failed (%v):\n%s", sc.name, err, out)
	}
	t.Logf("scenario %s:\n%s", sc.name, grepLines(string(out), "scenario:"))
}

func grepLines(s, sub string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			keep = append(keep, strings.TrimSpace(line))
		}
	}
	return strings.Join(keep, "\n")
}

// TestInScenario is the child half of TestScenarios.
func TestInScenario(t *testing.T) {
	name := os.Getenv(envScenario)
	if name == "" {
		t.Skip("only runs inside TestScenarios")
	}
	t.Cleanup(func() { stopBusServices(t) })
	switch name {
	case "locked":
		checkLocked(t, false)
	case "locked-display":
		checkLocked(t, true)
	case "no-keyring":
		checkFails(t, secrets.NewKeychain(20*time.Second), secrets.ErrNoKeychain, hint.CreateKeyring)
	case "no-provider":
		checkFails(t, secrets.NewKeychain(20*time.Second), secrets.ErrNoKeychain, hint.StartKeychain)
	default:
		t.Fatalf("unknown scenario %q", name)
	}
}

// checkLocked stores an item, locks the login keyring over D-Bus and checks
// that every call then fails with ErrLocked well inside its generous timeout
// instead of waiting on an unlock prompt.
func checkLocked(t *testing.T, display bool) {
	if got := os.Getenv("DISPLAY") != ""; got != display {
		t.Fatalf("DISPLAY set = %v, want %v", got, display)
	}
	k := secrets.NewKeychain(20 * time.Second)
	if err := k.Set(t.Context(), "oauth-token/locked", "v"); err != nil {
		t.Fatalf("Set on the unlocked keyring: %v", err)
	}
	lockLogin(t)
	checkFails(t, k, secrets.ErrLocked, hint.UnlockKeychain)

	if display {
		// Allowing the prompt makes gnome-keyring show it on the X display
		// and wait for a password nobody types: only the timeout ends that.
		kp := secrets.NewKeychain(time.Second, secrets.WithUnlockPrompt())
		_, err := kp.Get(t.Context(), "oauth-token/locked")
		if !errors.Is(err, secrets.ErrTimeout) {
			t.Fatalf("Get with the unlock prompt on a display = %v, want ErrTimeout", err)
		}
		t.Logf("scenario: prompt allowed, display: %v", err)
	} else {
		// Without a display the prompt cannot be shown; gnome-keyring gives up.
		kp := secrets.NewKeychain(20*time.Second, secrets.WithUnlockPrompt())
		_, err := kp.Get(t.Context(), "oauth-token/locked")
		if !errors.Is(err, secrets.ErrLocked) {
			t.Fatalf("Get with the unlock prompt and no display = %v, want ErrLocked", err)
		}
		t.Logf("scenario: prompt allowed, no display: %v", err)
	}
}

// checkFails checks that Get, Set and Delete all fail with want (never
// ErrTimeout, which would mean something waited) and carry the hint next.
func checkFails(t *testing.T, k *secrets.Keychain, want error, next hint.Hint) {
	t.Helper()
	ctx := t.Context()
	_, getErr := k.Get(ctx, "oauth-token/x")
	errs := map[string]error{
		"Get":    getErr,
		"Set":    k.Set(ctx, "oauth-token/x", "v"),
		"Delete": k.Delete(ctx, "oauth-token/x"),
	}
	for op, err := range errs {
		if !errors.Is(err, want) || errors.Is(err, secrets.ErrTimeout) || hint.Of(err) != next {
			t.Errorf("%s = %v (hint %v), want %v with hint %v", op, err, hint.Of(err), want, next)
		}
	}
	t.Logf("scenario: %v", getErr)
}

// lockLogin locks the login collection the way a screen locker would.
func lockLogin(t *testing.T) {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const login = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		CallWithContext(t.Context(), "org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).
		Store(&locked, &prompt)
	if err != nil {
		t.Fatalf("locking the login keyring: %v", err)
	}
	v, err := conn.Object("org.freedesktop.secrets", login).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil || v.Value() != true {
		t.Fatalf("login keyring Locked = %v, %v; want true", v, err)
	}
}

// stopBusServices ends the keyring daemon and the prompter this scenario's
// bus started, by the process ids the bus reports, and waits for them, so
// that nothing keeps writing into the scenario's folders.
func stopBusServices(t *testing.T) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return // the no-bus scenarios have nothing to stop
	}
	defer conn.Close()
	for _, name := range []string{"org.freedesktop.secrets", "org.gnome.keyring.SystemPrompter"} {
		var pid uint32
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, name).Store(&pid); err != nil || pid == 0 {
			continue
		}
		if err := syscall.Kill(int(pid), syscall.SIGTERM); err != nil {
			continue
		}
		for range 50 {
			if syscall.Kill(int(pid), 0) != nil || isZombie(int(pid)) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(data), ')'); i >= 0 && i+2 < len(data) {
		return data[i+2] == 'Z'
	}
	return false
}
