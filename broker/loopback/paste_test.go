package loopback_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/loopback"
)

// TestDeliverPasted: the address a browser on another machine ended on, pasted back, finishes
// the sign-in as the redirect would have; text that is not this server's redirect, or answers
// another sign-in, is refused without ending it, and no error or log line repeats the code.
func TestDeliverPasted(t *testing.T) {
	var logs bytes.Buffer
	s := listen(t, loopback.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	waitc := startWait(t.Context(), s, checkState)
	port := strconv.Itoa(s.Port())
	good := url.Values{"code": {testCode}, "state": {testState}, "iss": {testIss}}.Encode()

	refused := []struct {
		name, pasted string
		want         error
	}{
		{"not a URL", "%zz" + testCode, loopback.ErrNotRedirect},
		{"another host", "http://localhost:" + port + "/callback?" + good, loopback.ErrNotRedirect},
		{"another port", "http://127.0.0.1:1/callback?" + good, loopback.ErrNotRedirect},
		{"another path", "http://127.0.0.1:" + port + "/callback/x?" + good, loopback.ErrNotRedirect},
		{"https", "https://127.0.0.1:" + port + "/callback?" + good, loopback.ErrNotRedirect},
		{"user info", "http://me@127.0.0.1:" + port + "/callback?" + good, loopback.ErrNotRedirect},
		{"a fragment", s.RedirectURI() + "?" + good + "#x", loopback.ErrNotRedirect},
		{"no response", s.RedirectURI() + "?x=" + testCode, loopback.ErrNotRedirect},
		{"the authorization URL", "https://as.example.com/authorize?state=" + testState, loopback.ErrNotRedirect},
		{"another sign-in's answer", s.RedirectURI() + "?code=" + testCode + "&state=old", loopback.ErrWrongState},
	}
	for _, tt := range refused {
		err := s.Deliver(t.Context(), tt.pasted)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Deliver = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), testCode) {
			t.Errorf("%s: the error repeats the code: %v", tt.name, err)
		}
	}
	select {
	case r := <-waitc:
		t.Fatalf("a refused paste ended the sign-in: %v", r.err)
	default:
	}

	// As an address bar shows it, scheme in any case.
	if err := s.Deliver(t.Context(), "HTTP://127.0.0.1:"+port+"/callback?"+good); err != nil {
		t.Fatalf("Deliver(the redirect) = %v", err)
	}
	res := result(t, waitc)
	if res.err != nil || res.cb != (loopback.Callback{Code: testCode, State: testState, Iss: testIss}) {
		t.Errorf("Wait() = %v, %v; want the pasted response", res.cb, res.err)
	}
	if err := s.Deliver(t.Context(), s.RedirectURI()+"?"+good); !errors.Is(err, loopback.ErrDecided) {
		t.Errorf("Deliver after the sign-in = %v, want ErrDecided", err)
	}
	if strings.Contains(logs.String(), testCode) {
		t.Errorf("the log holds the code:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "web page may be interfering") {
		t.Errorf("a pasted answer to another sign-in was logged as a forgery:\n%s", logs.String())
	}
}

// TestBrowserBeforePaste: when the browser's callback comes first it decides, and a paste
// after it changes nothing (TestDeliverPasted has it the other way round).
func TestBrowserBeforePaste(t *testing.T) {
	s := listen(t)
	waitc := startWait(t.Context(), s, checkState)
	if r := get(t, callbackURL(s, url.Values{"code": {"from-the-browser"}, "state": {testState}})); r.status != 200 {
		t.Fatalf("callback: %d", r.status)
	}
	err := s.Deliver(t.Context(), callbackURL(s, url.Values{"code": {testCode}, "state": {testState}}))
	if !errors.Is(err, loopback.ErrDecided) {
		t.Errorf("Deliver after the callback = %v, want ErrDecided", err)
	}
	if res := result(t, waitc); res.err != nil || res.cb.Code != "from-the-browser" {
		t.Errorf("Wait() = %v, %v; want the browser's callback", res.cb, res.err)
	}
}

// TestPastedChecksLikeTheBrowser: the check judges a pasted response as it judges a callback:
// a wrong iss (RFC 9207 mix-up) ends the sign-in with check's error, and a provider's error
// response with a ProviderError.
func TestPastedChecksLikeTheBrowser(t *testing.T) {
	t.Run("iss mismatch", func(t *testing.T) {
		s := listen(t)
		waitc := startWait(t.Context(), s, checkState)
		if err := s.Deliver(t.Context(), callbackURL(s, url.Values{"code": {testCode}, "state": {testState}, "iss": {"https://evil.example"}})); err != nil {
			t.Fatal(err)
		}
		if res := result(t, waitc); res.err == nil || res.cb.Code != "" {
			t.Errorf("Wait() = %v, %v; want check's error", res.cb, res.err)
		}
	})
	t.Run("provider error", func(t *testing.T) {
		s := listen(t)
		waitc := startWait(t.Context(), s, checkState)
		if err := s.Deliver(t.Context(), callbackURL(s, url.Values{"error": {"access_denied"}, "state": {testState}})); err != nil {
			t.Fatal(err)
		}
		var perr *loopback.ProviderError
		if res := result(t, waitc); !errors.As(res.err, &perr) || perr.Code != "access_denied" {
			t.Errorf("Wait() error = %v, want a ProviderError", res.err)
		}
	})
}
