// Package doctor diagnoses how an MCP server expects to be signed in to and
// spoken to, for `mcp-broker doctor URL`. It runs discovery, then judges each
// item of the MCP authorization checklist separately, so one report shows
// every problem rather than only the first one discovery stopped at, and the
// ways the server bends the rules that it can see (see deviations.go). For a
// browser sign-in it names the identity provider's profile (package provider)
// and the requests it makes, and says whether a sign-in will bring a refresh
// token. For a configured server (`mcp-broker doctor NAME`, RunFor) it also
// says whether its setup fits: the server's own sign-in settings, the
// assertion grants of workload identity and enterprise-managed authorization,
// an enterprise server's identity provider, and the other servers configured
// with the same URL; what the broker saw of the server at its last sign-in; and what it
// recorded since (the last background renewal that failed, a sign-in due within a day).
//
// Doctor never needs or shows a secret: it sends no token (its probe of the
// token endpoint comes from a client no server knows, with nothing secret),
// and every URL it prints passes through discovery.Redact.
package doctor

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/provider"
)

// Severity grades a Finding.
type Severity int

// Severities, from good to blocking.
const (
	OK   Severity = iota // as it should be
	Info                 // worth knowing; nothing to fix
	Warn                 // works, but degraded or against a SHOULD
	Fail                 // blocking: mcp-broker will not sign in or connect
)

var severityNames = [...]string{OK: "ok", Info: "info", Warn: "warn", Fail: "fail"}
var severitySymbols = [...]string{OK: "✔", Info: "•", Warn: "!", Fail: "✘"}

// String returns the severity's name: "ok", "info", "warn" or "fail".
func (s Severity) String() string {
	if s < OK || s > Fail {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText makes a Severity its name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is the verdict on one checklist item.
type Finding struct {
	Item     string   `json:"item"`
	Severity Severity `json:"severity"`
	Detail   string   `json:"detail"`
	// Hint is the next step for a person, which the edges word (package hint); None for most
	// findings, whose next step depends on the item alone.
	Hint hint.Hint `json:"-"`
}

// Report is the outcome of Run: the findings in checklist order.
type Report struct {
	ServerURL string `json:"server_url"` // redacted
	// Network says how requests reach the server and which authorities are trusted (see
	// NetworkLines); the caller fills it in, since Run knows only its client.
	Network  []string  `json:"network,omitempty"`
	Findings []Finding `json:"findings"`
}

// Blocking reports whether any finding is a Fail.
func (r *Report) Blocking() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == Fail })
}

