package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// The assertion grants are those of the two authorization extensions that need no browser at
// the server's authorization server: the JWT bearer grant (RFC 7523), taken by workload
// identity federation (a workload's JWT) and by enterprise-managed authorization (an ID-JAG
// from the company's identity provider, got there by token exchange, RFC 8693).

// Grant type identifiers as authorization server metadata lists them.
const (
	grantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Setup is how mcp-broker is configured for a server, for `doctor NAME`: the findings then say
// whether that setup fits what the server advertises. It holds no secret.
type Setup struct {
	// Server is the server's configuration.
	Server config.Server
	// IdP is the identity provider an enterprise server signs in through, if any.
	IdP *config.IdP
	// KeyAlgorithm is the algorithm of the private key stored for a private_key_jwt client
	// (ES256, RS256); "" when there is none or it could not be read, and KeyProblem then says
	// why.
	KeyAlgorithm string
	KeyProblem   string
	// SameURLAs names the other configured servers with this server's URL
	// (broker.SameURLServers): several accounts on one server.
	SameURLAs []string
	// Deviations are the ways the server bent the rules at its last sign-in or renewal, as
	// status shows them (broker.ServerStatus.Deviations).
	Deviations []oauth.Deviation
	// Status is the server's status as the broker recorded it (broker.ReadStatus), for the
	// last background renewal that failed and when the person must sign in again; nil when it
	// was not read. Now is when it was read (zero: the time of the report).
	Status *broker.ServerStatus
	Now    time.Time
}

// assertionMode reports whether the server is configured for the JWT bearer grant.
func (d *diagnosis) assertionMode() bool {
	return d.setup != nil && (d.setup.Server.Auth == config.AuthWorkload || d.setup.Server.Auth == config.AuthEnterprise)
}

// advertised says whether metadata m lists grant g, in words.
func advertised(m *discovery.AuthServerMetadata, g string) string {
	if slices.Contains(m.GrantTypesSupported, g) {
		return "advertised"
	}
	return "not advertised"
}

// assertionGrants reports which assertion grants the authorization server advertises and,
// for a configured server, whether its setup can work with them.
func (d *diagnosis) assertionGrants(m *discovery.AuthServerMetadata) {
	lines := []string{
		"jwt-bearer (RFC 7523): " + advertised(m, grantJWTBearer),
		"token-exchange (RFC 8693): " + advertised(m, grantTokenExchange),
	}
	jwt := slices.Contains(m.GrantTypesSupported, grantJWTBearer)
	if !d.assertionMode() {
		if jwt {
			lines = append(lines, "usable with --auth workload (a workload's JWT) or --auth enterprise (your company's identity provider)")
		}
		if d.setup != nil {
			lines = append(lines, fmt.Sprintf("configured: auth %s, which does not use them", d.setup.Server.Auth))
		}
		d.add(itemAssertion, Info, strings.Join(lines, "\n"))
		return
	}
	srv := d.setup.Server
	switch srv.Auth {
	case config.AuthWorkload:
		source := "the file " + srv.AssertionFile
		if srv.AssertionCommand != "" {
			source = "what the assertion command prints"
		}
		lines = append(lines, fmt.Sprintf("configured: workload identity, client %q, the JWT from %s", srv.ClientID, source))
	default:
		lines = append(lines, fmt.Sprintf("configured: enterprise, client %q, through the identity provider %s", srv.ClientID, srv.IdP))
	}
	switch {
	case jwt:
		d.add(itemAssertion, OK, strings.Join(lines, "\n"))
	case len(m.GrantTypesSupported) == 0:
		d.add(itemAssertion, Warn, strings.Join(append(lines, "the metadata lists no grant types: the JWT bearer grant is tried, and may be refused"), "\n"))
	default:
		d.add(itemAssertion, Fail, strings.Join(append(lines, "the authorization server does not offer the JWT bearer grant this setup needs"), "\n"))
	}
}

// identityProvider checks, for an enterprise server, its identity provider's metadata: the
// token exchange that turns the sign-in into an ID-JAG happens there.
func (d *diagnosis) identityProvider(ctx context.Context, f *discovery.Fetcher) {
	if d.setup == nil || d.setup.Server.Auth != config.AuthEnterprise {
		return
	}
	p := d.setup.IdP
	if p == nil {
		d.add(itemIdP, Fail, fmt.Sprintf("no identity provider named %q is configured", d.setup.Server.IdP))
		return
	}
	m, metaURL, err := f.AuthServerMetadata(ctx, p.Issuer)
	if err != nil {
		d.add(itemIdP, Fail, fmt.Sprintf("%s (%s): %v", p.Name, discovery.Redact(p.Issuer), err))
		return
	}
	lines := []string{
		fmt.Sprintf("%s: issuer %s, metadata at %s", p.Name, discovery.Redact(p.Issuer), discovery.Redact(metaURL)),
		"token-exchange (RFC 8693): " + advertised(m, grantTokenExchange),
	}
	switch {
	case slices.Contains(m.GrantTypesSupported, grantTokenExchange):
		d.add(itemIdP, OK, strings.Join(lines, "\n"))
	case len(m.GrantTypesSupported) == 0:
		d.add(itemIdP, Warn, strings.Join(append(lines, "its metadata lists no grant types: the token exchange is tried, and may be refused"), "\n"))
	default:
		d.add(itemIdP, Fail, strings.Join(append(lines, "it does not offer the token exchange that turns your sign-in into a grant for this server"), "\n"))
	}
}
