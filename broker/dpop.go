package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/dpop"
	"github.com/mcp-broker/mcp-broker/broker/jws"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// dpopKeys holds what a Broker keeps of DPoP (RFC 9449) between calls: the provers of the keys
// it read (a bridge hands out a credential every few minutes, and the key does not change in
// between), and the nonces authorization servers supplied.
type dpopKeys struct {
	mu      sync.Mutex
	provers map[string]*dpop.Prover // by server name
	nonces  dpop.Nonces             // authorization servers' nonces, by origin
}

// dpopForSignIn decides whether a sign-in to srv asks for DPoP-bound tokens (dpop.Decide) and,
// when it does, returns ctx with the server's key on its token requests (oauth.WithDPoP),
// making the key at the server's first DPoP sign-in. It runs under the server lock.
func (b *Broker) dpopForSignIn(ctx context.Context, srv config.Server, res *discovery.Result) (context.Context, error) {
	use, why := dpop.Decide(srv.DPoP, dpop.SupportOf(res))
	b.log.Info("DPoP", "server", srv.Name, "use", use, "why", why)
	if !use {
		return ctx, nil
	}
	p, err := b.dpopProver(ctx, srv.Name, "", true)
	if err != nil {
		return nil, err
	}
	return oauth.WithDPoP(ctx, p, &b.dpop.nonces), nil
}

// dpopForGrant returns ctx for renewing the grant t: with the key it is bound to when it is
// DPoP-bound (a refresh token issued with a DPoP-bound access token is bound to the key too,
// RFC 9449 §5), as it is otherwise.
func (b *Broker) dpopForGrant(ctx context.Context, name string, t *storedToken) (context.Context, error) {
	if t.DPoPJKT == "" {
		return ctx, nil
	}
	p, err := b.dpopProver(ctx, name, t.DPoPJKT, false)
	if err != nil {
		return nil, err
	}
	return oauth.WithDPoP(ctx, p, &b.dpop.nonces), nil
}

// errDPoPKeyGone says the key a grant is bound to is no longer in the secret store (or is
// another): the grant cannot be used, and a sign-in makes a new one.
var errDPoPKeyGone = errors.New("the DPoP key the sign-in is bound to is gone")

// dpopProver returns the prover of the server's DPoP key: the one read before, or the one in
// the secret store, or with create a new P-256 key, stored before it is used so that no token
// is ever bound to a key that is not kept. With jkt, the key must be that one (the key a grant
// is bound to): a different or missing key is errDPoPKeyGone.
func (b *Broker) dpopProver(ctx context.Context, name, jkt string, create bool) (*dpop.Prover, error) {
	b.dpop.mu.Lock()
	p := b.dpop.provers[name]
	b.dpop.mu.Unlock()
	if p != nil && !create && (jkt == "" || p.Thumbprint() == jkt) {
		return p, nil
	}
	pemData, err := b.secrets.Get(ctx, dpopKey(name))
	var key *jws.Key
	switch {
	case errors.Is(err, secrets.ErrNotFound) && create:
		if key, err = jws.GenerateES256(); err != nil {
			return nil, err
		}
		out, err := key.MarshalPEM()
		if err != nil {
			return nil, err
		}
		if err := b.secrets.Set(ctx, dpopKey(name), string(out)); err != nil {
			return nil, fmt.Errorf("storing the DPoP key: %w", err)
		}
	case errors.Is(err, secrets.ErrNotFound):
		return nil, &SignInRequiredError{Server: name, Reason: errDPoPKeyGone.Error()}
	case err != nil:
		return nil, fmt.Errorf("reading the DPoP key: %w", err)
	default:
		if key, err = jws.ParsePEM([]byte(pemData)); err != nil {
			return nil, fmt.Errorf("reading the DPoP key: %w", err)
		}
	}
	if p, err = dpop.NewProver(key, b.now); err != nil {
		return nil, err
	}
	if jkt != "" && p.Thumbprint() != jkt {
		return nil, &SignInRequiredError{Server: name, Reason: errDPoPKeyGone.Error()}
	}
	b.dpop.mu.Lock()
	if b.dpop.provers == nil {
		b.dpop.provers = map[string]*dpop.Prover{}
	}
	b.dpop.provers[name] = p
	b.dpop.mu.Unlock()
	return p, nil
}

// forgetDPoPKey drops the key read before, after the secret store's was deleted.
func (b *Broker) forgetDPoPKey(name string) {
	b.dpop.mu.Lock()
	delete(b.dpop.provers, name)
	b.dpop.mu.Unlock()
}

// credentialFor is the credential of the token t of the server srv as configured now: a
// DPoP-bound token comes with the prover of its key.
func (b *Broker) credentialFor(ctx context.Context, srv config.Server, t *storedToken) (*Credential, error) {
	c := bearerFor(srv, t)
	if t.sentTo(srv).DPoPJKT == "" { // the token sent may be the ID token, never bound
		return c, nil
	}
	p, err := b.dpopProver(ctx, srv.Name, t.DPoPJKT, false)
	if err != nil {
		return nil, err
	}
	c.DPoP = p
	return c, nil
}

// Authorize puts the credential on req: its header and, for a DPoP-bound token, a proof of its
// own for req's method and URL, with nonce, the one req's origin last supplied ("" for none).
// For any other credential it sets one header, as a static header always did: the DPoP work
// is paid only by the servers that use it.
func (c *Credential) Authorize(req *http.Request, nonce string) error {
	req.Header.Set(c.Header, c.Value)
	if c.DPoP == nil {
		return nil
	}
	token := strings.TrimPrefix(c.Value, dpop.Scheme+" ") // the ath is of the token alone
	proof, err := c.DPoP.Proof(req.Method, req.URL, nonce, token)
	if err != nil {
		return err
	}
	req.Header.Set(dpop.HeaderProof, proof)
	return nil
}
