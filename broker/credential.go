package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// storedToken is the secret store item for a server's access token, with what a refresh needs
// so that it can run without discovery.
type storedToken struct {
	AccessToken   string    `json:"access_token"`
	TokenType     string    `json:"token_type,omitempty"`
	Expiry        time.Time `json:"expiry,omitzero"`
	IssuedAt      time.Time `json:"issued_at,omitzero"`
	Scope         string    `json:"scope,omitempty"`
	Issuer        string    `json:"issuer,omitempty"`
	TokenEndpoint string    `json:"token_endpoint,omitempty"`
	Resource      string    `json:"resource,omitempty"`
	ClientID      string    `json:"client_id,omitempty"`
}

// Credential is what a request to a server must carry.
type Credential struct {
	// Header is the HTTP header name, usually "Authorization".
	Header string
	// Value is the header's value, e.g. "Bearer <token>". It is a secret.
	Value string
	// Expiry is when an OAuth access token expires; zero when unknown or static.
	Expiry time.Time
	// Scopes are the granted scopes of an OAuth token.
	Scopes []string
	// URL is the server URL the credential is for: the one configured when it was handed out.
	// A caller that relays to a URL it read earlier compares the two (canonically) and must
	// not send the credential when they differ: the server moved, and the credential with it.
	URL string
}

// refreshMargin is how long before expiry a token is refreshed: a minute, or a quarter of its
// lifetime for short-lived tokens, so a token is never handed out just before it dies.
func refreshMargin(t *storedToken) time.Duration {
	margin := time.Minute
	if !t.IssuedAt.IsZero() && !t.Expiry.IsZero() {
		if q := t.Expiry.Sub(t.IssuedAt) / 4; q < margin {
			margin = q
		}
	}
	return margin
}

func (t *storedToken) fresh(now time.Time) bool {
	return t.AccessToken != "" && (t.Expiry.IsZero() || now.Add(refreshMargin(t)).Before(t.Expiry))
}

// Credential returns the credential for a request to the named server, refreshing an OAuth
// token a little before it expires. Refresh runs under the server's cross-process lock and
// re-reads the store after taking it, so however many processes ask at once, one refresh
// request reaches the authorization server and a rotating refresh token is spent once.
//
// It never starts an interactive sign-in: with no usable credential it returns a
// *SignInRequiredError. A server with auth "none" gets a nil Credential.
func (b *Broker) Credential(ctx context.Context, name string) (*Credential, error) {
	srv, err := b.Server(name)
	if err != nil {
		return nil, err
	}
	switch srv.Auth {
	case config.AuthNone:
		return nil, nil
	case config.AuthBearer:
		cred, err := b.staticCredential(ctx, srv)
		if cred != nil {
			cred.URL = srv.URL
		}
		return cred, err
	}
	tok, err := b.loadToken(ctx, name)
	if err != nil {
		return nil, err
	}
	if tok != nil {
		// A token obtained for another URL is neither handed out nor refreshed.
		if err := checkTokenURL(srv, tok); err != nil {
			return nil, err
		}
		if tok.fresh(b.now()) {
			return bearerFor(srv, tok), nil
		}
	}
	err = b.withServerLock(ctx, name, lockWait, func() error {
		// Another process may have refreshed while we waited for the lock.
		if tok, err = b.loadToken(ctx, name); err != nil {
			return err
		}
		if tok != nil {
			if err := checkTokenURL(srv, tok); err != nil || tok.fresh(b.now()) {
				return err
			}
		}
		tok, err = b.renew(ctx, srv, tok)
		return err
	})
	if err != nil {
		return nil, err
	}
	return bearerFor(srv, tok), nil
}

// bearerFor is bearer, for the server srv as configured now.
func bearerFor(srv config.Server, t *storedToken) *Credential {
	c := bearer(t)
	c.URL = srv.URL
	return c
}

func bearer(t *storedToken) *Credential {
	typ := t.TokenType
	if typ == "" || strings.EqualFold(typ, "bearer") {
		typ = "Bearer" // RFC 6750 capitalisation, whatever the server wrote
	}
	return &Credential{Header: "Authorization", Value: typ + " " + t.AccessToken, Expiry: t.Expiry, Scopes: strings.Fields(t.Scope)}
}

func (b *Broker) staticCredential(ctx context.Context, srv config.Server) (*Credential, error) {
	v, err := b.secrets.Get(ctx, staticTokenKey(srv.Name))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "no token is stored: add it with `mcp-broker servers add " + srv.Name + " URL --auth bearer --token-stdin`"}
	}
	if err != nil {
		return nil, err
	}
	if srv.Header == "" || strings.EqualFold(srv.Header, "Authorization") {
		return &Credential{Header: "Authorization", Value: "Bearer " + v}, nil
	}
	return &Credential{Header: srv.Header, Value: v}, nil
}

