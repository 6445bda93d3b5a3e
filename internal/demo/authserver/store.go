package authserver

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"slices"
	"time"
)

// authCode is an issued authorization code and what it was issued for.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string // S256 code_challenge
	scopes      []string
	resource    string
	expiry      time.Time
	subject     string // the user who approved
	used        bool
	issued      *family // tokens issued from it, revoked if the code is replayed
	// noRefresh withholds the refresh token (Mimic).
	noRefresh bool
}

// family groups every token descending from one grant (one code exchange or
// one client_credentials grant). Revoking it kills them all: that is what
// happens on refresh token reuse (OAuth 2.1 §4.3.1, "refresh token rotation").
type family struct {
	clientID string
	subject  string
	revoked  bool
	// started is when the grant began: a session limit (Options.SessionMax) counts from it.
	started time.Time
}

// accessToken is an issued access token.
type accessToken struct {
	info TokenInfo
	fam  *family
}

// refreshToken is an issued refresh token. Rotation marks it used; a used
// token presented again revokes its family.
type refreshToken struct {
	fam      *family
	scopes   []string // the scopes of the original grant (RFC 6749 §6)
	resource string
	used     bool
}

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// IDToken is the OpenID Connect ID token (Options.OpenID).
	IDToken string `json:"id_token,omitempty"`
	// IssuedTokenType is the type of an exchanged token (RFC 8693 §2.2.1).
	IssuedTokenType string `json:"issued_token_type,omitempty"`

	// RefreshLifetime is the refresh token's own lifetime in seconds (Mimic.RefreshExpiry),
	// sent under the name Mimic.RefreshExpiry gives; never sent as itself.
	RefreshLifetime *int64 `json:"-"`

	// subject is the grant's resource owner, for its ID token; never sent.
	subject string
}

// Verify reports what the access token was issued for, or false when it is
// unknown, expired or revoked. It is what a resource server calls.
func (s *Server) Verify(token string) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.access[token]
	if !ok || at.fam.revoked || !s.now().Before(at.info.Expiry) {
		return TokenInfo{}, false
	}
	info := at.info
	info.Scopes = slices.Clone(info.Scopes)
	return info, true
}

// issueLocked mints an access token (and a refresh token when withRefresh)
// in family f. s.mu must be held.
func (s *Server) issueLocked(f *family, scopes, grantScopes []string, resource string, withRefresh bool) tokenResponse {
	now := s.now()
	at := randomToken()
	s.access[at] = &accessToken{
		fam: f,
		info: TokenInfo{
			ClientID: f.clientID,
			Subject:  f.subject,
			Scopes:   slices.Clone(scopes),
			Resource: resource,
			Expiry:   now.Add(s.ttl),
		},
	}
	resp := tokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int64(s.ttl.Round(time.Second) / time.Second),
		Scope:       joinScopes(scopes),
		subject:     f.subject,
	}
	if withRefresh {
		rt := randomToken()
		s.refresh[rt] = &refreshToken{fam: f, scopes: slices.Clone(grantScopes), resource: resource}
		resp.RefreshToken = rt
		if s.opts.Mimic.RefreshExpiry != "" {
			var left int64
			if m := s.opts.SessionMax; m > 0 {
				left = max(int64(f.started.Add(m).Sub(now)/time.Second), 0)
			}
			resp.RefreshLifetime = &left
		}
	}
	if s.opts.Hostile.NoAccessToken {
		resp.AccessToken = ""
	}
	return resp
}

// newFamilyLocked starts a token family. s.mu must be held.
func (s *Server) newFamilyLocked(clientID, subject string) *family {
	f := &family{clientID: clientID, subject: subject, started: s.now()}
	s.families = append(s.families, f)
	return f
}

// randomToken returns 256 random bits, base64url: opaque codes, tokens,
// secrets and ids.
func randomToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand docs)
	return b
}

// secretParams are the parameters whose values never leave the server.
var secretParams = []string{"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "access_token", "token", "assertion", "subject_token", "device_code"}

// redact copies form, replacing secret values by Redacted.
func redact(form map[string][]string) url.Values {
	out := cloneValues(form)
	for _, k := range secretParams {
		if vs, ok := out[k]; ok {
			for i := range vs {
				vs[i] = Redacted
			}
		}
	}
	return out
}

func cloneValues(v map[string][]string) url.Values {
	if v == nil {
		return url.Values{}
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
