package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// binary is the mcp-broker that the end-to-end tests run as a process of its own. demoBinary
// is the same build in a folder of its own, beside a build with the demo servers (-tags demo)
// named like the tray build, which `mcp-broker demo` hands over to. Each is built on first use
// (needBinary, needDemo), so that a run of only the in-process tests builds nothing.
var binary, demoBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcp-broker-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mcp-broker")
	demoBinary = filepath.Join(dir, "with-demo", "mcp-broker")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The builds behind binary and demoBinary, each run at most once.
var (
	buildBinary = sync.OnceValue(func() error { return goBuild(binary, "") })
	buildDemo   = sync.OnceValue(func() error {
		if err := goBuild(demoBinary, ""); err != nil {
			return err
		}
		return goBuild(filepath.Join(filepath.Dir(demoBinary), trayName), "demo")
	})
)

// goBuild builds this command with tags into out.
func goBuild(out, tags string) error {
	build := exec.Command("go", "build", "-tags="+tags, "-o", out, ".")
	if msg, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building mcp-broker (tags %q): %w\n%s", tags, err, msg)
	}
	return nil
}

// needBinary returns binary, built.
func needBinary(t testing.TB) string {
	t.Helper()
	if err := buildBinary(); err != nil {
		t.Fatal(err)
	}
	return binary
}

// needDemo returns demoBinary, built with its demo sibling.
func needDemo(t testing.TB) string {
	t.Helper()
	if err := buildDemo(); err != nil {
		t.Fatal(err)
	}
	return demoBinary
}

// cli runs mcp-broker commands with a private config folder: in process through run (newCLI),
// or as the real binary, one process per command (newBinaryCLI), for the end-to-end tests.
type cli struct {
	t   *testing.T
	dir string
	// vars are the test's environment variables (KEY=value). A process gets the test
	// process's environment with vars on top; an in-process run gets vars alone, on top of
	// inProcessDefaults.
	vars []string
	// bin is the binary to run each command with; "" runs them in process.
	bin string
	// home, runtime, cache and exe stand in for the process's in an in-process run: a private
	// home, runtime and cache folder, and a program file in a folder of its own, which
	// Claude Code's entries name and beside which no tray build lies.
	home, runtime, cache, exe string
}

