package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
	"github.com/mcp-broker/mcp-broker/internal/testenv/chrometest"
)

// TestBrowserSignInToKeychain is the sign-in as a person does it: headless Chromium opens the
// URL `mcp-broker login` prints, clicks Allow on the consent page, and the tokens land in the
// real keychain (gnome-keyring in the private session of scripts/with-desktop.sh).
func TestBrowserSignInToKeychain(t *testing.T) {
	testenv.RequireKeychain(t)
	browser := chrometest.NewContext(t)
	as, m := servers(t, authserver.Options{}, mcpserver.Options{Scopes: []string{"mcp:read", "mcp:write"}})
	c := newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=keychain")
	c.ok("", "servers", "add", "browser-demo", m.URL())
	kc := secrets.NewKeychain(5 * time.Second)
	t.Cleanup(func() { c.run("", "servers", "remove", "browser-demo") })

	var title string
	r := c.login("browser-demo", func(u string) {
		ctx, cancel := context.WithTimeout(browser, 60*time.Second)
		defer cancel()
		err := chromedp.Do(ctx,
			chromedp.Navigate(u),
			chromedp.WaitVisible(chromedp.CSS("#allow")),
			chromedp.Click(chromedp.CSS("#allow")),
		)
		// The consent form posts, the AS redirects to our loopback server, and it answers with
		// its page. Each navigation replaces the page's JavaScript context, so watch the
		// location from here rather than from a script in the page.
		for err == nil {
			loc, lerr := chromedp.Run(ctx, chromedp.Location())
			if lerr == nil && strings.HasPrefix(loc, "http://127.0.0.1:") && strings.Contains(loc, "/callback") {
				title, err = chromedp.Run(ctx, chromedp.Title())
				break
			}
			if ctx.Err() != nil {
				err = fmt.Errorf("the browser never reached the callback page (last location %q, %v)", loc, lerr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("driving Chromium through the consent page: %v", err)
		}
	})
	if r.code != 0 {
		t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(title, "MCP Broker") {
		t.Errorf("the browser ended on %q, not our success page", title)
	}
	if s := as.Stats(); s.CodeExchanges != 1 {
		t.Errorf("AS stats = %+v", s)
	}

	raw, err := kc.Get(t.Context(), "oauth-token/browser-demo")
	if err != nil {
		t.Fatalf("the access token is not in the keychain: %v", err)
	}
	// The access and refresh token are one item, so that they are always replaced together.
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(raw), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("keychain item is not a token record (%v)", err)
	}
	refresh := tok.RefreshToken
	if refresh == "" {
		t.Fatal("the refresh token is not in the keychain item with the access token")
	}

	out := c.ok("", "status", "--json").stdout
	var st statusDoc
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Servers[0].SignedIn || st.Servers[0].Client == nil {
		t.Errorf("status = %s", out)
	}
	for _, secret := range []string{tok.AccessToken, refresh} {
		if strings.Contains(out, secret) || strings.Contains(r.stdout+r.stderr, secret) {
			t.Error("a secret reached the command's output")
		}
	}
	c.ok("", "logout", "browser-demo")
	if _, err := kc.Get(t.Context(), "oauth-token/browser-demo"); err == nil {
		t.Error("logout left the token in the keychain")
	}
}
