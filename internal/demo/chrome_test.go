package demo_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
	"github.com/mcp-broker/mcp-broker/internal/testenv/chrometest"
)

// chromeOpener opens the authorization URL in headless Chromium and clicks
// Allow, as a person does.
type chromeOpener struct {
	t       *testing.T
	browser context.Context
	wg      sync.WaitGroup
	title   string
}

func (o *chromeOpener) Open(_ context.Context, u string) error {
	o.wg.Go(func() {
		ctx, cancel := context.WithTimeout(o.browser, 60*time.Second)
		defer cancel()
		err := chromedp.Do(ctx,
			chromedp.Navigate(u),
			chromedp.WaitVisible(chromedp.CSS("#allow")),
			chromedp.Click(chromedp.CSS("#allow")),
		)
		// Each navigation replaces the page's JavaScript context, so poll
		// the location from here until the browser is back at the broker.
		for err == nil {
			location, lerr := chromedp.Run(ctx, chromedp.Location())
			if lerr == nil && strings.HasPrefix(location, "http://127.0.0.1:") && strings.Contains(location, "/callback") {
				o.title, err = chromedp.Run(ctx, chromedp.Title())
				break
			}
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			o.t.Errorf("driving Chromium through the demo's consent page: %v", err)
		}
	})
	return nil
}

// TestConsentInChromium signs in to the demo with a real browser clicking
// Allow on its consent page.
func TestConsentInChromium(t *testing.T) {
	testenv.RequireChromium(t)
	o := &chromeOpener{t: t, browser: chrometest.NewContext(t)}
	d := start(t, demo.Options{})
	b, err := broker.New(broker.Options{
		ConfigPath: t.TempDir() + "/config.json", Secrets: secrets.NewMemory(), Opener: o, SignInTimeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddTo(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	_, err = b.Login(t.Context(), demo.ServerName, broker.LoginOptions{})
	o.wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.title, "MCP Broker") {
		t.Errorf("the browser ended on %q, not the broker's page", o.title)
	}
	whoami(t, t.Context(), b, d.MCPURL())
}
