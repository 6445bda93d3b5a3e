// Command conformancedriver is the client the official MCP conformance suite
// (npm @modelcontextprotocol/conformance) launches to test mcp-broker's bridge:
//
//	conformance client --command "conformancedriver" --scenario NAME
//
// The suite starts the scenario's servers and runs `conformancedriver <serverUrl>`, with
// MCP_CONFORMANCE_SCENARIO and, for scenarios that hand the client credentials,
// MCP_CONFORMANCE_CONTEXT in the environment. The driver then does what Claude Code does with a
// `.mcp.json` entry for the bridge: it starts `mcp-broker bridge --url <serverUrl>` (the binary
// named by $MCP_BROKER_BIN) and speaks MCP to it on stdio: initialize (protocol 2025-11-25,
// capabilities roots and elicitation), notifications/initialized, tools/list, and a call of each
// tool the server lists, answering elicitation/create with the requested schema's defaults and
// roots/list with one root, and refetching tools/list when told the list changed.
//
// Each run is private: a fresh config folder, the unencrypted file secret store, and private
// runtime and cache folders, so no tray is seen and nothing leaks between scenarios. The
// browser sign-in completes headlessly: a fake `xdg-open` first on PATH (this same program,
// reached through a symlink) follows the authorization URL's redirects back to the bridge's
// loopback callback, as the suite's authorization servers approve at once.
//
// A scenario whose context carries a client (auth/pre-registration, the client-credentials
// extensions) is configured first with `mcp-broker servers add` under the URL's server name
// (broker.URLServerName), secret on stdin, so that `bridge --url` finds it; auth/basic-cimd
// is configured with the client ID metadata document URL the suite expects; auth/wif-jwt-bearer
// as a workload whose JWT is in a file; auth/enterprise-managed-authorization with its
// identity provider, signed in to with the ID token the suite hands over.
//
// The exit status is 0 when every request got a result, 1 otherwise, 2 on a usage error.
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
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
)

const (
	// envBinary names the mcp-broker binary under test.
	envBinary = "MCP_BROKER_BIN"
	// envFollow marks the detached child of the fake xdg-open that visits the URL.
	envFollow = "CONFORMANCE_DRIVER_FOLLOW"
	// envBrowserLog is where that child writes what it did (it must not hold the suite's pipes).
	envBrowserLog = "CONFORMANCE_DRIVER_BROWSER_LOG"

	// protocolVersion is what Claude Code asks for.
	protocolVersion = "2025-11-25"
	// cimdClientID is the client ID metadata document URL auth/basic-cimd expects.
	cimdClientID = "https://conformance-test.local/client-metadata.json"
	// placeholderPrefix starts the name of the one tool the bridge lists while the server
	// cannot answer yet (signing in, connecting): the driver waits for the real list then.
	placeholderPrefix = "sign_in_"

	// runLimit bounds the whole run. The suite's default budget per scenario is 30 s, and a
	// driver that ends first reports its own error rather than a timeout; bridge/peertest
	// gives the suite 60 s, for a loaded machine.
	runLimit = 45 * time.Second
	// exitWait bounds the bridge's exit after stdin closes (it promises 1 s).
	exitWait = 5 * time.Second
)

func main() {
	switch {
	case os.Getenv(envFollow) == "1":
		os.Exit(follow(os.Args[1:]))
	case filepath.Base(os.Args[0]) == "xdg-open":
		os.Exit(fakeXDGOpen(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: conformancedriver [ARG...] SERVER_URL (the conformance suite adds the URL)")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	if err := run(ctx, os.Args[len(os.Args)-1]); err != nil {
		logf("FAILED: %v", err)
		cancel()
		os.Exit(1)
	}
	logf("done")
}

// logf writes a progress line to stderr, which the suite keeps per scenario.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "driver: "+format+"\n", args...)
}

// scenarioContext is MCP_CONFORMANCE_CONTEXT: what the suite hands the client.
type scenarioContext struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// ValidJWT is a workload's JWT (auth/wif-jwt-bearer).
	ValidJWT string `json:"valid_jwt"`
	// The identity provider of enterprise-managed authorization, and the ID token of a person
	// signed in there (auth/enterprise-managed-authorization).
	IdPIssuer   string `json:"idp_issuer"`
	IdPClientID string `json:"idp_client_id"`
	IdPIDToken  string `json:"idp_id_token"`
	// PrivateKeyPEM and SigningAlgorithm are auth/client-credentials-jwt's client key.
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
}

