package broker

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/provider"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// storedToken is the secret store item for a server's grant: its access and refresh token,
// with what a refresh needs so that it can run without discovery.
//
// Since grantFormat, the refresh token is in this one item with the access token, so the two
// change together: no reader sees one new and the other old, and a crash leaves the old grant
// or the new one (the store switches even a value split across items at once). Grants stored
// before (Format 0) keep their refresh token in an item of its own (refreshKey); they are read
// as they are and move to one item at their next refresh.
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
	// RefreshToken is the grant's refresh token ("" for none), from grantFormat on.
	RefreshToken string `json:"refresh_token,omitempty"`
	// Format is grantFormat for a grant stored as one item, 0 for the old layout.
	Format int `json:"format,omitempty"`
	// Grant names this stored grant: a new random value at every save. After an invalid_grant
	// it tells whether the store still holds the grant that was refused, without comparing
	// secrets.
	Grant string `json:"grant,omitempty"`
	// DPoPJKT is the thumbprint of the DPoP key (dpopKey) the grant is bound to, "" for a
	// Bearer grant: its access token goes with a proof of that key, and so do its renewals.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Account is whose the grant is, when the server said (see identify); a refresh keeps it,
	// unless it brings a new ID token.
	Account *Account `json:"account,omitempty"`
	// IDToken is the OpenID Connect ID token the token endpoint returned with the grant ("" for
	// none), and IDExpiry its exp claim: what a server configured to be sent the ID token
	// (config.Server.SendToken) gets. A secret, kept with the grant it came with.
	IDToken  string    `json:"id_token,omitempty"`
	IDExpiry time.Time `json:"id_expiry,omitzero"`
	// RefreshExpiry is when RefreshToken expires, where the server said (oauth.Token's).
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	// SignedInAt is when the person signed in to start this grant; its refreshes keep it.
	// Zero for a grant without a person, or stored before it was kept.
	SignedInAt time.Time `json:"signed_in_at,omitzero"`
}

// sentTo is the grant as srv is sent it. A server configured to be sent the ID token gets the
// ID token in the access token's place, due when the first of the two expires (and, when no ID
// token is stored, nothing: an empty token is never fresh, so it is renewed). Any other server
// gets t itself.
func (t *storedToken) sentTo(srv config.Server) *storedToken {
	if t == nil || srv.SendToken != provider.TokenID {
		return t
	}
	v := *t
	// An ID token is a bearer token: no DPoP key is bound to it (RFC 9449 binds access tokens).
	v.AccessToken, v.TokenType, v.DPoPJKT = t.IDToken, "Bearer", ""
	if !t.IDExpiry.IsZero() && (v.Expiry.IsZero() || t.IDExpiry.Before(v.Expiry)) {
		v.Expiry = t.IDExpiry
	}
	return &v
}

// grantFormat marks a storedToken that holds its refresh token.
const grantFormat = 2

