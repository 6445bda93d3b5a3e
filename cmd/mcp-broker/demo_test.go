package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// demoProc is a running `mcp-broker demo`.
type demoProc struct {
	cmd    *exec.Cmd
	mcpURL string
	stderr *testenv.SyncBuffer
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's result, set before exited closes
}

var mcpURLLine = regexp.MustCompile(`MCP server \(Streamable HTTP\):\s+(\S+)`)

// startDemo starts `mcp-broker demo ARGS…` and waits until it prints its MCP
// URL. The process is killed at cleanup if the test did not stop it.
func (c *cli) startDemo(args ...string) *demoProc {
	c.t.Helper()
	p := &demoProc{cmd: exec.Command(needDemo(c.t), append([]string{"demo"}, args...)...), stderr: &testenv.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = c.environ()
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		// Owned by the process: ends when its stdout closes.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := mcpURLLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	c.t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.mcpURL = <-urls:
	case <-p.exited:
		c.t.Fatalf("mcp-broker demo exited early (%v)\nstderr: %s", p.err, p.stderr)
	case <-time.After(60 * time.Second):
		c.t.Fatalf("mcp-broker demo printed no MCP URL within a minute\nstderr: %s", p.stderr)
	}
	return p
}

// stop sends SIGTERM and checks that the demo exits cleanly within a few
// seconds (generous for a loaded machine: the demo itself needs
// milliseconds).
func (p *demoProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("mcp-broker demo did not exit within 15 s of SIGTERM\nstderr: %s", p.stderr)
	}
	if p.err != nil {
		t.Errorf("mcp-broker demo after SIGTERM: %v (want exit 0)\nstderr: %s", p.err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "Demo stopped.") {
		t.Errorf("stderr does not say the demo stopped: %s", p.stderr)
	}
}

var (
	consentAction    = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	consentRequestID = regexp.MustCompile(`name="request_id" value="([^"]+)"`)
)

// clickAllow plays a person at the demo's consent page: it loads the
// authorization URL, submits the form with Allow and follows the redirect back
// to mcp-broker's loopback server.
func clickAllow(t *testing.T) func(string) {
	return func(u string) {
		if err := submitConsent(u); err != nil {
			t.Errorf("clicking Allow: %v", err)
		}
	}
}

func submitConsent(authURL string) error {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(authURL)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a, id := consentAction.FindSubmatch(body), consentRequestID.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || a == nil || id == nil {
		return fmt.Errorf("no consent form (HTTP %d): %.300s", resp.StatusCode, body)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(string(a[1])))
	if err != nil {
		return err
	}
	resp, err = c.PostForm(action.String(), url.Values{"request_id": {html.UnescapeString(string(id[1]))}, "decision": {"allow"}})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !strings.HasSuffix(resp.Request.URL.Path, "/callback") || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ended at %s with HTTP %d, not at the loopback callback", resp.Request.URL.Redacted(), resp.StatusCode)
	}
	return nil
}

// TestDemo is `mcp-broker demo` as the newcomer runs it: it adds server
// "demo", sign-in through its consent page works, doctor is happy, SIGTERM
// stops it; started again on the same ports, the same entry works after a
// new sign-in.
func TestDemo(t *testing.T) {
	c := newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=file")
	// Fixed ports, as the defaults are, but ones no other demo on this
	// machine uses.
	var free []string
	for _, addr := range testenv.FreeAddrs(t, 2) {
		_, port, _ := net.SplitHostPort(addr)
		free = append(free, port)
	}
	ports := []string{"--port", free[0], "--auth-port", free[1]}

	d := c.startDemo(ports...)
	if !strings.HasPrefix(d.mcpURL, "http://127.0.0.1:"+ports[1]+"/") {
		t.Errorf("MCP URL %s is not on the port asked for", d.mcpURL)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "servers", "list", "--json").stdout), &list); err != nil || len(list) != 1 ||
		list[0]["name"] != "demo" || list[0]["url"] != d.mcpURL {
		t.Fatalf("servers list --json = %v (%v), want server demo at %s", list, err, d.mcpURL)
	}
	if r := c.login("demo", clickAllow(t)); r.code != 0 || !strings.Contains(r.stdout, "Signed in to demo") {
		t.Fatalf("login demo: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if s := c.status(); len(s.Servers) != 1 || !s.Servers[0].SignedIn {
		t.Errorf("status after login: %+v", s)
	}
	if r := c.run("", "doctor", d.mcpURL); r.code != 0 {
		t.Errorf("doctor on the demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d.stop(t)

	// Started again: the same URL, so the same entry; the old tokens are
	// forgotten (the in-memory authorization server forgot them too).
	d2 := c.startDemo(ports...)
	if d2.mcpURL != d.mcpURL {
		t.Errorf("restarted on %s, was %s", d2.mcpURL, d.mcpURL)
	}
	if s := c.status(); len(s.Servers) != 1 || s.Servers[0].SignedIn {
		t.Errorf("status after a restart of the demo must say sign-in needed: %+v", s)
	}
	if r := c.login("demo", clickAllow(t)); r.code != 0 {
		t.Fatalf("login demo after a restart: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	d2.stop(t)
}

// TestDemoRefusesBusyPort: a port asked for on the command line is not
// silently replaced.
func TestDemoRefusesBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	c := newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.bin = needDemo(t)
	r := c.run("", "demo", "--port", strconv.Itoa(busy.Addr().(*net.TCPAddr).Port), "--auth-port", "0")
	if r.code != exitError || !strings.Contains(r.stderr, "--port") {
		t.Errorf("demo on a busy port: exit %d, stderr %q", r.code, r.stderr)
	}
	if out := c.ok("", "servers", "list").stdout; strings.Contains(out, "demo") {
		t.Errorf("a demo that did not start was added: %s", out)
	}
}

// The command-line build carries no demo servers (they would slow every bridge's start): it
// hands `demo` over to the build beside it that has them, and says what to do without one.
func TestDemoHandOver(t *testing.T) {
	c := newBinaryCLI(t)
	if r := c.run("", "demo"); r.code != 1 || !strings.Contains(r.stderr, "the demo comes with the tray build") {
		t.Errorf("demo without the tray build: exit %d, stderr %q", r.code, r.stderr)
	}
	help := exec.Command(needDemo(t), "demo", "--help")
	out, err := help.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--auth-port") {
		t.Errorf("demo --help through the hand-over: %v\n%s", err, out)
	}
}
