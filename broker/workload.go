package broker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-broker/mcp-broker/broker/assertion"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// assertionTarget is where a JWT bearer grant (workload or enterprise) is made: the server's
// authorization server, the resource, and the scope asked for.
type assertionTarget struct {
	issuer, tokenEndpoint, resource, scope string
	// supported is the server's token_endpoint_auth_methods_supported when the target was just
	// discovered; nil on a renewal, which authenticates the client as it did the first time.
	supported []string
}

// assertionTargetFor finds where a JWT bearer grant for srv goes. A renewal (old is the token
// being renewed) goes where old came from, as a refresh does, without discovery; a first grant
// runs discovery and checks that the authorization server offers the grant and, for a client
// it already used, that it is the one it used.
func (b *Broker) assertionTargetFor(ctx context.Context, srv config.Server, old *storedToken, opts LoginOptions) (*assertionTarget, error) {
	if old != nil && old.Issuer != "" && old.TokenEndpoint != "" {
		return &assertionTarget{issuer: old.Issuer, tokenEndpoint: old.TokenEndpoint, resource: old.Resource, scope: old.Scope}, nil
	}
	res, err := b.discover(ctx, srv)
	if err != nil {
		return nil, err
	}
	as := res.AuthServer
	if err := checkJWTBearer(as); err != nil {
		return nil, err
	}
	if err := b.checkIssuer(srv, as.Issuer, opts.AcceptNewIssuer); err != nil {
		return nil, err
	}
	return &assertionTarget{
		issuer: as.Issuer, tokenEndpoint: as.TokenEndpoint, resource: res.Resource,
		scope: chooseScope(srv, res, nil, opts), supported: as.AuthMethods(),
	}, nil
}

// checkJWTBearer refuses an authorization server whose metadata lists its grants without the
// JWT bearer grant. One that lists none may still take it (RFC 8414's default list predates
// it): the grant is tried, and its answer says.
func checkJWTBearer(as *discovery.AuthServerMetadata) error {
	if len(as.GrantTypesSupported) == 0 || slices.Contains(as.GrantTypesSupported, oauth.GrantJWTBearer) {
		return nil
	}
	return hint.With(fmt.Errorf("the authorization server %s does not offer the JWT bearer grant (grant_types_supported: %s)",
		as.Issuer, strings.Join(as.GrantTypesSupported, ", ")), hint.Diagnose)
}

// assertionClient is the server's pre-registered client for a JWT bearer grant at t: without
// a secret it names itself with client_id alone (see oauth.AssertionAuthMethod).
func (b *Broker) assertionClient(ctx context.Context, srv config.Server, t *assertionTarget) (*oauth.Client, error) {
	c, err := b.loadClient(ctx, srv, t.issuer)
	if err != nil {
		return nil, err
	}
	if t.supported != nil {
		if c.AuthMethod, err = oauth.AssertionAuthMethod(t.supported, c.Secret != ""); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// workloadGrant gets a workload server's token with the JWT bearer grant (RFC 7523 §2.1,
// workload identity federation): the JWT is read from the server's file or command now,
// sent once, and forgotten. There is no browser and no registration, and a refusal is
// reported as it is, never retried nor answered with another grant: the same JWT would be
// refused again, and a person has to look at the workload's setup.
func (b *Broker) workloadGrant(ctx context.Context, srv config.Server, old *storedToken, opts LoginOptions) (*storedToken, error) {
	t, err := b.assertionTargetFor(ctx, srv, old, opts)
	if err != nil {
		return nil, err
	}
	client, err := b.assertionClient(ctx, srv, t)
	if err != nil {
		return nil, err
	}
	src := assertion.Source{File: srv.AssertionFile, Command: srv.AssertionCommand}
	jwt, err := src.Read(ctx)
	if err != nil {
		return nil, hint.With(fmt.Errorf("reading the workload's JWT: %w", err), hint.WorkloadAssertion)
	}
	sum := sha256.Sum256([]byte(jwt))
	if refusal := b.refusedJWTs.get(srv.Name, sum); refusal != nil {
		// The same JWT would be refused again: say so without asking (a bridge that keeps
		// reconnecting must not hammer the authorization server, which counts retries).
		return nil, hint.With(fmt.Errorf("the authorization server refused this same JWT from %s before, and it has not changed since: %w", src.Describe(), refusal), hint.WorkloadAssertion)
	}
	b.log.Info("requesting a token with the workload's JWT", "server", srv.Name, "source", src.Describe())
	tok, err := oauth.JWTBearer(ctx, b.http, t.tokenEndpoint, client, jwt, t.scope, t.resource)
	trace(ctx, srv.Name, StepToken, err)
	var refused *oauth.TokenError
	if errors.As(err, &refused) {
		b.refusedJWTs.put(srv.Name, sum, refused)
	}
	if err != nil {
		return nil, hint.With(fmt.Errorf("exchanging the workload's JWT from %s: %w", src.Describe(), err), hint.WorkloadAssertion)
	}
	b.refusedJWTs.forget(srv.Name)
	if err := b.saveClient(ctx, srv.Name, client); err != nil {
		return nil, err
	}
	return b.saveToken(ctx, srv.Name, tok, t.issuer, t.tokenEndpoint, t.resource, client.ID)
}

// refusedJWTs remembers, per server, the last workload JWT the authorization server refused (by
// its SHA-256, never the JWT) and the refusal, so that the same JWT is not sent again: a refusal
// is final until the platform rotates the JWT (RFC 7523 §3.1; the WIF extension forbids a retry).
type refusedJWTs struct {
	mu   sync.Mutex
	last map[string]refusedJWT
}

type refusedJWT struct {
	sum [sha256.Size]byte
	err *oauth.TokenError
}

// get returns the refusal of the JWT whose SHA-256 is sum, if it is the one last refused.
func (r *refusedJWTs) get(server string, sum [sha256.Size]byte) *oauth.TokenError {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.last[server]; ok && l.sum == sum {
		return l.err
	}
	return nil
}

func (r *refusedJWTs) put(server string, sum [sha256.Size]byte, err *oauth.TokenError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]refusedJWT{}
	}
	r.last[server] = refusedJWT{sum: sum, err: err}
}

func (r *refusedJWTs) forget(server string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, server)
}
