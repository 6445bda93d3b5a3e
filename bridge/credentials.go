package bridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/dpop"
)

// Cache lifetimes of a credential read from the broker. A credential that expires is cached
// until its ReuseUntil, the moment the broker itself renews it: the bridge has no renewal
// rule of its own.
const (
	// staticRecheck: a credential without a ReuseUntil (a static token, a token without expiry,
	// none at all) is read again this often, so a token replaced with `servers add` is picked up.
	staticRecheck = 5 * time.Minute
	// noTokenRecheck: after "no credential", requests go out without one for this long
	// before the store is asked again.
	noTokenRecheck = 2 * time.Second
	// minRecheck is the shortest cache life, even for a credential already due (a clock that
	// jumped, a server that grants tokens for a few seconds), so that a burst of requests does
	// not read the store once each.
	minRecheck = time.Second
)

// credentials is upstream.Credentials on the broker, with a cache: the keychain is asked only
// when the token nears expiry (the broker then refreshes it), not on every request.
type credentials struct {
	broker Broker
	name   string
	url    string // the URL the bridge relays to
	log    *slog.Logger
	now    func() time.Time
	// moved is told once that the server's configured URL is no longer url.
	moved func(error)
	// device: sign-ins use the device grant when offered (Options.Headless).
	device bool
	// trace, when set (before the bridge's goroutines start), is told the steps of the
	// renewals and sign-ins the broker runs for these credentials (see broker.WithTrace). It
	// goes on every call rather than on the bridge's context alone: a transport's own requests
	// (the GET stream, a re-initialization) run under a context of their own.
	trace func(broker.Step)

	// nonces are the DPoP nonces the server supplied (RFC 9449 §9), kept across renewals of
	// the token: a nonce belongs to the server, not to one token.
	nonces dpop.Nonces

	mu       sync.Mutex
	have     bool
	cred     *broker.Credential // nil for none
	until    time.Time
	rejected string        // the last value the server refused and could not be renewed
	fetching chan struct{} // closed when the read in progress ends
	gone     error         // the server's URL changed: no credential is handed out any more

	// challenged are the scopes the server's 401s named since the bridge last had a
	// credential the server had not refused: what the sign-in they call for asks for
	// (broker.LoginOptions.ChallengeScope), here or, through the status file, in the tray.
	challenged []string
}

// Authorize puts the credential on req (see broker.Credential.Authorize: one header, and a
// proof for a DPoP-bound token). Without any credential it sets none rather than fail: the
// server's 401 then starts the sign-in, and a server that needs no authorization (an
// unconfigured --url) just works.
func (c *credentials) Authorize(ctx context.Context, req *http.Request) (string, error) {
	cred, err := c.current(ctx)
	if err != nil || cred == nil {
		return "", err
	}
	nonce := ""
	if cred.DPoP != nil {
		nonce = c.nonces.For(req.URL)
	}
	if err := cred.Authorize(req, nonce); err != nil {
		return "", err
	}
	return cred.Value, nil
}

// traced is ctx with the credentials' trace, if any.
func (c *credentials) traced(ctx context.Context) context.Context {
	if c.trace == nil {
		return ctx
	}
	return broker.WithTrace(ctx, c.trace)
}

// Nonce keeps the DPoP nonce the server at u supplied, for the next proofs.
func (c *credentials) Nonce(u *url.URL, nonce string) { c.nonces.Set(u, nonce) }