// WriteText writes the report for people: one aligned line per finding,
// marked ✔ (ok), • (info), ! (warning) or ✘ (blocking), and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "mcp-broker doctor: %s\n", r.ServerURL)
	for _, line := range r.Network {
		fmt.Fprintf(&b, "network: %s\n", line)
	}
	b.WriteString("\n")
	width := 0
	for _, f := range r.Findings {
		width = max(width, utf8.RuneCountInString(f.Item))
	}
	var warns, fails int
	for _, f := range r.Findings {
		sym := "?"
		if f.Severity >= OK && f.Severity <= Fail {
			sym = severitySymbols[f.Severity]
		}
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(f.Item))
		detail := strings.ReplaceAll(f.Detail, "\n", "\n"+strings.Repeat(" ", width+4))
		fmt.Fprintf(&b, "%s %s%s  %s\n", sym, f.Item, pad, detail)
		switch f.Severity {
		case Warn:
			warns++
		case Fail:
			fails++
		}
	}
	b.WriteString("\n")
	switch {
	case fails > 0:
		fmt.Fprintf(&b, "%d blocking problem(s): mcp-broker will not sign in to or connect to this server.\n", fails)
	case warns > 0:
		fmt.Fprintf(&b, "No blocking problems; %d warning(s).\n", warns)
	default:
		b.WriteString("No problems found.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON returns the report as JSON, with a "blocking" member added.
func (r *Report) JSON() ([]byte, error) {
	return json.MarshalIndent(struct {
		ServerURL string    `json:"server_url"`
		Network   []string  `json:"network,omitempty"`
		Blocking  bool      `json:"blocking"`
		Findings  []Finding `json:"findings"`
	}{r.ServerURL, r.Network, r.Blocking(), r.Findings}, "", "  ")
}

// Item names, in report order.
const (
	itemServer      = "server"
	itemChallenge   = "401 challenge"
	itemPRM         = "resource metadata"
	itemResource    = "resource check"
	itemAuthServer  = "auth server"
	itemEndpoints   = "endpoints"
	itemPKCE        = "PKCE S256"
	itemReg         = "registration"
	itemGrants      = "grant types"
	itemProvider    = "provider"
	itemDevice      = "device grant"
	itemOffline     = "refresh token"
	itemISS         = "RFC 9207 iss"
	itemAssertion   = "assertion grants"
	itemIdP         = "identity provider"
	itemClientKey   = "client key"
	itemDPoP        = "DPoP"
	itemStreamable  = "Streamable HTTP"
	itemTLS         = "TLS"
	itemLegacySSE   = "legacy SSE"
	legacySSEWait   = 3 // seconds to wait for the endpoint event
	maxSSEPeekBytes = 64 << 10
)

// Run diagnoses the MCP server at serverURL. f may be nil for defaults. It
// never fails: what goes wrong becomes a finding.
func Run(ctx context.Context, f *discovery.Fetcher, serverURL string) *Report {
	return run(ctx, f, serverURL, nil)
}

// RunFor diagnoses a configured server (`doctor NAME`): Run, with the
// findings that compare its setup with what the server advertises.
func RunFor(ctx context.Context, f *discovery.Fetcher, setup Setup) *Report {
	return run(ctx, f, setup.Server.URL, &setup)
}

func run(ctx context.Context, f *discovery.Fetcher, serverURL string, setup *Setup) *Report {
	if f == nil {
		f = &discovery.Fetcher{}
	}
	d := &diagnosis{report: &Report{ServerURL: discovery.Redact(serverURL)}, setup: setup}
	res, err := f.Discover(ctx, serverURL)
	d.res, d.err = res, err

	var insecure *discovery.InsecureEndpointError
	if errors.As(err, &insecure) && insecure.Field == "server URL" {
		d.add(itemServer, Fail, err.Error())
		d.lapse()
		return d.report
	}
	post := finalProbe(res.Trace, http.MethodPost)
	if post == nil || post.Status == 0 {
		msg := "the server did not answer"
		if err != nil {
			msg = err.Error()
		}
		d.add(itemServer, Fail, msg)
		d.untrusted(err)
		d.lapse()
		return d.report
	}

	d.challenge(post)
	d.resourceMetadata()
	d.resourceCheck()
	d.authServer()
	if m := res.AuthServer; m != nil {
		d.resolveProfile(m)
		d.providerProfile(m)
		d.endpoints(m)
		d.pkce(m)
		d.registration(m)
		d.clientKey(m)
		if res.AuthServerMetadataURL != "" { // else there is nothing to judge them by
			d.grants(m)
			d.deviceGrant(m)
			d.assertionGrants(m)
			d.refreshToken(m)
			d.iss(m)
		}
		d.dpop()
		d.authorizationPage(ctx, f, m)
		d.tokenRequests(ctx, f, m)
	}
	d.learned()
	d.lapse()
	d.identityProvider(ctx, f)
	d.sameURL()
	d.transports(ctx, f, serverURL, post)
	d.untrusted(d.err)
	return d.report
}

// untrusted explains a certificate signed by an authority this computer does not trust, the
// mark of a proxy that inspects TLS (it signs a certificate of its own for every host), and
// attaches the next step: trust that authority. At most one such finding is made.
func (d *diagnosis) untrusted(err error) {
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) || slices.ContainsFunc(d.report.Findings, func(f Finding) bool { return f.Item == itemTLS }) {
		return
	}
	detail := "a certificate is signed by an authority this computer does not trust"
	if c := unknown.Cert; c != nil {
		issuer := c.Issuer.CommonName
		if issuer == "" {
			issuer = c.Issuer.String()
		}
		detail = fmt.Sprintf("the certificate of %s is signed by %q, an authority this computer does not trust", certName(c), issuer)
	}
	detail += "\non a corporate network this is most likely a proxy that inspects TLS and signs with its own authority"
	d.report.Findings = append(d.report.Findings, Finding{Item: itemTLS, Severity: Fail, Detail: detail, Hint: hint.TrustCA})
}

// certName names the host a certificate is for.
func certName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	if len(c.IPAddresses) > 0 {
		return c.IPAddresses[0].String()
	}
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return "the server"
}

