package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"golang.org/x/oauth2"
)

// maxTokenResponse caps a token endpoint response; real ones are a few kilobytes.
const maxTokenResponse = 1 << 20

// Token is what a token endpoint granted. AccessToken and RefreshToken are secrets.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// RefreshExpiry is when the refresh token itself expires, where the server says so beside
	// it: refresh_expires_in (Keycloak) or refresh_token_expires_in (GitHub Apps, Entra ID
	// B2C), neither of them in RFC 6749. Zero when it is not said, or said as 0 (Keycloak's
	// word for an offline token that does not expire).
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	// Scope is the granted scope (RFC 6749 §5.1); when the server leaves it out, the scope requested.
	Scope    string    `json:"scope,omitempty"`
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// IDToken is the OpenID Connect ID token of a sign-in at an identity provider (OpenID
	// Connect Core §3.1.3.3), or "". A secret.
	IDToken string `json:"id_token,omitempty"`
	// IssuedTokenType is the type of a token exchange's token (RFC 8693 §2.2.1), or "".
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	// DPoPJKT is the thumbprint of the key the token is bound to (RFC 9449 §6: its cnf.jkt),
	// "" for a Bearer token: set when the request carried a proof (WithDPoP) and the server
	// answered token_type DPoP.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Deviations are the ways the token endpoint departed from RFC 6749 in granting it, each
	// worked around (see Deviation).
	Deviations []Deviation `json:"-"`
}

// Scopes returns Scope split on spaces.
func (t *Token) Scopes() []string { return strings.Fields(t.Scope) }

// TokenError is an error response of a token endpoint (RFC 6749 §5.2), or a response that is not
// one. It never holds the request's secrets nor the raw body.
type TokenError struct {
	Grant       string // "authorization_code", "refresh_token", "client_credentials"
	Status      int
	Code        string // e.g. "invalid_grant"; empty when the server sent no error code
	Description string // sanitized error_description
	// AlsoAsJSON is set when the server's refusal of the form showed it had not read it, and
	// the request sent again as JSON was refused too (see send): the error is the form's.
	AlsoAsJSON bool
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token endpoint refused the %s request", strings.ReplaceAll(e.Grant, "_", " "))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	} else if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " (%s)", e.Description)
	}
	if e.AlsoAsJSON {
		b.WriteString("; sent again as JSON, it was refused too")
	}
	return b.String()
}

// IsInvalidGrant reports whether err says the grant (code or refresh token) is dead:
// RFC 6749 §5.2 invalid_grant. For a refresh token it means the user must sign in again.
func IsInvalidGrant(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Code == "invalid_grant"
}

// ErrNoAccessToken is returned when a token response is a success without an access_token.
var ErrNoAccessToken = errors.New("the token endpoint answered without an access_token")

// Exchange redeems an authorization code (RFC 6749 §4.1.3) with the PKCE verifier and the
// resource indicator. The state and iss of the redirect must have been checked already.
func Exchange(ctx context.Context, hc *http.Client, tokenURL string, c *Client, req *AuthRequest, code string) (*Token, error) {
	return againWithNonce(ctx, func() (*Token, error) { return exchange(ctx, hc, tokenURL, c, req, code) })
}

