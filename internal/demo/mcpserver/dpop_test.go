package mcpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
	"github.com/mcp-broker/mcp-broker/broker/wwwauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

func newProver(t *testing.T) *dpop.Prover {
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

// dpopEnv is an authorization server that binds tokens and an MCP server configured by opts.
func dpopEnv(t *testing.T, opts mcpserver.Options) (*authserver.Server, *mcpserver.Server) {
	t.Helper()
	as := authserver.New(authserver.Options{AutoApprove: true, DPoP: true})
	if _, err := as.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = as.Close() })
	as.RegisterClient(authserver.Client{ID: testClient, Name: "test", RedirectURIs: []string{redirectURI}})
	opts.Verifier, opts.AuthServers = as, []string{as.Issuer()}
	m := mcpserver.New(opts)
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return as, m
}

// boundToken runs the code flow with a proof of p at the token endpoint (nil: none) and
// returns the access token.
func boundToken(t *testing.T, as *authserver.Server, resource string, p *dpop.Prover) string {
	t.Helper()
	verifier, challenge := pkce()
	q := url.Values{
		"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {redirectURI}, "resource": {resource},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s"},
	}
	resp, err := browser.Get(as.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier},
		"redirect_uri": {redirectURI}, "client_id": {testClient}, "resource": {resource},
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, as.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p != nil {
		u, _ := url.Parse(as.Issuer() + "/token")
		proof, _ := p.Proof(http.MethodPost, u, "", "")
		req.Header.Set("DPoP", proof)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" || (p != nil) != (tok.TokenType == "DPoP") {
		t.Fatalf("token: %d %+v (%v)", resp.StatusCode, tok, err)
	}
	return tok.AccessToken
}