// Credential is what a request to a server must carry.
type Credential struct {
	// Header is the HTTP header name, usually "Authorization".
	Header string
	// Value is the header's value, e.g. "Bearer <token>". It is a secret.
	Value string
	// Expiry is when an OAuth access token expires; zero when unknown or static.
	Expiry time.Time
	// ReuseUntil is the moment until which the credential may be reused without asking the
	// broker again: from then on the broker renews the token (a refresh, or for a
	// client-credentials server a new grant), a minute before it expires or, for a token that
	// lives less than four minutes, a quarter of its lifetime before. A caller that caches the
	// credential reuses it while its clock reads before ReuseUntil and asks again at
	// ReuseUntil. The broker computes it by the rule it refreshes by, so a cache and the broker
	// never disagree on when a token is due. It is a wall-clock time without a monotonic
	// reading, like the stored expiry, so it reads the same whether the token was just
	// obtained or read back from the store.
	//
	// It is zero when the credential has no end the broker knows of (a static token, an OAuth
	// token without expiry): the broker hands it out as it is until it is replaced, and a
	// cache picks how often to read it again to notice that.
	ReuseUntil time.Time
	// Scopes are the granted scopes of an OAuth token.
	Scopes []string
	// URL is the server URL the credential is for: the one configured when it was handed out.
	// A caller that relays to a URL it read earlier compares the two (canonically) and must
	// not send the credential when they differ: the server moved, and the credential with it.
	URL string
	// DPoP, for a token bound to a key (RFC 9449), signs the proof each request presenting it
	// must carry (see Authorize); nil for every other credential. Its Value is then
	// "DPoP <token>".
	DPoP *dpop.Prover
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

// reuseUntil is the moment from which the broker renews the token (refreshMargin before it
// expires), and until which a holder of it may reuse it: Credential.ReuseUntil. Zero for a
// token without expiry. It is on the wall clock (Round(0) drops the monotonic reading a token
// just obtained still has), so that it compares the same before and after the store.
func (t *storedToken) reuseUntil() time.Time {
	if t.Expiry.IsZero() {
		return time.Time{}
	}
	return t.Expiry.Add(-refreshMargin(t)).Round(0)
}

// fresh reports whether the token may still be handed out at now, rather than renewed.
func (t *storedToken) fresh(now time.Time) bool {
	until := t.reuseUntil()
	return t.AccessToken != "" && (until.IsZero() || now.Before(until))
}

// Credential returns the credential for a request to the named server, refreshing an OAuth
// token a little before it expires. Refresh runs under the server's cross-process lock and
// re-reads the store after taking it, so however many processes ask at once, one refresh
// request reaches the authorization server and a rotating refresh token is spent once.
//
// It never starts an interactive sign-in: with no usable credential it returns a
// *SignInRequiredError. A server with auth "none" gets a nil Credential.
func (b *Broker) Credential(ctx context.Context, name string) (*Credential, error) {
	cred, err := b.credential(ctx, name)
	return cred, wrap(OpCredential, name, err)
}

// credential is Credential, with errors that do not name the server: see OpError.
func (b *Broker) credential(ctx context.Context, name string) (*Credential, error) {
	ctx = b.learning(ctx, name)
	srv, err := b.server(name)
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
		if tok.sentTo(srv).fresh(b.now()) {
			return b.credentialFor(ctx, srv, tok)
		}
	}
	err = b.withServerLock(ctx, name, lockWait, func() error {
		// Another process may have refreshed while we waited for the lock.
		if tok, err = b.loadToken(ctx, name); err != nil {
			return err
		}
		if tok != nil {
			if err := checkTokenURL(srv, tok); err != nil || tok.sentTo(srv).fresh(b.now()) {
				return err
			}
		}
		tok, err = b.renew(ctx, srv, tok)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b.credentialFor(ctx, srv, tok)
}

// bearerFor is bearer, for the server srv as configured now: with the token it is sent (see
// sentTo).
func bearerFor(srv config.Server, t *storedToken) *Credential {
	c := bearer(t.sentTo(srv))
	c.URL = srv.URL
	return c
}

func bearer(t *storedToken) *Credential {
	typ := t.TokenType
	switch {
	case t.DPoPJKT != "":
		typ = dpop.Scheme // RFC 9449 §7.1: a bound token goes with the DPoP scheme
	case typ == "" || strings.EqualFold(typ, "bearer"):
		typ = "Bearer" // RFC 6750 capitalisation, whatever the server wrote
	}
	return &Credential{Header: "Authorization", Value: typ + " " + t.AccessToken, Expiry: t.Expiry, ReuseUntil: t.reuseUntil(), Scopes: strings.Fields(t.Scope)}
}

func (b *Broker) staticCredential(ctx context.Context, srv config.Server) (*Credential, error) {
	v, err := b.secrets.Get(ctx, staticTokenKey(srv.Name))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, hint.With(&SignInRequiredError{Server: srv.Name, Reason: "no token is stored"}, hint.StoreToken)
	}
	if err != nil {
		return nil, err
	}
	if srv.Header == "" || strings.EqualFold(srv.Header, "Authorization") {
		return &Credential{Header: "Authorization", Value: "Bearer " + v}, nil
	}
	return &Credential{Header: srv.Header, Value: v}, nil
}

// renew gets a new access token without a person: a refresh, or for client-credentials,
// workload and enterprise servers a new grant. It runs under the server lock.
func (b *Broker) renew(ctx context.Context, srv config.Server, old *storedToken) (*storedToken, error) {
	switch srv.Auth {
	case config.AuthWorkload:
		tok, err := b.workloadGrant(ctx, srv, old, LoginOptions{})
		return tok, b.grantRenewalFailed(ctx, srv.Name, err)
	case config.AuthEnterprise:
		tok, err := b.enterpriseGrant(ctx, srv, old, LoginOptions{})
		return tok, b.grantRenewalFailed(ctx, srv.Name, err)
	}
	if old == nil {
		if srv.Auth == config.AuthClientCredentials {
			tok, err := b.clientCredentialsLogin(ctx, srv)
			return tok, b.grantRenewalFailed(ctx, srv.Name, err)
		}
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "not signed in"}
	}
	client, err := b.loadClient(ctx, srv, old.Issuer)
	if err != nil {
		return nil, err
	}
	if ctx, err = b.dpopForGrant(ctx, srv.Name, old); err != nil {
		return nil, err
	}
	if srv.Auth == config.AuthClientCredentials {
		tok, err := oauth.ClientCredentials(ctx, b.http, old.TokenEndpoint, client, old.Scope, old.Resource)
		trace(ctx, srv.Name, StepToken, err)
		if err != nil {
			return nil, b.grantRenewalFailed(ctx, srv.Name, fmt.Errorf("renewing the client-credentials token: %w", err))
		}
		return b.saveGrant(ctx, srv.Name, tok, old.Issuer, old.TokenEndpoint, old.Resource, client.ID, old.Format < grantFormat, nil, time.Time{})
	}
	rt, err := b.refreshToken(ctx, srv.Name, old)
	if err != nil {
		return nil, err
	}
	if rt == "" {
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the token expired and the server gave no refresh token"}
	}
	// The profile and the settings the sign-in applied decide whether resource goes too.
	prof, _ := provider.Resolve(srv.Provider, old.Issuer, old.TokenEndpoint)
	resource := prof.RefreshResource(old.Resource, signInSettings(srv))
	b.log.Info("refreshing token", "server", srv.Name)
	tok, err := oauth.Refresh(ctx, b.http, old.TokenEndpoint, client, rt, old.Scope, resource)
	trace(ctx, srv.Name, StepRefresh, err)
	if oauth.IsInvalidGrant(err) {
		// The grant is dead (expired, revoked, or a rotated token replayed). Keeping it would
		// only fail again; the user has to sign in. Unless the store holds a newer grant by
		// now: that one is kept, and used when fresh.
		newer := b.forgetGrant(ctx, srv.Name, old, rt)
		if newer == nil {
			b.renewalRefused(ctx, srv.Name, old)
		} else if newer.sentTo(srv).fresh(b.now()) {
			return newer, nil
		}
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the sign-in has expired or was revoked"}
	}
	if err != nil {
		b.renewalFailed(ctx, srv.Name, err)
		return nil, fmt.Errorf("refreshing the token: %w", err)
	}
	if tok.RefreshExpiry.IsZero() && tok.RefreshToken == rt {
		// The same refresh token, kept: its expiry is still the one said with it.
		tok.RefreshExpiry = old.RefreshExpiry
	}
	// The grant's account stays, unless the refresh brought a new ID token to say it anew.
	acct := old.Account
	if a := b.idTokenAccount(srv.Name, tok.IDToken, old.Issuer, client.ID); a != nil {
		acct = a
	}
	st, err := b.saveGrant(ctx, srv.Name, tok, old.Issuer, old.TokenEndpoint, old.Resource, client.ID, old.Format < grantFormat, acct, old.SignedInAt)
	if err == nil && srv.SendToken == provider.TokenID && st.IDToken == "" {
		// Saved all the same: the refresh token may have rotated.
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the refresh brought no ID token, and the server is sent the ID token"}
	}
	return st, err
}

