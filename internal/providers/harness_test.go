//go:build providers

package providers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

var (
	buildOnce sync.Once
	brokerBin string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needBroker builds mcp-broker (the command line and bridge, as `make cli` does) once for
// the test binary.
func needBroker(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "mcp-broker-providers"); buildErr != nil {
			return
		}
		brokerBin = filepath.Join(buildDir, "mcp-broker")
		cmd := exec.Command("go", "build", "-o", brokerBin, "./cmd/mcp-broker")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building mcp-broker: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return brokerBin
}

// user is a person at the keyboard: mcp-broker with private folders and the file secret
// store, as one user account.
type user struct {
	t       *testing.T
	bin     string
	env     []string
	secrets string // the file secret store's folder
}

func newUser(t *testing.T) *user {
	t.Helper()
	home := t.TempDir()
	config := filepath.Join(home, "config")
	runtime := filepath.Join(home, "runtime")
	if err := os.MkdirAll(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "MCP_BROKER_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"MCP_BROKER_CONFIG_DIR="+config, "MCP_BROKER_SECRET_STORE=file", "MCP_BROKER_RUNTIME_DIR="+runtime, "MCP_BROKER_LOG=debug")
	return &user{t: t, bin: needBroker(t), env: env, secrets: filepath.Join(config, "secrets")}
}

// run runs mcp-broker ARGS and fails the test unless it exits 0.
func (u *user) run(args ...string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.bin, args...)
	cmd.Env = u.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		u.t.Fatalf("mcp-broker %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// login runs `mcp-broker login NAME --no-browser` and hands the sign-in URL it prints to
// visit, as a person copies it into a browser. It returns the command's output and error.
func (u *user) login(name string, visit func(authURL string) error) (string, error) {
	u.t.Helper()
	return u.loginAt([]string{name, "--no-browser"}, func(line string) func(io.Writer) error {
		if v := strings.TrimSpace(line); strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
			return func(io.Writer) error { return visit(v) }
		}
		return nil
	})
}

// loginAt runs `mcp-broker login ARGS...` as a person at its terminal: it hands each line the
// command prints (on stderr) to read, which returns what the person then does, or nil. That
// step runs on its own goroutine, so that the reading goes on, with the command's standard
// input, where the person pastes. It returns the command's output and error.
func (u *user) loginAt(args []string, read func(line string) func(stdin io.Writer) error) (string, error) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.bin, append([]string{"login"}, args...)...)
	cmd.Env = u.env
	var out bytes.Buffer
	cmd.Stdout = &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	var text strings.Builder
	var stepped sync.WaitGroup
	var stepMu sync.Mutex
	var stepErr error
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		text.WriteString(line + "\n")
		if step := read(line); step != nil {
			stepped.Go(func() {
				if err := step(stdin); err != nil {
					stepMu.Lock()
					stepErr = errors.Join(stepErr, err)
					stepMu.Unlock()
				}
			})
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	stepped.Wait()
	output := "stdout: " + out.String() + "\nstderr: " + text.String()
	if stepErr != nil {
		return output, fmt.Errorf("in the browser: %w (login: %v)", stepErr, err)
	}
	return output, err
}

// grant is the sign-in the broker keeps in its secret store: the fields of its token item
// that the tests look at. Tests hold the tokens to ask about them; they never print them.
type grant struct {
	AccessToken   string    `json:"access_token"`
	RefreshToken  string    `json:"refresh_token"`
	Expiry        time.Time `json:"expiry"`
	ClientID      string    `json:"client_id"`
	Issuer        string    `json:"issuer"`
	TokenEndpoint string    `json:"token_endpoint"`
	Scope         string    `json:"scope"`
}

// grant reads the stored sign-in of server name (the key of broker/keys.go's tokenKey).
func (u *user) grant(name string) grant {
	u.t.Helper()
	store, err := secrets.NewFileStore(u.secrets)
	if err != nil {
		u.t.Fatal(err)
	}
	raw, err := store.Get(u.t.Context(), "oauth-token/"+name)
	if err != nil {
		u.t.Fatalf("no sign-in stored for %s: %v", name, err)
	}
	var g grant
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		u.t.Fatalf("the stored sign-in of %s is not a token item: %v", name, err)
	}
	return g
}

// secret reads another item of the store (nil error and "" when it is missing).
func (u *user) secret(key string) (string, error) {
	store, err := secrets.NewFileStore(u.secrets)
	if err != nil {
		return "", err
	}
	v, err := store.Get(u.t.Context(), key)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	return v, err
}

// browse drives the browser through steps, then waits until it is back at the broker's
// loopback callback page: the sign-in is done.
func browse(browser context.Context, authURL string, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(authURL)}, steps...)...); err != nil {
		return err
	}
	// Each navigation replaces the page's JavaScript context, so watch the location from here.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			last = loc
			if u, err := url.Parse(loc); err == nil && u.Hostname() == "127.0.0.1" && u.Path == "/callback" {
				title, err := chromedp.Run(ctx, chromedp.Title())
				if err != nil {
					return err
				}
				body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
				if err != nil {
					return err
				}
				if !strings.Contains(title, "signed in") {
					return fmt.Errorf("the callback page says %q: %.300s", title, body)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the browser never reached the callback (last at %s): %w", redactQuery(last), ctx.Err())
		case <-tick.C:
		}
	}
}

