//go:build providers

package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv/chrometest"
)

// The sign-in away from the desktop (README: signing in over SSH), against real providers:
// the device authorization grant (RFC 8628) at the zitadel/oidc example OP, and the redirect
// pasted back at hydra. Each then runs the rest of signIn.run: tool calls, refresh with
// rotation, two bridges.

// TestZitadelDevice signs in with `login --device` at the zitadel/oidc example OP, with its
// pre-registered public client (allowed the device grant by testdata/providers/zitadel): the
// person reads the address and the code off the terminal, opens the address in Chromium,
// types the code, logs in on the example's page and allows; the broker's polling ends with a
// JWT access token and a refresh token. See signIn.run for the steps after.
func TestZitadelDevice(t *testing.T) {
	in := Require(t)
	browser := chrometest.NewContext(t)
	z := StartZitadel(t, in, tokenTTL)
	ln := listen(t)
	v := z.JWTVerifier("http://" + ln.Addr().String() + mcpserver.PathMCP)
	m := serveMCP(t, ln, v, z.Issuer, []string{"openid", "profile"})

	const server = "zitadel-device"
	s := signIn{
		server: server, url: m.URL(), addArgs: []string{"--client-id", z.ClientID}, subject: z.Subject, verifier: v,
		login: func(u *user) (string, error) {
			var want, uri, code string
			return u.loginAt([]string{server, "--device"}, func(line string) func(io.Writer) error {
				text := strings.TrimSpace(line)
				switch {
				case strings.Contains(text, "open this address in a browser"):
					want = "uri"
				case strings.HasPrefix(text, "and enter the code"):
					want = "code"
				case text != "" && want == "uri":
					uri, want = text, ""
				case text != "" && want == "code":
					code, want = text, ""
				case strings.HasPrefix(text, "Waiting for you to finish"):
					if uri == "" || code == "" {
						return func(io.Writer) error {
							return fmt.Errorf("login --device printed no address or no code before it waited (address %q)", uri)
						}
					}
					return func(io.Writer) error { return enterDeviceCode(browser, z, uri, code) }
				}
				return nil
			})
		},
		client: func(*user, grant) (*oauth.Client, error) {
			return &oauth.Client{ID: z.ClientID, AuthMethod: "none"}, nil
		},
	}
	s.run(t)
}

// enterDeviceCode is the person at the example's device pages: the verification address
// without the code in it, the code typed in, the example's login, and Allow.
func enterDeviceCode(browser context.Context, z *Zitadel, uri, code string) error {
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(uri),
		chromedp.WaitVisible(chromedp.CSS("#user_code")),
		chromedp.SendKeys(chromedp.CSS("#user_code"), code),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), z.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), z.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("button.green")), // Allow
		chromedp.Click(chromedp.CSS("button.green")),
	); err != nil {
		return fmt.Errorf("at the device pages: %w", err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var body string
	for {
		if b, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); err == nil {
			if body = b; strings.Contains(body, "Device authorization allowed") {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the example never confirmed the device sign-in (page says %.200q): %w", body, ctx.Err())
		case <-tick.C:
		}
	}
}

// TestHydraPasteBack signs in with `login --no-browser` at ory/hydra as a person whose
// browser runs on another machine: Chromium goes through hydra's login and consent, but the
// final redirect to the broker's loopback callback never leaves the browser (capture stops
// it); the person pastes that address on login's standard input, and the broker finishes
// the sign-in from it. See signIn.run for the steps after.
func TestHydraPasteBack(t *testing.T) {
	in := Require(t)
	browser := chrometest.NewContext(t)
	h := StartHydra(t, in, HydraOptions{AccessTokenTTL: tokenTTL, Scopes: []string{"mcp:tools"}})
	ln := listen(t)
	v := h.Introspector("http://" + ln.Addr().String() + mcpserver.PathMCP)
	m := serveMCP(t, ln, v, h.Issuer, []string{"mcp:tools"})

	const server = "hydra-paste"
	pasted := false
	s := signIn{
		server: server, url: m.URL(), subject: h.Username, verifier: v,
		login: func(u *user) (string, error) {
			return u.loginAt([]string{server, "--no-browser"}, func(line string) func(io.Writer) error {
				authURL := strings.TrimSpace(line)
				if !strings.HasPrefix(authURL, "http://") && !strings.HasPrefix(authURL, "https://") {
					return nil
				}
				return func(stdin io.Writer) error {
					addr, err := capture(browser, authURL,
						chromedp.WaitVisible(chromedp.CSS("#username")),
						chromedp.SendKeys(chromedp.CSS("#username"), h.Username),
						chromedp.SendKeys(chromedp.CSS("#password"), h.Password),
						chromedp.Click(chromedp.CSS("#login")),
						chromedp.WaitVisible(chromedp.CSS("#allow")),
						chromedp.Click(chromedp.CSS("#allow")),
					)
					if err != nil {
						return err
					}
					if a, err := url.Parse(addr); err != nil || a.Query().Get("code") == "" {
						return fmt.Errorf("the browser ended on %s, which carries no code", redactQuery(addr))
					}
					pasted = true
					_, err = io.WriteString(stdin, addr+"\n")
					return err
				}
			})
		},
		client: func(u *user, g grant) (*oauth.Client, error) {
			raw, err := u.secret("oauth-client/" + server + "/" + url.PathEscape(g.Issuer))
			if err != nil || raw == "" {
				return nil, fmt.Errorf("no dynamic registration stored for %s (%v)", g.Issuer, err)
			}
			var c oauth.Client
			return &c, json.Unmarshal([]byte(raw), &c)
		},
	}
	s.run(t)
	if !pasted {
		t.Fatal("the sign-in finished without the pasted address")
	}
	if st := h.Login.Stats(); st.LoginPages != 1 || st.Logins != 1 || st.ConsentPages != 1 || st.Consents != 1 {
		t.Errorf("the login and consent app saw %+v, want one login page and one consent page, each accepted", st)
	}
}
