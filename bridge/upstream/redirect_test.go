package upstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient/httpclienttest"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// staticCreds is Credentials that always hand out one header.
type staticCreds struct{ name, value string }

func (c staticCreds) Authorize(_ context.Context, req *http.Request) (string, error) {
	req.Header.Set(c.name, c.value)
	return c.value, nil
}
func (staticCreds) Nonce(*url.URL, string) {}
func (staticCreds) Refresh(context.Context, string, string) error {
	return errors.New("the test credential cannot be renewed")
}
func (staticCreds) StepUp(context.Context, string, string) error {
	return errors.New("the test credential cannot step up")
}
func (staticCreds) StepUpDone(string) {}

// mcpOrigin answers as a Streamable HTTP server with a session, except that requests of the
// method redirect get redirect's answer: initialize gets a session, other POSTs 202, GET 405
// (no stream), DELETE 200.
func mcpOrigin(method string, redirect http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method {
			redirect(w, r)
			return
		}
		switch r.Method {
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(body), `"initialize"`) {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(headerSessionID, "session-1")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}`)
		case http.MethodGet:
			w.WriteHeader(http.StatusMethodNotAllowed)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// TestRedirectToAnotherOriginKeepsTheCredential: a server that redirects a request carrying
// the bearer token or the API key to another origin (port, host, scheme, subdomain; 307 and
// 308) gets an error naming both origins, and the other origin receives nothing, whether the
// request is the POST, the GET stream or the DELETE.
func TestRedirectToAnotherOriginKeepsTheCredential(t *testing.T) {
	credentials := []staticCreds{
		{"Authorization", "Bearer TOKEN-SECRET-1f2e"},
		{"X-API-Key", "KEY-SECRET-3c4d"},
	}
	for _, leave := range httpclienttest.Leaves() {
		for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
			for _, cred := range credentials {
				t.Run(leave.Name+"/"+method+"/"+cred.name, func(t *testing.T) {
					o := leave.Start(t, func(o *httpclienttest.Origins) http.Handler { return mcpOrigin(method, o.Redirect) })
					var logs testenv.SyncBuffer
					opts := Options{
						URL: o.URL + "/mcp", Transport: config.TransportStreamableHTTP, HTTP: o.Client,
						Credentials: cred, OnMessage: newSink().handle,
						Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
					}
					c, _, err := Connect(t.Context(), opts, []byte(initMsg))
					switch method {
					case http.MethodPost:
						if err == nil {
							c.Close(t.Context())
						}
					case http.MethodGet:
						if err != nil {
							t.Fatalf("Connect: %v", err)
						}
						s := c.(*streamable)
						session, version := s.current()
						var resp *http.Response
						resp, err = s.get(t.Context(), session, version, "")
						if err == nil {
							resp.Body.Close()
						}
						c.Close(t.Context())
					case http.MethodDelete:
						if err != nil {
							t.Fatalf("Connect: %v", err)
						}
						c.Close(t.Context()) // the DELETE is done when Close returns; its error is logged
						err = loggedError(logs.String(), "ending the session")
					}
					o.CheckRefused(t, err, cred.value)
					if strings.Contains(logs.String(), cred.value) {
						t.Errorf("the log holds the credential:\n%s", logs.String())
					}
				})
			}
		}
	}
}

// TestRedirectWithinTheOriginKeepsWorking: a 307 to another path of the same origin is
// followed for every request, each with the credential.
func TestRedirectWithinTheOriginKeepsWorking(t *testing.T) {
	var mu sync.Mutex
	moved := map[string]string{} // method → the credential the moved endpoint received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mcp" {
			http.Redirect(w, r, "/moved?x=1", http.StatusTemporaryRedirect)
			return
		}
		mu.Lock()
		moved[r.Method] = r.Header.Get("X-API-Key")
		mu.Unlock()
		mcpOrigin("", nil).ServeHTTP(w, r)
	}))
	defer srv.Close()
	opts := Options{URL: srv.URL + "/mcp", Transport: config.TransportStreamableHTTP,
		Credentials: staticCreds{"X-API-Key", "KEY"}, OnMessage: newSink().handle}
	c, answer, err := Connect(t.Context(), opts, []byte(initMsg))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(answer), "protocolVersion") {
		t.Errorf("initialize answer = %s", answer)
	}
	s := c.(*streamable)
	session, version := s.current()
	resp, err := s.get(t.Context(), session, version, "")
	if err != nil {
		t.Fatal(err)
	}
	discard(resp)
	c.Close(t.Context())
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		if got := moved[m]; got != "KEY" {
			t.Errorf("%s at the moved endpoint carried X-API-Key %q, want the credential", m, got)
		}
	}
}

// loggedError returns, as an error, the log line with msg in it; nil when there is none.
func loggedError(logs, msg string) error {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, msg) {
			return errors.New(line)
		}
	}
	return nil
}