// current returns the credential to send, nil for none: the cached one, or the broker's.
func (c *credentials) current(ctx context.Context) (*broker.Credential, error) {
	for {
		c.mu.Lock()
		if gone := c.gone; gone != nil {
			c.mu.Unlock()
			return nil, gone
		}
		if c.have && c.now().Before(c.until) {
			cred := c.cred
			c.mu.Unlock()
			return cred, nil
		}
		fetching := c.fetching
		if fetching == nil {
			// This caller reads the store; the others wait for it rather than read it too.
			c.fetching = make(chan struct{})
			c.mu.Unlock()
			break
		}
		c.mu.Unlock()
		select {
		case <-fetching:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() {
		c.mu.Lock()
		close(c.fetching)
		c.fetching = nil
		c.mu.Unlock()
	}()
	cred, err := c.broker.Credential(c.traced(ctx), c.name)
	if errors.Is(err, broker.ErrSignInRequired) {
		if err := c.checkConfig(); err != nil {
			return nil, err // no sign-in for a URL this bridge does not relay to
		}
		c.store(nil, noTokenRecheck)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := c.checkCred(cred); err != nil {
		return nil, err
	}
	c.store(cred, 0)
	return cred, nil
}

// store caches cred for life, or, when life is 0, until the broker's cred.ReuseUntil.
func (c *credentials) store(cred *broker.Credential, life time.Duration) {
	now := c.now()
	if life == 0 {
		life = staticRecheck
		if cred != nil && !cred.ReuseUntil.IsZero() {
			life = max(cred.ReuseUntil.Sub(now), minRecheck)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.have, c.until, c.cred = true, now.Add(life), cred
	if cred != nil && cred.Value != c.rejected {
		c.challenged = nil // signed in: the challenges were answered
	}
}

func (c *credentials) forget() {
	c.mu.Lock()
	c.have = false
	c.mu.Unlock()
}

// Refresh renews the credential after a 401. The broker spends a refresh token once however
// many requests (or processes) were refused at the same time. When a sign-in is needed
// instead, the challenge's scope is kept for it (challengeScope).
func (c *credentials) Refresh(ctx context.Context, rejected, scope string) error {
	cred, err := c.broker.Refresh(c.traced(ctx), c.name, rejected)
	if errors.Is(err, broker.ErrSignInRequired) {
		if err := c.checkConfig(); err != nil {
			return err
		}
	}
	if err == nil {
		err = c.checkCred(cred)
	}
	if err != nil {
		c.mu.Lock()
		c.have, c.rejected = false, rejected
		if errors.Is(err, broker.ErrSignInRequired) {
			for _, s := range strings.Fields(scope) {
				if !slices.Contains(c.challenged, s) {
					c.challenged = append(c.challenged, s)
				}
			}
		}
		c.mu.Unlock()
		return err
	}
	c.store(cred, 0)
	return nil
}

// StepUp signs in again with more scope after a 403 insufficient_scope.
func (c *credentials) StepUp(ctx context.Context, operation, scope string) error {
	if err := c.checkConfig(); err != nil {
		return err
	}
	c.forget()
	_, err := c.broker.StepUp(c.traced(ctx), c.name, operation, scope, broker.LoginOptions{DeviceIfOffered: c.device})
	return err
}

// StepUpDone resets the broker's step-up count for the operation.
func (c *credentials) StepUpDone(operation string) { c.broker.StepUpSucceeded(c.name, operation) }

// usable reports whether the store now holds a credential other than the one the server
// refused: someone signed in.
func (c *credentials) usable(ctx context.Context) bool {
	// The configuration first: while the bridge's own sign-in runs, Credential waits for it.
	if c.checkConfig() != nil {
		return false
	}
	cred, err := c.broker.Credential(c.traced(ctx), c.name)
	if err != nil || c.checkCred(cred) != nil {
		return false
	}
	value := ""
	if cred != nil {
		value = cred.Value
	}
	c.mu.Lock()
	rejected := c.rejected
	c.mu.Unlock()
	if value == rejected {
		return false
	}
	c.store(cred, 0)
	return true
}

// challengeScope is the scope the sign-in the bridge waits for asks for: every scope the
// server's 401s named since the bridge last had a credential, space-separated ("" for none).
func (c *credentials) challengeScope() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.challenged, " ")
}

// lastRejected is the value the server last refused.
func (c *credentials) lastRejected() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rejected
}

// checkCred checks that cred, as the broker handed it out, is for the URL this bridge relays
// to (see checkURL). A nil credential (a server without authorization) carries no URL: the
// configuration is read instead.
func (c *credentials) checkCred(cred *broker.Credential) error {
	if cred == nil || cred.URL == "" {
		return c.checkConfig()
	}
	return c.checkURL(cred.URL)
}

// checkConfig reads the server's configuration and checks its URL (see checkURL). A server
// that cannot be read is left to the broker's own calls, which say why.
func (c *credentials) checkConfig() error {
	srv, err := c.broker.Server(c.name)
	if err != nil {
		return nil
	}
	return c.checkURL(srv.URL)
}

// checkURL returns a *URLChangedError when the server's URL as configured now is not the one
// this bridge relays to: from then on no credential is handed out (the one now stored was
// obtained for the new URL) and the bridge is told to stop relaying.
func (c *credentials) checkURL(now string) error {
	if broker.SameServerURL(now, c.url) {
		return nil
	}
	c.mu.Lock()
	first := c.gone == nil
	if first {
		c.gone = &URLChangedError{Server: c.name, Was: c.url, Now: now}
	}
	c.have = false
	gone := c.gone
	c.mu.Unlock()
	if first && c.moved != nil {
		c.moved(gone)
	}
	return gone
}

// known returns the secrets of the cached credential (its header value, and the token alone
// after its scheme), for the traffic timeline to remove wherever they appear.
func (c *credentials) known() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cred == nil || c.cred.Value == "" {
		return nil
	}
	out := []string{c.cred.Value}
	if _, tok, ok := strings.Cut(c.cred.Value, " "); ok {
		out = append(out, tok)
	}
	return out
}
