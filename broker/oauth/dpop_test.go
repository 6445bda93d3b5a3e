package oauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// dpopEndpoint is a token endpoint that wants a DPoP nonce (RFC 9449 §8) and records the
// claims of the proofs it got, checked with go-jose.
type dpopEndpoint struct {
	t      *testing.T
	nonce  string
	mu     sync.Mutex
	proofs []map[string]any
	forms  []string
}

func (e *dpopEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var claims map[string]any
	if p := r.Header.Values("DPoP"); len(p) == 1 {
		sig, err := jose.ParseSignedCompact(p[0], []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || sig.Signatures[0].Protected.JSONWebKey == nil {
			e.t.Errorf("not a proof: %v", err)
		} else if payload, err := sig.Verify(sig.Signatures[0].Protected.JSONWebKey); err != nil {
			e.t.Errorf("the proof does not verify: %v", err)
		} else {
			_ = json.Unmarshal(payload, &claims)
		}
	} else if len(p) > 1 {
		e.t.Errorf("%d DPoP headers", len(p))
	}
	e.mu.Lock()
	e.proofs = append(e.proofs, claims)
	e.forms = append(e.forms, string(body))
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if claims != nil && claims["nonce"] != e.nonce {
		w.Header().Set("DPoP-Nonce", e.nonce)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"use_dpop_nonce"}`)
		return
	}
	tt := "Bearer"
	if claims != nil {
		tt = "DPoP"
	}
	io.WriteString(w, `{"access_token":"AT","token_type":"`+tt+`","refresh_token":"RT2","expires_in":60}`)
}

// TestTokenRequestsCarryDPoP: with WithDPoP, the code exchange, the refresh
// and the client-credentials grant (with a secret or a private key) each send a proof for the
// token endpoint, are asked for a nonce and make the request again with a new proof that has
// it, and get a DPoP token; without it they send no proof.
func TestTokenRequestsCarryDPoP(t *testing.T) {
	key, err := jws.GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	prover, err := dpop.NewProver(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	public := &Client{ID: "cid", AuthMethod: AuthNone}
	confidential := &Client{ID: "cid", Secret: "sec", AuthMethod: AuthClientSecretBasic}
	clientKey, err := jws.GenerateES256()
	if err != nil {
		t.Fatal(err)
	}
	signing := &Client{ID: "cid", Issuer: "https://as.example", Key: clientKey, AuthMethod: AuthPrivateKeyJWT}
	grants := map[string]func(ctx context.Context, tokenURL string) (*Token, error){
		"authorization_code": func(ctx context.Context, tokenURL string) (*Token, error) {
			req, err := NewAuthRequest(AuthRequestParams{AuthorizationEndpoint: "https://as.example/authorize", Client: public, RedirectURI: "http://127.0.0.1:1/callback"})
			if err != nil {
				return nil, err
			}
			return Exchange(ctx, nil, tokenURL, public, req, "code")
		},
		"refresh_token": func(ctx context.Context, tokenURL string) (*Token, error) {
			return Refresh(ctx, nil, tokenURL, public, "RT", "", "https://mcp.example/mcp")
		},
		"client_credentials": func(ctx context.Context, tokenURL string) (*Token, error) {
			return ClientCredentials(ctx, nil, tokenURL, confidential, "", "https://mcp.example/mcp")
		},
		"client_credentials with private_key_jwt": func(ctx context.Context, tokenURL string) (*Token, error) {
			return ClientCredentials(ctx, nil, tokenURL, signing, "", "https://mcp.example/mcp")
		},
	}
	for grant, request := range grants {
		t.Run(grant, func(t *testing.T) {
			e := &dpopEndpoint{t: t, nonce: "as-nonce-" + strings.ReplaceAll(grant, " ", "-")}
			srv := httptest.NewServer(e)
			defer srv.Close()
			nonces := &dpop.Nonces{}
			tok, err := request(WithDPoP(t.Context(), prover, nonces), srv.URL+"/token")
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "DPoP" || tok.DPoPJKT != prover.Thumbprint() {
				t.Errorf("token_type %q bound to %q, want DPoP bound to %q", tok.TokenType, tok.DPoPJKT, prover.Thumbprint())
			}
			if len(e.proofs) != 2 || e.proofs[0] == nil || e.proofs[1] == nil {
				t.Fatalf("%d requests (proofs %v), want a proof, use_dpop_nonce, and a proof with the nonce", len(e.proofs), e.proofs)
			}
			first, retry := e.proofs[0], e.proofs[1]
			if first["jti"] == retry["jti"] || retry["nonce"] != e.nonce || first["nonce"] != nil {
				t.Errorf("first proof %v, retry %v", first, retry)
			}
			for _, c := range e.proofs {
				if c["htm"] != "POST" || c["htu"] != srv.URL+"/token" || c["ath"] != nil {
					t.Errorf("proof claims %v", c)
				}
			}
			// The request is made anew: the same grant, and for private_key_jwt a new client
			// assertion, since its jti must not repeat.
			form1, form2 := formOf(t, e.forms[0]), formOf(t, e.forms[1])
			if form1.Get("grant_type") != strings.Fields(grant)[0] || form1.Get("grant_type") != form2.Get("grant_type") {
				t.Errorf("the retry sent %q after %q", e.forms[1], e.forms[0])
			}
			if a := form1.Get("client_assertion"); a != "" && a == form2.Get("client_assertion") {
				t.Error("the retry sent the same client assertion again")
			}

			// Without WithDPoP: no proof, a Bearer token.
			e2 := &dpopEndpoint{t: t}
			srv2 := httptest.NewServer(e2)
			defer srv2.Close()
			tok, err = request(t.Context(), srv2.URL+"/token")
			if err != nil || tok.TokenType != "Bearer" || tok.DPoPJKT != "" || len(e2.proofs) != 1 || e2.proofs[0] != nil {
				t.Errorf("without DPoP: %v, %+v, proofs %v", err, tok, e2.proofs)
			}
		})
	}
}

// TestDPoPIgnoredByTheServer: a server that takes no notice of the proof answers Bearer, and
// the token is not taken for a bound one.
func TestDPoPIgnoredByTheServer(t *testing.T) {
	_, tokenURL := newTokenEndpoint(t, 200, okBody)
	key, _ := jws.GenerateES256()
	prover, _ := dpop.NewProver(key, nil)
	tok, err := Refresh(WithDPoP(t.Context(), prover, &dpop.Nonces{}), nil, tokenURL, &Client{ID: "cid", AuthMethod: AuthNone}, "RT", "", "")
	if err != nil || tok.TokenType != "Bearer" || tok.DPoPJKT != "" {
		t.Errorf("Refresh = %+v, %v; want an unbound Bearer token", tok, err)
	}
}

func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	f, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
