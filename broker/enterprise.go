package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// enterpriseGrant gets an enterprise server's token the SEP-990 way (enterprise-managed
// authorization): the ID token of the person's sign-in at the company's identity provider is
// exchanged there (RFC 8693) for an ID-JAG naming this server (resource) and its
// authorization server (audience), and the ID-JAG at that authorization server for an access
// token (RFC 7523 JWT bearer grant), the client authenticating with its own credentials. No
// browser and no consent page: the identity provider's policy decides. The ID-JAG lives
// minutes and is used once, so it is never stored; at expiry both steps run again.
func (b *Broker) enterpriseGrant(ctx context.Context, srv config.Server, old *storedToken, opts LoginOptions) (*storedToken, error) {
	p, err := b.idp(srv.IdP)
	if err != nil {
		return nil, err
	}
	t, err := b.assertionTargetFor(ctx, srv, old, opts)
	if err != nil {
		return nil, err
	}
	client, err := b.assertionClient(ctx, srv, t)
	if err != nil {
		return nil, err
	}
	sess, err := b.idpIDToken(ctx, p, srv.Name)
	if err != nil {
		return nil, err
	}
	idpClient, err := b.idpClient(ctx, p, sess)
	if err != nil {
		return nil, err
	}
	b.log.Info("exchanging the identity provider sign-in for this server", "server", srv.Name, "idp", p.Name)
	jag, err := oauth.TokenExchange(ctx, b.http, sess.TokenEndpoint, idpClient, oauth.TokenExchangeParams{
		SubjectToken: sess.IDToken, SubjectTokenType: oauth.TokenTypeIDToken,
		RequestedTokenType: oauth.TokenTypeIDJAG, Audience: t.issuer, Resource: t.resource, Scope: t.scope,
	})
	trace(ctx, srv.Name, StepExchange, err)
	if err != nil {
		err = fmt.Errorf("the identity provider %s did not grant access to this server: %w", p.Name, err)
		if oauth.IsInvalidGrant(err) {
			// It no longer takes the sign-in (revoked, or the person's access changed).
			err = hint.With(err, hint.SignInIdP)
		}
		return nil, err
	}
	tok, err := oauth.JWTBearer(ctx, b.http, t.tokenEndpoint, client, jag.AccessToken, t.scope, t.resource)
	trace(ctx, srv.Name, StepToken, err)
	if err != nil {
		return nil, fmt.Errorf("exchanging the identity provider's grant at the authorization server: %w", err)
	}
	if err := b.saveClient(ctx, srv.Name, client); err != nil {
		return nil, err
	}
	return b.saveToken(ctx, srv.Name, tok, t.issuer, t.tokenEndpoint, t.resource, client.ID)
}

// enterpriseSignIn is Login for an enterprise server: the grant, after a sign-in at the
// identity provider when there is no usable one (in the browser, as opts says). The grant
// runs under the server's lock; the identity provider's sign-in under its own, first.
func (b *Broker) enterpriseSignIn(ctx context.Context, srv config.Server, opts LoginOptions) (*storedToken, error) {
	var tok *storedToken
	grant := func() error {
		return b.withServerLock(ctx, srv.Name, lockWait, func() error {
			if cur := b.reusable(ctx, srv, opts); cur != nil {
				tok = cur
				return nil
			}
			var err error
			tok, err = b.enterpriseGrant(ctx, srv, nil, opts)
			return err
		})
	}
	err := grant()
	var idpErr *IdPSignInRequiredError
	if !errors.As(err, &idpErr) {
		return tok, err
	}
	p, perr := b.idp(srv.IdP)
	if perr != nil {
		return nil, perr
	}
	if _, err := b.idpSignIn(ctx, p, IdPLoginOptions{NoBrowser: opts.NoBrowser}); err != nil {
		return nil, fmt.Errorf("signing in to the identity provider %s: %w", p.Name, err)
	}
	err = grant()
	return tok, err
}

// reusable is, with opts.IfNeeded, the stored token when another process got a usable one
// while this one waited for the lock (see LoginOptions.IfNeeded); nil otherwise.
func (b *Broker) reusable(ctx context.Context, srv config.Server, opts LoginOptions) *storedToken {
	if !opts.IfNeeded {
		return nil
	}
	cur, err := b.loadToken(ctx, srv.Name)
	if err != nil || cur == nil {
		return nil
	}
	if sent := cur.sentTo(srv); !sent.fresh(b.now()) || bearer(sent).Value == opts.Rejected || checkTokenURL(srv, cur) != nil {
		return nil
	}
	return cur
}
