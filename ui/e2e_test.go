package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// The end-to-end tests run the real binaries, as a user does: the command-line build
// (mcp-broker) and the tray build (mcp-broker-tray, -tags tray), side by side in one folder.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// TestMain removes the binaries built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds both builds once per test run and returns their folder. Building the tray
// takes seconds with a warm cache (minutes cold: the GL stack is C).
func binaries(t *testing.T) (cli, trayBin string) {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "mcp-broker-ui-e2e")
		if binErr != nil {
			return
		}
		builds := []struct {
			out  string
			cgo  string
			args []string
		}{
			{"mcp-broker", "0", nil},
			{"mcp-broker-tray", "1", []string{"-tags", "tray"}},
		}
		for _, b := range builds {
			args := append([]string{"build", "-o", filepath.Join(binDir, b.out)}, b.args...)
			cmd := exec.Command("go", append(args, "github.com/mcp-broker/mcp-broker/cmd/mcp-broker")...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("building %s: %v\n%s", b.out, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "mcp-broker"), filepath.Join(binDir, "mcp-broker-tray")
}

// desk is one user's private world: config and runtime folders, a fake xdg-open that hands
// the URL it is asked to open to the test, and the environment for the processes.
type desk struct {
	t          *testing.T
	configDir  string
	runtimeDir string
	urls       string // the file the fake xdg-open appends URLs to
	xdgConfig  string // XDG_CONFIG_HOME: Fyne's preferences and the autostart folder
	env        []string
}

func newDesk(t *testing.T, extraEnv ...string) *desk {
	t.Helper()
	root := t.TempDir()
	d := &desk{t: t, configDir: filepath.Join(root, "config"), runtimeDir: filepath.Join(root, "run"), urls: filepath.Join(root, "urls"),
		xdgConfig: filepath.Join(root, "xdg-config")}
	bin := filepath.Join(root, "bin")
	for _, dir := range []string{d.configDir, d.runtimeDir, bin, d.xdgConfig} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// pkg/browser runs xdg-open; Fyne's OpenURL too. Ours records the URL and returns at once,
	// as the real one does once the browser has it.
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + d.urls + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d.env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		config.EnvConfigDir+"="+d.configDir,
		"MCP_BROKER_RUNTIME_DIR="+d.runtimeDir,
		// The file store keeps these tests out of the keychain; the keychain has its own tests.
		"MCP_BROKER_SECRET_STORE=file",
		"MCP_BROKER_LOG=debug",
		"XDG_CONFIG_HOME="+d.xdgConfig,
		"XDG_CACHE_HOME="+filepath.Join(root, "xdg-cache"),
		"XDG_DATA_HOME="+filepath.Join(root, "xdg-data"),
		// Fyne logs a harmless error for the C locale.
		"LANG=en_US.UTF-8",
	)
	d.env = append(d.env, extraEnv...)
	return d
}

// servers writes the configuration, as `mcp-broker servers add` would.
func (d *desk) servers(srvs ...config.Server) {
	d.t.Helper()
	f := &config.File{Version: config.Version, SecretStore: "file", Servers: srvs}
	if err := config.Save(filepath.Join(d.configDir, "config.json"), f); err != nil {
		d.t.Fatal(err)
	}
}

// nextURL waits for the fake xdg-open to be asked to open a URL, and returns the newest.
func (d *desk) nextURL(limit time.Duration) string {
	d.t.Helper()
	var last string
	poll(d.t, limit, "a URL handed to xdg-open", func() bool {
		data, err := os.ReadFile(d.urls)
		if err != nil {
			return false
		}
		lines := strings.Fields(string(data))
		if len(lines) == 0 {
			return false
		}
		last = lines[len(lines)-1]
		return true
	})
	return last
}

// proc is a running process with its output kept for the failure message.
type proc struct {
	cmd  *exec.Cmd
	out  *testenv.SyncBuffer
	done chan struct{}
	err  error
}

// start runs bin with args in the desk's environment. The process is killed, if still
// running, when the test ends; its output is logged when the test fails.
func (d *desk) start(bin string, stdin io.Reader, env []string, args ...string) *proc {
	d.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append([]string{}, d.env...), env...)
	cmd.Stdin = stdin
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// A child that inherits the output pipe (a browser started through xdg-open) must not keep
	// Wait, and with it the test, waiting after the process itself has exited.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	name := filepath.Base(bin)
	d.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-p.done
			}
		}
		if d.t.Failed() {
			d.t.Logf("%s %v output:\n%s", name, args, out.String())
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("the process did not exit within %s; output:\n%s", limit, p.out.String())
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("waiting for the process: %v", p.err)
	return -1
}

// bridge is a real `mcp-broker bridge` with the test playing the MCP client on its stdio.
type bridge struct {
	p     *proc
	stdin io.WriteCloser
}

// startBridge starts a bridge for server and sends Claude Code's initialize.
func (d *desk) startBridge(cli, server string) *bridge {
	d.t.Helper()
	// An OS pipe, not an io.Pipe: with a reader that is not a file, os/exec copies stdin in a
	// goroutine that Wait waits for, and a test that fails before closing it would hang.
	r, w, err := os.Pipe()
	if err != nil {
		d.t.Fatal(err)
	}
	p := d.start(cli, r, []string{"MCP_BROKER_SERVER=" + server}, "bridge")
	r.Close() // the child has its copy
	d.t.Cleanup(func() { w.Close() })
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"claude-code","version":"2.0.0"}}}` + "\n"
	if _, err := w.Write([]byte(init)); err != nil {
		d.t.Fatal(err)
	}
	return &bridge{p: p, stdin: w}
}

// stop closes the client's side, as Claude Code does when it quits, and waits for the exit.
func (b *bridge) stop(t *testing.T) {
	t.Helper()
	_ = b.stdin.Close()
	b.p.wait(t, 20*time.Second)
}

// bridgeFiles lists the bridge status files in the desk's runtime folder.
func (d *desk) bridgeFiles() []string {
	entries, _ := os.ReadDir(status.BridgesDir(d.runtimeDir))
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	return names
}

// startDemo runs the in-repo authorization server and MCP server on free loopback ports for
// the test, and returns them with the configuration entry the tray's "Try the demo server" adds.
func startDemo(t *testing.T) *demo.Demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := demo.Start(ctx, demo.Options{MCPAddr: "127.0.0.1:0", AuthAddr: "127.0.0.1:0"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = d.Close()
	})
	return d
}

// lines returns the output's lines, for messages.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
