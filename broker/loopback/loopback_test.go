package loopback_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/loopback"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

const (
	testState = "st4te-value"
	testCode  = "c0de-SECRET-9f8e7d"
	testIss   = "https://as.example.com"
)

// waitResult is what a Wait call returned.
type waitResult struct {
	cb  loopback.Callback
	err error
}

func listen(t *testing.T, opts ...loopback.Option) *loopback.Server {
	t.Helper()
	s, err := loopback.Listen(t.Context(), 0, "/callback", opts...)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// startWait runs Wait in a goroutine owned by the test; the result arrives on the channel.
func startWait(ctx context.Context, s *loopback.Server, check loopback.Check) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		cb, err := s.Wait(ctx, check)
		ch <- waitResult{cb, err}
	}()
	return ch
}

func result(t *testing.T, ch <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return")
		return waitResult{}
	}
}

// checkState is the check a real caller writes: state and iss first, a wrong state reported
// with ErrWrongState.
func checkState(cb loopback.Callback) error {
	if cb.State != testState {
		return fmt.Errorf("checking the sign-in response: %w", loopback.ErrWrongState)
	}
	if cb.Iss != "" && cb.Iss != testIss {
		return errors.New("the sign-in response came from the wrong issuer")
	}
	return nil
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, rawURL string) (response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}, err
}

func get(t *testing.T, rawURL string) response {
	t.Helper()
	r, err := do(t, http.MethodGet, rawURL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	return r
}

func callbackURL(s *loopback.Server, q url.Values) string {
	return s.RedirectURI() + "?" + q.Encode()
}

func TestSuccess(t *testing.T) {
	s := listen(t)
	if want := "http://127.0.0.1:" + strconv.Itoa(s.Port()) + "/callback"; s.RedirectURI() != want {
		t.Errorf("RedirectURI() = %q, want %q", s.RedirectURI(), want)
	}
	// The browser may arrive before Wait starts: it waits in the listen queue.
	type got struct {
		r   response
		err error
	}
	respc := make(chan got, 1)
	go func() {
		r, err := do(t, http.MethodGet, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}, "iss": {testIss}}))
		respc <- got{r, err}
	}()
	res := result(t, startWait(t.Context(), s, checkState))
	g := <-respc
	if g.err != nil {
		t.Fatalf("callback request: %v", g.err)
	}
	if res.err != nil {
		t.Fatalf("Wait: %v", res.err)
	}
	want := loopback.Callback{Code: testCode, State: testState, Iss: testIss}
	if res.cb != want {
		t.Errorf("Wait() = %#v, want the callback as sent", res.cb)
	}
	if g.r.status != http.StatusOK || !strings.Contains(g.r.body, "signed in") {
		t.Errorf("page: status %d, body %q", g.r.status, g.r.body)
	}
	for k, v := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	} {
		if got := g.r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(g.r.body, testCode) {
		t.Error("the page shows the code")
	}
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name  string
		query url.Values
	}{
		// A right state with a wrong issuer is a mix-up (RFC 9207): the response is ours, so it
		// ends the sign-in. Wrong states are TestForgedCallbacksIgnored's.
		{"wrong issuer", url.Values{"code": {testCode}, "state": {testState}, "iss": {"https://evil.example"}}},
		{"wrong issuer on a provider error", url.Values{"error": {"access_denied"}, "state": {testState}, "iss": {"https://evil.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			var checkErr error
			waitc := startWait(t.Context(), s, func(cb loopback.Callback) error {
				checkErr = checkState(cb)
				return checkErr
			})
			r := get(t, callbackURL(s, tt.query))
			res := result(t, waitc)
			if res.err == nil || res.err != checkErr {
				t.Fatalf("Wait() error = %v, want check's error %v", res.err, checkErr)
			}
			var perr *loopback.ProviderError
			if errors.As(res.err, &perr) {
				t.Error("a callback that failed check was reported as a provider error")
			}
			if res.cb != (loopback.Callback{}) {
				t.Errorf("Wait() callback = %v, want zero", res.cb)
			}
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Sign-in failed") {
				t.Errorf("page: status %d, body %q", r.status, r.body)
			}
			// The page shows check's message, escaped and capitalized.
			msg := checkErr.Error()
			msg = strings.ToUpper(msg[:1]) + msg[1:]
			if !strings.Contains(r.body, msg) {
				t.Errorf("page does not show %q", msg)
			}
		})
	}
}

