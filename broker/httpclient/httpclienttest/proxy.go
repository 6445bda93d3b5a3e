package httpclienttest

import (
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Proxy is a forward proxy on 127.0.0.1 that tunnels CONNECT requests, as a corporate proxy
// does for https. It reaches every host it is asked for at 127.0.0.1, on the port asked for, so
// that tests can name their servers by host names no resolver knows (mcp.test): only the proxy
// reaches them, and a request that goes around it fails. With a user name it asks for
// credentials, as HTTP Basic in Proxy-Authorization, and answers 407 without the right ones.
// It is closed, tunnels and all, when the test ends.
type Proxy struct {
	// URL is the proxy's URL, http://127.0.0.1:port, without credentials.
	URL string
	// Addr is its host:port.
	Addr string

	user, password string
	ln             net.Listener

	mu       sync.Mutex
	tunnels  []string // the host:port of each tunnel opened
	refused  int      // CONNECTs refused for want of credentials
	conns    map[net.Conn]bool
	draining bool
}

// StartProxy starts a Proxy; with user set, it asks for user and password.
func StartProxy(t testing.TB, user, password string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), user: user, password: password, ln: ln, conns: map[net.Conn]bool{}}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close() // the listener and the connections not yet hijacked
		<-done
		p.mu.Lock()
		p.draining = true
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

// URLWithCredentials is URL with the proxy's user name and password in it, as HTTPS_PROXY
// carries them.
func (p *Proxy) URLWithCredentials(user, password string) string {
	return "http://" + user + ":" + password + "@" + p.Addr
}

// Tunnels returns the host:port of every tunnel opened so far, in order.
func (p *Proxy) Tunnels() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tunnels)
}

// Refused returns how many CONNECTs came without the right credentials.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels (CONNECT)", http.StatusMethodNotAllowed)
		return
	}
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.password))
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Proxy-Authorization")), []byte(want)) != 1 {
			p.mu.Lock()
			p.refused++
			p.mu.Unlock()
			w.Header().Set("Proxy-Authenticate", `Basic realm="test proxy"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
	}
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		http.Error(w, "CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	upstream, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	if !p.track(client, upstream) {
		return
	}
	p.mu.Lock()
	p.tunnels = append(p.tunnels, r.Host)
	p.mu.Unlock()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		p.untrack(client, upstream)
		return
	}
	go func() {
		// What the client sent after its CONNECT may sit in the server's buffer already.
		_, _ = io.Copy(upstream, rw.Reader)
		if tc, ok := upstream.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, _ = io.Copy(client, upstream)
	p.untrack(client, upstream)
}

// track records conns for closing at the end of the test; false (and closed) when it has ended.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = true
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}