func run(ctx context.Context, serverURL string) error {
	bin := os.Getenv(envBinary)
	if bin == "" {
		return fmt.Errorf("set %s to the mcp-broker binary", envBinary)
	}
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	logf("scenario %q, server %s", scenario, serverURL)

	dir, err := os.MkdirTemp("", "conformance-driver-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env, err := privateEnv(dir)
	if err != nil {
		return err
	}
	defer copyBrowserLog(filepath.Join(dir, "browser.log"))

	if err := configure(ctx, bin, env, scenario, serverURL); err != nil {
		return err
	}

	cmd := exec.CommandContext(ctx, bin, "bridge", "--url", serverURL)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = exitWait
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the bridge: %w", err)
	}
	c := newClient(stdin, stdout)
	sessionErr := c.session(ctx)

	// Close stdin like Claude Code at the end, and see the bridge leave by itself.
	stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var exitErr error
	select {
	case err := <-exited:
		if err != nil {
			exitErr = fmt.Errorf("the bridge exited with %w", err)
		}
	case <-time.After(exitWait):
		_ = cmd.Process.Kill()
		<-exited
		exitErr = fmt.Errorf("the bridge did not exit within %s of stdin EOF", exitWait)
	}
	return errors.Join(sessionErr, exitErr)
}

// privateEnv returns the bridge's environment: a private config folder and runtime and cache
// folders, the file secret store, debug logs, and the fake xdg-open first on PATH.
func privateEnv(dir string) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	binDir := filepath.Join(dir, "bin")
	for _, d := range []string{"config", "runtime", "cache", binDir} {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.Symlink(self, filepath.Join(binDir, "xdg-open")); err != nil {
		return nil, err
	}
	drop := map[string]bool{"PATH": true, "MCP_BROKER_CONFIG_DIR": true, "MCP_BROKER_SECRET_STORE": true,
		"MCP_BROKER_RUNTIME_DIR": true, "XDG_CACHE_HOME": true, "MCP_BROKER_LOG": true, envFollow: true}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env,
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"MCP_BROKER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"MCP_BROKER_SECRET_STORE=file",
		"MCP_BROKER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"MCP_BROKER_LOG=debug",
		envBrowserLog+"="+filepath.Join(dir, "browser.log"),
	), nil
}

// configure adds the server ahead of the bridge when the scenario gives the client something
// to be configured with; `bridge --url` then finds it by its URL.
func configure(ctx context.Context, bin string, env []string, scenario, serverURL string) error {
	var sc scenarioContext
	if raw := os.Getenv("MCP_CONFORMANCE_CONTEXT"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &sc); err != nil {
			return fmt.Errorf("reading MCP_CONFORMANCE_CONTEXT: %w", err)
		}
	}
	name := broker.URLServerName(serverURL)
	args := []string{"servers", "add", name, serverURL}
	var stdin string
	switch {
	case sc.ValidJWT != "":
		return configureWorkload(ctx, bin, env, sc, name, serverURL)
	case sc.IdPIDToken != "":
		return configureEnterprise(ctx, bin, env, sc, name, serverURL)
	case sc.ClientID != "" && sc.PrivateKeyPEM != "":
		args = append(args, "--auth", "client-credentials", "--client-id", sc.ClientID, "--private-key-stdin")
		if sc.SigningAlgorithm != "" {
			args = append(args, "--signing-alg", sc.SigningAlgorithm)
		}
		stdin = sc.PrivateKeyPEM
	case strings.Contains(scenario, "client-credentials") && sc.ClientID != "" && sc.ClientSecret != "":
		args = append(args, "--auth", "client-credentials", "--client-id", sc.ClientID, "--client-secret-stdin")
		stdin = sc.ClientSecret + "\n"
	case sc.ClientID != "" && sc.ClientSecret != "":
		args = append(args, "--client-id", sc.ClientID, "--client-secret-stdin")
		stdin = sc.ClientSecret + "\n"
	case sc.ClientID != "":
		args = append(args, "--client-id", sc.ClientID)
	case scenario == "auth/basic-cimd":
		args = append(args, "--client-metadata-url", cimdClientID)
	default:
		return nil
	}
	return brokerCmd(ctx, bin, env, stdin, args...)
}

