package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// proofCreds is Credentials for a DPoP-bound token, as far as the transport can tell: each
// request gets the DPoP scheme and a "proof" naming the nonce it was made with and a counter,
// so that the server sees which requests are new.
type proofCreds struct {
	mu        sync.Mutex
	nonces    map[string]string // by host
	n         int
	refreshed int
	stepUps   []string
}

func (c *proofCreds) Authorize(_ context.Context, req *http.Request) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	req.Header.Set("Authorization", "DPoP tok")
	req.Header.Set("DPoP", "proof-"+strconv.Itoa(c.n)+"-nonce="+c.nonces[req.URL.Host])
	return "DPoP tok", nil
}

func (c *proofCreds) Nonce(u *url.URL, nonce string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nonces == nil {
		c.nonces = map[string]string{}
	}
	c.nonces[u.Host] = nonce
}

func (c *proofCreds) Refresh(context.Context, string, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshed++
	return errors.New("no refresh in this test")
}

func (c *proofCreds) StepUp(_ context.Context, op, scope string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stepUps = append(c.stepUps, op+"|"+scope)
	return nil
}

func (*proofCreds) StepUpDone(string) {}

// nonceServer is a Streamable HTTP server that wants a DPoP nonce in every proof (RFC 9449
// §9), rotates it when rotate is set, and records the proofs it saw.
type nonceServer struct {
	mu      sync.Mutex
	nonce   string
	rotate  bool
	noNonce bool // answer use_dpop_nonce without the DPoP-Nonce header
	proofs  []string
}

func (s *nonceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	proof := r.Header.Get("DPoP")
	s.proofs = append(s.proofs, r.Method+" "+proof)
	want := s.nonce
	if s.rotate {
		s.nonce += "+" // the nonce just handed out is stale before it can be used
	}
	s.mu.Unlock()
	if s.rotate || !strings.HasSuffix(proof, "-nonce="+want) {
		if !s.noNonce {
			w.Header().Set("DPoP-Nonce", s.nonce)
		}
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method != http.MethodPost:
		w.WriteHeader(http.StatusMethodNotAllowed)
	case strings.Contains(string(body), `"admin"`):
		w.Header().Set("WWW-Authenticate", `Bearer, DPoP error="insufficient_scope", scope="admin"`)
		w.WriteHeader(http.StatusForbidden)
	case strings.Contains(string(body), `"initialize"`):
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("DPoP-Nonce", want) // a nonce on a success is remembered too
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{}}`)
	}
}

// TestDPoPNonceRetry: a 401 use_dpop_nonce with a nonce sends the request again with a new
// proof carrying it, without renewing the token; the nonce serves the next requests too.
func TestDPoPNonceRetry(t *testing.T) {
	ns := &nonceServer{nonce: "rs-nonce"}
	srv := httptest.NewServer(ns)
	defer srv.Close()
	cr := &proofCreds{}
	c, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, Credentials: cr, OnMessage: newSink().handle}, []byte(initMsg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	if err := send(t, c, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); err != nil {
		t.Fatal(err)
	}
	// initialize, its retry with the nonce, notifications/initialized and tools/list; the GET
	// stream may come in between.
	ns.mu.Lock()
	var posts []string
	for _, p := range ns.proofs {
		if strings.HasPrefix(p, "POST ") {
			posts = append(posts, p)
		}
	}
	ns.mu.Unlock()
	if len(posts) != 4 || posts[0] != "POST proof-1-nonce=" {
		t.Fatalf("POSTs seen: %q", posts)
	}
	seen := map[string]bool{}
	for _, p := range posts[1:] {
		if !strings.HasSuffix(p, "-nonce=rs-nonce") || seen[p] {
			t.Errorf("%q: want a new proof with the nonce (all: %q)", p, posts)
		}
		seen[p] = true
	}
	if cr.refreshed != 0 {
		t.Errorf("the token was renewed %d times for a nonce", cr.refreshed)
	}

	// A DPoP step-up challenge beside a bare Bearer one is read.
	if err := send(t, c, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"admin"}}`); err == nil || len(cr.stepUps) == 0 || cr.stepUps[0] != "tools/call admin|admin" {
		t.Errorf("step-ups %q (err %v)", cr.stepUps, err)
	}
}

// TestDPoPNonceRetryBounded: a server that wants a new nonce every time gets two retries, then
// the 401 counts as a refused token; use_dpop_nonce without a nonce is a refused token at once.
func TestDPoPNonceRetryBounded(t *testing.T) {
	for _, ns := range []*nonceServer{{nonce: "n", rotate: true}, {nonce: "n", noNonce: true}} {
		srv := httptest.NewServer(ns)
		cr := &proofCreds{}
		_, _, err := Connect(t.Context(), Options{URL: srv.URL, Transport: config.TransportStreamableHTTP, Credentials: cr, OnMessage: newSink().handle}, []byte(initMsg))
		srv.Close()
		wantRequests := 1 + maxNonceRetries
		if ns.noNonce {
			wantRequests = 1
		}
		if err == nil || cr.refreshed != 1 || len(ns.proofs) != wantRequests {
			t.Errorf("rotate %v, no nonce %v: Connect = %v after %d requests, %d refreshes; want an error after %d requests and 1 refresh",
				ns.rotate, ns.noNonce, err, len(ns.proofs), cr.refreshed, wantRequests)
		}
	}
}
