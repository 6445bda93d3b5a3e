package broker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/lock"
	"github.com/mcp-broker/mcp-broker/broker/loopback"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// An identity provider (IdP) is a company's OpenID Connect provider. A person signs in to it
// once (IdPLogin); every server configured with auth enterprise and that IdP then gets its
// tokens from that one sign-in, without a consent page of its own (see enterpriseGrant). The
// sign-in (its ID token and refresh token) is one secret store item keyed by the IdP's issuer,
// its non-secret description is in state.json, and it is refreshed under a lock of the IdP's.

// OpIdP is what the identity provider methods (AddIdP, IdPLogin, ...) do; their OpError names
// the identity provider where the others name a server.
const OpIdP Op = "use the identity provider"

// idpSession is the secret store item of a sign-in at an identity provider.
type idpSession struct {
	IDToken      string    `json:"id_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"` // the ID token's exp
	IssuedAt     time.Time `json:"issued_at,omitzero"`
	// TokenEndpoint is the identity provider's, for refresh and token exchange.
	TokenEndpoint string `json:"token_endpoint"`
	// ClientID and AuthMethod are the client the sign-in was made with, and how it
	// authenticates at the token endpoint.
	ClientID   string `json:"client_id"`
	AuthMethod string `json:"token_endpoint_auth_method"`
	Subject    string `json:"sub,omitempty"`
	Email      string `json:"email,omitempty"`
	// Grant names the stored sign-in, anew at every save (see storedToken.Grant).
	Grant string `json:"grant"`
}

