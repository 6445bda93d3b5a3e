package httpclient_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
)

func TestOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://a.example/x?k=v", "https://a.example:443"},
		{"https://a.example:443/", "https://a.example:443"},
		{"HTTPS://A.Example:8443/p", "https://a.example:8443"},
		{"http://a.example", "http://a.example:80"},
		{"http://a.example:80", "http://a.example:80"},
		{"http://user:pass@127.0.0.1:9/", "http://127.0.0.1:9"},
		{"http://[::1]/", "http://[::1]:80"},
		{"https://[::1]:8443/", "https://[::1]:8443"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := httpclient.Origin(u); got != tt.want {
			t.Errorf("Origin(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	same := [][2]string{{"https://a.example/x", "https://A.EXAMPLE:443/y"}, {"http://a.example:80", "HTTP://a.example/"}}
	for _, p := range same {
		a, _ := url.Parse(p[0])
		b, _ := url.Parse(p[1])
		if !httpclient.SameOrigin(a, b) {
			t.Errorf("%s and %s: not the same origin", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"https://a.example", "http://a.example"},
		{"https://a.example", "https://a.example:8443"},
		{"https://a.example", "https://b.a.example"},
		{"http://127.0.0.1:1", "http://localhost:1"},
	}
	for _, p := range differ {
		a, _ := url.Parse(p[0])
		b, _ := url.Parse(p[1])
		if httpclient.SameOrigin(a, b) {
			t.Errorf("%s and %s: the same origin", p[0], p[1])
		}
	}
}

// credentials are the ways a request can carry one.
var credentials = []struct {
	name   string
	secret string
	attach func(r *http.Request) *http.Request
}{
	{"bearer", "TOKEN-SECRET", func(r *http.Request) *http.Request {
		r.Header.Set("Authorization", "Bearer TOKEN-SECRET")
		return r
	}},
	{"basic client auth", "CLIENT-SECRET", func(r *http.Request) *http.Request {
		r.SetBasicAuth("client", "CLIENT-SECRET")
		return r
	}},
	{"API key header", "KEY-SECRET", func(r *http.Request) *http.Request {
		r.Header.Set("X-Api-Key", "KEY-SECRET")
		return r
	}},
	{"header of any name", "CUSTOM-SECRET", func(r *http.Request) *http.Request {
		r.Header["x-my-token"] = []string{"CUSTOM-SECRET"} // not canonical on purpose
		return r
	}},
	{"cookie", "COOKIE-SECRET", func(r *http.Request) *http.Request {
		r.Header.Set("Cookie", "session=COOKIE-SECRET")
		return r
	}},
	{"URL user information", "URL-SECRET", func(r *http.Request) *http.Request {
		r.URL.User = url.UserPassword("user", "URL-SECRET")
		return r
	}},
	{"marked body", "", func(r *http.Request) *http.Request {
		return r.WithContext(httpclient.WithCredential(r.Context()))
	}},
}

// clients returns the clients to try o with: one from New and a guarded copy of o.Client (or,
// when o needs no special client, of a plain one).
func clients(o *httpclienttest.Origins) map[string]*http.Client {
	raw := o.Client
	cs := map[string]*http.Client{}
	if raw == nil {
		raw = &http.Client{}
		cs["New"] = httpclient.New()
	}
	cs["Guard"] = httpclient.Guard(raw)
	return cs
}

func TestCredentialNeverLeavesTheOrigin(t *testing.T) {
	for _, leave := range httpclienttest.Leaves() {
		for _, cred := range credentials {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				t.Run(leave.Name+"/"+cred.name+"/"+method, func(t *testing.T) {
					o := leave.Start(t, func(o *httpclienttest.Origins) http.Handler { return http.HandlerFunc(o.Redirect) })
					for name, c := range clients(o) {
						req, err := http.NewRequestWithContext(t.Context(), method, o.URL+"/mcp?k="+httpclienttest.QuerySecret, strings.NewReader("{}"))
						if err != nil {
							t.Fatal(err)
						}
						req.Header.Set("Content-Type", "application/json")
						resp, err := c.Do(cred.attach(req))
						if err == nil {
							resp.Body.Close()
						}
						var re *httpclient.RedirectError
						if err != nil && !errors.As(err, &re) {
							t.Errorf("%s: the error is not a *RedirectError: %v", name, err)
						}
						if re != nil {
							err = re // the *url.Error around it holds the Location
						}
						o.CheckRefused(t, err, cred.secret)
					}
				})
			}
		}
	}
}

// TestRedirectWithoutCredential: a request with only protocol headers follows a redirect to
// another origin, which gets neither credential headers nor a Referer (the first URL's query).
func TestRedirectWithoutCredential(t *testing.T) {
	var got http.Header
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusOK)
	}))
	defer b.Close()
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, b.URL+"/metadata", http.StatusFound)
	}))
	defer a.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL+"/.well-known/x?api_key=SECRET", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := httpclient.New().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got == nil {
		t.Fatalf("the redirect was not followed: HTTP %d", resp.StatusCode)
	}
	if got.Get("Accept") != "application/json" || got.Get("Mcp-Protocol-Version") != "2025-11-25" {
		t.Errorf("the protocol headers were lost: %v", got)
	}
	for _, h := range []string{"Referer", "Authorization", "Cookie"} {
		if v := got.Get(h); v != "" {
			t.Errorf("the other origin received %s: %q", h, v)
		}
	}
}

