package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/lock"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// revokeTimeout bounds the revocation at sign-out (the authorization server's metadata and the
// revocation requests): a slow or unreachable server must not hold a sign-out up.
const revokeTimeout = 10 * time.Second

// LogoutResult describes a sign-out, without secrets.
type LogoutResult struct {
	Server string
	// Revoked is true when the authorization server confirmed the revocation of the grant
	// (RFC 7009): its tokens are dead there, not only forgotten here.
	Revoked bool
	// Warning, when set, says why the tokens could not be revoked at the authorization server.
	// They are deleted here all the same, and stay valid there until they expire.
	Warning string
}

// Logout signs out of the server: it deletes its tokens here (and a bearer server's static
// token), then asks the authorization server to revoke the OAuth grant, the refresh token and
// the access token, authenticating as the client was registered. A revocation that fails does
// not fail the sign-out: it is reported in LogoutResult.Warning. Client registrations stay,
// so the next sign-in does not register again.
//
// The revocation endpoint comes from the metadata of the issuer recorded with the token, never
// from the server's metadata of today: a token goes back only to the server that issued it.
func (b *Broker) Logout(ctx context.Context, name string) (*LogoutResult, error) {
	res, err := b.logout(ctx, name)
	return res, wrap(OpSignOut, name, err)
}

// logout is Logout, with errors that do not name the server: see OpError.
func (b *Broker) logout(ctx context.Context, name string) (*LogoutResult, error) {
	ctx = b.learning(ctx, name)
	srv, err := b.server(name)
	if err != nil {
		return nil, err
	}
	res := &LogoutResult{Server: name}
	var grant *storedToken
	var refresh string
	forget := func() error {
		if renewable(srv.Auth) {
			// What cannot be read cannot be revoked; it is deleted all the same.
			if grant, err = b.loadToken(ctx, name); err != nil {
				b.log.Warn("reading the grant to revoke it", "server", name, "err", err)
			} else if grant != nil {
				if refresh, err = b.refreshToken(ctx, name, grant); err != nil {
					b.log.Warn("reading the refresh token to revoke it", "server", name, "err", err)
				}
			}
		}
		return b.deleteTokens(ctx, name, srv.Auth == config.AuthBearer)
	}
	if err := b.underLockIfFree(ctx, name, forget); err != nil {
		return nil, err
	}
	if grant != nil {
		res.Revoked, res.Warning = b.revokeGrant(ctx, srv, grant, refresh)
	}
	return res, nil
}

// underLockIfFree runs fn under the server's lock, so that a refresh in another process does
// not store a new grant just after this one was read and deleted. A sign-in holds the lock for
// minutes: after lockWait, fn runs without it rather than keep a sign-out waiting.
func (b *Broker) underLockIfFree(ctx context.Context, name string, fn func() error) error {
	path, err := b.lockPath(name)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	release, err := lock.Acquire(lctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.log.Warn("signing out without the server's lock", "server", name, "err", err)
		return fn()
	}
	defer release()
	return fn()
}

// revokeGrant asks the issuer of the grant tok to revoke its refresh token rt (if any) and its
// access token. It reports whether the grant is revoked, or a warning that says why not.
func (b *Broker) revokeGrant(ctx context.Context, srv config.Server, tok *storedToken, rt string) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	notRevoked := func(why string) (bool, string) {
		return false, fmt.Sprintf("the tokens are deleted here but could not be revoked at %s (%s): they stay valid there until they expire", tok.Issuer, why)
	}
	if tok.Issuer == "" || tok.ClientID == "" {
		return notRevoked("the sign-in does not record which authorization server and client it is from")
	}
	meta, _, err := b.fetcher().AuthServerMetadata(ctx, tok.Issuer)
	if err != nil {
		return notRevoked("reading its metadata: " + err.Error())
	}
	if meta.RevocationEndpoint == "" {
		return false, fmt.Sprintf("the tokens are deleted here, but %s has no revocation endpoint to end them there: they stay valid there until they expire", tok.Issuer)
	}
	client, err := b.loadClient(ctx, srv, tok.Issuer)
	if err != nil || client.ID != tok.ClientID {
		return notRevoked("the client they were issued to is no longer registered here")
	}
	if rt != "" {
		if err := oauth.Revoke(ctx, b.http, meta.RevocationEndpoint, client, rt, oauth.HintRefreshToken); err != nil {
			return notRevoked(err.Error())
		}
	}
	// With the refresh token revoked, the server drops the grant's access tokens (RFC 7009
	// §2.1); the access token is revoked too for servers that do not, and a refusal then
	// (many servers revoke refresh tokens only: unsupported_token_type) changes nothing.
	if err := oauth.Revoke(ctx, b.http, meta.RevocationEndpoint, client, tok.AccessToken, oauth.HintAccessToken); err != nil && rt == "" {
		return notRevoked(err.Error())
	}
	return true, ""
}
