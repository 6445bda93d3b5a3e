// Package httpclienttest sets up, on real servers on 127.0.0.1, the redirects that leave the
// origin of a request, for the tests of every client that sends a credential (the bridge's
// transports, the OAuth token and registration requests). Each Leave starts origin A, which
// serves the handler under test, and origin B, which only records what reaches it: a client
// that keeps its credentials at home makes B see nothing, and says which origins were involved.
//
// Other host names (b.example, a subdomain of a.example) reach the loopback listener through
// the dialer of Origins.Client, so no test needs DNS.
//
// For the tests of the network settings (package httpclient's Network): Proxy is a CONNECT
// proxy on 127.0.0.1 that asks for credentials when told to, and CA a private certificate
// authority that signs the certificates of test servers, as a proxy that inspects TLS does.
package httpclienttest

import (
	"context"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// QuerySecret is in the query string of every redirect target, the way some servers take an
// API key: an error that names the target must not show it.
const QuerySecret = "QUERY-SECRET-d41d8cd9"

// How a redirect leaves the origin.
const (
	otherPort = iota
	otherHost
	httpsToHTTP
	subdomain
)

// Leave is one way a redirect can leave the origin of a request.
type Leave struct {
	Name   string
	Status int // http.StatusTemporaryRedirect or http.StatusPermanentRedirect
	kind   int
}

// Leaves returns every case, each with 307 and with 308 (the codes that make a client send the
// same method and body again): to another port of 127.0.0.1, to another host name on the same
// port, from https to plain http, and from a.example to its subdomain b.a.example.
func Leaves() []Leave {
	var ls []Leave
	for _, k := range []struct {
		name string
		kind int
	}{{"other port", otherPort}, {"other host", otherHost}, {"https to http", httpsToHTTP}, {"subdomain", subdomain}} {
		for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			ls = append(ls, Leave{Name: k.name + " " + http.StatusText(status), Status: status, kind: k.kind})
		}
	}
	return ls
}

// Origins is a started Leave.
type Origins struct {
	// URL is origin A's base URL, without a trailing slash.
	URL string
	// Target is where Redirect sends a request: a path on origin B with QuerySecret in its
	// query string.
	Target string
	// Client reaches both origins and follows redirects by Go's own rules; nil when any client
	// does (both origins are 127.0.0.1), so the code under test may use its default one.
	Client *http.Client
	// From and To are the origins (scheme://host:port) an error must name.
	From, To string

	status int
	mu     sync.Mutex
	got    []http.Header
}

// Start starts the origins of l. handler returns what origin A serves; it may call o.Redirect.
// Everything is closed when the test ends.
func (l Leave) Start(t *testing.T, handler func(o *Origins) http.Handler) *Origins {
	t.Helper()
	o := &Origins{status: l.Status}
	b := http.HandlerFunc(o.record)
	switch l.kind {
	case otherPort, httpsToHTTP:
		bs := httptest.NewUnstartedServer(b)
		as := httptest.NewUnstartedServer(nil)
		o.To = "http://" + bs.Listener.Addr().String()
		o.Target = o.To + "/other?api_key=" + QuerySecret
		as.Config.Handler = handler(o)
		bs.Start()
		t.Cleanup(bs.Close)
		if l.kind == httpsToHTTP {
			as.StartTLS()
			o.Client = as.Client()
		} else {
			as.Start()
		}
		t.Cleanup(as.Close)
		o.URL = as.URL
		o.From = as.URL
	case otherHost, subdomain:
		// One listener answers for every host name: requests for a.example go to origin A,
		// the others to B. Only the host name differs between the two origins.
		s := httptest.NewUnstartedServer(nil)
		port := s.Listener.Addr().(*net.TCPAddr).Port
		o.From = "http://a.example:" + strconv.Itoa(port)
		o.To = "http://b.example:" + strconv.Itoa(port)
		if l.kind == subdomain {
			o.To = "http://b.a.example:" + strconv.Itoa(port)
		}
		o.URL = o.From
		o.Target = o.To + "/other?api_key=" + QuerySecret
		a := handler(o)
		s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if host, _, _ := net.SplitHostPort(r.Host); host == "a.example" {
				a.ServeHTTP(w, r)
				return
			}
			b.ServeHTTP(w, r)
		})
		s.Start()
		t.Cleanup(s.Close)
		o.Client = &http.Client{Transport: &http.Transport{DialContext: dialLoopback}}
		t.Cleanup(o.Client.CloseIdleConnections)
	}
	return o
}

// dialLoopback dials 127.0.0.1 whatever host name addr has, keeping its port.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// Redirect answers r with a redirect of l's status to Target.
func (o *Origins) Redirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, o.Target, o.status)
}

func (o *Origins) record(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.got = append(o.got, r.Header.Clone())
	o.mu.Unlock()
	http.Error(w, "origin B: nothing here", http.StatusBadRequest)
}

// Reached returns the headers of every request that reached origin B.
func (o *Origins) Reached() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]http.Header(nil), o.got...)
}

// CheckRefused fails t unless origin B received no request at all, err is not nil, names both
// origins, and contains none of secrets nor QuerySecret.
func (o *Origins) CheckRefused(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, h := range o.Reached() {
		t.Errorf("origin B received a request, with the headers %v", slices.Sorted(maps.Keys(h)))
	}
	if err == nil {
		t.Fatal("no error: the redirect to another origin was not refused")
	}
	msg := err.Error()
	t.Logf("refused: %s", msg)
	for _, origin := range []string{o.From, o.To} {
		if !strings.Contains(msg, origin+",") && !strings.Contains(msg, origin+" ") && !strings.HasSuffix(msg, origin) {
			t.Errorf("the error does not name the origin %s: %q", origin, msg)
		}
	}
	for _, s := range append(secrets, QuerySecret) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("the error holds the secret %q: %q", s, msg)
		}
	}
}
