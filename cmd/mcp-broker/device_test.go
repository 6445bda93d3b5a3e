package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv/chrometest"
)

// loginIn runs `mcp-broker login ARGS` in process with stdin, hands each line it prints on
// stderr to onLine as it comes (in a goroutine of its own, so onLine may wait), and returns
// the finished command's result.
func (c *cli) loginIn(stdin io.Reader, onLine func(string), args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 90*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"login"}, args...), stdin, &out, pw, c.osEnv(""))
		pw.Close()
		done <- code
	}()
	var errText strings.Builder
	var wg sync.WaitGroup
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		errText.WriteString(line + "\n")
		wg.Go(func() { onLine(line) })
	}
	io.Copy(io.Discard, pr)
	code := <-done
	wg.Wait()
	return result{out.String(), errText.String(), code}
}

// deviceServers starts the in-repo servers with the device grant on, polled every second.
func deviceServers(t *testing.T) (*authserver.Server, *mcpserver.Server) {
	return deviceServersWith(t, authserver.DeviceOptions{})
}

func deviceServersWith(t *testing.T, dev authserver.DeviceOptions) (*authserver.Server, *mcpserver.Server) {
	dev.Enabled, dev.Interval = true, time.Second
	return servers(t, authserver.Options{Device: dev}, mcpserver.Options{})
}

// codeLine matches the line of `login --device` that shows the user code.
var codeLine = regexp.MustCompile(`^  ([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})$`)

// TestCLILoginDevice: `login --device` over real HTTP, polling on the real clock: the person
// allows, denies, never comes (the code expires), or the server asks it to slow down.
func TestCLILoginDevice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dev      authserver.DeviceOptions
		decide   bool // whether the person answers
		allow    bool
		wantErr  string
		slowDown int
	}{
		{name: "allowed", decide: true, allow: true},
		{name: "denied", decide: true, wantErr: "refused at the authorization server (access_denied)"},
		{name: "expired", dev: authserver.DeviceOptions{CodeTTL: 2 * time.Second}, wantErr: "the sign-in code expired"},
		// One slow_down in all: the server answers slow_down to any poll sooner than its
		// interval, which the first one made six seconds.
		{name: "slow_down", dev: authserver.DeviceOptions{SlowDown: 1}, decide: true, allow: true, slowDown: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			as, m := deviceServersWith(t, tt.dev)
			c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
			c.ok("", "servers", "add", "demo", m.URL())
			verify := as.Issuer() + "/device"
			r := c.loginIn(strings.NewReader(""), func(line string) {
				if code := codeLine.FindStringSubmatch(line); code != nil && tt.decide {
					if err := authserver.DecideDevice(t.Context(), nil, verify, code[1], tt.allow); err != nil {
						t.Error(err)
					}
				}
			}, "demo", "--device")
			for _, want := range []string{"To sign in to demo, open this address", verify, "enter the code", verify + "?user_code="} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if n := as.Stats().SlowDowns; n != tt.slowDown {
				t.Errorf("%d slow_downs, want %d", n, tt.slowDown)
			}
			if tt.wantErr != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tt.wantErr) || !strings.Contains(r.stderr, "Try again.") {
					t.Errorf("login --device: exit %d, want an error with %q\nstderr: %s", r.code, tt.wantErr, r.stderr)
				}
				if c.status().Servers[0].SignedIn {
					t.Error("signed in after all")
				}
				return
			}
			if r.code != 0 || !strings.Contains(r.stdout, "Signed in to demo") {
				t.Fatalf("login --device: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !c.status().Servers[0].SignedIn {
				t.Error("status does not say signed in")
			}
			for _, secret := range c.secretValues() {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Error("a secret reached the output")
				}
			}
		})
	}
	t.Run("not offered", func(t *testing.T) {
		t.Parallel()
		_, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
		c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
		c.ok("", "servers", "add", "demo", m.URL())
		r := c.run("", "login", "demo", "--device")
		if r.code == 0 || !strings.Contains(r.stderr, "does not offer the device authorization grant") || !strings.Contains(r.stderr, "mcp-broker doctor") {
			t.Errorf("login --device without the grant: exit %d\nstderr: %s", r.code, r.stderr)
		}
	})
}