// newCLI returns a CLI that runs its commands in process, with extraEnv.
func newCLI(t *testing.T, extraEnv ...string) *cli {
	t.Helper()
	c := &cli{t: t, dir: t.TempDir(), home: t.TempDir(), runtime: t.TempDir(), cache: t.TempDir()}
	c.exe = filepath.Join(t.TempDir(), "mcp-broker")
	if err := os.WriteFile(c.exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	c.vars = append([]string{"MCP_BROKER_CONFIG_DIR=" + c.dir, "MCP_BROKER_LOG="}, extraEnv...)
	return c
}

// newBinaryCLI returns a CLI that runs the real binary, with extraEnv.
func newBinaryCLI(t *testing.T, extraEnv ...string) *cli {
	t.Helper()
	c := newCLI(t, extraEnv...)
	c.bin = needBinary(t)
	return c
}

// environ is the environment of a process this CLI starts.
func (c *cli) environ() []string {
	return append(os.Environ(), c.vars...)
}

// inProcessDefaults stand in for the process environment that an in-process run does not see:
// private folders, and the file secret store, since the keychain is the process's (see osEnv).
func (c *cli) inProcessDefaults() []string {
	return []string{"HOME=" + c.home, "MCP_BROKER_RUNTIME_DIR=" + c.runtime, "XDG_CACHE_HOME=" + c.cache, "MCP_BROKER_SECRET_STORE=file"}
}

// osEnv is the environment of an in-process run in the folder wd ("" is the test's).
func (c *cli) osEnv(wd string) osEnv {
	vars := map[string]string{}
	for _, kv := range append(c.inProcessDefaults(), c.vars...) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	return osEnv{
		Getenv: getenv,
		Getwd: func() (string, error) {
			if wd != "" {
				return wd, nil
			}
			return os.Getwd()
		},
		UserHomeDir: func() (string, error) {
			if h := getenv("HOME"); h != "" {
				return h, nil
			}
			return "", errors.New("$HOME is not defined")
		},
		UserCacheDir: func() (string, error) {
			if d := getenv("XDG_CACHE_HOME"); d != "" {
				return d, nil
			}
			return "", errors.New("$XDG_CACHE_HOME is not defined")
		},
		Executable: func() (string, error) { return c.exe, nil },
	}
}

// program is the path of the mcp-broker that this CLI's commands see as their own.
func (c *cli) program() string {
	if c.bin != "" {
		return c.bin
	}
	return c.exe
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	return c.runAt("", stdin, args...)
}

// runAt runs mcp-broker with dir as its working folder ("" is the test's).
func (c *cli) runAt(dir, stdin string, args ...string) result {
	c.t.Helper()
	// Not t.Context(): cleanups run commands too, after it is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	if c.bin == "" {
		code := run(ctx, args, strings.NewReader(stdin), &out, &errb, c.osEnv(dir))
		return result{out.String(), errb.String(), code}
	}
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env, cmd.Dir = c.environ(), dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func (c *cli) ok(stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("mcp-broker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// login runs `mcp-broker login NAME --no-browser` (and extra flags), hands the URL it prints
// to visit, and returns the finished command's result.
func (c *cli) login(name string, visit func(authURL string), extra ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 90*time.Second)
	defer cancel()
	args := append([]string{"login", name, "--no-browser"}, extra...)
	var out bytes.Buffer
	var stderr io.Reader
	var wait func() int
	if c.bin == "" {
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go func() {
			code := run(ctx, args, strings.NewReader(""), &out, pw, c.osEnv(""))
			pw.Close()
			done <- code
		}()
		stderr, wait = pr, func() int { return <-done }
	} else {
		cmd := exec.CommandContext(ctx, c.bin, args...)
		cmd.Env = c.environ()
		cmd.Stdout = &out
		pipe, err := cmd.StderrPipe()
		if err != nil {
			c.t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			c.t.Fatal(err)
		}
		stderr, wait = pipe, func() int {
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			} else if err != nil {
				c.t.Fatal(err)
			}
			return 0
		}
	}
	var errText strings.Builder
	var wg sync.WaitGroup
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		errText.WriteString(line + "\n")
		if u := strings.TrimSpace(line); strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			wg.Go(func() { visit(u) })
		}
	}
	io.Copy(io.Discard, stderr) // past a line too long to scan: the command must not block
	code := wait()
	wg.Wait()
	return result{out.String(), errText.String(), code}
}

// servers starts the in-repo AS and MCP server on 127.0.0.1.
func servers(t *testing.T, asOpts authserver.Options, mcpOpts mcpserver.Options) (*authserver.Server, *mcpserver.Server) {
	t.Helper()
	as := authserver.New(asOpts)
	asURL, err := as.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	mcpOpts.Verifier = as
	mcpOpts.AuthServers = []string{as.Issuer()}
	_ = asURL
	m := mcpserver.New(mcpOpts)
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return as, m
}

// follow plays a browser that approves at once: it follows the redirects back to the
// loopback callback.
func follow(t *testing.T) func(string) {
	return func(u string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Errorf("following the sign-in URL: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

type statusDoc struct {
	Servers []struct {
		Name     string   `json:"name"`
		Auth     string   `json:"auth"`
		SignedIn bool     `json:"signed_in"`
		State    string   `json:"state"`
		Scopes   []string `json:"scopes"`
		Expiry   string   `json:"expiry"`
		Client   *struct {
			ID   string `json:"client_id"`
			Kind string `json:"kind"`
		} `json:"client"`
	} `json:"servers"`
}

func (c *cli) status() statusDoc {
	c.t.Helper()
	var doc statusDoc
	if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &doc); err != nil {
		c.t.Fatal(err)
	}
	return doc
}

// secretValues returns every secret the file store holds, to check that none leaks.
func (c *cli) secretValues() []string {
	c.t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(c.dir, "secrets"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out = append(out, string(b))
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if json.Unmarshal(b, &tok) == nil && tok.AccessToken != "" {
				out = append(out, tok.AccessToken)
			}
		}
		return nil
	})
	return out
}