// NetworkLines says how requests to serverURL leave this machine under n, and which CA file is
// trusted besides the system's authorities, for Report.Network.
func NetworkLines(n *httpclient.Network, serverURL string) []string {
	lines := []string{n.Route(serverURL).String()}
	if s := n.Summary(); s.CAFile != "" {
		lines = append(lines, fmt.Sprintf("CA file %s (%s), trusted besides the system's", s.CAFile, s.CAFileFrom))
	}
	return lines
}

// diagnosis holds one Run's state while its findings are written.
type diagnosis struct {
	report *Report
	res    *discovery.Result
	err    error
	setup  *Setup // nil when run for a URL
	// prof is the provider profile a sign-in applies, and profSource where it comes from.
	prof       provider.Profile
	profSource provider.Source
}

func (d *diagnosis) add(item string, s Severity, detail string) {
	d.report.Findings = append(d.report.Findings, Finding{Item: item, Severity: s, Detail: detail})
}

// failedAt returns the purpose of the discovery step that failed, "" if none.
func (d *diagnosis) failedAt() string {
	if d.err == nil {
		return ""
	}
	for i := len(d.res.Trace) - 1; i >= 0; i-- {
		if d.res.Trace[i].Err != "" {
			return d.res.Trace[i].Purpose
		}
	}
	return ""
}

func (d *diagnosis) challenge(post *discovery.Probe) {
	res := d.res
	switch {
	case !res.AuthRequired:
		d.add(itemChallenge, Info, "no authorization required: the server answered without a token")
	case res.Challenge != nil:
		c := res.Challenge
		detail := c.Scheme
		for _, k := range []string{"resource_metadata", "scope", "error", "error_description", "realm"} {
			if v, ok := c.Params[k]; ok {
				if k == "resource_metadata" {
					v = discovery.Redact(v)
				}
				detail += fmt.Sprintf(" %s=%q", k, v)
			}
		}
		if c.ResourceMetadata() == "" {
			d.add(itemChallenge, Info, detail+"\n(no resource_metadata: the well-known URLs are tried)")
			return
		}
		if refused := refusedResourceMetadata(res.Trace); refused != "" {
			// Hostile or misconfigured; either way the server should fix it.
			d.add(itemChallenge, Warn, detail+"\n"+refused+"\n(not requested: the well-known URLs are tried instead)")
			return
		}
		d.add(itemChallenge, OK, detail)
	case post.Status == http.StatusUnauthorized || hasStatus(res.Trace, http.StatusUnauthorized):
		d.add(itemChallenge, Warn, "401 without a Bearer challenge in WWW-Authenticate (RFC 6750 §3 asks for one)")
	default:
		d.add(itemChallenge, Info, fmt.Sprintf("no 401: POST initialize answered %d", post.Status))
	}
}

func (d *diagnosis) resourceMetadata() {
	res := d.res
	tried := failedCandidates(res.Trace, discovery.PurposeResourceMetadata)
	triedNote := ""
	if len(tried) > 0 {
		triedNote = "\nnot at: " + strings.Join(tried, "; ")
	}
	switch {
	case res.ResourceMetadata != nil:
		d.add(itemPRM, OK, "found at "+discovery.Redact(res.ResourceMetadataURL)+triedNote)
	case d.failedAt() == discovery.PurposeResourceMetadata:
		d.add(itemPRM, Fail, d.err.Error()+triedNote)
	case !res.AuthRequired:
		d.add(itemPRM, Info, "none published (none needed)"+triedNote)
	case d.err != nil && d.failedAt() == discovery.PurposeProbe:
		d.add(itemPRM, Fail, d.err.Error()+triedNote)
	default:
		d.add(itemPRM, Warn, "none published: a server of the 2025-03-26 generation; its origin is taken as the authorization server"+triedNote)
	}
}