// raw posts initialize to u with the Authorization and DPoP headers given ("" for none).
func raw(t *testing.T, u, authorization, proof string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+protocolVersion+`","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func resourceProof(t *testing.T, p *dpop.Prover, method, u, nonce, token string) string {
	t.Helper()
	pu, _ := url.Parse(u)
	proof, err := p.Proof(method, pu, nonce, token)
	if err != nil {
		t.Fatal(err)
	}
	return proof
}

// TestDPoPOnly: the conformance suite's kind of server. Its 401 is a DPoP challenge alone; a
// bound token goes through only with the DPoP scheme and a fresh proof of its key for the
// request; every other way of presenting a token is refused.
func TestDPoPOnly(t *testing.T) {
	as, m := dpopEnv(t, mcpserver.Options{DPoPOnly: true})
	u := m.URL()
	resp := raw(t, u, "", "")
	if ch := wwwauth.DPoP(resp.Header); resp.StatusCode != http.StatusUnauthorized || ch == nil || ch.ResourceMetadata() == "" || wwwauth.Bearer(resp.Header) != nil {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
	p := newProver(t)
	tok := boundToken(t, as, u, p)
	good := resourceProof(t, p, http.MethodPost, u, "", tok)
	if resp := raw(t, u, "DPoP "+tok, good); resp.StatusCode != http.StatusOK {
		t.Fatalf("a bound token with its proof: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
	refused := map[string][2]string{
		"the same proof again":      {"DPoP " + tok, good},
		"no proof":                  {"DPoP " + tok, ""},
		"another key's proof":       {"DPoP " + tok, resourceProof(t, newProver(t), http.MethodPost, u, "", tok)},
		"a proof for another token": {"DPoP " + tok, resourceProof(t, p, http.MethodPost, u, "", "other")},
		"a proof for GET":           {"DPoP " + tok, resourceProof(t, p, http.MethodGet, u, "", tok)},
		"the Bearer scheme":         {"Bearer " + tok, ""},
		"an unbound Bearer token":   {"Bearer " + boundToken(t, as, u, nil), ""},
	}
	for name, h := range refused {
		resp := raw(t, u, h[0], h[1])
		if ch := wwwauth.DPoP(resp.Header); resp.StatusCode != http.StatusUnauthorized || ch.ErrorCode() == "" {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
	}
	if h := m.Hits(); h.DPoPAuthorized != 1 || h.BadProofs != 5 {
		t.Errorf("hits %+v", h)
	}
}

// TestDPoPModes: what each option puts in the challenge and the metadata, the nonce on
// demand, and a server without DPoP taking the DPoP scheme for no credentials.
func TestDPoPModes(t *testing.T) {
	prm := func(m *mcpserver.Server) map[string]any {
		_, doc := get(t, m.PRMURL(mcpserver.PathMCP))
		return doc
	}
	t.Run("accepting", func(t *testing.T) {
		as, m := dpopEnv(t, mcpserver.Options{DPoP: true})
		resp := raw(t, m.URL(), "", "")
		if b, d := wwwauth.Bearer(resp.Header), wwwauth.DPoP(resp.Header); b == nil || b.ResourceMetadata() == "" || d == nil || len(d.Algs()) == 0 {
			t.Errorf("challenge %q", resp.Header.Values("WWW-Authenticate"))
		}
		if doc := prm(m); doc["dpop_signing_alg_values_supported"] == nil || doc["dpop_bound_access_tokens_required"] != nil {
			t.Errorf("metadata %v", doc)
		}
		if resp := raw(t, m.URL(), "Bearer "+boundToken(t, as, m.URL(), nil), ""); resp.StatusCode != http.StatusOK {
			t.Errorf("an unbound Bearer token: %d", resp.StatusCode)
		}
	})
	t.Run("required", func(t *testing.T) {
		_, m := dpopEnv(t, mcpserver.Options{DPoPRequired: true})
		if doc := prm(m); doc["dpop_bound_access_tokens_required"] != true {
			t.Errorf("metadata %v", doc)
		}
	})
	t.Run("nonce", func(t *testing.T) {
		as, m := dpopEnv(t, mcpserver.Options{DPoPOnly: true, DPoPNonce: true})
		p := newProver(t)
		tok := boundToken(t, as, m.URL(), p)
		resp := raw(t, m.URL(), "DPoP "+tok, resourceProof(t, p, http.MethodPost, m.URL(), "", tok))
		nonce := resp.Header.Get("DPoP-Nonce")
		if resp.StatusCode != http.StatusUnauthorized || wwwauth.DPoP(resp.Header).ErrorCode() != "use_dpop_nonce" || nonce == "" {
			t.Fatalf("without the nonce: %d %q nonce %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"), nonce)
		}
		if resp := raw(t, m.URL(), "DPoP "+tok, resourceProof(t, p, http.MethodPost, m.URL(), nonce, tok)); resp.StatusCode != http.StatusOK {
			t.Errorf("with the nonce: %d", resp.StatusCode)
		}
		if h := m.Hits(); h.DPoPNonceChallenges != 1 || h.DPoPAuthorized != 1 {
			t.Errorf("hits %+v", h)
		}
	})
	t.Run("off", func(t *testing.T) {
		as, m := dpopEnv(t, mcpserver.Options{})
		p := newProver(t)
		tok := boundToken(t, as, m.URL(), p)
		resp := raw(t, m.URL(), "DPoP "+tok, resourceProof(t, p, http.MethodPost, m.URL(), "", tok))
		if resp.StatusCode != http.StatusUnauthorized || wwwauth.DPoP(resp.Header) != nil || wwwauth.Bearer(resp.Header).ErrorCode() != "" {
			t.Errorf("the DPoP scheme at a Bearer server: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
		if resp := raw(t, m.URL(), "Bearer "+tok, ""); resp.StatusCode != http.StatusUnauthorized || wwwauth.Bearer(resp.Header).ErrorCode() != "invalid_token" {
			t.Errorf("a bound token as Bearer at a Bearer server: %d", resp.StatusCode)
		}
	})
}
