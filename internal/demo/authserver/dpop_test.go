package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

func prover(t *testing.T) *dpop.Prover {
	t.Helper()
	k, err := jws.GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProver(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dpopToken posts a token request for the public client id with the proofs given (none for
// nil) and returns the status, the body and the DPoP-Nonce header.
func dpopToken(t *testing.T, as *authserver.Server, id string, form url.Values, proofs ...string) (int, map[string]any, string) {
	t.Helper()
	form = cloneForm(form)
	form.Set("client_id", id)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, as.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, resp.Header.Get("DPoP-Nonce")
}

func tokenProof(t *testing.T, as *authserver.Server, p *dpop.Prover, nonce string) string {
	t.Helper()
	u, _ := url.Parse(as.Issuer() + "/token")
	proof, err := p.Proof(http.MethodPost, u, nonce, "")
	if err != nil {
		t.Fatal(err)
	}
	return proof
}

// TestDPoP: with Options.DPoP the server advertises DPoP, binds the tokens of a request with a
// valid proof to its key and answers token_type DPoP; a request without a proof gets a Bearer
// token; bad, repeated or wrong-key proofs are refused, and so is a bound refresh token
// without a proof; with DPoPNonce a proof needs the current nonce.
func TestDPoP(t *testing.T) {
	as := start(t, authserver.Options{DPoP: true, DPoPNonce: true, AutoApprove: true})
	if _, meta := getJSON(t, as.Issuer()+"/.well-known/oauth-authorization-server"); meta["dpop_signing_alg_values_supported"] == nil {
		t.Errorf("metadata without dpop_signing_alg_values_supported: %v", meta)
	}
	id := registerPublic(t, as)
	code := func() url.Values {
		verifier, challenge := pkce()
		loc := authorize(t, as, authParams(id, challenge))
		return codeGrant(loc.Query().Get("code"), verifier)
	}
	p := prover(t)

	// A proof without the nonce: 400 use_dpop_nonce and the nonce; the code is not spent.
	form := code()
	status, m, nonce := dpopToken(t, as, id, form, tokenProof(t, as, p, ""))
	if status != http.StatusBadRequest || m["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("without the nonce: %d %v nonce %q", status, m, nonce)
	}
	status, m, _ = dpopToken(t, as, id, form, tokenProof(t, as, p, nonce))
	if status != http.StatusOK || m["token_type"] != "DPoP" {
		t.Fatalf("with the nonce: %d %v", status, m)
	}
	info, ok := as.Verify(m["access_token"].(string))
	if !ok || info.JKT != p.Thumbprint() {
		t.Errorf("the token is bound to %q, want %q", info.JKT, p.Thumbprint())
	}
	rt := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}

	// The bound refresh token: refused without a proof and with another key's.
	if status, m, _ := dpopToken(t, as, id, rt); status != http.StatusBadRequest || m["error"] != "invalid_dpop_proof" {
		t.Errorf("refresh without a proof: %d %v", status, m)
	}
	if status, m, _ := dpopToken(t, as, id, rt, tokenProof(t, as, prover(t), nonce)); status != http.StatusBadRequest || m["error"] != "invalid_dpop_proof" {
		t.Errorf("refresh with another key: %d %v", status, m)
	}
	// A proof seen before, two proofs, a proof for another URL: refused.
	seen := tokenProof(t, as, p, nonce)
	if status, _, _ := dpopToken(t, as, id, rt, seen); status != http.StatusOK {
		t.Fatalf("refresh with the key: %d", status)
	}
	other, _ := url.Parse(as.Issuer() + "/other")
	wrongURL, _ := p.Proof(http.MethodPost, other, nonce, "")
	for name, proofs := range map[string][]string{
		"a replayed proof": {seen},
		"two proofs":       {tokenProof(t, as, p, nonce), tokenProof(t, as, p, nonce)},
		"another URL":      {wrongURL},
	} {
		form := code()
		if status, m, _ := dpopToken(t, as, id, form, proofs...); status != http.StatusBadRequest || m["error"] != "invalid_dpop_proof" {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
	// Without a proof: a Bearer token, as RFC 9449 §5 allows.
	form = code()
	if status, m, _ := dpopToken(t, as, id, form); status != http.StatusOK || m["token_type"] != "Bearer" {
		t.Errorf("without a proof: %d %v", status, m)
	}
	// A new nonce: the old one is refused.
	as.RotateDPoPNonce()
	form = code()
	if status, m, fresh := dpopToken(t, as, id, form, tokenProof(t, as, p, nonce)); status != http.StatusBadRequest || m["error"] != "use_dpop_nonce" || fresh == nonce {
		t.Errorf("after the rotation: %d %v nonce %q", status, m, fresh)
	}
	if s := as.Stats(); s.DPoPBound != 2 || s.DPoPNonceChallenges != 2 {
		t.Errorf("stats %+v", s)
	}
}
