package oauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// AuthRequest is one authorization attempt (RFC 6749 §4.1.1 with PKCE, RFC 7636). It is used
// once: every attempt gets a fresh verifier and state. Verifier and State are secrets of the
// attempt and are never logged.
type AuthRequest struct {
	URL         string // the URL to open in the browser
	State       string
	Verifier    string
	RedirectURI string
	Scope       string
	Resource    string
	// Issuer is recorded with state and verifier (RFC 9207): the redirect's iss must equal it.
	Issuer string
	// RequireISS is set when the server advertises authorization_response_iss_parameter_supported.
	RequireISS bool
}

// AuthRequestParams describes the authorization request to build.
type AuthRequestParams struct {
	AuthorizationEndpoint string
	Issuer                string
	RequireISS            bool
	Client                *Client
	RedirectURI           string
	Scope                 string // space-separated; empty omits the parameter
	Resource              string // RFC 8707 resource indicator; always sent for MCP
	// Prompt is the OpenID Connect prompt parameter (OpenID Connect Core §3.1.2.1), or "":
	// "consent" makes an identity provider issue a refresh token for offline_access.
	Prompt string
	// Params are further parameters a provider wants (access_type, audience, a user's own: see
	// package provider); a prompt among them replaces Prompt. They may not name a parameter
	// the request sets itself (response_type, client_id, redirect_uri, state, the PKCE
	// challenge, scope, resource).
	Params url.Values
}

// ownParams are the parameters NewAuthRequest sets itself, which Params may not replace.
var ownParams = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", "resource"}

// NewAuthRequest builds an authorization URL with S256 PKCE, a random state and the resource.
func NewAuthRequest(p AuthRequestParams) (*AuthRequest, error) {
	if p.Client == nil || p.Client.ID == "" {
		return nil, errors.New("no client id to authorize with")
	}
	if _, err := url.Parse(p.AuthorizationEndpoint); err != nil {
		return nil, fmt.Errorf("parsing the authorization endpoint: %w", err)
	}
	state, err := randomToken()
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	cfg := &oauth2.Config{
		ClientID:    p.Client.ID,
		Endpoint:    oauth2.Endpoint{AuthURL: p.AuthorizationEndpoint},
		RedirectURL: p.RedirectURI,
		Scopes:      strings.Fields(p.Scope),
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if p.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", p.Resource))
	}
	if p.Prompt != "" && !p.Params.Has("prompt") {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p.Prompt))
	}
	keys := make([]string, 0, len(p.Params))
	for k := range p.Params {
		if slices.Contains(ownParams, k) {
			return nil, fmt.Errorf("the authorization parameter %q is the sign-in's own", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		opts = append(opts, oauth2.SetAuthURLParam(k, p.Params.Get(k)))
	}
	return &AuthRequest{
		URL:         cfg.AuthCodeURL(state, opts...),
		State:       state,
		Verifier:    verifier,
		RedirectURI: p.RedirectURI,
		Scope:       p.Scope,
		Resource:    p.Resource,
		Issuer:      p.Issuer,
		RequireISS:  p.RequireISS,
	}, nil
}

// Errors of the redirect back to us. When state or iss is wrong the rest of the response is
// not trusted, not even an error it carries (RFC 9207 §2.4).
var (
	ErrStateMismatch = errors.New("the sign-in response does not belong to this sign-in (state mismatch): it was ignored; try again")
	ErrISSMissing    = errors.New("the sign-in response lacks the issuer (iss) that the authorization server promised to send: it was ignored")
	ErrISSMismatch   = errors.New("the sign-in response comes from a different authorization server (iss mismatch): it was ignored")
)

// CheckRedirect verifies the state and, per RFC 9207, the iss of a redirect back to us. It
// must pass before the code is redeemed or an error in the redirect is believed.
func (a *AuthRequest) CheckRedirect(state, iss string) error {
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(a.State)) != 1 {
		return ErrStateMismatch
	}
	if iss == "" {
		if a.RequireISS {
			return ErrISSMissing
		}
		return nil
	}
	// Present iss must match exactly even when the server did not advertise it.
	if iss != a.Issuer {
		return ErrISSMismatch
	}
	return nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