// idpInfo is the state file's description of a sign-in at an identity provider.
type idpInfo struct {
	ClientID    string    `json:"client_id"`
	Subject     string    `json:"sub,omitempty"`
	Email       string    `json:"email,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	SignedInAt  time.Time `json:"signed_in_at,omitzero"`
	Refreshable bool      `json:"refreshable"`
}

// usableAt reports whether the sign-in still yields ID tokens at now without a person.
func (i *idpInfo) usableAt(now time.Time) bool {
	return i != nil && (i.Refreshable || i.Expiry.IsZero() || now.Before(i.Expiry))
}

// reuseUntil is when the ID token is renewed: as an access token is (refreshMargin).
func (s *idpSession) reuseUntil() time.Time {
	return (&storedToken{Expiry: s.Expiry, IssuedAt: s.IssuedAt}).reuseUntil()
}

func (s *idpSession) fresh(now time.Time) bool {
	until := s.reuseUntil()
	return s.IDToken != "" && (until.IsZero() || now.Before(until))
}

// IdPSignInRequiredError says the person must sign in to an identity provider: once done, every
// server configured with it gets its tokens by itself. It matches ErrSignInRequired, so that a
// bridge waits for the sign-in as it does for any other.
type IdPSignInRequiredError struct {
	IdP    string
	Reason string
	// Err is the identity provider's refusal that ended the sign-in (an *oauth.TokenError
	// with invalid_grant), nil when there was no sign-in to renew: it tells a renewal the
	// provider refused from one nobody had signed in for.
	Err error
}

func (e *IdPSignInRequiredError) Error() string {
	msg := fmt.Sprintf("sign-in to the identity provider %s required", e.IdP)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg
}

// Hint is the next step: sign in to the identity provider.
func (e *IdPSignInRequiredError) Hint() hint.Hint { return hint.SignInIdP }

// Is makes errors.Is(err, ErrSignInRequired) true.
func (e *IdPSignInRequiredError) Is(target error) bool { return target == ErrSignInRequired }

// Unwrap is the identity provider's refusal, if any.
func (e *IdPSignInRequiredError) Unwrap() error { return e.Err }

// IdPStatus is what `idp list` and the tray show of an identity provider. It holds no secret.
type IdPStatus struct {
	config.IdP
	// SignedIn is true while the sign-in yields ID tokens without a person.
	SignedIn bool `json:"signed_in"`
	// Subject and Email say whose sign-in it is.
	Subject string `json:"sub,omitempty"`
	Email   string `json:"email,omitempty"`
	// Expiry is the ID token's.
	Expiry *time.Time `json:"expiry,omitempty"`
	// Servers are the servers configured with it, sorted.
	Servers []string `json:"servers"`
}

// IdPs reports every configured identity provider; see ReadIdPStatus.
func (b *Broker) IdPs() ([]IdPStatus, error) { return ReadIdPStatus(b.configPath, b.now()) }

// ReadIdPStatus reports every identity provider configured in configPath, from the
// configuration and the state file only (never the secret store), like ReadStatus.
func ReadIdPStatus(configPath string, now time.Time) ([]IdPStatus, error) {
	f, st, err := readStatusFiles(configPath)
	if err != nil {
		return nil, err
	}
	return idpStatus(f, st, now), nil
}

// idpStatus is every configured identity provider's status, from the configuration f and the
// state st.
func idpStatus(f *config.File, st *state, now time.Time) []IdPStatus {
	out := make([]IdPStatus, 0, len(f.IdPs))
	for _, p := range f.IdPs {
		s := IdPStatus{IdP: p}
		if info := st.IdPs[p.Issuer]; info != nil && info.ClientID == p.ClientID {
			s.SignedIn, s.Subject, s.Email = info.usableAt(now), info.Subject, info.Email
			if !info.Expiry.IsZero() {
				e := info.Expiry
				s.Expiry = &e
			}
		}
		s.Servers = serversWithIdP(f, p.Name)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b IdPStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AddIdP adds or replaces an identity provider. secret, when not empty, is the client secret of
// this program's client there (a public client, signing in with PKCE, has none). Changing an
// identity provider's issuer or client id forgets its sign-in, which was made with the old ones.
func (b *Broker) AddIdP(ctx context.Context, p config.IdP, secret string) error {
	if err := config.ValidateIdPName(p.Name); err != nil {
		return wrap(OpIdP, "", err)
	}
	return wrap(OpIdP, p.Name, b.addIdP(ctx, p, secret))
}

func (b *Broker) addIdP(ctx context.Context, p config.IdP, secret string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var old *config.IdP
	err := config.Update(ctx, b.configPath, func(f *config.File) error {
		for _, q := range f.IdPs {
			if q.Issuer == p.Issuer && q.Name != p.Name {
				// Secrets are keyed by issuer: two names for one would share a sign-in.
				return fmt.Errorf("the identity provider %q has this issuer already", q.Name)
			}
		}
		if o, ok := f.IdP(p.Name); ok {
			prev := *o
			old = &prev
		}
		f.PutIdP(p)
		return nil
	})
	if err != nil {
		return err
	}
	if old != nil && (old.Issuer != p.Issuer || old.ClientID != p.ClientID) {
		if err := b.forgetIdPSession(ctx, old.Issuer); err != nil {
			return err
		}
		if old.Issuer != p.Issuer {
			if err := b.secrets.Delete(ctx, idpClientSecretKey(old.Issuer)); err != nil {
				return fmt.Errorf("deleting the old client secret: %w", err)
			}
		}
	}
	if secret != "" {
		if err := b.secrets.Set(ctx, idpClientSecretKey(p.Issuer), secret); err != nil {
			return fmt.Errorf("storing the client secret: %w", err)
		}
	}
	return nil
}

// RemoveIdP removes an identity provider, its sign-in and its client secret. One that servers
// are configured with stays: they would be left without a way to sign in.
func (b *Broker) RemoveIdP(ctx context.Context, name string) error {
	return wrap(OpIdP, name, b.removeIdP(ctx, name))
}

func (b *Broker) removeIdP(ctx context.Context, name string) error {
	p, err := b.idp(name)
	if err != nil {
		return err
	}
	if users := b.idpServers(name); len(users) > 0 {
		return fmt.Errorf("servers %s are configured with it: remove them, or configure them otherwise, first", strings.Join(users, ", "))
	}
	if err := b.forgetIdPSession(ctx, p.Issuer); err != nil {
		return err
	}
	if err := b.secrets.Delete(ctx, idpClientSecretKey(p.Issuer)); err != nil {
		return fmt.Errorf("deleting the client secret: %w", err)
	}
	return config.Update(ctx, b.configPath, func(f *config.File) error {
		for _, s := range f.Servers {
			if s.Auth == config.AuthEnterprise && s.IdP == name {
				return fmt.Errorf("server %s was just configured with it", s.Name)
			}
		}
		f.RemoveIdP(name)
		return nil
	})
}

// idp returns the configured identity provider of that name.
func (b *Broker) idp(name string) (config.IdP, error) {
	f, err := config.Load(b.configPath)
	if err != nil {
		return config.IdP{}, err
	}
	p, ok := f.IdP(name)
	if !ok {
		return config.IdP{}, &config.UnknownIdPError{Name: name}
	}
	return *p, nil
}

// idpServers names the servers configured with the identity provider, sorted (none on error).
func (b *Broker) idpServers(name string) []string {
	f, err := config.Load(b.configPath)
	if err != nil {
		return nil
	}
	return serversWithIdP(f, name)
}

// serversWithIdP names the enterprise servers of f configured with the identity provider
// name, sorted; an empty list, never nil, when there are none.
func serversWithIdP(f *config.File, name string) []string {
	out := []string{}
	for _, s := range f.Servers {
		if s.Auth == config.AuthEnterprise && s.IdP == name {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// IdPLoginOptions tune a sign-in at an identity provider.
type IdPLoginOptions struct {
	// NoBrowser prints the URL instead of opening a browser.
	NoBrowser bool
	// IDToken, when set, is an ID token the person already holds (a machine signed in some
	// other way): it is checked (issuer, audience, expiry) and kept, and no browser opens. It
	// cannot be renewed: once it expires, the person signs in again.
	IDToken string
}

// IdPLoginResult describes a finished sign-in at an identity provider, without secrets: whose
// it is, and the servers that got their tokens from it at once.
type IdPLoginResult struct {
	IdP     string
	Subject string
	Email   string
	Expiry  time.Time // the ID token's; zero when it has none
	// Renewable says the identity provider gave a refresh token: the sign-in outlives the ID
	// token.
	Renewable bool
	// Servers are the servers configured with the identity provider that got a token.
	Servers []LoginResult
	// Failed are those that did not, with why; the sign-in itself stands.
	Failed []ServerFailure
}

// ServerFailure is a server a multi-server step could not do, with why.
type ServerFailure struct {
	Server string
	Err    error
}

// IdPLogin signs in to the identity provider: in the browser (OpenID Connect authorization
// code with PKCE, scope openid, with offline_access when the provider offers it so that the
// sign-in can be renewed), or with an ID token the person hands in. Then every server
// configured with it gets its token (see enterpriseGrant): one sign-in, no consent page per
// server. A server that fails does not undo the sign-in; it is reported in the result.
func (b *Broker) IdPLogin(ctx context.Context, name string, opts IdPLoginOptions) (*IdPLoginResult, error) {
	res, err := b.idpLogin(ctx, name, opts)
	return res, wrap(OpIdP, name, err)
}

func (b *Broker) idpLogin(ctx context.Context, name string, opts IdPLoginOptions) (*IdPLoginResult, error) {
	p, err := b.idp(name)
	if err != nil {
		return nil, err
	}
	sess, err := b.idpSignIn(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	res := &IdPLoginResult{IdP: name, Subject: sess.Subject, Email: sess.Email, Expiry: sess.Expiry, Renewable: sess.RefreshToken != ""}
	for _, srv := range b.idpServers(name) {
		r, err := b.login(ctx, srv, LoginOptions{})
		if err != nil {
			res.Failed = append(res.Failed, ServerFailure{Server: srv, Err: wrap(OpSignIn, srv, err)})
			continue
		}
		res.Servers = append(res.Servers, *r)
	}
	return res, nil
}

// idpSignIn runs the sign-in at the identity provider under its lock and stores it.
func (b *Broker) idpSignIn(ctx context.Context, p config.IdP, opts IdPLoginOptions) (*idpSession, error) {
	var sess *idpSession
	wait := b.signInTimeout + lockWait
	if opts.IDToken != "" {
		wait = lockWait
	}
	err := b.withIdPLock(ctx, p.Name, wait, func() error {
		var err error
		if opts.IDToken != "" {
			sess, err = b.idpSessionFromIDToken(ctx, p, opts.IDToken)
		} else {
			sess, err = b.idpBrowserSignIn(ctx, p, opts.NoBrowser)
		}
		if err != nil {
			return err
		}
		return b.saveIdPSession(ctx, p.Issuer, sess)
	})
	return sess, err
}

// idpSessionFromIDToken checks an ID token the person handed in and makes it a sign-in. The
// token endpoint comes from the provider's metadata, for the token exchange.
func (b *Broker) idpSessionFromIDToken(ctx context.Context, p config.IdP, idToken string) (*idpSession, error) {
	claims, err := oauth.ParseIDToken(idToken)
	if err != nil {
		return nil, err
	}
	if err := claims.Check(p.Issuer, p.ClientID, b.now()); err != nil {
		return nil, err
	}
	meta, _, err := b.fetcher().AuthServerMetadata(ctx, p.Issuer)
	if err != nil {
		return nil, fmt.Errorf("reading the identity provider's metadata: %w", err)
	}
	method, err := b.idpAuthMethod(ctx, p, meta.AuthMethods())
	if err != nil {
		return nil, err
	}
	return &idpSession{
		IDToken: idToken, Expiry: claims.Expiry, IssuedAt: b.now(), TokenEndpoint: meta.TokenEndpoint,
		ClientID: p.ClientID, AuthMethod: method, Subject: claims.Subject, Email: claims.Email,
	}, nil
}

// idpAuthMethod is how this program's client at the identity provider authenticates: with
// its secret as the provider supports, or, without one, as a public client.
func (b *Broker) idpAuthMethod(ctx context.Context, p config.IdP, supported []string) (string, error) {
	secret, err := b.idpSecret(ctx, p)
	if err != nil {
		return "", err
	}
	return oauth.AssertionAuthMethod(supported, secret != "")
}

// idpSecret is the client secret of this program's client at the identity provider, or "".
func (b *Broker) idpSecret(ctx context.Context, p config.IdP) (string, error) {
	secret, err := b.secrets.Get(ctx, idpClientSecretKey(p.Issuer))
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("reading the identity provider's client secret: %w", err)
	}
	return secret, nil
}

// idpClient is this program's client at the identity provider, as the sign-in sess used it.
func (b *Broker) idpClient(ctx context.Context, p config.IdP, sess *idpSession) (*oauth.Client, error) {
	secret, err := b.idpSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	return &oauth.Client{ID: p.ClientID, Secret: secret, Issuer: p.Issuer, Kind: oauth.KindPreRegistered, AuthMethod: sess.AuthMethod}, nil
}

// idpBrowserSignIn runs the OpenID Connect authorization code flow with PKCE at the identity
// provider, in the browser, back to a loopback redirect URI on any port (RFC 8252 §7.3: the
// client is registered there as a native app with http://127.0.0.1/callback).
func (b *Broker) idpBrowserSignIn(ctx context.Context, p config.IdP, noBrowser bool) (*idpSession, error) {
	meta, _, err := b.fetcher().AuthServerMetadata(ctx, p.Issuer)
	if err != nil {
		return nil, fmt.Errorf("reading the identity provider's metadata: %w", err)
	}
	if err := meta.ValidateForBrowser(); err != nil {
		return nil, err
	}
	method, err := b.idpAuthMethod(ctx, p, meta.AuthMethods())
	if err != nil {
		return nil, err
	}
	sess := &idpSession{TokenEndpoint: meta.TokenEndpoint, ClientID: p.ClientID, AuthMethod: method}
	client, err := b.idpClient(ctx, p, sess)
	if err != nil {
		return nil, err
	}
	scope, prompt := "openid", ""
	if slices.Contains(meta.ScopesSupported, "offline_access") {
		// OpenID Connect Core §11: a refresh token for offline_access only with consent.
		scope, prompt = "openid offline_access", "consent"
	}
	ln, err := loopback.Listen(ctx, 0, callbackPath, loopback.WithTimeout(b.signInTimeout))
	if err != nil {
		return nil, fmt.Errorf("starting the sign-in callback server: %w", err)
	}
	defer ln.Close()
	client.RedirectURI = ln.RedirectURI()
	req, err := oauth.NewAuthRequest(oauth.AuthRequestParams{
		AuthorizationEndpoint: meta.AuthorizationEndpoint, Issuer: meta.Issuer,
		RequireISS: meta.AuthorizationResponseISSParameterSupported, Client: client,
		RedirectURI: ln.RedirectURI(), Scope: scope, Prompt: prompt,
	})
	if err != nil {
		return nil, err
	}
	if err := opener.CheckURL(req.URL); err != nil {
		return nil, fmt.Errorf("refusing to open the authorization URL: %w", err)
	}
	openCtx, stopOpening := context.WithCancel(ctx)
	opening := b.askForBrowser(openCtx, "your company account ("+p.Name+")", req.URL, noBrowser, "")
	defer func() {
		stopOpening()
		<-opening
	}()
	waitCtx, cancel := context.WithTimeout(ctx, b.signInTimeout)
	defer cancel()
	cb, err := ln.Wait(waitCtx, func(cb loopback.Callback) error {
		err := req.CheckRedirect(cb.State, cb.Iss)
		if errors.Is(err, oauth.ErrStateMismatch) {
			return loopback.ErrWrongState
		}
		return err
	})
	if err != nil {
		if waitCtx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("the browser sign-in did not finish within %s", b.signInTimeout)
		}
		return nil, err
	}
	tok, err := oauth.Exchange(ctx, b.http, meta.TokenEndpoint, client, req, cb.Code)
	if err != nil {
		return nil, err
	}
	if err := sess.take(tok, p, b.now()); err != nil {
		return nil, err
	}
	return sess, nil
}

// take makes tok, an identity provider's answer to a sign-in or a refresh, the session's ID
// token (and refresh token, when it gave one), after checking that the ID token is one p
// issued to its client.
func (s *idpSession) take(tok *oauth.Token, p config.IdP, now time.Time) error {
	if tok.IDToken == "" {
		return errors.New("the identity provider answered without an ID token: is it an OpenID Connect provider, and was the openid scope granted?")
	}
	claims, err := oauth.ParseIDToken(tok.IDToken)
	if err != nil {
		return err
	}
	if err := claims.Check(p.Issuer, p.ClientID, now); err != nil {
		return err
	}
	s.IDToken, s.Expiry, s.IssuedAt = tok.IDToken, claims.Expiry, now
	s.Subject, s.Email = claims.Subject, claims.Email
	if tok.RefreshToken != "" {
		s.RefreshToken = tok.RefreshToken
	}
	return nil
}

// loadIdPSession reads the sign-in at the issuer; nil when there is none (or it is damaged).
func (b *Broker) loadIdPSession(ctx context.Context, issuer string) (*idpSession, error) {
	raw, err := b.secrets.Get(ctx, idpSessionKey(issuer))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the identity provider sign-in: %w", err)
	}
	var s idpSession
	if json.Unmarshal([]byte(raw), &s) != nil || s.IDToken == "" {
		return nil, nil
	}
	return &s, nil
}

// saveIdPSession stores the sign-in at the issuer (one item, so the ID token and refresh token
// change together) and describes it in the state file.
func (b *Broker) saveIdPSession(ctx context.Context, issuer string, s *idpSession) error {
	s.Grant = rand.Text()
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding the identity provider sign-in: %w", err)
	}
	if err := b.secrets.Set(ctx, idpSessionKey(issuer), string(data)); err != nil {
		return fmt.Errorf("storing the identity provider sign-in: %w", err)
	}
	err = b.updateState(ctx, func(st *state) {
		st.IdPs[issuer] = &idpInfo{ClientID: s.ClientID, Subject: s.Subject, Email: s.Email, Expiry: s.Expiry, SignedInAt: s.IssuedAt, Refreshable: s.RefreshToken != ""}
	})
	if err != nil {
		b.log.Warn("updating the state file", "err", err)
	}
	return nil
}

// forgetIdPSession deletes the sign-in at the issuer and its description.
func (b *Broker) forgetIdPSession(ctx context.Context, issuer string) error {
	if err := b.secrets.Delete(ctx, idpSessionKey(issuer)); err != nil {
		return fmt.Errorf("deleting the identity provider sign-in: %w", err)
	}
	return b.updateState(ctx, func(st *state) { delete(st.IdPs, issuer) })
}

// IdPLogout signs out of the identity provider: its sign-in is forgotten, and with it the
// tokens of every server configured with it, which were obtained through it. Nothing is
// revoked at the identity provider; the ID token stays valid there until it expires.
func (b *Broker) IdPLogout(ctx context.Context, name string) error {
	return wrap(OpIdP, name, b.idpLogout(ctx, name))
}

func (b *Broker) idpLogout(ctx context.Context, name string) error {
	p, err := b.idp(name)
	if err != nil {
		return err
	}
	err = b.withIdPLock(ctx, name, lockWait, func() error { return b.forgetIdPSession(ctx, p.Issuer) })
	if err != nil {
		return err
	}
	for _, srv := range b.idpServers(name) {
		if err := b.underLockIfFree(ctx, srv, func() error { return b.deleteTokens(ctx, srv, false) }); err != nil {
			return fmt.Errorf("forgetting the tokens of %s: %w", srv, err)
		}
	}
	return nil
}

// idpIDToken returns an ID token of the sign-in at p that is good for a while yet: the one
// stored, or, once it is due, a new one from a refresh, under the identity provider's lock so
// that a rotating refresh token is spent once. Without a usable sign-in it returns an
// *IdPSignInRequiredError. server names the server the ID token is for: the refresh is
// reported to the trace as one of its steps.
func (b *Broker) idpIDToken(ctx context.Context, p config.IdP, server string) (*idpSession, error) {
	sess, err := b.loadIdPSession(ctx, p.Issuer)
	if err != nil {
		return nil, err
	}
	if sess != nil && sess.ClientID == p.ClientID && sess.fresh(b.now()) {
		return sess, nil
	}
	err = b.withIdPLock(ctx, p.Name, lockWait, func() error {
		if sess, err = b.loadIdPSession(ctx, p.Issuer); err != nil {
			return err
		}
		switch {
		case sess == nil:
			return &IdPSignInRequiredError{IdP: p.Name, Reason: "not signed in"}
		case sess.ClientID != p.ClientID:
			return &IdPSignInRequiredError{IdP: p.Name, Reason: "its client id changed since the sign-in"}
		case sess.fresh(b.now()):
			return nil
		case sess.RefreshToken == "":
			return &IdPSignInRequiredError{IdP: p.Name, Reason: "the sign-in has expired"}
		}
		err := b.refreshIdPSession(ctx, p, sess)
		trace(ctx, server, StepRefresh, err)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// refreshIdPSession renews the ID token of sess with its refresh token (OpenID Connect Core
// §12) and stores the result in sess and the store. It runs under the identity provider's lock.
func (b *Broker) refreshIdPSession(ctx context.Context, p config.IdP, sess *idpSession) error {
	client, err := b.idpClient(ctx, p, sess)
	if err != nil {
		return err
	}
	b.log.Info("renewing the identity provider sign-in", "idp", p.Name)
	tok, err := oauth.Refresh(ctx, b.http, sess.TokenEndpoint, client, sess.RefreshToken, "", "")
	if oauth.IsInvalidGrant(err) {
		if ferr := b.forgetIdPSession(ctx, p.Issuer); ferr != nil {
			b.log.Warn("forgetting the refused identity provider sign-in", "idp", p.Name, "err", ferr)
		}
		return &IdPSignInRequiredError{IdP: p.Name, Reason: "the sign-in has expired or was revoked", Err: err}
	}
	if err != nil {
		return fmt.Errorf("renewing the identity provider sign-in: %w", err)
	}
	if tok.IDToken == "" {
		return &IdPSignInRequiredError{IdP: p.Name, Reason: "the identity provider renewed the sign-in without a new ID token"}
	}
	if err := sess.take(tok, p, b.now()); err != nil {
		return fmt.Errorf("renewing the identity provider sign-in: %w", err)
	}
	return b.saveIdPSession(ctx, p.Issuer, sess)
}

// withIdPLock runs fn under the identity provider's cross-process lock.
func (b *Broker) withIdPLock(ctx context.Context, name string, wait time.Duration, fn func() error) error {
	if err := config.ValidateIdPName(name); err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	release, err := lock.Acquire(lctx, filepath.Join(filepath.Dir(b.configPath), "locks", "idp", name+".lock"))
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			return hint.With(fmt.Errorf("another mcp-broker process is signing in to the identity provider and did not finish within %s", wait), hint.TryAgain)
		}
		return err
	}
	defer release()
	return fn()
}
