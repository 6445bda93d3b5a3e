package chrometest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/internal/testenv/chrometest"
)

// page has a button that rewrites #out when clicked. Its size is fixed so
// that the click lands on it even on a machine without fonts.
const page = `<!doctype html>
<html><head><title>chrometest</title></head><body>
<button id="b" style="width:200px;height:60px"
  onclick="document.getElementById('out').textContent = 'clicked'">go</button>
<p id="out">waiting</p>
</body></html>`

// TestClickChangesText proves the whole browser stack (binary, flags,
// profile, chromedp, loopback HTTP) by clicking a real button.
func TestClickChangesText(t *testing.T) {
	ctx := chrometest.NewContext(t)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)

	stepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.CSS("#b")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	if got, err := chromedp.Run(stepCtx, chromedp.Text(chromedp.CSS("#out"))); err != nil || got != "waiting" {
		t.Fatalf("before the click: text = %q, %v; want %q", got, err, "waiting")
	}
	if err := chromedp.Do(stepCtx,
		chromedp.Click(chromedp.CSS("#b")),
		// The handler runs in the page; wait for it instead of racing it.
		chromedp.Poll[chromedp.Void](`document.getElementById('out').textContent === 'clicked'`),
	); err != nil {
		t.Fatalf("clicking the button: %v", err)
	}
	got, err := chromedp.Run(stepCtx, chromedp.Text(chromedp.CSS("#out")))
	if err != nil {
		t.Fatalf("reading the text: %v", err)
	}
	if got != "clicked" {
		t.Errorf("after the click: text = %q, want %q", got, "clicked")
	}
}