// TestCLILoginStatusLogout is the command line's whole journey on the real binary, one process
// per command: add, sign in, status, sign out, remove; no secret in any output or file.
func TestCLILoginStatusLogout(t *testing.T) {
	as, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{Scopes: []string{"mcp:read"}})
	c := newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=file")

	add := c.ok("", "servers", "add", "demo", m.URL())
	if !strings.Contains(add.stdout, "mcp-broker login demo") {
		t.Errorf("servers add output: %q", add.stdout)
	}
	if !strings.Contains(add.stderr, "UNENCRYPTED") {
		t.Errorf("the file store must say loudly what it is; stderr: %q", add.stderr)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "servers", "list", "--json").stdout), &list); err != nil || len(list) != 1 || list[0]["url"] != m.URL() {
		t.Fatalf("servers list --json = %v (%v)", list, err)
	}
	if st := c.status(); st.Servers[0].SignedIn || st.Servers[0].State != "sign-in required" {
		t.Errorf("status before login = %+v", st.Servers[0])
	}

	r := c.login("demo", follow(t))
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to demo") {
		t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if as.Stats().CodeExchanges != 1 {
		t.Errorf("AS stats = %+v", as.Stats())
	}
	st := c.status()
	s := st.Servers[0]
	if !s.SignedIn || s.Expiry == "" || s.Client == nil || s.Client.Kind != "dynamic" || len(s.Scopes) == 0 {
		t.Errorf("status after login = %+v", s)
	}
	human := c.ok("", "status")
	for _, out := range []string{human.stdout, c.ok("", "status", "--json").stdout, r.stdout, r.stderr, c.ok("", "servers", "list").stdout} {
		for _, secret := range c.secretValues() {
			if strings.Contains(out, secret) {
				t.Errorf("output leaks a secret: %q", out)
			}
		}
	}
	for _, f := range []string{"config.json", "state.json"} {
		data, _ := os.ReadFile(filepath.Join(c.dir, f))
		for _, secret := range c.secretValues() {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds a secret", f)
			}
		}
	}

	c.ok("", "logout", "demo")
	if st := c.status(); st.Servers[0].SignedIn {
		t.Errorf("status after logout = %+v", st.Servers[0])
	}
	c.ok("", "servers", "remove", "demo")
	if out := c.ok("", "servers", "list").stdout; !strings.Contains(out, "No servers") {
		t.Errorf("servers list after remove: %q", out)
	}
	if left := c.secretValues(); len(left) != 0 {
		t.Errorf("%d secrets left after remove", len(left))
	}
}

func TestCLISecretsFromStdinOnly(t *testing.T) {
	t.Parallel()
	_, m := servers(t, authserver.Options{}, mcpserver.Options{})
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("the-api-key\n", "servers", "add", "k", m.URL(), "--auth", "bearer", "--header", "X-API-Key", "--token-stdin")
	if vals := c.secretValues(); len(vals) != 1 || vals[0] != "the-api-key" {
		t.Errorf("stored secrets = %d", len(vals))
	}
	if st := c.status(); !st.Servers[0].SignedIn || st.Servers[0].State != "token stored" {
		t.Errorf("status = %+v", st.Servers[0])
	}
	if r := c.run("", "servers", "add", "k2", m.URL(), "--auth", "bearer"); r.code == 0 {
		t.Error("a bearer server without a token must be refused")
	}
	if r := c.run("", "servers", "add", "k3", m.URL(), "--token", "x"); r.code != 2 {
		t.Errorf("a secret flag on argv must not exist: exit %d", r.code)
	}
	if r := c.run("a\nb\n", "servers", "add", "k4", m.URL(), "--auth", "client-credentials", "--client-id", "x", "--client-secret-stdin"); r.code != 2 {
		t.Errorf("a two-line secret must be refused: exit %d: %s", r.code, r.stderr)
	}
}

func TestCLIUsageAndErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "servers"},
		{[]string{"login"}, 2, "accepts 1 arg"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"servers", "add", "x", "https://e.example/mcp", "--auth", "magic"}, 1, "auth"},
		{[]string{"servers", "add", "bad name", "https://e.example/mcp"}, 1, "name"},
		{[]string{"servers", "add", "x", "http://e.example/mcp"}, 1, "https"},
		{[]string{"login", "nope"}, 1, "no server named"},
		{[]string{"completion", "bash"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("mcp-broker %v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tt.args, r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
	// A malformed config is reported and left alone.
	path := filepath.Join(c.dir, "config.json")
	os.WriteFile(path, []byte(`{"servers": [`), 0o600)
	if r := c.run("", "servers", "add", "x", "https://e.example/mcp"); r.code != 1 || !strings.Contains(r.stderr, "config.json") {
		t.Errorf("malformed config: exit %d: %s", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"servers": [` {
		t.Errorf("malformed config was rewritten: %q", data)
	}
}

func TestCLIDoctor(t *testing.T) {
	t.Parallel()
	_, good := servers(t, authserver.Options{}, mcpserver.Options{})
	_, bad := servers(t, authserver.Options{Hostile: authserver.Hostile{NoS256: true}}, mcpserver.Options{})
	c := newCLI(t)
	r := c.run("", "doctor", good.URL())
	if r.code != 0 || !strings.Contains(r.stdout, "S256") {
		t.Errorf("doctor on a healthy server: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run("", "doctor", bad.URL())
	if r.code != 3 {
		t.Errorf("doctor on a server without S256: exit %d, want 3\n%s", r.code, r.stdout)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(c.run("", "doctor", "--json", good.URL()).stdout), &doc); err != nil {
		t.Errorf("doctor --json: %v", err)
	}
}

// TestCLIDoctorRecordedRenewal: `doctor NAME` says the background renewal the broker recorded
// as refused, when, why and what to do, and does not call a server with one healthy.
func TestCLIDoctorRecordedRenewal(t *testing.T) {
	t.Parallel()
	_, m := servers(t, authserver.Options{}, mcpserver.Options{})
	c := newCLI(t)
	c.ok("", "servers", "add", "studio", m.URL())
	if r := c.run("", "doctor", "studio"); r.code != 0 || !strings.Contains(r.stdout, "No problems found") || strings.Contains(r.stdout, "last renewal") {
		t.Fatalf("doctor before any renewal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// What the broker writes when the authorization server refuses a refresh in the background
	// (see broker.TestSessionLimitLearnt for the real thing).
	failed := time.Now().Add(-5 * time.Minute).UTC().Round(time.Second)
	state := fmt.Sprintf(`{"servers":{"studio":{"renewal_failure":{"at":%q,"kind":"refused","reason":"the sign-in server refused the refresh token"}}}}`, failed.Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(c.dir, "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run("", "doctor", "studio")
	clock := failed.Local().Format("15:04")
	if failed.Local().Day() != time.Now().Day() {
		clock = failed.Local().Format("Jan 2 15:04")
	}
	want := "refused at " + clock + ": the sign-in server refused the refresh token"
	if r.code != 0 || !strings.Contains(r.stdout, "! last renewal") || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "\nRun `mcp-broker login studio`.\n") || strings.Contains(r.stdout, "No problems found") {
		t.Errorf("doctor with a refused renewal recorded: exit %d, want %q and the login step\n%s%s", r.code, want, r.stdout, r.stderr)
	}
}