// TestRedirectWithinTheOrigin: 307 and 308 to another path of the same origin keep the
// credential and the body.
func TestRedirectWithinTheOrigin(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var mu sync.Mutex
		var auth, key, body string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/mcp" {
				http.Redirect(w, r, "/moved", status)
				return
			}
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			auth, key, body = r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), string(b)
			mu.Unlock()
		}))
		req, err := http.NewRequestWithContext(httpclient.WithCredential(t.Context()), http.MethodPost, srv.URL+"/mcp", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer T")
		req.Header.Set("X-Api-Key", "K")
		resp, err := httpclient.New().Do(req)
		srv.Close()
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		resp.Body.Close()
		mu.Lock()
		if auth != "Bearer T" || key != "K" || body != "payload" {
			t.Errorf("%d: the moved endpoint got Authorization %q, X-Api-Key %q, body %q", status, auth, key, body)
		}
		mu.Unlock()
	}
}

func TestTooManyRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}))
	defer srv.Close()
	resp, err := httpclient.New().Get(srv.URL + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("an endless redirect loop ended")
	}
	if !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("err = %v", err)
	}
}

// TestGuard: Guard leaves the client it copies alone, keeps its transport, and runs its
// redirect policy after ours.
func TestGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	var theirs int
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
		theirs++
		return http.ErrUseLastResponse
	}}
	g := httpclient.Guard(c)
	if g == c || g.Transport != tr || g.Timeout != time.Minute {
		t.Errorf("Guard = %+v: want a copy with the same transport and timeout", g)
	}
	resp, err := g.Get(srv.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || theirs != 1 {
		t.Errorf("status %d, the caller's policy ran %d times: want it to run once, after ours", resp.StatusCode, theirs)
	}
	if g := httpclient.Guard(nil); g == nil || g.CheckRedirect == nil {
		t.Error("Guard(nil) has no redirect policy")
	}
}

func TestNew(t *testing.T) {
	c := httpclient.New()
	if c.Timeout != 0 {
		t.Errorf("New().Timeout = %v, want none: streams last for hours", c.Timeout)
	}
	if c.CheckRedirect == nil {
		t.Error("New() has no redirect policy")
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.Proxy == nil || !tr.ForceAttemptHTTP2 || tr.MaxIdleConnsPerHost != 32 || tr.TLSHandshakeTimeout != 10*time.Second {
		t.Errorf("New().Transport = %+v", c.Transport)
	}
	if httpclient.New().Transport == c.Transport {
		t.Error("two clients share a transport")
	}
	if got := httpclient.New(httpclient.WithTimeout(time.Second)).Timeout; got != time.Second {
		t.Errorf("WithTimeout(1s): Timeout = %v", got)
	}
}
