package broker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/loopback"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// This file holds what the broker does about servers that bend the rules (see oauth.Deviation):
// it remembers what they taught (a token endpoint that reads only JSON), keeps what it saw for
// status and doctor, assumes a lifetime for a token that came without one, receives the sign-in
// on a redirect URI the server chose, and tells a stub authorization endpoint from a slow person.

// assumedLifetime is the lifetime the broker gives a token whose server did not say how long
// it lives (oauth.DeviationNoExpiresIn), when it can renew the token without a person: a
// refresh token's grant, or a client-credentials, workload or enterprise server's. An hour is
// what most servers issue; a token that dies sooner is renewed when the server refuses it, as
// any refused token is. A token that only a new sign-in can replace gets no assumed expiry: it
// is used until the server refuses it, rather than thrown away while it may still work.
const assumedLifetime = time.Hour

// learning returns ctx carrying what the named server's authorization server taught about the
// bodies it reads (oauth.WithBodyFormats), so that every token and revocation request of the
// operation sends JSON where forms were refused before, and teaches it when one is refused now.
func (b *Broker) learning(ctx context.Context, name string) context.Context {
	return oauth.WithBodyFormats(ctx, learnedFormats{b: b, name: name})
}

// learnedFormats is oauth.BodyFormats for one server, kept in the state file
// (serverState.JSONEndpoints) so that every process of the user sends JSON at once.
type learnedFormats struct {
	b    *Broker
	name string
}

// JSON reports whether endpoint is known to read only JSON. A state file that cannot be read
// says no: a form is tried first, and a refusal teaches it again.
func (l learnedFormats) JSON(endpoint string) bool {
	st, err := loadState(statePath(l.b.configPath))
	if err != nil {
		return false
	}
	s := st.Servers[l.name]
	return s != nil && slices.Contains(s.JSONEndpoints, endpoint)
}

// LearnedJSON records that endpoint reads only JSON.
func (l learnedFormats) LearnedJSON(ctx context.Context, endpoint string) {
	l.b.log.Info("the authorization server reads only JSON bodies: sending its requests as JSON from now on", "server", l.name, "endpoint", discovery.Redact(endpoint))
	err := l.b.updateState(ctx, func(st *state) {
		s := st.server(l.name)
		if !slices.Contains(s.JSONEndpoints, endpoint) {
			s.JSONEndpoints = append(s.JSONEndpoints, endpoint)
		}
	})
	if err != nil {
		l.b.log.Warn("updating the state file", "err", err)
	}
}

// assumeExpiry gives tok, which came without a lifetime, the assumed one when the server's
// tokens renew without a person (see assumedLifetime), and reports whether it did.
func (b *Broker) assumeExpiry(name string, tok *oauth.Token) (*oauth.Token, bool) {
	if !tok.Expiry.IsZero() || !slices.Contains(tok.Deviations, oauth.DeviationNoExpiresIn) {
		return tok, false
	}
	renewsAlone := tok.RefreshToken != ""
	if srv, err := b.server(name); err == nil && srv.Auth != config.AuthOAuth && renewable(srv.Auth) {
		renewsAlone = true
	}
	if !renewsAlone {
		return tok, false
	}
	assumed := *tok
	assumed.Expiry = assumed.IssuedAt.Add(assumedLifetime)
	return &assumed, true
}

// registrationDeviations are the deviations to keep for the client c, which registration info
// old described before: c's own when it was just registered, else those seen when it was.
func registrationDeviations(c *oauth.Client, old []registrationInfo) []oauth.Deviation {
	if len(c.Deviations) > 0 {
		return c.Deviations
	}
	for _, r := range old {
		if r.Issuer == c.Issuer && r.ClientID == c.ID {
			return r.Deviations
		}
	}
	return nil
}

// ownRedirect reports whether uri is a redirect URI of the loopback receiver's own making
// (http://127.0.0.1:PORT/callback), rather than one the authorization server chose
// (oauth.DeviationOtherRedirectURI), which must be sent exactly as it registered it.
func ownRedirect(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Scheme == "http" && u.Hostname() == "127.0.0.1" && u.Path == callbackPath && u.RawQuery == ""
}

// listenAt starts the loopback receiver on the port and path of a redirect URI the
// authorization server chose.
func listenAt(ctx context.Context, redirectURI string, opts ...loopback.Option) (*loopback.Server, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("reading the registered redirect URI: %w", err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port == 0 {
		return nil, fmt.Errorf("the registered redirect URI %s has no port to receive the sign-in on", redirectURI)
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	ln, err := loopback.Listen(ctx, port, path, opts...)
	if errors.Is(err, loopback.ErrPortInUse) {
		return nil, fmt.Errorf("the authorization server sends the sign-in only to %s, whose port another program holds: %w", redirectURI, err)
	}
	return ln, err
}

// noRedirect is the error of a browser sign-in whose redirect never came back. The person may
// just not have finished; but when the authorization server offers the client-credentials
// grant, it may be a service for machines whose authorization endpoint is only a stub (see
// discovery.ProbeAuthorizationEndpoint), where nobody could have: the endpoint is probed, and
// when it is one, the error says so and offers the client-credentials grant.
func (b *Broker) noRedirect(ctx context.Context, as *discovery.AuthServerMetadata) error {
	err := fmt.Errorf("the browser sign-in did not finish within %s", b.signInTimeout)
	if !as.SupportsGrant("client_credentials") {
		return err
	}
	page, perr := b.fetcher().ProbeAuthorizationEndpoint(ctx, as.AuthorizationEndpoint)
	if perr != nil || page.Verdict == discovery.PageServes {
		return err
	}
	what := "is only a stub"
	if page.Verdict == discovery.PageDoubtful {
		what = "may be only a stub"
	}
	return hint.With(fmt.Errorf("%w: the authorization endpoint %s (%s); the authorization server offers the client-credentials grant instead", err, what, page.Why), hint.ClientSecret)
}

// serverDeviations are the deviations status shows for a server: those of its token, of the
// registration of its client with the token's issuer, and a JSON-only endpoint it taught.
func serverDeviations(s *serverState) []oauth.Deviation {
	if s.Token == nil {
		return nil
	}
	out := slices.Clone(s.Token.Deviations)
	for _, r := range s.Registrations {
		if r.Issuer == s.Token.Issuer && r.ClientID == s.Token.ClientID {
			out = append(out, r.Deviations...)
		}
	}
	if len(s.JSONEndpoints) > 0 {
		out = append(out, oauth.DeviationJSONBody)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