// renew gets a new access token without a person: a refresh, or for client-credentials servers
// a new grant. It runs under the server lock.
func (b *Broker) renew(ctx context.Context, srv config.Server, old *storedToken) (*storedToken, error) {
	if old == nil {
		if srv.Auth == config.AuthClientCredentials {
			return b.clientCredentialsLogin(ctx, srv)
		}
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "not signed in"}
	}
	client, err := b.loadClient(ctx, srv, old.Issuer)
	if err != nil {
		return nil, err
	}
	if srv.Auth == config.AuthClientCredentials {
		tok, err := oauth.ClientCredentials(ctx, b.http, old.TokenEndpoint, client, old.Scope, old.Resource)
		if err != nil {
			return nil, fmt.Errorf("%s: renewing the client-credentials token: %w", srv.Name, err)
		}
		return b.saveToken(ctx, srv.Name, tok, old.Issuer, old.TokenEndpoint, old.Resource, client.ID)
	}
	rt, err := b.secrets.Get(ctx, refreshKey(srv.Name))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the token expired and the server gave no refresh token"}
	}
	if err != nil {
		return nil, err
	}
	resource := old.Resource
	if srv.NoResourceOnRefresh {
		resource = ""
	}
	b.log.Info("refreshing token", "server", srv.Name)
	tok, err := oauth.Refresh(ctx, b.http, old.TokenEndpoint, client, rt, old.Scope, resource)
	if oauth.IsInvalidGrant(err) {
		// The grant is dead (expired, revoked, or a rotated token replayed). Keeping it would
		// only fail again; the user has to sign in.
		b.forgetToken(ctx, srv.Name)
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the sign-in has expired or was revoked"}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: refreshing the token: %w", srv.Name, err)
	}
	return b.saveToken(ctx, srv.Name, tok, old.Issuer, old.TokenEndpoint, old.Resource, client.ID)
}

// saveToken stores a new grant: the refresh token first, so that a crash between the two writes
// cannot lose a rotated refresh token whose predecessor is already dead.
func (b *Broker) saveToken(ctx context.Context, name string, tok *oauth.Token, issuer, tokenEndpoint, resource, clientID string) (*storedToken, error) {
	tok = b.onClock(tok)
	if tok.RefreshToken != "" {
		if err := b.secrets.Set(ctx, refreshKey(name), tok.RefreshToken); err != nil {
			return nil, fmt.Errorf("%s: storing the refresh token: %w", name, err)
		}
	} else if err := b.secrets.Delete(ctx, refreshKey(name)); err != nil {
		return nil, fmt.Errorf("%s: removing the old refresh token: %w", name, err)
	}
	st := &storedToken{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry, IssuedAt: tok.IssuedAt,
		Scope: tok.Scope, Issuer: issuer, TokenEndpoint: tokenEndpoint, Resource: resource, ClientID: clientID,
	}
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the token: %w", err)
	}
	if err := b.secrets.Set(ctx, tokenKey(name), string(data)); err != nil {
		return nil, fmt.Errorf("%s: storing the access token: %w", name, err)
	}
	err = b.updateState(ctx, func(s *state) {
		s.server(name).Token = &tokenInfo{Issuer: issuer, ClientID: clientID, Scope: tok.Scope, Expiry: tok.Expiry, ObtainedAt: tok.IssuedAt, Refreshable: tok.RefreshToken != ""}
	})
	if err != nil {
		b.log.Warn("updating the state file", "err", err)
	}
	return st, nil
}

// onClock returns tok with its issue and expiry times moved from the wall clock, on which the
// oauth package stamps them, onto the broker's clock (Options.Now), by which the token is judged
// fresh: the two differ when the clock is a test's. Differences under a second are the two
// readings' own, and change nothing.
func (b *Broker) onClock(tok *oauth.Token) *oauth.Token {
	shift := b.now().Sub(time.Now())
	if shift.Abs() < time.Second {
		return tok
	}
	moved := *tok
	moved.IssuedAt = moved.IssuedAt.Add(shift)
	if !moved.Expiry.IsZero() {
		moved.Expiry = moved.Expiry.Add(shift)
	}
	return &moved
}

func (b *Broker) loadToken(ctx context.Context, name string) (*storedToken, error) {
	raw, err := b.secrets.Get(ctx, tokenKey(name))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the access token: %w", name, err)
	}
	var st storedToken
	if err := json.Unmarshal([]byte(raw), &st); err != nil || st.AccessToken == "" {
		// Not ours or damaged: treat as absent, so a sign-in replaces it.
		return nil, nil
	}
	return &st, nil
}

// forgetToken drops the access and refresh tokens (best effort: used on paths that already fail).
func (b *Broker) forgetToken(ctx context.Context, name string) {
	for _, k := range []string{refreshKey(name), tokenKey(name)} {
		if err := b.secrets.Delete(ctx, k); err != nil {
			b.log.Warn("deleting a secret", "server", name, "err", err)
		}
	}
	if err := b.updateState(ctx, func(s *state) { s.server(name).Token = nil }); err != nil {
		b.log.Warn("updating the state file", "err", err)
	}
}

// Refresh renews the named server's token after the server rejected it (a 401 mid-session),
// even though it has not expired. rejected is the Credential.Value that was refused: when the
// stored token is already another one (a different process refreshed first), nothing is sent
// and the current credential is returned, so a burst of 401s costs one refresh.
func (b *Broker) Refresh(ctx context.Context, name, rejected string) (*Credential, error) {
	srv, err := b.Server(name)
	if err != nil {
		return nil, err
	}
	if srv.Auth != config.AuthOAuth && srv.Auth != config.AuthClientCredentials {
		return nil, &SignInRequiredError{Server: name, Reason: "the server rejected the stored token"}
	}
	var tok *storedToken
	err = b.withServerLock(ctx, name, lockWait, func() error {
		if tok, err = b.loadToken(ctx, name); err != nil {
			return err
		}
		if tok != nil {
			if err := checkTokenURL(srv, tok); err != nil {
				return err
			}
		}
		if tok != nil && bearer(tok).Value != rejected && tok.fresh(b.now()) {
			return nil
		}
		tok, err = b.renew(ctx, srv, tok)
		return err
	})
	if err != nil {
		return nil, err
	}
	return bearerFor(srv, tok), nil
}
