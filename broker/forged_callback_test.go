package broker_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// forgingOpener plays a hostile web page open in the user's browser during a sign-in: before
// the browser reaches the authorization server, the page makes it request the callback URL with
// a state of its own, once with a code and once with an error, as <img> tags would. Then the
// browser follows the real URL.
type forgingOpener struct {
	t       *testing.T
	browser *opener.Browser

	mu       sync.Mutex
	statuses []int // of the forged callbacks
}

func (o *forgingOpener) Open(ctx context.Context, authURL string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	redirect := u.Query().Get("redirect_uri")
	for _, q := range []url.Values{
		{"code": {"forged-code"}, "state": {"forged-state"}},
		{"error": {"access_denied"}, "state": {"forged-state"}},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, redirect+"?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Referer", "https://evil.example/")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			o.t.Errorf("forged callback: %v", err)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		o.mu.Lock()
		o.statuses = append(o.statuses, resp.StatusCode)
		o.mu.Unlock()
	}
	return o.browser.Open(ctx, authURL)
}

// TestForgedCallbackDoesNotEndSignIn checks the whole sign-in against forged callbacks: the
// broker's check must report a wrong state so that the callback server ignores it, and the
// sign-in completes with the real code.
func TestForgedCallbackDoesNotEndSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	forger := &forgingOpener{t: t, browser: e.browser}
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: forger, Prompt: e.prompt, SignInTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err = b.Login(ctx, "demo", broker.LoginOptions{})
	e.browser.Wait()
	if err != nil {
		t.Fatalf("login after forged callbacks: %v", err)
	}
	forger.mu.Lock()
	statuses := forger.statuses
	forger.mu.Unlock()
	if len(statuses) != 2 || statuses[0] != http.StatusBadRequest || statuses[1] != http.StatusBadRequest {
		t.Errorf("forged callbacks answered %v, want 400 twice", statuses)
	}
	if got := e.callTool("echo"); got != http.StatusOK {
		t.Errorf("tool call after the sign-in: HTTP %d", got)
	}
}

// TestWrongStateFromTheAuthServer checks an authorization server that sends the browser back
// with a state other than ours. Its answer cannot be told from a forged one, so it is ignored
// like one: the sign-in runs out of time, its code is never redeemed, nothing is stored.
func TestWrongStateFromTheAuthServer(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{Hostile: authserver.Hostile{WrongState: true}}})
	const timeout = 2 * time.Second
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: e.browser, Prompt: e.prompt, SignInTimeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Login(t.Context(), "demo", broker.LoginOptions{})
	visits := e.browser.Wait()
	if err == nil || !strings.Contains(err.Error(), "did not finish within "+timeout.String()) {
		t.Fatalf("login = %v, want the sign-in to time out", err)
	}
	if n := len(e.requests(authserver.EndpointAuthorize)); n != 1 {
		t.Fatalf("%d authorization requests, want 1: the test proves nothing", n)
	}
	if len(visits) != 1 || visits[0].Status != http.StatusBadRequest {
		t.Errorf("the browser saw %+v, want the callback answered 400", visits)
	}
	if n := len(e.requests(authserver.EndpointToken)); n != 0 {
		t.Errorf("%d token requests: a code that came back with a wrong state was redeemed", n)
	}
	e.assertNothingStored()
}