// brokerCmd runs `mcp-broker ARGS` to configure it, stdin (a secret, never in argv) on its
// standard input.
func brokerCmd(ctx context.Context, bin string, env []string, stdin string, args ...string) error {
	logf("configuring: mcp-broker %s", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mcp-broker %s: %w", args[0], err)
	}
	return nil
}

// configureWorkload configures workload identity federation (auth/wif-jwt-bearer): the JWT
// goes to a 0600 file in the run's private folder (the config folder, removed with it), as a
// platform would project it, which the broker reads for each token.
func configureWorkload(ctx context.Context, bin string, env []string, sc scenarioContext, name, serverURL string) error {
	var dir string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "MCP_BROKER_CONFIG_DIR="); ok {
			dir = v
		}
	}
	jwtFile := filepath.Join(dir, "workload.jwt")
	if err := os.WriteFile(jwtFile, []byte(sc.ValidJWT+"\n"), 0o600); err != nil {
		return err
	}
	return brokerCmd(ctx, bin, env, "", "servers", "add", name, serverURL, "--auth", "workload", "--client-id", sc.ClientID, "--assertion-file", jwtFile)
}

// configureEnterprise configures enterprise-managed authorization: the identity provider, the
// server with its client at the MCP authorization server, and the sign-in from the ID token
// the suite hands over (its identity provider has no sign-in page).
func configureEnterprise(ctx context.Context, bin string, env []string, sc scenarioContext, name, serverURL string) error {
	if err := brokerCmd(ctx, bin, env, "", "idp", "add", "corp", "--issuer", sc.IdPIssuer, "--client-id", sc.IdPClientID); err != nil {
		return err
	}
	if err := brokerCmd(ctx, bin, env, sc.ClientSecret+"\n", "servers", "add", name, serverURL, "--auth", "enterprise", "--idp", "corp", "--client-id", sc.ClientID, "--client-secret-stdin"); err != nil {
		return err
	}
	return brokerCmd(ctx, bin, env, sc.IdPIDToken+"\n", "idp", "login", "corp", "--id-token-stdin")
}

// client speaks MCP over the bridge's stdio. One goroutine reads; requests wait for their
// answers on channels; server-to-client requests are answered as they come.
type client struct {
	mu      sync.Mutex
	w       io.Writer
	nextID  int
	waiting map[string]chan message
	changed chan struct{} // notifications/tools/list_changed, coalesced
	readErr chan error    // the reader's end
}

// message is one JSON-RPC message, loosely.
type message struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func newClient(w io.Writer, r io.Reader) *client {
	c := &client{w: w, waiting: map[string]chan message{}, changed: make(chan struct{}, 1), readErr: make(chan error, 1)}
	go c.read(r) // ends when the bridge closes its stdout
	return c
}