func TestProviderError(t *testing.T) {
	long := strings.Repeat("x", 500)
	tests := []struct {
		name     string
		query    url.Values
		want     loopback.ProviderError
		wantMsg  string
		wantPage string
	}{
		{
			name:     "access denied",
			query:    url.Values{"error": {"access_denied"}, "error_description": {"The user said no"}, "error_uri": {"https://as.example.com/help"}, "state": {testState}},
			want:     loopback.ProviderError{Code: "access_denied", Description: "The user said no", URI: "https://as.example.com/help"},
			wantMsg:  "the authorization server refused: access_denied: The user said no",
			wantPage: "The authorization server refused: access_denied: The user said no",
		},
		{
			name:     "no description",
			query:    url.Values{"error": {"server_error"}, "state": {testState}},
			want:     loopback.ProviderError{Code: "server_error"},
			wantMsg:  "the authorization server refused: server_error",
			wantPage: "The authorization server refused: server_error",
		},
		{
			name:     "hostile description",
			query:    url.Values{"error": {"access_denied\x1b[31m"}, "error_description": {"<script>alert(1)</script>\r\nFAKE LOG LINE\u202e"}, "error_uri": {"javascript:alert(1)"}, "state": {testState}},
			want:     loopback.ProviderError{Code: "access_denied [31m", Description: "<script>alert(1)</script> FAKE LOG LINE"},
			wantMsg:  "the authorization server refused: access_denied [31m: <script>alert(1)</script> FAKE LOG LINE",
			wantPage: "&lt;script&gt;alert(1)&lt;/script&gt; FAKE LOG LINE",
		},
		{
			name:    "long description",
			query:   url.Values{"error": {"invalid_scope"}, "error_description": {long}, "state": {testState}},
			want:    loopback.ProviderError{Code: "invalid_scope", Description: strings.Repeat("x", 199) + "…"},
			wantMsg: "the authorization server refused: invalid_scope: " + strings.Repeat("x", 199) + "…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			var seen loopback.Callback
			waitc := startWait(t.Context(), s, func(cb loopback.Callback) error {
				seen = cb
				return checkState(cb)
			})
			r := get(t, callbackURL(s, tt.query))
			res := result(t, waitc)
			var perr *loopback.ProviderError
			if !errors.As(res.err, &perr) {
				t.Fatalf("Wait() error = %v, want a *ProviderError", res.err)
			}
			if *perr != tt.want {
				t.Errorf("ProviderError = %+v, want %+v", *perr, tt.want)
			}
			if perr.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", perr.Error(), tt.wantMsg)
			}
			// Check saw the raw values, to judge state itself.
			if seen.Error != tt.query.Get("error") || seen.ErrorDescription != tt.query.Get("error_description") {
				t.Errorf("check saw %q / %q, want the raw values", seen.Error, seen.ErrorDescription)
			}
			if r.status != http.StatusOK || !strings.Contains(r.body, "Sign-in was not completed") || !strings.Contains(r.body, tt.wantPage) {
				t.Errorf("page: status %d, body %q, want it to show %q", r.status, r.body, tt.wantPage)
			}
			if strings.Contains(r.body, "<script>") {
				t.Error("page contains unescaped markup from the provider")
			}
		})
	}
}

// getWith is get with extra request headers, as a browser sends them.
func getWith(t *testing.T, rawURL string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// TestForgedCallbacksIgnored plays a hostile web page that knows the port and makes the browser
// GET the callback URL (an <img src="http://127.0.0.1:PORT/callback?state=x&code=y">) before the
// real answer arrives. Such a callback must not end the sign-in: it gets the same plain 400 page
// as any stray request, and the real callback that follows over HTTP completes the sign-in.
func TestForgedCallbacksIgnored(t *testing.T) {
	tests := []struct {
		name  string
		query string
	}{
		{"wrong state", "code=forged-code&state=forged-state"},
		{"no state", "code=forged-code"},
		{"empty state", "code=forged-code&state="},
		{"only a wrong state", "state=forged-state"},
		{"provider error with a wrong state", "error=access_denied&error_description=no&state=forged-state"},
		{"provider error without a state", "error=access_denied"},
		{"repeated state", "code=forged-code&state=forged-state&state=" + testState},
		{"repeated code with a wrong state", "code=a&code=b&state=forged-state"},
		{"wrong state with a right issuer", "code=forged-code&state=forged-state&iss=" + url.QueryEscape(testIss)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			var checks atomic.Int32
			waitc := startWait(t.Context(), s, func(cb loopback.Callback) error {
				checks.Add(1)
				return checkState(cb)
			})
			stray := get(t, s.RedirectURI()+"?foo=bar")
			r := get(t, s.RedirectURI()+"?"+tt.query)
			if r.status != http.StatusBadRequest {
				t.Errorf("forged callback: status %d, want 400", r.status)
			}
			if r.body != stray.body {
				t.Error("the forged callback's page differs from a stray request's, so it tells the forger something")
			}
			for _, secret := range []string{"forged", "state", "access_denied"} {
				if strings.Contains(r.body, secret) {
					t.Errorf("the page for a forged callback mentions %q", secret)
				}
			}
			real := get(t, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}, "iss": {testIss}}))
			res := result(t, waitc)
			if res.err != nil || res.cb.Code != testCode {
				t.Fatalf("Wait() = %v, %v; want the real callback's code after the forged one", res.cb, res.err)
			}
			if real.status != http.StatusOK || !strings.Contains(real.body, "signed in") {
				t.Errorf("real callback's page: status %d, body %q", real.status, real.body)
			}
			if n := checks.Load(); n > 2 {
				t.Errorf("check ran %d times for one forged and one real callback", n)
			}
		})
	}
}