// capture drives the browser through steps from authURL, as browse does, but stops the
// browser's last request, the redirect to the broker's loopback callback (the redirect_uri of
// authURL), before it leaves the browser, and returns that address: what a person whose
// browser runs on another machine sees in its address bar, and pastes. The broker's loopback
// server never hears of the sign-in.
func capture(browser context.Context, authURL string, steps ...chromedp.Action[chromedp.Void]) (string, error) {
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	au, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	redirect := au.Query().Get("redirect_uri")
	if u, err := url.Parse(redirect); err != nil || u.Hostname() != "127.0.0.1" || u.RawQuery != "" {
		return "", fmt.Errorf("the sign-in URL's redirect_uri %q is not a loopback callback", redirect)
	}
	// Fetch's patterns take * and ? as wildcards; a loopback redirect_uri has neither.
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: redirect + "*"}}}); err != nil {
		return "", fmt.Errorf("stopping requests to the callback: %w", err)
	}
	defer func() { _, _ = chromedp.Call(browser, fetch.Disable, cdp.Empty{}) }()
	paused := chromedp.Events(ctx, fetch.RequestPaused) // subscribed before the first step
	if err := chromedp.Do(ctx, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(authURL)}, steps...)...); err != nil {
		return "", err
	}
	for ev, err := range paused {
		if err != nil {
			return "", fmt.Errorf("the browser never went to the callback: %w", err)
		}
		if _, err := chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient}); err != nil {
			return "", fmt.Errorf("stopping the request to the callback: %w", err)
		}
		return ev.Request.URL, nil
	}
	return "", fmt.Errorf("the browser never went to the callback: %w", ctx.Err())
}

// redactQuery drops a URL's query, which may hold a code or a challenge.
func redactQuery(u string) string {
	base, _, _ := strings.Cut(u, "?")
	return base
}

// bridge is `mcp-broker bridge` as Claude Code runs it: JSON-RPC lines on stdio.
type bridge struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *testenv.SyncBuffer
	done   chan struct{} // the reader's end

	mu      sync.Mutex
	next    int
	waiting map[string]chan json.RawMessage
}

// bridge starts `mcp-broker bridge --server NAME --no-browser` and initializes a session.
func (u *user) bridge(ctx context.Context, name string) *bridge {
	u.t.Helper()
	b := &bridge{t: u.t, stderr: &testenv.SyncBuffer{}, done: make(chan struct{}), waiting: map[string]chan json.RawMessage{}}
	b.cmd = exec.Command(u.bin, "bridge", "--server", name, "--no-browser")
	b.cmd.Env = u.env
	b.cmd.Stderr = b.stderr
	var err error
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		u.t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	go b.read(stdout) // ends when the bridge closes stdout
	u.t.Cleanup(func() {
		b.stdin.Close() // a bridge leaves on stdin EOF
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
		}
		_ = b.cmd.Wait()
		if u.t.Failed() {
			u.t.Logf("bridge stderr:\n%s", lastLines(b.stderr.String(), 60))
		}
	})
	if _, err := b.call(ctx, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"providertest","version":"1"}}`); err != nil {
		u.t.Fatalf("initialize: %v", err)
	}
	b.write(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return b
}

func (b *bridge) read(r io.Reader) {
	defer close(b.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		switch {
		case m.Method != "" && len(m.ID) > 0:
			b.write(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"error":{"code":-32601,"message":"not supported by this test client"}}`)
		case m.Method != "":
		default:
			b.mu.Lock()
			ch := b.waiting[string(m.ID)]
			delete(b.waiting, string(m.ID))
			b.mu.Unlock()
			if ch == nil {
				continue
			}
			if m.Error != nil {
				ch <- append(json.RawMessage(`{"error":`), append(m.Error, '}')...)
				continue
			}
			ch <- m.Result
		}
	}
}

func (b *bridge) write(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = io.WriteString(b.stdin, line+"\n")
}

// call sends a request and returns its result, or the JSON-RPC error as an error.
func (b *bridge) call(ctx context.Context, method, params string) (json.RawMessage, error) {
	b.mu.Lock()
	b.next++
	id := fmt.Sprintf(`"pt-%d"`, b.next)
	ch := make(chan json.RawMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	b.write(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`)
	select {
	case res := <-ch:
		if bytes.HasPrefix(res, []byte(`{"error":`)) {
			return nil, fmt.Errorf("%s answered %s", method, res)
		}
		return res, nil
	case <-b.done:
		return nil, fmt.Errorf("%s: the bridge closed its stdout", method)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

// whoami calls the demo server's whoami tool and returns its text.
func (b *bridge) whoami(ctx context.Context) (string, error) {
	res, err := b.call(ctx, "tools/call", `{"name":"whoami","arguments":{}}`)
	if err != nil {
		return "", err
	}
	var r struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return "", fmt.Errorf("whoami: %w", err)
	}
	if r.IsError || len(r.Content) == 0 {
		return "", fmt.Errorf("whoami answered an error: %.500s", res)
	}
	return r.Content[0].Text, nil
}
