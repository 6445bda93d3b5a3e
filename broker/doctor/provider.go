package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/provider"
)

// The provider profile (package provider) is what a browser sign-in changes for the identity
// provider behind the server: doctor names it, every quirk it applies, the server's own
// settings, and the authorization request they make together.

// browserSignIn reports whether the findings are about a browser sign-in: for a URL, or a
// configured OAuth server. The profile and the refresh token concern no other mode.
func (d *diagnosis) browserSignIn() bool {
	return d.setup == nil || d.setup.Server.Auth == config.AuthOAuth || d.setup.Server.Auth == ""
}

// settings are the configured server's escape hatches, or none for a URL.
func (d *diagnosis) settings() provider.Settings {
	if d.setup == nil {
		return provider.Settings{}
	}
	s := d.setup.Server
	return provider.Settings{
		AuthParams: s.AuthParams, NoResource: s.NoResource, NoResourceOnRefresh: s.NoResourceOnRefresh,
		FixedScopes: len(s.Scopes) > 0, SendIDToken: s.SendToken == provider.TokenID,
	}
}

// resolveProfile sets the profile the broker would apply with the authorization server m.
func (d *diagnosis) resolveProfile(m *discovery.AuthServerMetadata) {
	setting := ""
	if d.setup != nil {
		setting = d.setup.Server.Provider
	}
	d.prof, d.profSource = provider.Resolve(setting, m.Issuer, m.AuthorizationEndpoint, m.TokenEndpoint)
}

// authServerFacts is what the profile reads of the metadata.
func authServerFacts(m *discovery.AuthServerMetadata) provider.AuthServer {
	return provider.AuthServer{OpenID: m.OpenIDProvider(), ScopesSupported: m.ScopesSupported, GrantTypesSupported: m.GrantTypesSupported}
}

// providerProfile names the profile, where it comes from, its quirks, the server's settings and
// the authorization request they make.
func (d *diagnosis) providerProfile(m *discovery.AuthServerMetadata) {
	if !d.browserSignIn() {
		return
	}
	p := d.prof
	var lines []string
	sev := OK
	switch {
	case d.profSource == provider.Off:
		sev = Info
		lines = append(lines, "detection off (--provider none): the standard requests")
	case p.Standard():
		sev = Info
		lines = append(lines, "none detected: the standard requests (a provider behind a domain of its own is not detected: --provider NAME)")
	case d.profSource == provider.Configured:
		lines = append(lines, p.Title+" (set with --provider "+p.Name+")")
	default:
		lines = append(lines, p.Title+" (detected from the issuer)")
	}
	for _, q := range p.Quirks() {
		lines = append(lines, "- "+q)
	}
	if w := p.IssuerWarning(m.Issuer); w != "" {
		sev = Warn
		lines = append(lines, "- "+w)
	}
	if set := d.settings().Describe(); len(set) > 0 {
		lines = append(lines, "your settings:")
		for _, s := range set {
			lines = append(lines, "- "+s)
		}
	}
	lines = append(lines, "the authorization request: "+d.requestSummary(m))
	d.add(itemProvider, sev, strings.Join(lines, "\n"))
}

// requestSummary is what a first sign-in adds to the protocol's own parameters, in words. Its
// scopes follow the MCP selection order as the broker does for a first sign-in (no scopes held
// yet): the configured ones, else the challenge's, else the resource metadata's.
func (d *diagnosis) requestSummary(m *discovery.AuthServerMetadata) string {
	var scopes []string
	switch {
	case d.setup != nil && len(d.setup.Server.Scopes) > 0:
		scopes = d.setup.Server.Scopes
	case d.res.Challenge != nil && d.res.Challenge.Scope() != "":
		scopes = strings.Fields(d.res.Challenge.Scope())
	case d.res.ResourceMetadata != nil:
		scopes = d.res.ResourceMetadata.ScopesSupported
	}
	r := d.prof.Request(scopes, d.res.Resource, authServerFacts(m), d.settings())
	var parts []string
	if r.Scope != "" {
		parts = append(parts, fmt.Sprintf("scope=%q", r.Scope))
	} else {
		parts = append(parts, "no scope")
	}
	if r.Resource != "" {
		parts = append(parts, "resource="+discovery.Redact(r.Resource))
	} else {
		parts = append(parts, "no resource")
	}
	keys := make([]string, 0, len(r.AuthParams))
	for k := range r.AuthParams {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := r.AuthParams.Get(k)
		if k == "audience" {
			v = discovery.Redact(v)
		}
		parts = append(parts, k+"="+v)
	}
	refresh := "refresh requests with resource"
	if r.RefreshResource == "" {
		refresh = "refresh requests without resource"
	}
	return strings.Join(parts, ", ") + "; " + refresh
}

// refreshToken says whether a sign-in will bring a refresh token, judged from the profile, the
// settings and the metadata: when it will not, the person signs in again at every expiry, which
// is a warning, never "no problems".
func (d *diagnosis) refreshToken(m *discovery.AuthServerMetadata) {
	if !d.browserSignIn() {
		d.add(itemOffline, Info, fmt.Sprintf("not needed: auth %s gets a new token without a person", d.setup.Server.Auth))
		return
	}
	out := d.prof.RefreshOutlook(authServerFacts(m), d.settings())
	if out.Expected {
		d.add(itemOffline, OK, out.Why)
		return
	}
	d.add(itemOffline, Warn, "none expected: "+out.Why)
}