// TestForgedCallbacksLogged checks what a flood of forged callbacks leaves in the log: one line
// per callback naming only the host of the page that sent it (never the code, the state, or the
// page's path), at most maxLogged such lines and one saying that logging stopped, and a count at
// the end; the sign-in still completes.
func TestForgedCallbacksLogged(t *testing.T) {
	const maxLogged, flood = 20, 45
	var logs testenv.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := listen(t, loopback.WithLogger(logger))
	waitc := startWait(t.Context(), s, checkState)

	forge := func(i int, header http.Header) {
		q := url.Values{"code": {fmt.Sprintf("forged-code-%d", i)}, "state": {fmt.Sprintf("forged-state-%d", i)}}
		if r := getWith(t, callbackURL(s, q), header); r.status != http.StatusBadRequest {
			t.Fatalf("forged callback %d: status %d, want 400", i, r.status)
		}
	}
	forge(0, http.Header{"Referer": {"https://evil.example:8443/attack/page?token=leak"}})
	forge(1, http.Header{"Origin": {"http://other-evil.example"}})
	forge(2, nil)
	// The rest arrive at once, as from a page that loads many images.
	var wg sync.WaitGroup
	for i := 3; i < flood; i++ {
		wg.Go(func() { forge(i, http.Header{"Referer": {"https://evil.example/attack"}}) })
	}
	wg.Wait()
	get(t, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
	res := result(t, waitc)
	if res.err != nil || res.cb.Code != testCode {
		t.Fatalf("Wait() = %v, %v; want the real callback after %d forged ones", res.cb, res.err, flood)
	}

	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	count := func(substr string) int {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, substr) {
				n++
			}
		}
		return n
	}
	// A flood costs a bounded number of lines at every level, debug included.
	if len(lines) > maxLogged+10 {
		t.Errorf("%d forged callbacks wrote %d log lines:\n%s", flood, len(lines), out)
	}
	if n := count("ignored a callback with a wrong state"); n != maxLogged {
		t.Errorf("%d lines about single forged callbacks, want %d:\n%s", n, maxLogged, out)
	}
	if n := count("no longer logging them"); n != 1 {
		t.Errorf("%d lines saying logging stopped, want 1:\n%s", n, out)
	}
	if n := count(fmt.Sprintf("count=%d", flood)); n != 1 {
		t.Errorf("no single line with the total of %d forged callbacks:\n%s", flood, out)
	}
	for _, want := range []string{"level=WARN", "from=evil.example", "from=other-evil.example"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"forged-code", "forged-state", testCode, testState, "/attack", "token=leak", "8443"} {
		if strings.Contains(out, leak) {
			t.Errorf("logs contain %q:\n%s", leak, out)
		}
	}
}