func (c *client) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			logf("bridge wrote a line that is not a JSON-RPC message: %q", truncate(line))
			continue
		}
		switch {
		case m.Method != "" && len(m.ID) > 0:
			logf("<- request %s", m.Method)
			c.answer(m)
		case m.Method != "":
			logf("<- notification %s", m.Method)
			if m.Method == "notifications/tools/list_changed" {
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
		default:
			c.mu.Lock()
			ch := c.waiting[string(m.ID)]
			delete(c.waiting, string(m.ID))
			c.mu.Unlock()
			if ch == nil {
				logf("<- an answer nobody asked for: %q", truncate(line))
				continue
			}
			ch <- m
		}
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	c.readErr <- err
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func (c *client) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.w.Write(append(b, '\n'))
	return err
}

// call sends a request and waits for its answer.
func (c *client) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan message, 1)
	c.waiting[fmt.Sprint(id)] = ch
	c.mu.Unlock()
	logf("-> %s (id %d)", method, id)
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, fmt.Errorf("%s: writing to the bridge: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: error %d: %s", method, m.Error.Code, m.Error.Message)
		}
		return m.Result, nil
	case err := <-c.readErr:
		c.readErr <- err
		return nil, fmt.Errorf("%s: the bridge closed its stdout: %w", method, err)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

// answer replies to a server-to-client request as Claude Code would.
func (c *client) answer(m message) {
	var result any
	switch m.Method {
	case "ping":
		result = map[string]any{}
	case "roots/list":
		wd, _ := os.Getwd()
		result = map[string]any{"roots": []map[string]string{{"uri": "file://" + filepath.ToSlash(wd), "name": "project"}}}
	case "elicitation/create":
		result = map[string]any{"action": "accept", "content": elicitationDefaults(m.Params)}
	case "sampling/createMessage":
		result = map[string]any{"role": "assistant", "model": "conformance-driver",
			"content": map[string]string{"type": "text", "text": "a canned answer"}, "stopReason": "endTurn"}
	default:
		if err := c.send(map[string]any{"jsonrpc": "2.0", "id": m.ID,
			"error": map[string]any{"code": -32601, "message": "method not found: " + m.Method}}); err != nil {
			logf("answering %s: %v", m.Method, err)
		}
		return
	}
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result}); err != nil {
		logf("answering %s: %v", m.Method, err)
	}
}

// elicitationDefaults fills the form of an elicitation/create with each field's default, as a
// user who accepts the form unchanged (SEP-1034).
func elicitationDefaults(params json.RawMessage) map[string]any {
	var p struct {
		RequestedSchema struct {
			Properties map[string]struct {
				Default json.RawMessage `json:"default"`
			} `json:"properties"`
		} `json:"requestedSchema"`
	}
	out := map[string]any{}
	if err := json.Unmarshal(params, &p); err != nil {
		return out
	}
	for name, prop := range p.RequestedSchema.Properties {
		if len(prop.Default) > 0 {
			out[name] = prop.Default
		}
	}
	return out
}

// tool is the part of a tools/list entry the driver uses.
type tool struct {
	Name        string `json:"name"`
	InputSchema struct {
		Properties map[string]struct {
			Type    any             `json:"type"`
			Default json.RawMessage `json:"default"`
			Enum    []any           `json:"enum"`
		} `json:"properties"`
	} `json:"inputSchema"`
}

// session runs the client's side: initialize, initialized, tools/list, each tool called.
func (c *client) session(ctx context.Context) error {
	start := time.Now()
	init, err := c.call(ctx, "initialize", map[string]any{
		"protocolVersion": protocolVersion,
		"capabilities":    map[string]any{"roots": map[string]any{}, "elicitation": map[string]any{}},
		"clientInfo":      map[string]any{"name": "mcp-broker-conformance-driver", "version": "1.0.0"},
	})
	if err != nil {
		return err
	}
	logf("initialize answered in %s: %s", time.Since(start).Round(time.Millisecond), truncate(init))
	if err := c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		return err
	}

	tools, err := c.listTools(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range tools {
		res, err := c.call(ctx, "tools/call", map[string]any{"name": t.Name, "arguments": arguments(t)})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var r struct {
			IsError bool `json:"isError"`
		}
		_ = json.Unmarshal(res, &r)
		logf("tools/call %s -> %s", t.Name, truncate(res))
		if r.IsError {
			errs = append(errs, fmt.Errorf("tools/call %s: the tool reported an error: %s", t.Name, truncate(res)))
		}
	}
	return errors.Join(errs...)
}

