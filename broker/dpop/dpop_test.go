package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/jws"
)

func newProver(t *testing.T, now func() time.Time) *Prover {
	t.Helper()
	key, err := jws.GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProver(key, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// parsed is a proof as a server sees it, checked with go-jose directly rather than through
// package jws, so that a bug shared by signer and checker cannot hide.
type parsed struct {
	typ    string
	alg    string
	jwk    *jose.JSONWebKey
	claims map[string]any
}

func parseProof(t *testing.T, proof string) parsed {
	t.Helper()
	sig, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("not a compact JWS with ES256: %v", err)
	}
	h := sig.Signatures[0].Protected
	if h.JSONWebKey == nil {
		t.Fatal("no jwk in the header")
	}
	payload, err := sig.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("the signature does not verify with the embedded key: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return parsed{typ: typ, alg: h.Algorithm, jwk: h.JSONWebKey, claims: claims}
}

// TestProof: a proof is what RFC 9449 §4.2 says, for a resource request and a token request.
func TestProof(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := newProver(t, func() time.Time { return at })
	u, _ := url.Parse("https://user:pw@MCP.example.com:8443/mcp/v1?session=abc#frag")
	proof, err := p.Proof(http.MethodPost, u, "n-1", "the-access-token")
	if err != nil {
		t.Fatal(err)
	}
	got := parseProof(t, proof)
	if got.typ != "dpop+jwt" || got.alg != "ES256" {
		t.Errorf("header typ %q alg %q", got.typ, got.alg)
	}
	if !got.jwk.IsPublic() {
		t.Error("the embedded jwk holds the private key")
	}
	if raw, _ := json.Marshal(got.jwk); strings.Contains(string(raw), `"d"`) {
		t.Errorf("the embedded jwk has a private member: %s", raw)
	}
	sum, _ := got.jwk.Thumbprint(crypto.SHA256)
	if base64.RawURLEncoding.EncodeToString(sum) != p.Thumbprint() {
		t.Error("Thumbprint is not the embedded key's RFC 7638 thumbprint")
	}
	ath := sha256.Sum256([]byte("the-access-token"))
	want := map[string]any{
		"htm": "POST", "htu": "https://MCP.example.com:8443/mcp/v1", "iat": float64(at.Unix()),
		"nonce": "n-1", "ath": base64.RawURLEncoding.EncodeToString(ath[:]),
	}
	for k, v := range want {
		if got.claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, got.claims[k], v)
		}
	}
	if jti, _ := got.claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %q is too short to be unique", jti)
	}

	// A token request: no ath, no nonce until the server gives one; a new jti every time.
	tok, _ := url.Parse("https://as.example.com/token")
	seen := map[any]bool{}
	for range 50 {
		proof, err := p.Proof(http.MethodPost, tok, "", "")
		if err != nil {
			t.Fatal(err)
		}
		c := parseProof(t, proof).claims
		if _, ok := c["ath"]; ok {
			t.Error("a token request's proof has ath")
		}
		if _, ok := c["nonce"]; ok {
			t.Error("a proof has a nonce no server gave")
		}
		if seen[c["jti"]] {
			t.Fatalf("jti %v used twice", c["jti"])
		}
		seen[c["jti"]] = true
	}
}

// TestNonces: nonces are kept per origin (default ports written or not), a new one replaces
// the old, and what is not a nonce is ignored.
func TestNonces(t *testing.T) {
	var n Nonces
	a, _ := url.Parse("https://a.example/token")
	a443, _ := url.Parse("https://A.example:443/other?x=1")
	b, _ := url.Parse("https://a.example:8443/mcp")
	if n.For(a) != "" {
		t.Error("a nonce before any was given")
	}
	h := http.Header{}
	h.Set("DPoP-Nonce", "first")
	if !n.Remember(a, h) || n.For(a443) != "first" || n.For(b) != "" {
		t.Errorf("after the first nonce: %q %q", n.For(a443), n.For(b))
	}
	h.Set("DPoP-Nonce", "second")
	n.Remember(a443, h)
	if n.For(a) != "second" {
		t.Errorf("a new nonce did not replace the old: %q", n.For(a))
	}
	for _, bad := range []string{"with space", `q"uote`, `back\slash`, "tab\t", "ünicode", strings.Repeat("x", 2000)} {
		h.Set("DPoP-Nonce", bad)
		if n.Remember(a, h) || n.For(a) != "second" {
			t.Errorf("%q was taken for a nonce", bad)
		}
	}
	if n.Remember(a, http.Header{}) {
		t.Error("a response without DPoP-Nonce was taken for one")
	}
	// A server cannot grow the set without bound.
	for i := range 3 * maxNonceOrigins {
		u, _ := url.Parse("https://h" + strings.Repeat("x", i%7) + ".example:" + strconv.Itoa(1000+i) + "/")
		n.Set(u, "n")
	}
	n.mu.Lock()
	size := len(n.byOrigin)
	n.mu.Unlock()
	if size > maxNonceOrigins {
		t.Errorf("%d origins kept, at most %d", size, maxNonceOrigins)
	}
}

// tokenEndpoint is an authorization server's token endpoint that records proofs and, when
// nonce is set, wants it in every proof (RFC 9449 §8).
type tokenEndpoint struct {
	nonce string
	mu    sync.Mutex
	seen  []map[string]any
	body  []string
}

