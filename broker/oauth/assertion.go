package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Grant and token type identifiers of the assertion grants.
const (
	// GrantJWTBearer is the JWT bearer grant (RFC 7523 §2.1).
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// GrantTokenExchange is the token exchange grant (RFC 8693 §2.1).
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// TokenTypeIDToken is an OpenID Connect ID token as a token exchange's subject token
	// (RFC 8693 §3).
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	// TokenTypeIDJAG is the Identity Assertion JWT Authorization Grant (ID-JAG), the token an
	// identity provider issues for enterprise-managed authorization (SEP-990).
	TokenTypeIDJAG = "urn:ietf:params:oauth:token-type:id-jag"
)

// AssertionAuthMethod picks how a client authenticates with an assertion grant. With a
// secret, as ChooseAuthMethod; without one, "none": the client names itself with client_id
// and the assertion vouches for the request (RFC 7523 §3.1 makes client authentication
// optional there), whatever the server lists for the code flow.
func AssertionAuthMethod(supported []string, haveSecret bool) (string, error) {
	if !haveSecret {
		return AuthNone, nil
	}
	return ChooseAuthMethod(supported, ProofSecret)
}

// JWTBearer requests an access token with the JWT bearer grant (RFC 7523 §2.1): assertion is
// the JWT (a workload's identity token, or an ID-JAG from an identity provider), sent as it
// is; scope and resource are sent when not empty. The client authenticates as c says. A
// refusal is a *TokenError; the caller must not retry it with the same assertion.
func JWTBearer(ctx context.Context, hc *http.Client, tokenURL string, c *Client, assertion, scope, resource string) (*Token, error) {
	if assertion == "" {
		return nil, errors.New("the JWT bearer grant needs an assertion")
	}
	form := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	tok, err := post(ctx, hc, tokenURL, c, form, "jwt-bearer")
	if err != nil {
		return nil, err
	}
	if tok.Scope == "" {
		tok.Scope = scope
	}
	return tok, nil
}

// TokenExchangeParams is an RFC 8693 token exchange request.
type TokenExchangeParams struct {
	// SubjectToken and SubjectTokenType are the token exchanged and its type
	// (TokenTypeIDToken for an ID token). SubjectToken is a secret.
	SubjectToken, SubjectTokenType string
	// RequestedTokenType is the type asked for (TokenTypeIDJAG); the answer must be of it.
	RequestedTokenType string
	// Audience is where the new token is to be used: for an ID-JAG, the issuer of the MCP
	// server's authorization server.
	Audience string
	// Resource is the RFC 8707 resource the new token is for: the MCP server.
	Resource string
	// Scope is the space-separated scope asked for, or "".
	Scope string
}

// TokenExchange exchanges a token at an authorization server's token endpoint (RFC 8693 §2),
// authenticating as c says. The token it returns is in AccessToken, whatever its type (RFC
// 8693 keeps the name for history), with IssuedTokenType set; an answer of another type than
// the one requested is an error, as is one without an issued_token_type (§2.2.1 requires it).
func TokenExchange(ctx context.Context, hc *http.Client, tokenURL string, c *Client, p TokenExchangeParams) (*Token, error) {
	if p.SubjectToken == "" || p.SubjectTokenType == "" {
		return nil, errors.New("a token exchange needs a subject token and its type")
	}
	form := url.Values{
		"grant_type":         {GrantTokenExchange},
		"subject_token":      {p.SubjectToken},
		"subject_token_type": {p.SubjectTokenType},
	}
	for k, v := range map[string]string{"requested_token_type": p.RequestedTokenType, "audience": p.Audience, "resource": p.Resource, "scope": p.Scope} {
		if v != "" {
			form.Set(k, v)
		}
	}
	tok, err := post(ctx, hc, tokenURL, c, form, "token-exchange")
	if err != nil {
		return nil, err
	}
	switch {
	case tok.IssuedTokenType == "":
		return nil, errors.New("the token exchange answer has no issued_token_type")
	case p.RequestedTokenType != "" && tok.IssuedTokenType != p.RequestedTokenType:
		return nil, fmt.Errorf("the token exchange issued a %s, not the %s asked for", sanitize(tok.IssuedTokenType, 100), p.RequestedTokenType)
	}
	if tok.Scope == "" {
		tok.Scope = p.Scope
	}
	return tok, nil
}