func (d *diagnosis) resourceCheck() {
	prm := d.res.ResourceMetadata
	if prm == nil {
		return
	}
	var mismatch *discovery.ResourceMismatchError
	switch {
	case errors.As(d.err, &mismatch):
		d.add(itemResource, Fail, d.err.Error())
	case prm.Resource == "":
		d.add(itemResource, Fail, "the metadata names no resource: refusing to sign in")
	default:
		detail := fmt.Sprintf("%q identifies this server; tokens are requested for it", discovery.Redact(prm.Resource))
		if a, _ := discovery.CanonicalResource(prm.Resource); a != mustCanonical(d.res.ServerURL) {
			detail += "\n(it is a prefix of the server URL on the same origin, accepted)"
		}
		d.add(itemResource, OK, detail)
	}
}

func (d *diagnosis) authServer() {
	res := d.res
	var mismatch *discovery.IssuerMismatchError
	switch {
	case errors.As(d.err, &mismatch):
		d.add(itemAuthServer, Fail, d.err.Error())
	case res.AuthServer != nil && res.AuthServerMetadataURL == "":
		d.add(itemAuthServer, Warn, fmt.Sprintf("no metadata at %s/.well-known/oauth-authorization-server: assuming the 2025-03-26 defaults /authorize, /token, /register",
			discovery.Redact(res.Issuer)))
	case res.AuthServer != nil && res.IssuerDiffersBySlash():
		d.add(itemAuthServer, Warn, fmt.Sprintf("the metadata at %s names its issuer %q, a trailing slash apart from the %q it was fetched for\n"+
			"RFC 8414 §3.3 asks for the same string; mcp-broker accepts this one difference, and uses %q (a redirect's iss must match it exactly)",
			discovery.Redact(res.AuthServerMetadataURL), discovery.Redact(res.AuthServer.Issuer), discovery.Redact(res.Issuer), discovery.Redact(res.AuthServer.Issuer)))
	case res.AuthServer != nil:
		detail := fmt.Sprintf("issuer %s (matches), metadata at %s", discovery.Redact(res.Issuer), discovery.Redact(res.AuthServerMetadataURL))
		if res.Legacy {
			detail += "\n(2025-03-26 fallback: the server's origin is the authorization server)"
		}
		if prm := res.ResourceMetadata; prm != nil && len(prm.AuthorizationServers) > 1 {
			detail += fmt.Sprintf("\n(%d authorization servers listed; the first is used)", len(prm.AuthorizationServers))
		}
		d.add(itemAuthServer, OK, detail)
	case d.failedAt() == discovery.PurposeAuthServerMetadata:
		d.add(itemAuthServer, Fail, d.err.Error())
	case res.ResourceMetadata != nil && res.ResourceMetadata.Resource != "" && len(res.ResourceMetadata.AuthorizationServers) == 0:
		d.add(itemAuthServer, Fail, "the resource metadata lists no authorization_servers: there is nowhere to sign in")
	}
}

func (d *diagnosis) endpoints(m *discovery.AuthServerMetadata) {
	errs := m.EndpointProblems()
	if len(errs) == 0 {
		d.add(itemEndpoints, OK, "all https (or on a loopback host)")
		return
	}
	lines := make([]string, len(errs))
	for i, err := range errs {
		lines[i] = err.Error()
	}
	d.add(itemEndpoints, Fail, strings.Join(lines, "\n"))
}

func (d *diagnosis) pkce(m *discovery.AuthServerMetadata) {
	switch {
	case d.assertionMode() && !m.SupportsS256():
		d.add(itemPKCE, Info, "not advertised; not needed: the server is configured for the JWT bearer grant, without a browser")
	case d.res.Legacy && d.res.AuthServerMetadataURL == "":
		d.add(itemPKCE, Info, "assumed: the 2025-03-26 specification required it")
	case m.SupportsS256():
		d.add(itemPKCE, OK, "S256 advertised")
	case d.prof.UndeclaredS256 && len(m.CodeChallengeMethodsSupported) == 0 && d.browserSignIn():
		d.add(itemPKCE, Info, "not advertised (no code_challenge_methods_supported); "+d.prof.Title+" documents S256 support: used")
	default:
		d.add(itemPKCE, Fail, (&discovery.NoS256Error{Issuer: m.Issuer, Advertised: m.CodeChallengeMethodsSupported}).Error())
	}
}

