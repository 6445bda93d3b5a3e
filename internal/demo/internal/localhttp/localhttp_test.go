package localhttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/internal/localhttp"
)

func TestListenLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr string
	}{
		{addr: "", wantErr: ""},
		{addr: "127.0.0.1:0", wantErr: ""},
		{addr: "localhost:0", wantErr: ""},
		{addr: "0.0.0.0:0", wantErr: "only loopback"},
		{addr: ":0", wantErr: "only loopback"},
		{addr: "192.0.2.1:0", wantErr: "only loopback"},
		{addr: "example.com:80", wantErr: "only loopback"},
		{addr: "no-port", wantErr: "parsing listen address"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ln, err := localhttp.Listen(tt.addr)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				if !localhttp.IsLoopback(ln.Addr()) {
					t.Errorf("listening on %s", ln.Addr())
				}
				return
			}
			if err == nil {
				ln.Close()
				t.Fatalf("Listen(%q) succeeded", tt.addr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Listen(%q) = %v, want %q", tt.addr, err, tt.wantErr)
			}
		})
	}
}

// fakeListener claims a non-loopback address without binding one: the test
// must not listen on a public interface to check that Serve refuses it.
type fakeListener struct{ net.Listener }

func (fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80} }
func (fakeListener) Close() error   { return nil }

func TestServeRefusesNonLoopbackAndSecondServe(t *testing.T) {
	var s localhttp.Server
	if _, err := s.Serve(fakeListener{}, http.NotFoundHandler()); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("Serve on a public address: %v", err)
	}
	ln, err := localhttp.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(0) })
	if base != "http://"+ln.Addr().String() {
		t.Errorf("base URL %q for %s", base, ln.Addr())
	}
	ln2, err := localhttp.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	if _, err := s.Serve(ln2, http.NotFoundHandler()); err == nil {
		t.Error("a second Serve succeeded")
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("body %q", body)
	}
}

func TestStartClosesListenerWhenServeFails(t *testing.T) {
	var got net.Listener
	_, err := localhttp.Start("", func(ln net.Listener) (string, error) {
		got = ln
		return "", io.ErrUnexpectedEOF
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("Start = %v", err)
	}
	// The port is free again: the listener was closed.
	if ln, err := net.Listen("tcp", got.Addr().String()); err != nil {
		t.Errorf("the listener was left open: %v", err)
	} else {
		ln.Close()
	}
}

// TestClose checks both ways of stopping: grace lets a request in flight
// finish, zero grace cuts it, and either way Close returns only once the
// accept loop is gone (the port refuses connections).
func TestClose(t *testing.T) {
	for _, tt := range []struct {
		name       string
		grace      time.Duration
		wantFinish bool
	}{
		{"graceful", 30 * time.Second, true},
		{"cut", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{})
			release := make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, "done")
			})
			var s localhttp.Server
			base, err := localhttp.Start("", func(ln net.Listener) (string, error) { return s.Serve(ln, h) })
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				body string
				err  error
			}
			res := make(chan result, 1)
			go func() {
				resp, err := http.Get(base)
				if err != nil {
					res <- result{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				res <- result{string(b), err}
			}()
			<-started
			closed := make(chan error, 1)
			go func() { closed <- s.Close(tt.grace) }()
			if tt.wantFinish {
				// Shutdown closes the listener first, then waits for the request: once the port
				// refuses connections, Close is waiting, and the request may finish.
				waitRefused(t, strings.TrimPrefix(base, "http://"))
				select {
				case err := <-closed:
					t.Fatalf("Close returned (%v) while a request was in flight", err)
				default:
				}
				close(release)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			select {
			case <-closed:
			case <-ctx.Done():
				t.Fatal("Close did not return")
			}
			r := <-res
			if finished := r.err == nil && r.body == "done"; finished != tt.wantFinish {
				t.Errorf("request finished = %v (body %q, err %v), want %v", finished, r.body, r.err, tt.wantFinish)
			}
			if !tt.wantFinish {
				close(release)
			}
			if c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
				c.Close()
				t.Error("the port still accepts connections after Close")
			}
			if err := s.Close(tt.grace); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// waitRefused waits until nothing accepts connections at addr.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections", addr)
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
}