// TestNonCallbacks checks that requests which are not the callback are answered without ending
// the flow or reaching check: the real callback afterwards still wins.
func TestNonCallbacks(t *testing.T) {
	s := listen(t)
	var checks atomic.Int32
	waitc := startWait(t.Context(), s, func(cb loopback.Callback) error {
		checks.Add(1)
		return checkState(cb)
	})
	base := "http://127.0.0.1:" + strconv.Itoa(s.Port())
	tests := []struct {
		method, url string
		status      int
	}{
		{http.MethodGet, base + "/favicon.ico", http.StatusNotFound},
		{http.MethodGet, base + "/", http.StatusNotFound},
		{http.MethodGet, base + "/callback/?code=x&state=" + testState, http.StatusNotFound},
		{http.MethodGet, base + "/Callback?code=x&state=" + testState, http.StatusNotFound},
		{http.MethodPost, base + "/callback?code=x&state=" + testState, http.StatusMethodNotAllowed},
		{http.MethodHead, base + "/callback?code=x&state=" + testState, http.StatusMethodNotAllowed},
		{http.MethodPut, base + "/callback", http.StatusMethodNotAllowed},
		{http.MethodGet, base + "/callback", http.StatusBadRequest},
		{http.MethodGet, base + "/callback?foo=bar", http.StatusBadRequest},
	}
	for _, tt := range tests {
		r, err := do(t, tt.method, tt.url)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.url, err)
		}
		if r.status != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.url, r.status, tt.status)
		}
		if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") != "GET" {
			t.Errorf("%s %s: Allow = %q, want GET", tt.method, tt.url, r.header.Get("Allow"))
		}
		if r.header.Get("Content-Security-Policy") == "" || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: security headers missing: %v", tt.method, tt.url, r.header)
		}
	}
	if n := checks.Load(); n != 0 {
		t.Fatalf("check ran %d times for non-callbacks", n)
	}
	get(t, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
	res := result(t, waitc)
	if res.err != nil || res.cb.Code != testCode {
		t.Fatalf("Wait() = %v, %v; want the real callback", res.cb, res.err)
	}
}

func TestFirstCallbackWins(t *testing.T) {
	s := listen(t)
	entered := make(chan string, 1)
	release := make(chan struct{})
	var checks atomic.Int32
	waitc := startWait(t.Context(), s, func(cb loopback.Callback) error {
		checks.Add(1)
		entered <- cb.Code
		<-release // hold the first callback while the others arrive
		return checkState(cb)
	})
	const n = 4
	type got struct {
		code string
		r    response
		err  error
	}
	gots := make(chan got, n)
	var wg sync.WaitGroup
	for i := range n {
		code := fmt.Sprintf("code-%d", i)
		wg.Go(func() {
			r, err := do(t, http.MethodGet, callbackURL(s, url.Values{"code": {code}, "state": {testState}}))
			gots <- got{code, r, err}
		})
	}
	first := <-entered
	close(release)
	res := result(t, waitc)
	wg.Wait()
	close(gots)
	if res.err != nil || res.cb.Code != first {
		t.Fatalf("Wait() = %v, %v; want the callback check saw first (%s)", res.cb, res.err, first)
	}
	if c := checks.Load(); c != 1 {
		t.Errorf("check ran %d times, want once", c)
	}
	successes := 0
	for g := range gots {
		switch {
		case g.err != nil:
			// Arrived after shutdown: refused or reset. It did not win; that is what matters.
		case g.r.status == http.StatusOK:
			successes++
			if g.code != first {
				t.Errorf("%s got the success page, but %s won", g.code, first)
			}
		case g.r.status == http.StatusConflict:
			if !strings.Contains(g.r.body, "already finished") {
				t.Errorf("%s: loser page %q", g.code, g.r.body)
			}
		default:
			t.Errorf("%s: unexpected status %d", g.code, g.r.status)
		}
	}
	if successes != 1 {
		t.Errorf("%d success pages, want exactly 1", successes)
	}
}

func TestTimeout(t *testing.T) {
	s := listen(t, loopback.WithTimeout(100*time.Millisecond))
	res := result(t, startWait(t.Context(), s, checkState))
	if !errors.Is(res.err, loopback.ErrTimeout) || !errors.Is(res.err, context.DeadlineExceeded) {
		t.Fatalf("Wait() error = %v, want ErrTimeout and DeadlineExceeded", res.err)
	}
	if want := "timed out after 100ms waiting for the browser sign-in"; res.err.Error() != want {
		t.Errorf("message = %q, want %q", res.err, want)
	}
	assertClosed(t, s)
}

func TestContextCancelled(t *testing.T) {
	s := listen(t)
	ctx, cancel := context.WithCancel(t.Context())
	waitc := startWait(ctx, s, checkState)
	// Make sure Wait is serving before cancelling, so the cancel is what ends it.
	if r := get(t, s.RedirectURI()); r.status != http.StatusBadRequest {
		t.Fatalf("probe = %d", r.status)
	}
	cancel()
	res := result(t, waitc)
	if !errors.Is(res.err, context.Canceled) || errors.Is(res.err, loopback.ErrTimeout) {
		t.Fatalf("Wait() error = %v, want context.Canceled", res.err)
	}
	assertClosed(t, s)
}