func exchange(ctx context.Context, hc *http.Client, tokenURL string, c *Client, req *AuthRequest, code string) (*Token, error) {
	if _, err := c.authStyle(); err != nil {
		// The browser flow does not offer private_key_jwt: refuse before the code leaves.
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	for k, v := range map[string]string{"redirect_uri": req.RedirectURI, "code_verifier": req.Verifier, "resource": req.Resource} {
		if v != "" {
			form.Set(k, v)
		}
	}
	tok, err := post(ctx, tokenClient(ctx, hc), tokenURL, c, form, "authorization_code")
	if err != nil {
		return nil, err
	}
	if tok.Scope == "" {
		tok.Scope = req.Scope
	}
	return bound(ctx, tok), nil
}

// ClientCredentials requests a token with the client-credentials grant (RFC 6749 §4.4). The
// client authenticates as registered: with its secret, or with a client assertion signed by its
// key (private_key_jwt, RFC 7523 §2.2), which x/oauth2's clientcredentials cannot send.
func ClientCredentials(ctx context.Context, hc *http.Client, tokenURL string, c *Client, scope, resource string) (*Token, error) {
	return againWithNonce(ctx, func() (*Token, error) { return clientCredentials(ctx, hc, tokenURL, c, scope, resource) })
}

func clientCredentials(ctx context.Context, hc *http.Client, tokenURL string, c *Client, scope, resource string) (*Token, error) {
	if c.Proof() == ProofNone {
		return nil, errors.New("the client-credentials grant needs a client secret or a private key")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	tok, err := post(ctx, tokenClient(ctx, hc), tokenURL, c, form, "client_credentials")
	if err != nil {
		return nil, err
	}
	if tok.Scope == "" {
		tok.Scope = scope
	}
	return bound(ctx, tok), nil
}

// Refresh uses a refresh token (RFC 6749 §6), sending resource when it is not empty. The caller
// must replace the stored refresh token with the returned one: authorization servers rotate them
// (OAuth 2.1 §4.3.1) and the old one is dead once this returns. When the server does not rotate,
// the returned Token carries the old refresh token.
func Refresh(ctx context.Context, hc *http.Client, tokenURL string, c *Client, refreshToken, scope, resource string) (*Token, error) {
	return againWithNonce(ctx, func() (*Token, error) { return refresh(ctx, hc, tokenURL, c, refreshToken, scope, resource) })
}

func refresh(ctx context.Context, hc *http.Client, tokenURL string, c *Client, refreshToken, scope, resource string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if resource != "" {
		form.Set("resource", resource)
	}
	tok, err := post(ctx, tokenClient(ctx, hc), tokenURL, c, form, "refresh_token")
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	if tok.Scope == "" {
		tok.Scope = scope
	}
	return bound(ctx, tok), nil
}

// post sends a token request (see send) with hc (tokenClient's, for the grants that carry DPoP
// proofs) and reads its answer; grant names it in errors.
func post(ctx context.Context, hc *http.Client, tokenURL string, c *Client, form url.Values, grant string) (*Token, error) {
	now := time.Now()
	resp, how, err := send(ctx, hc, tokenURL, c, form)
	if err != nil {
		return nil, fmt.Errorf("requesting a token: %w", err)
	}
	defer resp.Body.Close()
	tok, err := parseTokenResponse(resp, grant, now)
	var te *TokenError
	if errors.As(err, &te) && how == refusedBoth {
		te.AlsoAsJSON = true
	}
	if err != nil {
		return nil, err
	}
	if how == sentJSON {
		tok.Deviations = addDeviation(tok.Deviations, DeviationJSONBody)
	}
	return tok, nil
}

// tokenResponse is an RFC 6749 §5.1 or §5.2 response body. expires_in is kept raw: servers
// write it in ways the RFC does not (see Deviation).
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	RefreshToken string          `json:"refresh_token"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	Scope        string          `json:"scope"`
	IDToken      string          `json:"id_token"`
	IssuedType   string          `json:"issued_token_type"`
	Error        string          `json:"error"`
	Description  string          `json:"error_description"`

	// RefreshExpiresIn and RefreshTokenExpiresIn are the refresh token's own lifetime, by the
	// names Keycloak and GitHub Apps (and Entra ID B2C) give it; raw, as expires_in.
	RefreshExpiresIn      json.RawMessage `json:"refresh_expires_in"`
	RefreshTokenExpiresIn json.RawMessage `json:"refresh_token_expires_in"`
}

// readBody reads the body of resp, the what ("token response") of an endpoint, refusing one
// larger than limit bytes: an endpoint that does not stop talking is not read to its end.
func readBody(resp *http.Response, limit int, what string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading the %s: %w", what, err)
	}
	if len(body) > limit {
		return nil, fmt.Errorf("the %s is larger than %d bytes", what, limit)
	}
	return body, nil
}

// parseTokenResponse reads an RFC 6749 §5.1/§5.2 response: JSON, or the form-encoded body
// some servers (GitHub's OAuth apps among them) send when they ignore Accept, as x/oauth2
// reads it too. It tolerates the deviations of expires_in and token_type (see Deviation) and
// records them in the Token.
func parseTokenResponse(resp *http.Response, grant string, now time.Time) (*Token, error) {
	body, err := readBody(resp, maxTokenResponse, "token response")
	if err != nil {
		return nil, err
	}
	var tj tokenResponse
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	jsonErr := json.Unmarshal(body, &tj)
	if jsonErr != nil && (ct == "application/x-www-form-urlencoded" || ct == "text/plain") {
		if vals, err := url.ParseQuery(string(body)); err == nil {
			tj, jsonErr = formTokenResponse(vals), nil
		}
	}
	failed := resp.StatusCode < 200 || resp.StatusCode > 299
	if failed || tj.Error != "" {
		return nil, &TokenError{Grant: grant, Status: resp.StatusCode, Code: sanitize(tj.Error, 64), Description: sanitize(tj.Description, 200)}
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("the token endpoint answered with %q that is not a JSON token response", ct)
	}
	if tj.AccessToken == "" {
		return nil, ErrNoAccessToken
	}
	tok := &Token{AccessToken: tj.AccessToken, TokenType: tj.TokenType, RefreshToken: tj.RefreshToken, Scope: tj.Scope, IssuedAt: now,
		IDToken: tj.IDToken, IssuedTokenType: tj.IssuedType}
	switch {
	case tj.TokenType == "":
		tok.TokenType = "Bearer"
		tok.Deviations = append(tok.Deviations, DeviationNoTokenType)
	case strings.EqualFold(tj.TokenType, "Bearer") && tj.TokenType != "Bearer":
		tok.TokenType = "Bearer"
		tok.Deviations = append(tok.Deviations, DeviationTokenTypeCase)
	}
	secs, dev := expiresIn(tj.ExpiresIn)
	if secs > 0 {
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	}
	if dev != "" {
		tok.Deviations = append(tok.Deviations, dev)
	}
	if secs := refreshLifetime(tj); secs > 0 {
		// Said of the refresh token sent, or, on a refresh that sent none, of the one kept.
		tok.RefreshExpiry = now.Add(time.Duration(secs) * time.Second)
	}
	return tok, nil
}

// refreshLifetime is the refresh token's own lifetime in seconds, read as expires_in is (a
// number or the string of one), from refresh_expires_in or else refresh_token_expires_in; 0
// when neither says one. Keycloak's 0 for an offline token (no expiry of its own) reads as
// none said. Writing it oddly is no deviation: neither name is in RFC 6749.
func refreshLifetime(tj tokenResponse) int64 {
	for _, raw := range []json.RawMessage{tj.RefreshExpiresIn, tj.RefreshTokenExpiresIn} {
		if len(raw) == 0 {
			continue
		}
		if secs, _ := expiresIn(raw); secs > 0 {
			return secs
		}
	}
	return 0
}

// formTokenResponse reads a form-encoded token response, where every value is a string: an
// expires_in of digits is a number there, and no deviation.
func formTokenResponse(v url.Values) tokenResponse {
	tj := tokenResponse{
		AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"), RefreshToken: v.Get("refresh_token"),
		Scope: v.Get("scope"), IDToken: v.Get("id_token"), IssuedType: v.Get("issued_token_type"),
		Error: v.Get("error"), Description: v.Get("error_description"),
	}
	if e := v.Get("expires_in"); e != "" {
		tj.ExpiresIn, _ = json.Marshal(e)
		if _, err := strconv.ParseUint(e, 10, 63); err == nil {
			tj.ExpiresIn = json.RawMessage(e)
		}
	}
	// GitHub's OAuth apps answer in this form, and a GitHub App's refresh token has a lifetime.
	for name, dst := range map[string]*json.RawMessage{"refresh_expires_in": &tj.RefreshExpiresIn, "refresh_token_expires_in": &tj.RefreshTokenExpiresIn} {
		if e := v.Get(name); e != "" {
			*dst, _ = json.Marshal(e)
		}
	}
	return tj
}

// expiresIn reads expires_in, the token's lifetime in seconds (RFC 6749 §5.1): a JSON number,
// or the string of one (DeviationExpiresInString). Anything else, none at all, or a lifetime
// under a second, is no lifetime known (DeviationNoExpiresIn: 0 seconds). A lifetime beyond
// 2^31 seconds is capped there, as x/oauth2 does.
func expiresIn(raw json.RawMessage) (int64, Deviation) {
	text, dev := string(raw), Deviation("")
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, DeviationNoExpiresIn
		}
		text, dev = strings.TrimSpace(s), DeviationExpiresInString
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || !(f >= 1) {
		return 0, DeviationNoExpiresIn
	}
	return int64(min(f, math.MaxInt32)), dev
}

// dpopContextKey marks a context made by WithDPoP.
type dpopContextKey struct{}

type dpopProofs struct {
	prover *dpop.Prover
	nonces *dpop.Nonces
}

// WithDPoP makes the token requests sent with ctx (Exchange, Refresh, ClientCredentials) carry
// a DPoP proof of prover (RFC 9449 §5), with the nonce the authorization server last supplied
// in nonces, and be made once more when it answers use_dpop_nonce (§8: see againWithNonce).
// An authorization server that binds tokens then answers with token_type "DPoP".
//
// The proofs are added by a transport (dpop.Transport) on the token requests' client rather
// than by each grant: a transport signs each request as it is sent, so a redirect within the
// origin, or a request sent again as JSON (see send), gets a proof of its own. Registration and
// revocation requests never carry one.
func WithDPoP(ctx context.Context, prover *dpop.Prover, nonces *dpop.Nonces) context.Context {
	return context.WithValue(ctx, dpopContextKey{}, dpopProofs{prover, nonces})
}

// againWithNonce runs send, and once more when the authorization server answered
// use_dpop_nonce to a request with a DPoP proof (RFC 9449 §8): the proofs' transport has kept
// the nonce it supplied, and send builds the request anew, with a new proof that carries it.
// The request is built again rather than sent again because a private_key_jwt request holds a
// client assertion whose jti must not repeat. The code of an exchange is not spent by the
// refusal: the server asks for the nonce before it looks at the grant.
func againWithNonce(ctx context.Context, send func() (*Token, error)) (*Token, error) {
	tok, err := send()
	var te *TokenError
	if _, on := ctx.Value(dpopContextKey{}).(dpopProofs); on && errors.As(err, &te) && te.Code == dpop.ErrUseNonce {
		return send()
	}
	return tok, err
}

// bound sets tok.DPoPJKT when the request carried a proof (ctx was made by WithDPoP) and the
// server bound the token to its key: token_type DPoP (RFC 9449 §5). A server that ignored the
// proof answers Bearer, and its token is a Bearer token.
func bound(ctx context.Context, tok *Token) *Token {
	if d, ok := ctx.Value(dpopContextKey{}).(dpopProofs); ok && strings.EqualFold(tok.TokenType, dpop.Scheme) {
		tok.DPoPJKT = d.prover.Thumbprint()
	}
	return tok
}

// tokenClient is the client of a token request: guard(hc), through a dpop.Transport when ctx
// was made by WithDPoP.
func tokenClient(ctx context.Context, hc *http.Client) *http.Client {
	c := guard(hc)
	if d, ok := ctx.Value(dpopContextKey{}).(dpopProofs); ok {
		if dc, err := dpop.Client(c, d.prover, d.nonces); err == nil {
			return dc
		}
	}
	return c
}

// defaultClient is the client of the calls given none: one, so that they share connections.
var defaultClient = sync.OnceValue(func() *http.Client {
	return httpclient.New(httpclient.WithTimeout(30 * time.Second))
})

// guard returns hc with the redirect policy of package httpclient: a redirect within the
// origin is followed, one that leaves it (with a request marked by httpclient.WithCredential)
// is refused.
func guard(hc *http.Client) *http.Client {
	if hc == nil {
		return defaultClient()
	}
	return httpclient.Guard(hc)
}

// redactURLError keeps transport errors but drops the URL's query, which never holds secrets in
// our requests today but might in a future one, or in a server's redirect. A refused redirect
// is returned as it is: its text names both origins and the *url.Error around it adds only the
// Location.
func redactURLError(err error) error {
	if re := (*httpclient.RedirectError)(nil); errors.As(err, &re) {
		return re
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// sanitize keeps text from a remote server printable and short before it reaches a terminal.
func sanitize(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if len([]rune(s)) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}

// clientPost builds a form POST to an endpoint of the authorization server that authenticates
// the client (token, revocation), as the client was registered: HTTP Basic, client_id and
// client_secret in the body, or a client assertion signed by its key. With asJSON the body is
// the same parameters as a JSON object, for servers that read nothing else (see BodyFormats).
// The request carries a secret (or an assertion, as good as one while it lives), so it is
// marked for the redirect policy (httpclient.WithCredential). The client's parameters are set
// in form, replacing those of an earlier call: a retry gets a fresh assertion.
func clientPost(ctx context.Context, endpoint string, c *Client, form url.Values, asJSON bool) (*http.Request, error) {
	basic := false
	if c.AuthMethod == AuthPrivateKeyJWT {
		assertion, err := clientAssertion(c, time.Now())
		if err != nil {
			return nil, err
		}
		// client_id is optional beside an assertion (RFC 7521 §4.2); it lets the server find
		// the client's key before it reads the assertion.
		form.Set("client_id", c.ID)
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", assertion)
	} else {
		style, err := c.authStyle()
		if err != nil {
			return nil, err
		}
		basic = style == oauth2.AuthStyleInHeader
		if !basic {
			form.Set("client_id", c.ID)
			if c.Secret != "" {
				form.Set("client_secret", c.Secret)
			}
		}
	}
	body, contentType := []byte(form.Encode()), "application/x-www-form-urlencoded"
	if asJSON {
		var err error
		if body, err = jsonBody(form); err != nil {
			return nil, fmt.Errorf("encoding the request as JSON: %w", err)
		}
		contentType = "application/json"
	}
	r, err := http.NewRequestWithContext(httpclient.WithCredential(ctx), http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, redactURLError(err)
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Accept", "application/json")
	if basic {
		r.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return r, nil
}