func (e *tokenEndpoint) ServeHTTP(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		proofs := r.Header.Values("DPoP")
		if len(proofs) != 1 {
			t.Errorf("%d DPoP headers, want 1", len(proofs))
			http.Error(w, "", http.StatusBadRequest)
			return
		}
		c := parseProof(t, proofs[0]).claims
		e.mu.Lock()
		e.seen = append(e.seen, c)
		e.body = append(e.body, string(body))
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if e.nonce != "" && c["nonce"] != e.nonce {
			w.Header().Set("DPoP-Nonce", e.nonce)
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"use_dpop_nonce","error_description":"nonce needed"}`)
			return
		}
		io.WriteString(w, `{"access_token":"x","token_type":"DPoP"}`)
	}
}

func post(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader("grant_type=authorization_code&code=c"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTransport: every token request carries one proof for its method and URL; the nonce of a
// use_dpop_nonce answer (or of any other) is kept, and the caller's next request, which gets a
// proof with a new jti, sends it. The answer itself reaches the caller whole: the Transport
// sends nothing twice.
func TestTransport(t *testing.T) {
	e := &tokenEndpoint{nonce: "as-nonce"}
	srv := httptest.NewServer(e.ServeHTTP(t))
	defer srv.Close()
	var nonces Nonces
	c, err := Client(srv.Client(), newProver(t, nil), &nonces)
	if err != nil {
		t.Fatal(err)
	}
	status, body := post(t, c, srv.URL+"/token?ignored=1")
	if status != http.StatusBadRequest || body != `{"error":"use_dpop_nonce","error_description":"nonce needed"}` || len(e.seen) != 1 {
		t.Fatalf("first answer %d %q after %d requests; want use_dpop_nonce after one", status, body, len(e.seen))
	}
	if status, body := post(t, c, srv.URL+"/token"); status != http.StatusOK || !strings.Contains(body, `"DPoP"`) {
		t.Fatalf("the request made again: %d %s", status, body)
	}
	first, again := e.seen[0], e.seen[1]
	if _, ok := first["nonce"]; ok || again["nonce"] != "as-nonce" || first["jti"] == again["jti"] {
		t.Errorf("first %v, again %v: want no nonce, then the nonce with a new jti", first, again)
	}
	if again["htm"] != "POST" || again["htu"] != srv.URL+"/token" {
		t.Errorf("htm %v htu %v", again["htm"], again["htu"])
	}
}

// TestTransportOtherErrors: another 400 reaches the caller whole, and a nonce on any answer is
// kept.
func TestTransportOtherErrors(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("DPoP-Nonce", "fresh")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"`+strings.Repeat("x", 70<<10)+`"}`)
	}))
	defer srv.Close()
	var nonces Nonces
	c, _ := Client(srv.Client(), newProver(t, nil), &nonces)
	status, body := post(t, c, srv.URL+"/token")
	if status != http.StatusBadRequest || hits != 1 || !strings.HasPrefix(body, `{"error":"invalid_grant"`) || !strings.HasSuffix(body, `"}`) {
		t.Errorf("got %d after %d requests, body of %d bytes starting %.40q", status, hits, len(body), body)
	}
	u, _ := url.Parse(srv.URL)
	if nonces.For(u) != "fresh" {
		t.Error("the nonce of an error answer was not kept")
	}
}

// TestTransportRedirect: a redirect within the origin gets a proof of its own for the URL it
// goes to.
func TestTransportRedirect(t *testing.T) {
	e := &tokenEndpoint{}
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/token", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/token", e.ServeHTTP(t))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, _ := Client(srv.Client(), newProver(t, nil), &Nonces{})
	if status, _ := post(t, c, srv.URL+"/old"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if len(e.seen) != 1 || e.seen[0]["htu"] != srv.URL+"/token" {
		t.Errorf("proofs at /token: %v", e.seen)
	}
}

func TestClientNeedsAProver(t *testing.T) {
	if _, err := Client(http.DefaultClient, nil, &Nonces{}); !errors.Is(err, errNoProver) {
		t.Errorf("Client without a Prover: %v", err)
	}
}

// TestDecide: the auto rule, case by case, and the person's on and off.
func TestDecide(t *testing.T) {
	es := []string{"ES256"}
	tests := []struct {
		name string
		mode config.DPoPMode
		s    Support
		want bool
	}{
		{"nothing advertised", config.DPoPAuto, Support{}, false},
		{"the conformance suite: AS lists ES256, the 401 is a DPoP challenge", config.DPoPAuto, Support{AuthServerAlgs: es, Challenged: true}, true},
		{"empty mode is auto", "", Support{AuthServerAlgs: es, Challenged: true}, true},
		{"AS only (Keycloak and friends with a Bearer resource)", config.DPoPAuto, Support{AuthServerAlgs: []string{"ES256", "RS256"}}, false},
		{"resource metadata lists ES256", config.DPoPAuto, Support{AuthServerAlgs: es, ResourceAlgs: es}, true},
		{"resource lists only PS256", config.DPoPAuto, Support{AuthServerAlgs: es, ResourceAlgs: []string{"PS256"}}, false},
		{"challenge names only PS256", config.DPoPAuto, Support{AuthServerAlgs: es, Challenged: true, ChallengeAlgs: []string{"PS256"}}, false},
		{"AS lists only RS256", config.DPoPAuto, Support{AuthServerAlgs: []string{"RS256"}, Challenged: true}, false},
		{"resource accepts, AS silent", config.DPoPAuto, Support{Challenged: true}, false},
		{"resource requires, AS silent", config.DPoPAuto, Support{ResourceRequires: true}, true},
		{"on with nothing advertised", config.DPoPOn, Support{}, true},
		{"off when required", config.DPoPOff, Support{ResourceRequires: true, AuthServerAlgs: es}, false},
	}
	for _, tt := range tests {
		got, why := Decide(tt.mode, tt.s)
		if got != tt.want || why == "" {
			t.Errorf("%s: Decide = %v (%s), want %v", tt.name, got, why, tt.want)
		}
	}
}
