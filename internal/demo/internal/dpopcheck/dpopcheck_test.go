package dpopcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// craft signs claims with a P-256 key, with the header the options make: the negative cases
// need proofs the broker would never make.
func craft(t *testing.T, typ string, embedPrivate bool, claims map[string]any) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	jwk := jose.JSONWebKey{Key: k.Public()}
	if embedPrivate {
		jwk = jose.JSONWebKey{Key: k}
	}
	opts = opts.WithHeader("jwk", jwk)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	signed, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := signed.CompactSerialize()
	return out
}

// TestCheck: the broker's proofs pass, and each defect a server must catch is caught.
func TestCheck(t *testing.T) {
	now := time.Now()
	key, _ := jws.GenerateES256()
	prover, _ := dpop.NewProver(key, func() time.Time { return now })
	u, _ := url.Parse("http://127.0.0.1:8080/mcp")
	good, err := prover.Proof("POST", u, "n1", "tok")
	if err != nil {
		t.Fatal(err)
	}
	want := Want{Method: "POST", URL: "HTTP://127.0.0.1:8080/mcp/", AccessToken: "tok", Now: now}
	p, err := Check([]string{good}, want)
	if err != nil {
		t.Fatalf("the broker's proof is refused: %v", err)
	}
	if p.JKT != prover.Thumbprint() || p.Nonce != "n1" || p.JTI == "" {
		t.Errorf("Check = %+v", p)
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"jti": "j", "htm": "POST", "htu": "http://127.0.0.1:8080/mcp", "iat": now.Unix(), "ath": hash("tok")}
		if edit != nil {
			edit(c)
		}
		return c
	}
	if _, err := Check([]string{craft(t, "dpop+jwt", false, claims(nil))}, want); err != nil {
		t.Fatalf("a crafted good proof is refused: %v", err)
	}
	bad := map[string][]string{
		"two headers":      {good, good},
		"no header":        nil,
		"wrong typ":        {craft(t, "JWT", false, claims(nil))},
		"private jwk":      {craft(t, "dpop+jwt", true, claims(nil))},
		"no jti":           {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { delete(c, "jti") }))},
		"wrong htm":        {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { c["htm"] = "GET" }))},
		"wrong htu":        {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { c["htu"] = "http://127.0.0.1:8080/other" }))},
		"htu with a query": {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { c["htu"] = "http://127.0.0.1:8080/mcp?x=1" }))},
		"old iat":          {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { c["iat"] = now.Add(-10 * time.Minute).Unix() }))},
		"no ath":           {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { delete(c, "ath") }))},
		"ath of another":   {craft(t, "dpop+jwt", false, claims(func(c map[string]any) { c["ath"] = hash("other") }))},
		"tampered":         {good[:len(good)-4] + "AAAA"},
		"not a JWS":        {"hello"},
		"unsigned":         {strings.Join(strings.Split(good, ".")[:2], ".") + "."},
	}
	for name, headers := range bad {
		if _, err := Check(headers, want); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A token request's proof has no ath.
	tokenWant := Want{Method: "POST", URL: "http://127.0.0.1:8080/mcp", Now: now}
	if _, err := Check([]string{good}, tokenWant); err == nil {
		t.Error("a proof with ath was accepted for a token request")
	}

	var r Replays
	if !r.Fresh("a", now) || r.Fresh("a", now.Add(time.Second)) || !r.Fresh("b", now) {
		t.Error("Replays does not tell a jti seen before")
	}
}