func (d *diagnosis) registration(m *discovery.AuthServerMetadata) {
	if d.res.AuthServerMetadataURL == "" {
		d.add(itemReg, Info, "pre-registered client id: always possible\ndynamic registration: "+
			discovery.Redact(m.RegistrationEndpoint)+" (assumed)")
		return
	}
	var parts []string
	parts = append(parts, "pre-registered client id: always possible")
	if m.ClientIDMetadataDocumentSupported {
		parts = append(parts, "client ID metadata document: supported")
	} else {
		parts = append(parts, "client ID metadata document: not advertised")
	}
	if m.RegistrationEndpoint != "" {
		parts = append(parts, "dynamic registration: "+discovery.Redact(m.RegistrationEndpoint))
	} else {
		parts = append(parts, "dynamic registration: no registration_endpoint")
	}
	methods := strings.Join(m.AuthMethods(), ", ")
	if len(m.TokenEndpointAuthMethodsSupported) == 0 {
		methods += " (RFC 8414 default)"
	}
	parts = append(parts, "token endpoint auth: "+methods)
	if slices.Contains(m.TokenEndpointAuthMethodsSupported, privateKeyJWT) {
		parts = append(parts, "private_key_jwt signing algorithms: "+signingAlgs(m))
	}
	sev := OK
	switch {
	case d.prof.NoRegistration && d.browserSignIn() && d.setup != nil && d.setup.Server.ClientID != "":
		parts = append(parts, fmt.Sprintf("%s needs a client registered beforehand: configured, client id %q", d.prof.Title, d.setup.Server.ClientID))
	case d.prof.NoRegistration && d.browserSignIn():
		sev = Warn
		parts = append(parts, fmt.Sprintf("%s does not register this program dynamically: it needs a client registered there beforehand, %s", d.prof.Title, d.prof.Register))
	case !m.ClientIDMetadataDocumentSupported && m.RegistrationEndpoint == "":
		sev = Warn
		parts = append(parts, "only a client id registered with the authorization server beforehand will work")
	}
	d.add(itemReg, sev, strings.Join(parts, "\n"))
}

// privateKeyJWT is the token endpoint auth method of signed client assertions (RFC 7523 §2.2).
const privateKeyJWT = "private_key_jwt"

// signingAlgs lists the assertion algorithms the authorization server advertises.
func signingAlgs(m *discovery.AuthServerMetadata) string {
	if len(m.TokenEndpointAuthSigningAlgValuesSupported) == 0 {
		return "not advertised"
	}
	return strings.Join(m.TokenEndpointAuthSigningAlgValuesSupported, ", ")
}

// clientKey judges the configured client's private key (private_key_jwt) against what the
// authorization server accepts; only for a configured server (RunFor).
func (d *diagnosis) clientKey(m *discovery.AuthServerMetadata) {
	if d.setup == nil {
		return
	}
	s := d.setup
	keyed := s.Server.ClientAuth == config.ClientAuthPrivateKeyJWT
	methods, algs := m.TokenEndpointAuthMethodsSupported, m.TokenEndpointAuthSigningAlgValuesSupported
	accepts := slices.Contains(methods, privateKeyJWT)
	switch {
	case !keyed && accepts:
		d.add(itemClientKey, Info, "none: the client does not sign assertions\n(the authorization server accepts private_key_jwt, with "+signingAlgs(m)+")")
	case !keyed:
		d.add(itemClientKey, Info, "none: the client does not sign assertions")
	case s.KeyAlgorithm == "":
		why := s.KeyProblem
		if why == "" {
			why = "no private key is stored for it"
		}
		d.add(itemClientKey, Fail, "configured for private_key_jwt, but "+why)
	case len(methods) > 0 && !accepts:
		d.add(itemClientKey, Fail, fmt.Sprintf("an %s key for private_key_jwt, which the authorization server does not accept (it lists %s)", s.KeyAlgorithm, strings.Join(methods, ", ")))
	case len(algs) > 0 && !slices.Contains(algs, s.KeyAlgorithm):
		d.add(itemClientKey, Fail, fmt.Sprintf("an %s key, but the authorization server accepts assertions signed with %s only", s.KeyAlgorithm, strings.Join(algs, ", ")))
	case len(methods) == 0 || len(algs) == 0:
		d.add(itemClientKey, Info, fmt.Sprintf("an %s key for private_key_jwt; the authorization server does not advertise whether it accepts it (used all the same)", s.KeyAlgorithm))
	default:
		d.add(itemClientKey, OK, fmt.Sprintf("an %s key for private_key_jwt, which the authorization server accepts", s.KeyAlgorithm))
	}
}