func TestClose(t *testing.T) {
	t.Run("before Wait", func(t *testing.T) {
		s := listen(t)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		res := result(t, startWait(t.Context(), s, checkState))
		if !errors.Is(res.err, loopback.ErrClosed) {
			t.Fatalf("Wait() after Close = %v, want ErrClosed", res.err)
		}
		assertClosed(t, s)
	})
	t.Run("during Wait", func(t *testing.T) {
		s := listen(t)
		waitc := startWait(t.Context(), s, checkState)
		get(t, s.RedirectURI()) // serving now
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		res := result(t, waitc)
		if !errors.Is(res.err, loopback.ErrClosed) {
			t.Fatalf("Wait() = %v, want ErrClosed", res.err)
		}
		assertClosed(t, s)
	})
	t.Run("after Wait", func(t *testing.T) {
		s := listen(t, loopback.WithTimeout(time.Millisecond))
		result(t, startWait(t.Context(), s, checkState))
		if err := s.Close(); err != nil {
			t.Fatalf("Close after Wait: %v", err)
		}
	})
}

func TestWaitMisuse(t *testing.T) {
	s := listen(t, loopback.WithTimeout(time.Millisecond))
	if _, err := s.Wait(t.Context(), nil); err == nil {
		t.Error("Wait(nil check) succeeded")
	}
	if _, err := s.Wait(t.Context(), checkState); err == nil || errors.Is(err, loopback.ErrTimeout) {
		t.Errorf("second Wait = %v, want a misuse error", err)
	}
	assertClosed(t, s)
}

func TestMalformedCallbacks(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
		check bool // whether check may run
	}{
		// The state is checked first: only a response that is ours can end the sign-in. A
		// repeated state cannot be ours (TestForgedCallbacksIgnored).
		{"repeated code", "code=a&code=b&state=" + testState, "repeats the code parameter", true},
		{"repeated error", "error=a&error=b&state=" + testState, "repeats the error parameter", true},
		{"no code", "state=" + testState, "carries no authorization code", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			var checks atomic.Int32
			waitc := startWait(t.Context(), s, func(cb loopback.Callback) error {
				checks.Add(1)
				return checkState(cb)
			})
			r := get(t, s.RedirectURI()+"?"+tt.query)
			res := result(t, waitc)
			if res.err == nil || !strings.Contains(res.err.Error(), tt.want) {
				t.Fatalf("Wait() error = %v, want %q", res.err, tt.want)
			}
			if r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
			if !tt.check && checks.Load() != 0 {
				t.Error("check ran for a malformed callback")
			}
		})
	}
}

func TestCheckPanics(t *testing.T) {
	s := listen(t)
	waitc := startWait(t.Context(), s, func(cb loopback.Callback) error { panic(cb) })
	r := get(t, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
	res := result(t, waitc)
	if res.err == nil || strings.Contains(res.err.Error(), testCode) {
		t.Fatalf("Wait() error = %v, want an error without the code", res.err)
	}
	if r.status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", r.status)
	}
}

// TestCodeNeverLeaks runs the flows with debug logging and checks that the code shows up in no
// log line, error or page, and that formatting a Callback hides it.
func TestCodeNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	checks := []loopback.Check{
		checkState,
		func(loopback.Callback) error { return errors.New("rejected") },
	}
	for _, check := range checks {
		s := listen(t, loopback.WithLogger(logger))
		waitc := startWait(t.Context(), s, check)
		r := get(t, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
		res := result(t, waitc)
		if res.err != nil && strings.Contains(res.err.Error(), testCode) {
			t.Errorf("error %q contains the code", res.err)
		}
		if strings.Contains(r.body, testCode) {
			t.Error("page contains the code")
		}
	}
	if !strings.Contains(logs.String(), "callback received") {
		t.Fatalf("no debug log written, the test proves nothing: %q", logs.String())
	}
	if strings.Contains(logs.String(), testCode) {
		t.Errorf("logs contain the code: %s", logs.String())
	}
	cb := loopback.Callback{Code: testCode, State: testState}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, cb); strings.Contains(s, testCode) {
			t.Errorf("fmt %s shows the code: %s", f, s)
		}
	}
}