// saveToken stores a new grant obtained without a person (client credentials, a workload's or
// an enterprise grant), of no known account: see saveGrant. An old-layout refresh token item
// may be left from before, so it is deleted.
func (b *Broker) saveToken(ctx context.Context, name string, tok *oauth.Token, issuer, tokenEndpoint, resource, clientID string) (*storedToken, error) {
	return b.saveGrant(ctx, name, tok, issuer, tokenEndpoint, resource, clientID, true, nil, time.Time{})
}

// saveGrant stores a new grant, of acct (nil when unknown): its access and refresh token in
// one item, written with one Set (see storedToken). With oldLayout, the refresh token item of
// the old layout is deleted afterwards, on a best-effort basis: a grant in one item never
// reads it. signedIn is when the person signed in to start the grant: a sign-in passes now (on
// the broker's clock), a refresh its grant's, and a grant without a person zero. Saving a
// grant ends any episode of failed renewals (RenewalFailure).
func (b *Broker) saveGrant(ctx context.Context, name string, tok *oauth.Token, issuer, tokenEndpoint, resource, clientID string, oldLayout bool, acct *Account, signedIn time.Time) (*storedToken, error) {
	tok = b.onClock(tok)
	tok, assumed := b.assumeExpiry(name, tok)
	st := &storedToken{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry, IssuedAt: tok.IssuedAt,
		Scope: tok.Scope, Issuer: issuer, TokenEndpoint: tokenEndpoint, Resource: resource, ClientID: clientID,
		RefreshToken: tok.RefreshToken, Format: grantFormat, Grant: rand.Text(), DPoPJKT: tok.DPoPJKT, Account: acct,
		IDToken: tok.IDToken, RefreshExpiry: tok.RefreshExpiry, SignedInAt: signedIn.Round(0),
	}
	if tok.IDToken != "" {
		// Unverified, as the server it is sent to will verify it: its exp says only when to
		// renew it.
		if c, err := oauth.ParseIDToken(tok.IDToken); err == nil && !c.Expiry.IsZero() {
			st.IDExpiry = c.Expiry
		}
	}
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the token: %w", err)
	}
	if err := b.secrets.Set(ctx, tokenKey(name), string(data)); err != nil {
		return nil, fmt.Errorf("storing the token: %w", err)
	}
	if oldLayout {
		if err := b.secrets.Delete(ctx, refreshKey(name)); err != nil {
			b.log.Warn("deleting the refresh token of the old layout", "server", name, "err", err)
		}
	}
	err = b.updateState(ctx, func(s *state) {
		s.server(name).Token = &tokenInfo{Issuer: issuer, ClientID: clientID, Scope: tok.Scope, Expiry: tok.Expiry, ObtainedAt: tok.IssuedAt,
			Refreshable: tok.RefreshToken != "", DPoP: tok.DPoPJKT != "", Account: acct, ExpiryAssumed: assumed, Deviations: tok.Deviations,
			RefreshExpiry: tok.RefreshExpiry, SignedInAt: signedIn.Round(0)}
		s.server(name).RenewalFailure = nil
		if lim := s.server(name).SessionLimit; lim > 0 && !signedIn.IsZero() && tok.IssuedAt.Sub(signedIn) > lim {
			// This sign-in outlived the limit learnt: it was no limit (an idle timeout, a
			// revocation), and warning of it again would be wrong.
			s.server(name).SessionLimit = 0
		}
	})
	if err != nil {
		b.log.Warn("updating the state file", "err", err)
	}
	return st, nil
}