func (d *diagnosis) grants(m *discovery.AuthServerMetadata) {
	listed := "not advertised (RFC 8414 default: authorization_code, implicit)"
	if len(m.GrantTypesSupported) > 0 {
		listed = strings.Join(m.GrantTypesSupported, ", ")
	}
	if d.setup != nil && d.setup.Server.Auth == config.AuthClientCredentials {
		// No browser and no refresh token: a new grant whenever the token expires.
		if m.SupportsGrant("client_credentials") {
			d.add(itemGrants, OK, listed)
		} else {
			d.add(itemGrants, Fail, listed+"\nno client_credentials: the server is configured for that grant")
		}
		return
	}
	switch {
	case d.assertionMode():
		// The assertion grants item judges what such a server needs.
		d.add(itemGrants, Info, listed)
	case !m.SupportsGrant("authorization_code"):
		d.add(itemGrants, Fail, listed+"\nno authorization_code: a person cannot sign in through the browser")
	case !m.SupportsGrant("refresh_token") && d.prof.Offline != provider.OfflineStandard:
		// The provider's documentation, not its metadata, says how it issues refresh tokens.
		d.add(itemGrants, Info, listed+"\n(refresh_token not listed; "+d.prof.OfflineWhy+")")
	case !m.SupportsGrant("refresh_token"):
		d.add(itemGrants, Warn, listed+"\nno refresh_token: you will sign in again whenever the access token expires")
	default:
		if m.SupportsGrant("client_credentials") {
			listed += "\n(client_credentials is offered too: usable by unattended machines)"
		}
		d.add(itemGrants, OK, listed)
	}
}

// deviceGrant says whether a person can sign in with a code entered on another device (the
// device authorization grant, RFC 8628): what `login --device` and a bridge without a display
// use. Without it, signing in away from the desktop means pasting the browser's final address.
func (d *diagnosis) deviceGrant(m *discovery.AuthServerMetadata) {
	if d.assertionMode() || d.setup != nil && d.setup.Server.Auth == config.AuthClientCredentials {
		return // no person signs in
	}
	name := "NAME"
	if d.setup != nil {
		name = d.setup.Server.Name
	}
	if !m.OffersDeviceGrant() {
		detail := "not offered: over SSH or in a container, use `mcp-broker login " + name + " --no-browser` and paste the address the browser ends on"
		if m.DeviceAuthorizationEndpoint != "" {
			detail = "a device_authorization_endpoint is published, but grant_types_supported does not list " + discovery.GrantDeviceCode + "\n" + detail
		}
		d.add(itemDevice, Info, detail)
		return
	}
	if err := m.ValidateForDevice(); err != nil {
		d.add(itemDevice, Warn, "offered, but unusable: "+err.Error())
		return
	}
	d.add(itemDevice, OK, "offered at "+discovery.Redact(m.DeviceAuthorizationEndpoint)+": `mcp-broker login "+name+" --device` signs in with a code entered on any device, and a bridge without a display uses it")
}

func (d *diagnosis) iss(m *discovery.AuthServerMetadata) {
	if m.AuthorizationResponseISSParameterSupported {
		d.add(itemISS, OK, "authorization responses carry iss; mcp-broker requires and checks it")
		return
	}
	d.add(itemISS, Info, "not advertised; iss is checked when present")
}