func TestShutDownAfterWait(t *testing.T) {
	s := listen(t)
	waitc := startWait(t.Context(), s, checkState)
	get(t, callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
	if res := result(t, waitc); res.err != nil {
		t.Fatalf("Wait: %v", res.err)
	}
	assertClosed(t, s)
}

func TestBindsLoopbackOnly(t *testing.T) {
	s := listen(t)
	port := strconv.Itoa(s.Port())
	if u, _ := url.Parse(s.RedirectURI()); u.Hostname() != "127.0.0.1" {
		t.Errorf("RedirectURI host = %q, want 127.0.0.1", u.Hostname())
	}
	// While the server is bound (listen queue), 127.0.0.1 accepts and every other local address
	// refuses.
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 10*time.Second)
	if err != nil {
		t.Fatalf("dial 127.0.0.1: %v", err)
	}
	c.Close()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.Equal(net.IPv4(127, 0, 0, 1)) || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		hostPort := net.JoinHostPort(ipnet.IP.String(), port)
		if c, err := net.DialTimeout("tcp", hostPort, 10*time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepted a connection: the server is not bound to 127.0.0.1 only", hostPort)
		}
	}
	if tried == 0 {
		t.Log("no other local address to try")
	}
}

// TestFixedPortReuse runs two sign-ins one after the other on the same fixed port: the second
// Listen must succeed although the first one's connections may linger in TIME_WAIT.
func TestFixedPortReuse(t *testing.T) {
	port := 0
	for i := range 3 {
		s, err := loopback.Listen(t.Context(), port, "/callback")
		if err != nil {
			t.Fatalf("Listen #%d on port %d: %v", i, port, err)
		}
		port = s.Port()
		waitc := startWait(t.Context(), s, checkState)
		// A keep-alive client, like a browser: the server has to close the connection.
		resp, err := http.Get(callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
		if err != nil {
			t.Fatalf("callback #%d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if res := result(t, waitc); res.err != nil {
			t.Fatalf("Wait #%d: %v", i, res.err)
		}
	}
}

func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	_, err = loopback.Listen(t.Context(), port, "/callback")
	if !errors.Is(err, loopback.ErrPortInUse) {
		t.Fatalf("Listen on a busy port = %v, want ErrPortInUse", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("error %q does not name the port", err)
	}
	// Another failure is not reported as "in use".
	if _, err := loopback.Listen(t.Context(), 70000, "/callback"); err == nil || errors.Is(err, loopback.ErrPortInUse) {
		t.Errorf("Listen(70000) = %v", err)
	}
}

func TestListenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", "callback", "/cb?x=1", "/cb#frag"} {
		if s, err := loopback.Listen(t.Context(), 0, p); err == nil {
			s.Close()
			t.Errorf("Listen(path %q) succeeded", p)
		}
	}
}

func TestStateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := loopback.StateToken()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 32 {
			t.Fatalf("StateToken() = %q: not 32 bytes of base64url (%v)", tok, err)
		}
		if seen[tok] {
			t.Fatalf("StateToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}

// TestWithFakeBrowser runs the flow the broker runs, in its order: Listen, open the browser
// (here a fake that follows the authorization server's redirect), then Wait.
func TestWithFakeBrowser(t *testing.T) {
	s := listen(t)
	state, err := loopback.StateToken()
	if err != nil {
		t.Fatal(err)
	}
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := url.Values{"code": {testCode}, "state": {r.URL.Query().Get("state")}, "iss": {testIss}}
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?"+q.Encode(), http.StatusFound)
	}))
	defer as.Close()
	authURL := as.URL + "/authorize?" + url.Values{"state": {state}, "redirect_uri": {s.RedirectURI()}}.Encode()

	b := &opener.Browser{}
	if err := b.Open(t.Context(), authURL); err != nil {
		t.Fatalf("Open: %v", err)
	}
	cb, err := s.Wait(t.Context(), func(cb loopback.Callback) error {
		if cb.State != state {
			return errors.New("state mismatch")
		}
		return nil
	})
	if err != nil || cb.Code != testCode {
		t.Fatalf("Wait() = %v, %v", cb, err)
	}
	visits := b.Wait()
	if len(visits) != 1 || visits[0].Status != http.StatusOK || !strings.Contains(visits[0].Body, "signed in") {
		t.Errorf("browser saw %+v", visits)
	}
}

// assertClosed checks that nothing listens on the server's port any more.
func assertClosed(t *testing.T, s *loopback.Server) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port()), 10*time.Second)
	if err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after Wait returned", s.Port())
	}
}