// listTools fetches the server's tools. While the bridge lists only its placeholder (the
// server is not reachable yet: a sign-in runs), it waits for list_changed and asks again.
func (c *client) listTools(ctx context.Context) ([]tool, error) {
	for {
		res, err := c.call(ctx, "tools/list", map[string]any{})
		if err != nil {
			return nil, err
		}
		var r struct {
			Tools []tool `json:"tools"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		if len(r.Tools) != 1 || !strings.HasPrefix(r.Tools[0].Name, placeholderPrefix) {
			names := make([]string, len(r.Tools))
			for i, t := range r.Tools {
				names[i] = t.Name
			}
			logf("tools: %v", names)
			return r.Tools, nil
		}
		logf("the bridge lists its placeholder %s: waiting for the server's tools", r.Tools[0].Name)
		select {
		case <-c.changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("tools/list: the server's tools never came: %w", ctx.Err())
		}
	}
}

// arguments makes up arguments for a tool from its input schema: each property's default, its
// first enum value, or a small value of its type (distinct numbers 1, 2, 3…).
func arguments(t tool) map[string]any {
	args := map[string]any{}
	n := 0
	for name, p := range t.InputSchema.Properties {
		switch typ, _ := p.Type.(string); {
		case len(p.Default) > 0:
			args[name] = p.Default
		case len(p.Enum) > 0:
			args[name] = p.Enum[0]
		case typ == "number" || typ == "integer":
			n++
			args[name] = n
		case typ == "boolean":
			args[name] = true
		case typ == "array":
			args[name] = []any{}
		case typ == "object":
			args[name] = map[string]any{}
		default:
			args[name] = "test"
		}
	}
	return args
}

// fakeXDGOpen is `xdg-open URL`: like the real one, it hands the URL to a browser and returns
// at once. The "browser" is a detached copy of this program that follows the redirects; it
// must not hold the suite's stdout or stderr, so it writes to the driver's browser log.
func fakeXDGOpen(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "xdg-open: want one URL")
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		return 1
	}
	logPath := os.Getenv(envBrowserLog)
	if logPath == "" {
		logPath = os.DevNull
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		return 1
	}
	defer logFile.Close()
	cmd := exec.Command(self, args[0])
	cmd.Env = append(os.Environ(), envFollow+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		return 1
	}
	_ = cmd.Process.Release() // it exits by itself once the redirects are followed
	return 0
}

// follow plays a browser whose user approves at once: GET the URL and follow the redirects
// to the loopback callback. It never prints the URLs' queries (they carry the code).
func follow(args []string) int {
	if len(args) != 1 {
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		fmt.Println("browser: bad URL:", err)
		return 1
	}
	hops := 0
	hc := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		hops++
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	resp, err := hc.Do(req)
	if err != nil {
		fmt.Println("browser: following the sign-in URL:", err)
		return 1
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	final := *resp.Request.URL
	final.RawQuery = ""
	fmt.Printf("browser: %d redirect(s), ended on %s with %s (%d bytes)\n", hops, final.Redacted(), resp.Status, len(bytes.TrimSpace(body)))
	return 0
}

// copyBrowserLog puts what the browser did into the driver's stderr, which the suite keeps.
func copyBrowserLog(path string) {
	// No file: no browser was opened. An empty one: it may still be finishing a page.
	for range 10 {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		if len(b) > 0 {
			os.Stderr.Write(b)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