// transports judges Streamable HTTP from the probe discovery made, and
// checks legacy HTTP+SSE when Streamable HTTP did not answer.
func (d *diagnosis) transports(ctx context.Context, f *discovery.Fetcher, serverURL string, post *discovery.Probe) {
	ct := mediaType(post.ContentType)
	switch {
	case is2xx(post.Status) && (ct == "application/json" || ct == "text/event-stream"):
		d.add(itemStreamable, OK, fmt.Sprintf("POST initialize answered %d (%s)", post.Status, ct))
		return
	case is2xx(post.Status):
		d.add(itemStreamable, Warn, fmt.Sprintf("POST initialize answered %d with Content-Type %q, not application/json or text/event-stream", post.Status, post.ContentType))
		return
	case post.Status == http.StatusUnauthorized || post.Status == http.StatusForbidden:
		d.add(itemStreamable, Info, fmt.Sprintf("POST answered %d: needs a token; the transport is checked after sign-in", post.Status))
		return
	default:
		d.add(itemStreamable, Info, fmt.Sprintf("POST initialize answered %d: not a Streamable HTTP endpoint", post.Status))
	}

	sse := probeSSE(ctx, f, serverURL)
	switch {
	case sse.err != nil && sse.status == 0:
		d.add(itemLegacySSE, Fail, "no transport answered: GET failed: "+sse.err.Error())
	case sse.status == http.StatusUnauthorized || sse.status == http.StatusForbidden:
		d.add(itemLegacySSE, Info, fmt.Sprintf("GET answered %d: needs a token; the transport is checked after sign-in", sse.status))
	case !is2xx(sse.status):
		d.add(itemLegacySSE, Fail, fmt.Sprintf("no transport answered: POST %d, GET %d", post.Status, sse.status))
	case sse.endpoint != "":
		d.add(itemLegacySSE, OK, "GET opened an SSE stream; endpoint event: "+discovery.Redact(sse.endpoint))
	case mediaType(sse.contentType) != "text/event-stream":
		d.add(itemLegacySSE, Fail, fmt.Sprintf("GET answered %d with Content-Type %q, not an SSE stream", sse.status, sse.contentType))
	default:
		d.add(itemLegacySSE, Fail, fmt.Sprintf("GET opened an SSE stream but sent no endpoint event within %d s", legacySSEWait))
	}
}

// finalProbe returns the last non-redirect probe discovery made with
// method, or nil.
func finalProbe(tr []discovery.Probe, method string) *discovery.Probe {
	var last *discovery.Probe
	for i := range tr {
		p := &tr[i]
		if p.Purpose == discovery.PurposeProbe && p.Method == method && !isRedirectHop(p) {
			last = p
		}
	}
	return last
}

func hasStatus(tr []discovery.Probe, status int) bool {
	return slices.ContainsFunc(tr, func(p discovery.Probe) bool { return p.Purpose == discovery.PurposeProbe && p.Status == status })
}

// refusedResourceMetadata returns why discovery refused to fetch the
// challenge's resource_metadata URL, "" if it did not. That URL is the first
// resource-metadata candidate, so its refusal is the first resource-metadata
// entry of the trace (a refused redirect later shows the same way, after the
// request that was redirected).
func refusedResourceMetadata(tr []discovery.Probe) string {
	for _, p := range tr {
		if p.Purpose == discovery.PurposeResourceMetadata {
			if p.Method == "" && p.Note == "not requested" {
				return p.Err
			}
			return ""
		}
	}
	return ""
}

// failedCandidates lists the URLs of one purpose that gave no document,
// with why.
func failedCandidates(tr []discovery.Probe, purpose string) []string {
	var out []string
	for _, p := range tr {
		if p.Purpose != purpose || isRedirectHop(&p) || p.URL == "" {
			continue
		}
		switch {
		case p.Note == "not requested":
			out = append(out, p.URL+" (refused)")
		case is2xx(p.Status):
			// Found; a problem with its content is another item's finding.
		case p.Err != "":
			out = append(out, p.URL+" (failed)")
		default:
			out = append(out, fmt.Sprintf("%s (%d)", p.URL, p.Status))
		}
	}
	return out
}

func isRedirectHop(p *discovery.Probe) bool {
	return p.Status >= 300 && p.Status < 400 && strings.HasPrefix(p.Note, "redirect to")
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func mustCanonical(u string) string {
	c, _ := discovery.CanonicalResource(u)
	return c
}

func is2xx(status int) bool { return status >= 200 && status < 300 }
