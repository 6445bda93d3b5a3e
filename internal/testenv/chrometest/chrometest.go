// Package chrometest starts a real headless Chromium for a test and hands
// back a chromedp context driving one tab of it.
//
// It is separate from testenv so that only tests that drive a browser link
// chromedp, which is a test-only dependency.
package chrometest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// StartTimeout bounds how long NewContext waits for the browser to start;
// a few seconds normally, more on a loaded 2-core CI machine.
const StartTimeout = 60 * time.Second

// closeTimeout bounds the graceful close at cleanup; after it the browser
// process is killed.
const closeTimeout = 15 * time.Second

// NewContext starts headless Chromium (see testenv.RequireChromium: skips
// without it, fails when CI=true) with the flags of testenv.ChromiumArgs and
// a fresh profile under t.TempDir, and returns a context for its first tab.
// The browser is closed, and its process reaped, when t's cleanup runs.
//
// Bound each step with context.WithTimeout on the returned context, not the
// returned context itself: its deadline would stop the whole browser.
func NewContext(t testing.TB) context.Context {
	t.Helper()
	exe := testenv.RequireChromium(t)
	profile := t.TempDir()

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(exe))
	for _, arg := range testenv.ChromiumArgs(profile) {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	output := &lockedBuffer{}
	opts = append(opts, chromedp.CombinedOutput(output))

	// The browser outlives the test body (t.Context ends before cleanups
	// run), so it hangs off Background and is stopped explicitly below.
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	logs := &testLog{t: t}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logs.logf))
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, closeTimeout)
		_ = chromedp.Cancel(cctx) // graceful close; errors mean it was already gone
		ccancel()
		cancel()
		allocCancel() // kills a browser that did not close, and waits for it
		logs.stop()
		if t.Failed() {
			t.Logf("chromium output:\n%s", output.String())
		}
	})

	// Start the browser now, so that a broken installation fails here with
	// its output rather than inside the test's first action.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v\noutput:\n%s", exe, err, output.String())
		}
	case <-timer.C:
		cancel() // makes chromedp.Do return, so the goroutine ends
		<-started
		t.Fatalf("starting %s: no answer within %v\noutput:\n%s", exe, StartTimeout, output.String())
	}
	return ctx
}

// testLog forwards chromedp's error logs to t until the browser is stopped:
// t.Logf after the test has finished panics.
type testLog struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("chromedp: "+format, args...)
	}
}

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// lockedBuffer collects the browser's output, written by chromedp's reader
// goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