// TestCLILoginPasteBack: with --no-browser, the browser runs elsewhere and cannot reach the
// loopback server; the person pastes the address it ended on, and the sign-in finishes. The
// test's "browser" follows the authorization URL and stops at the redirect, which it never
// delivers to the loopback.
func TestCLILoginPasteBack(t *testing.T) {
	t.Parallel()
	as, m := servers(t, authserver.Options{AutoApprove: true, ISSParameter: true}, mcpserver.Options{})
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("", "servers", "add", "demo", m.URL())
	stdin, paste := io.Pipe()
	defer paste.Close()
	var code string
	r := c.loginIn(stdin, func(line string) {
		u := strings.TrimSpace(line)
		if !strings.HasPrefix(u, as.Issuer()+"/authorize?") {
			return
		}
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(u)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		final, err := resp.Location()
		if err != nil {
			t.Errorf("the authorization server did not redirect: %v", err)
			return
		}
		code = final.Query().Get("code")
		// A stray line first, as a person may press Enter, then the address.
		fmt.Fprintf(paste, "\n%s\n", final)
	}, "demo", "--no-browser")
	if r.code != 0 {
		t.Fatalf("login: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "paste it here and press Enter") {
		t.Errorf("stderr does not say the address can be pasted:\n%s", r.stderr)
	}
	if code == "" || strings.Contains(r.stdout+r.stderr, code) {
		t.Errorf("the pasted code was echoed (or there was none):\n%s", r.stderr)
	}
	if s := as.Stats(); s.CodeExchanges != 1 {
		t.Errorf("stats = %+v", s)
	}
}

// TestCLIDeviceSignInInChromium is the device sign-in as a person does it: headless Chromium
// opens the address `login --device` prints with the code in it, continues, and allows.
func TestCLIDeviceSignInInChromium(t *testing.T) {
	browser := chrometest.NewContext(t)
	as, m := deviceServers(t)
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	c.ok("", "servers", "add", "demo", m.URL())
	complete := regexp.MustCompile(`^  (http://\S+/device\?user_code=\S+)$`)
	var done string
	r := c.loginIn(strings.NewReader(""), func(line string) {
		u := complete.FindStringSubmatch(line)
		if u == nil {
			return
		}
		ctx, cancel := context.WithTimeout(browser, 60*time.Second)
		defer cancel()
		err := chromedp.Do(ctx,
			chromedp.Navigate(u[1]),
			chromedp.WaitVisible(chromedp.CSS("#continue")),
			chromedp.Click(chromedp.CSS("#continue")),
			chromedp.WaitVisible(chromedp.CSS("#allow")),
			chromedp.Click(chromedp.CSS("#allow")),
			chromedp.WaitVisible(chromedp.CSS("#device-done")),
		)
		if err == nil {
			done, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#device-done")))
		}
		if err != nil {
			t.Errorf("driving Chromium through the device page: %v", err)
		}
	}, "demo", "--device")
	if r.code != 0 {
		t.Fatalf("login --device: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if done != "Device signed in" {
		t.Errorf("the page ended on %q", done)
	}
	if s := as.Stats(); s.DeviceCodeGrants != 1 {
		t.Errorf("stats = %+v", s)
	}
}

// TestBridgeShowsTheCodeWithoutADisplay: the real bridge, started without a display, signs in
// with the device grant: the address and code are on its stderr (which Claude Code keeps in
// its MCP log), and a tool call held meanwhile goes through once the person has approved.
func TestBridgeShowsTheCodeWithoutADisplay(t *testing.T) {
	as, m := deviceServers(t)
	c := newBinaryCLI(t, append(bridgeVars(t), "DISPLAY=", "WAYLAND_DISPLAY=", "SSH_CONNECTION=")...)
	c.ok("", "servers", "add", "demo", m.URL())
	p := c.startBridge("--server", "demo")
	p.send(e2eInitialize)
	p.recvID(0)
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"signed in elsewhere"}}}`)

	shown := regexp.MustCompile(`enter the code:\s+(\S+)`)
	deadline := time.Now().Add(30 * time.Second)
	for !shown.MatchString(p.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no code on stderr:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stderr := p.stderr.String()
	if !strings.Contains(stderr, as.Issuer()+"/device") {
		t.Errorf("stderr lacks the verification address:\n%s", stderr)
	}
	if err := authserver.DecideDevice(t.Context(), nil, as.Issuer()+"/device", shown.FindStringSubmatch(stderr)[1], true); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.recvID(1)["result"]); !strings.Contains(got, "signed in elsewhere") {
		t.Errorf("the held call = %s", got)
	}
	if as.Stats().DeviceCodeGrants != 1 {
		t.Errorf("stats = %+v", as.Stats())
	}
}