// refreshToken returns the refresh token of the grant t ("" for none): from t itself, or for
// the old layout from its own item.
func (b *Broker) refreshToken(ctx context.Context, name string, t *storedToken) (string, error) {
	if t.Format >= grantFormat {
		return t.RefreshToken, nil
	}
	rt, err := b.secrets.Get(ctx, refreshKey(name))
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the refresh token: %w", err)
	}
	return rt, nil
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
	if !moved.RefreshExpiry.IsZero() {
		moved.RefreshExpiry = moved.RefreshExpiry.Add(shift)
	}
	return &moved
}

func (b *Broker) loadToken(ctx context.Context, name string) (*storedToken, error) {
	raw, err := b.secrets.Get(ctx, tokenKey(name))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the access token: %w", err)
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

// forgetGrant forgets the server's grant after the authorization server refused its refresh
// token refusedRT, but only if the store still holds that very grant: it re-reads the store
// (under the server lock, which every writer of grants holds) and compares grant names, or
// for the old layout the tokens themselves, in memory. A newer grant, such as a write of
// another process that landed late, is kept and returned. When the store cannot be read, the
// grant is kept too: deleting blind could destroy a newer one.
func (b *Broker) forgetGrant(ctx context.Context, name string, refused *storedToken, refusedRT string) *storedToken {
	cur, err := b.loadToken(ctx, name)
	if err != nil {
		b.log.Warn("re-reading the grant after invalid_grant; keeping it", "server", name, "err", err)
		return nil
	}
	if cur != nil && !sameGrant(cur, refused) {
		b.log.Info("a newer grant was stored while its predecessor was refused; keeping it", "server", name)
		return cur
	}
	if cur != nil && cur.Format < grantFormat {
		// The old layout's refresh token has an item of its own, which may have changed alone.
		rt, err := b.refreshToken(ctx, name, cur)
		if err != nil {
			b.log.Warn("re-reading the refresh token after invalid_grant; keeping it", "server", name, "err", err)
			return nil
		}
		if !sameSecret(rt, refusedRT) {
			return cur
		}
	}
	b.forgetToken(ctx, name)
	return nil
}

// sameGrant reports whether two stored grants are one: by their names from grantFormat on,
// by their access tokens before.
func sameGrant(a, b *storedToken) bool {
	if a.Format != b.Format {
		return false
	}
	if a.Format >= grantFormat {
		return a.Grant == b.Grant
	}
	return sameSecret(a.AccessToken, b.AccessToken)
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Refresh renews the named server's token after the server rejected it (a 401 mid-session),
// even though it has not expired. rejected is the Credential.Value that was refused: when the
// stored token is already another one (a different process refreshed first), nothing is sent
// and the current credential is returned, so a burst of 401s costs one refresh. When the
// server's metadata names another authorization server than the token's, the token is not
// renewed: an OAuth server then needs a sign-in (a *SignInRequiredError), and a
// client-credentials, workload or enterprise server gets a new grant from the new one.
func (b *Broker) Refresh(ctx context.Context, name, rejected string) (*Credential, error) {
	cred, err := b.refresh(ctx, name, rejected)
	return cred, wrap(OpCredential, name, err)
}

// refresh is Refresh, with errors that do not name the server: see OpError.
func (b *Broker) refresh(ctx context.Context, name, rejected string) (*Credential, error) {
	ctx = b.learning(ctx, name)
	srv, err := b.server(name)
	if err != nil {
		return nil, err
	}
	if !renewable(srv.Auth) {
		err := error(&SignInRequiredError{Server: name, Reason: "the server rejected the stored token"})
		if srv.Auth == config.AuthBearer {
			err = hint.With(err, hint.StoreToken) // a static token is replaced, not signed in for
		}
		return nil, err
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
			sent := tok.sentTo(srv)
			if bearer(sent).Value != rejected {
				if sent.fresh(b.now()) {
					return nil
				}
			} else if now := b.movedTo(ctx, srv, tok); now != "" {
				// The grant belongs to the old authorization server: renewed there, it would
				// only be refused again. A new one comes from the new server, with a client of
				// its own (see planClient and checkIssuer).
				b.log.Info("the server names another authorization server; not renewing the old one's token", "server", name, "was", tok.Issuer, "now", now)
				if srv.Auth != config.AuthOAuth {
					// Grants without a person start over at the server the metadata names now.
					tok, err = b.renew(ctx, srv, nil)
					return err
				}
				return &SignInRequiredError{Server: name, Reason: "the server moved to another sign-in server"}
			}
		}
		tok, err = b.renew(ctx, srv, tok)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b.credentialFor(ctx, srv, tok)
}

// movedTo returns the issuer of the authorization server the server's metadata names now, when
// that is not the one tok is from, and "" otherwise. The server refused tok: the usual reason
// is a revoked or expired token, renewed at tok's own server, but a server moved to another
// authorization server (MCP 2026-07-28, "Authorization Server Binding") refuses the old one's
// tokens for good, and only discovery tells the two apart. When discovery fails, the token is
// renewed as before: a server that cannot be read has not shown that it moved.
func (b *Broker) movedTo(ctx context.Context, srv config.Server, tok *storedToken) string {
	if tok.Issuer == "" {
		return ""
	}
	res, err := b.fetcher().Discover(ctx, srv.URL)
	if err != nil || res.AuthServer == nil {
		if err != nil {
			b.log.Info("discovery after a refused token failed; renewing the token at its own authorization server", "server", srv.Name, "err", err)
		}
		return ""
	}
	if res.AuthServer.Issuer == tok.Issuer {
		return ""
	}
	return res.AuthServer.Issuer
}

// renewable reports whether servers of the auth mode hold tokens that the broker renews.
func renewable(mode config.AuthMode) bool {
	switch mode {
	case config.AuthOAuth, config.AuthClientCredentials, config.AuthWorkload, config.AuthEnterprise:
		return true
	}
	return false
}
