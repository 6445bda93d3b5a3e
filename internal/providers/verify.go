package providers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// verifyTimeout bounds one call to the provider while checking a token: the resource
// server's Verifier has no context of its own.
const verifyTimeout = 10 * time.Second

// Neither hydra nor the zitadel example implements resource indicators (RFC 8707): they
// ignore the client's resource parameter, and their tokens name the client as audience
// rather than the MCP server. The Verifiers here therefore bind every valid token to the one
// MCP server they guard (resource): the checks that remain are the provider's own, the
// token is active (signed by the provider, from its issuer, not expired or revoked).

// Ledger counts, per access token, the requests a Verifier let through. It keeps each
// token's SHA-256, never the token: a test asks about a token it holds.
type Ledger struct {
	mu   sync.Mutex
	uses map[[sha256.Size]byte]int
}

func (l *Ledger) record(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.uses == nil {
		l.uses = map[[sha256.Size]byte]int{}
	}
	l.uses[sha256.Sum256([]byte(token))]++
}

// Uses returns how many requests token authorized.
func (l *Ledger) Uses(token string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uses[sha256.Sum256([]byte(token))]
}

// Distinct returns how many different tokens authorized requests.
func (l *Ledger) Distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.uses)
}

// Introspector is a resource server's token check by introspection (RFC 7662) at hydra's
// admin API, as hydra's own deployments check its opaque access tokens. It satisfies
// mcpserver.Verifier.
type Introspector struct {
	// Ledger counts the tokens let through.
	Ledger
	endpoint string
	resource string
	hc       *http.Client
}

// Introspector returns a check of hydra's access tokens for the MCP server at resource.
func (h *Hydra) Introspector(resource string) *Introspector {
	return &Introspector{endpoint: h.Admin + "/admin/oauth2/introspect", resource: resource, hc: &http.Client{Timeout: verifyTimeout}}
}

// Verify implements mcpserver.Verifier: the token is valid while hydra says it is an active
// access token (a refresh token is active too, but is no bearer credential).
func (v *Introspector) Verify(token string) (authserver.TokenInfo, bool) {
	resp, err := v.hc.PostForm(v.endpoint, url.Values{"token": {token}})
	if err != nil {
		return authserver.TokenInfo{}, false
	}
	defer resp.Body.Close()
	var in struct {
		Active   bool   `json:"active"`
		TokenUse string `json:"token_use"`
		ClientID string `json:"client_id"`
		Subject  string `json:"sub"`
		Scope    string `json:"scope"`
		Exp      int64  `json:"exp"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&in) != nil {
		return authserver.TokenInfo{}, false
	}
	if !in.Active || in.TokenUse != "access_token" {
		return authserver.TokenInfo{}, false
	}
	v.record(token)
	return authserver.TokenInfo{ClientID: in.ClientID, Subject: in.Subject, Scopes: strings.Fields(in.Scope),
		Resource: v.resource, Expiry: time.Unix(in.Exp, 0)}, true
}

// JWTVerifier is a resource server's check of JWT access tokens with the provider's JWKS
// (RFC 9068 style: signature, issuer, expiry, with no leeway). It satisfies
// mcpserver.Verifier.
type JWTVerifier struct {
	// Ledger counts the tokens let through.
	Ledger
	issuer, jwksURL, resource string
	hc                        *http.Client

	mu   sync.Mutex
	keys jose.JSONWebKeySet
}

// JWTVerifier returns a check of the provider's JWT access tokens for the MCP server at
// resource.
func (z *Zitadel) JWTVerifier(resource string) *JWTVerifier {
	return &JWTVerifier{issuer: z.Issuer, jwksURL: z.jwksURI, resource: resource, hc: &http.Client{Timeout: verifyTimeout}}
}

// Verify implements mcpserver.Verifier.
func (v *JWTVerifier) Verify(token string) (authserver.TokenInfo, bool) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(tok.Headers) != 1 {
		return authserver.TokenInfo{}, false
	}
	key, ok := v.key(tok.Headers[0].KeyID)
	if !ok {
		return authserver.TokenInfo{}, false
	}
	var claims struct {
		jwt.Claims
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if err := tok.Claims(key, &claims); err != nil {
		return authserver.TokenInfo{}, false
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, Time: time.Now()}, 0); err != nil || claims.Expiry == nil {
		return authserver.TokenInfo{}, false
	}
	v.record(token)
	return authserver.TokenInfo{ClientID: claims.ClientID, Subject: claims.Subject, Scopes: strings.Fields(claims.Scope),
		Resource: v.resource, Expiry: claims.Expiry.Time()}, true
}

// key returns the provider's public key kid, fetching the JWKS again when it is not known
// yet (the provider may have rotated its keys).
func (v *JWTVerifier) key(kid string) (*jose.JSONWebKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k := v.keys.Key(kid); len(k) == 1 {
		return &k[0], true
	}
	ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
	defer cancel()
	keys, err := fetchJWKS(ctx, v.hc, v.jwksURL)
	if err != nil {
		return nil, false
	}
	v.keys = keys
	if k := v.keys.Key(kid); len(k) == 1 {
		return &k[0], true
	}
	return nil, false
}

func fetchJWKS(ctx context.Context, hc *http.Client, u string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return set, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return set, fmt.Errorf("fetching the JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, fmt.Errorf("fetching the JWKS: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return set, fmt.Errorf("decoding the JWKS: %w", err)
	}
	return set, nil
}
