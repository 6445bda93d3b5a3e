package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/wwwauth"
)

// Result is what Discover learned about an MCP server's authorization.
type Result struct {
	// ServerURL is the URL Discover was given.
	ServerURL string
	// Resource is the RFC 8707 resource to ask tokens for: the resource the
	// server's metadata names, exactly as written there (RFC 9728 §3.3 makes
	// it the identifier the server itself checks, and authorization servers
	// compare it as a string), or, without metadata, CanonicalResource of
	// ServerURL.
	Resource string
	// AuthRequired is false when the server answered the probe with 2xx
	// without a token, true otherwise.
	AuthRequired bool
	// Challenge is the Bearer challenge of the probe's 401 (or 403), if any,
	// or else its DPoP challenge: the one whose resource_metadata and scope
	// count.
	Challenge *wwwauth.Challenge
	// DPoPChallenge is the DPoP challenge of the probe's 401 (or 403), if
	// any (RFC 9449 §7.1): the server says it accepts DPoP-bound tokens.
	DPoPChallenge *wwwauth.Challenge

	// ResourceMetadata is the server's protected-resource metadata and
	// ResourceMetadataURL where it was found; nil and "" for servers of the
	// 2025-03-26 generation, which publish none.
	ResourceMetadata    *ResourceMetadata
	ResourceMetadataURL string

	// Issuer is the authorization server's issuer: the first of the
	// metadata's authorization_servers, or the server's origin when Legacy.
	Issuer string
	// AuthServer is the authorization server's metadata, and
	// AuthServerMetadataURL where it was found; the URL is "" when the
	// 2025-03-26 default endpoints were assumed.
	AuthServer            *AuthServerMetadata
	AuthServerMetadataURL string
	// Legacy is true when the 2025-03-26 fallback was used (no
	// protected-resource metadata; the server's origin is the authorization
	// server).
	Legacy bool

	// Trace lists every request made, in order, and every candidate URL
	// refused without one.
	Trace []Probe
}

// Discover finds how to sign in to the MCP server at serverURL, in the order
// the MCP specification prescribes (see the package comment).
//
// The Result is never nil. On error it holds what was learned before the
// failure, and the Trace, for diagnostics (doctor); a caller must not sign
// in with it. When Result.AuthRequired is false the server can be used
// without a token, and an error then concerns only its optional sign-in.
func (f *Fetcher) Discover(ctx context.Context, serverURL string) (*Result, error) {
	res := &Result{ServerURL: serverURL, AuthRequired: true}
	tr := (*trace)(&res.Trace)
	if err := CheckEndpoint(serverURL); err != nil {
		e := &InsecureEndpointError{Field: "server URL", URL: serverURL, Reason: err}
		tr.add(Probe{Purpose: PurposeProbe, URL: Redact(serverURL), Err: e.Error(), Note: "not requested"})
		return res, e
	}
	su, err := url.Parse(serverURL)
	if err != nil { // CheckEndpoint parsed it already
		return res, err
	}
	if res.Resource, err = CanonicalResource(serverURL); err != nil {
		return res, err
	}

	// 1. Probe the endpoint without a token.
	got401, status, err := f.probe(ctx, serverURL, res, tr)
	if err != nil {
		return res, err
	}

	// 2. Protected-resource metadata.
	prm, prmURL, err := f.findResourceMetadata(ctx, su, res.Challenge, tr)
	if err != nil {
		return res, err
	}
	if prm == nil {
		if !res.AuthRequired {
			return res, nil // open server; nothing to sign in to
		}
		// 5. A 2025-03-26 server: its origin is the authorization server.
		return res, f.legacy(ctx, su, got401, status, res, tr)
	}
	res.ResourceMetadata, res.ResourceMetadataURL = prm, prmURL

	// 3. The metadata must be about this server.
	if prm.Resource == "" {
		err := &MetadataError{Purpose: PurposeResourceMetadata, URL: prmURL, Err: errors.New("it names no resource")}
		tr.fail(err)
		return res, err
	}
	if !resourceMatches(prm.Resource, serverURL) {
		err := &ResourceMismatchError{Advertised: prm.Resource, Expected: res.Resource, MetadataURL: prmURL}
		tr.fail(err)
		return res, err
	}
	res.Resource = prm.Resource

	// 4 and 6. The authorization server's metadata, checked.
	if len(prm.AuthorizationServers) == 0 {
		err := &MetadataError{Purpose: PurposeResourceMetadata, URL: prmURL, Err: errors.New("it lists no authorization_servers")}
		tr.fail(err)
		return res, err
	}
	res.Issuer = prm.AuthorizationServers[0]
	res.AuthServer, res.AuthServerMetadataURL, err = f.authServerMetadata(ctx, res.Issuer, "authorization_servers[0]", tr)
	return res, err
}

// probe runs step 1: POST initialize, and for answers legacy HTTP+SSE servers
// give a POST (400, 404, 405) a GET for the SSE stream, to see whether either
// asks for a token. It reports whether a 401 was seen and the deciding status.
func (f *Fetcher) probe(ctx context.Context, serverURL string, res *Result, tr *trace) (got401 bool, status int, err error) {
	status, h, err := f.probeEndpoint(ctx, http.MethodPost, serverURL, tr)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) || ctx.Err() != nil {
			return false, 0, err
		}
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // do's wrapping repeats the URL UnreachableError names
		}
		return false, 0, &UnreachableError{URL: serverURL, Err: err}
	}
	if status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
		// A failed GET is only recorded: the POST already showed the server is there.
		if gs, gh, gerr := f.probeEndpoint(ctx, http.MethodGet, serverURL, tr); gerr == nil &&
			(is2xx(gs) || gs == http.StatusUnauthorized || gs == http.StatusForbidden) {
			status, h = gs, gh
		}
	}
	switch {
	case is2xx(status):
		res.AuthRequired = false
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		res.Challenge, res.DPoPChallenge = wwwauth.Bearer(h), wwwauth.DPoP(h)
		if res.Challenge == nil {
			res.Challenge = res.DPoPChallenge
		}
	}
	return status == http.StatusUnauthorized || res.Challenge != nil, status, nil
}

// findResourceMetadata runs step 2: the challenge's resource_metadata URL
// (when checkResourceMetadataURL allows it), then the path form, then the
// root form of the well-known URL. It returns nil metadata when no candidate
// answered 2xx.
func (f *Fetcher) findResourceMetadata(ctx context.Context, su *url.URL, ch *wwwauth.Challenge, tr *trace) (*ResourceMetadata, string, error) {
	var cands []string
	if rm := strings.TrimSpace(ch.ResourceMetadata()); rm != "" {
		// Resolve a relative reference against the server URL: lenient, and
		// harmless since it stays on the server's origin.
		if ref, err := url.Parse(rm); err == nil {
			rm = su.ResolveReference(ref).String()
		}
		err := CheckEndpoint(rm)
		if err == nil {
			err = checkResourceMetadataURL(su, rm)
		}
		if err != nil {
			// Refused unrequested, and recorded: doctor reports it. A bad URL
			// here is a hostile server or a misconfigured one (often its own
			// address behind a TLS proxy: http, or localhost); the well-known
			// URLs derive from the server URL we trust and stay on its origin,
			// so fall back to them rather than give up.
			e := &InsecureEndpointError{Field: "resource_metadata", URL: rm, Reason: err}
			tr.add(Probe{Purpose: PurposeResourceMetadata, URL: Redact(rm), Err: e.Error(), Note: "not requested"})
		} else {
			cands = append(cands, rm)
		}
	}
	if hasPath(su) {
		cands = append(cands, wellKnownURL(su, "oauth-protected-resource"))
	}
	cands = append(cands, origin(su)+"/.well-known/oauth-protected-resource")

	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c] {
			continue
		}
		seen[c] = true
		var m ResourceMetadata
		status, err := f.getJSON(ctx, PurposeResourceMetadata, c, &m, tr)
		if err != nil {
			return nil, c, err
		}
		if is2xx(status) {
			return &m, c, nil
		}
	}
	return nil, "", nil
}

// legacy runs step 5 for a server without protected-resource metadata: the
// authorization base URL is the server URL without its path; its RFC 8414
// metadata is used if present, else the default endpoints /authorize,
// /token and /register. With the defaults we assume S256: the 2025-03-26
// specification required PKCE of every authorization server, so a server
// built to it supports it; the authorization server will refuse the request
// if not, and no token is at risk meanwhile.
//
// The defaults are assumed only when the server did ask for a token (401):
// otherwise a wrong URL (404 everywhere) would "discover" invented endpoints.
func (f *Fetcher) legacy(ctx context.Context, su *url.URL, got401 bool, status int, res *Result, tr *trace) error {
	base := origin(su)
	metaURL := base + "/.well-known/oauth-authorization-server"
	var m AuthServerMetadata
	st, err := f.getJSON(ctx, PurposeAuthServerMetadata, metaURL, &m, tr)
	if err != nil {
		return err
	}
	if is2xx(st) {
		res.Legacy, res.Issuer = true, base
		res.AuthServer, res.AuthServerMetadataURL = &m, metaURL
		if err := checkAuthServer(&m, base, metaURL); err != nil {
			tr.fail(err)
			return err
		}
		tr.noteIssuer(&m, base)
		return nil
	}
	if !got401 {
		err := &NoAuthInfoError{URL: res.ServerURL, Status: status}
		tr.conclude(PurposeProbe, res.ServerURL, err)
		return err
	}
	res.Legacy, res.Issuer = true, base
	res.AuthServer = &AuthServerMetadata{
		Issuer:                        base,
		AuthorizationEndpoint:         base + "/authorize",
		TokenEndpoint:                 base + "/token",
		RegistrationEndpoint:          base + "/register",
		ResponseTypesSupported:        []string{"code"},
		CodeChallengeMethodsSupported: []string{"S256"},
	}
	return nil
}

// AuthServerMetadata fetches and checks the metadata of the authorization
// server with the given issuer identifier. For an issuer with a path, such
// as https://as.example/tenant1, it tries in order
//
//	https://as.example/.well-known/oauth-authorization-server/tenant1
//	https://as.example/.well-known/openid-configuration/tenant1
//	https://as.example/tenant1/.well-known/openid-configuration
//
// and without a path /.well-known/oauth-authorization-server, then
// /.well-known/openid-configuration. The first 2xx answer is used; its
// issuer must equal issuer exactly (*IssuerMismatchError), and it must pass
// Validate. It returns the metadata and the URL it came from.
func (f *Fetcher) AuthServerMetadata(ctx context.Context, issuer string) (*AuthServerMetadata, string, error) {
	var tr trace
	m, u, err := f.authServerMetadata(ctx, issuer, "issuer", &tr)
	if err != nil {
		return nil, u, err
	}
	return m, u, nil
}

// authServerMetadata is AuthServerMetadata with a trace. On a failed check
// it still returns the metadata, for diagnostics; field names where the
// issuer came from, for errors.
func (f *Fetcher) authServerMetadata(ctx context.Context, issuer, field string, tr *trace) (*AuthServerMetadata, string, error) {
	iu, err := url.Parse(issuer)
	if err == nil {
		err = CheckEndpoint(issuer)
	}
	if err == nil && (iu.RawQuery != "" || iu.ForceQuery) {
		err = errors.New("an issuer must not have a query (RFC 8414 §2)")
	}
	if err != nil {
		e := &InsecureEndpointError{Field: field, URL: issuer, Reason: err}
		tr.add(Probe{Purpose: PurposeAuthServerMetadata, URL: Redact(issuer), Err: e.Error(), Note: "not requested"})
		return nil, "", e
	}
	cands := authServerMetadataURLs(iu)
	for _, c := range cands {
		var m AuthServerMetadata
		status, err := f.getJSON(ctx, PurposeAuthServerMetadata, c, &m, tr)
		if err != nil {
			return nil, "", err
		}
		if !is2xx(status) {
			continue
		}
		if err := checkAuthServer(&m, issuer, c); err != nil {
			tr.fail(err)
			return &m, c, err
		}
		tr.noteIssuer(&m, issuer)
		return &m, c, nil
	}
	err = &NotFoundError{Purpose: PurposeAuthServerMetadata, Subject: issuer, Tried: cands}
	tr.conclude(PurposeAuthServerMetadata, issuer, err)
	return nil, "", err
}

// checkAuthServer checks fetched metadata: the issuer, a token endpoint, and that every
// endpoint it names is safe to use. What only the browser flow needs (an authorization endpoint,
// PKCE S256) is left to ValidateForBrowser, so that a client-credentials server whose
// authorization server has no browser flow can still be used.
//
// The issuer must be the one the metadata URL was built from (RFC 8414 §3.3, OpenID Connect
// Discovery §4.3, MCP 2026-07-28), with one exception: a trailing slash more or less, which
// many servers get wrong (a URL library's href of "https://as.example" is
// "https://as.example/"). Both strings then name the same origin and path, and the metadata was
// fetched from the URL built from ours, so no other server speaks through it. The metadata's
// own issuer is then the one recorded and compared with a redirect's iss, exactly: that is the
// issuer the server writes there. The trace notes the difference (see
// Result.IssuerDiffersBySlash).
func checkAuthServer(m *AuthServerMetadata, issuer, metaURL string) error {
	if m.Issuer != issuer && !slashOnly(m.Issuer, issuer) {
		return &IssuerMismatchError{Expected: issuer, Got: m.Issuer, MetadataURL: metaURL}
	}
	for _, err := range m.EndpointProblems() {
		if mf, ok := err.(*MissingFieldError); ok && mf.Field == "authorization_endpoint" {
			continue
		}
		return err
	}
	return nil
}

// slashOnly reports whether two issuers differ by one trailing slash and nothing else.
func slashOnly(a, b string) bool {
	return a+"/" == b || b+"/" == a
}

// noteIssuer notes on the last entry, the metadata's, an issuer that differs from the one asked
// for by a trailing slash (see checkAuthServer).
func (t *trace) noteIssuer(m *AuthServerMetadata, asked string) {
	if n := len(*t); n > 0 && m.Issuer != asked {
		(*t)[n-1].Note = fmt.Sprintf("issuer %q differs from %q by a trailing slash: accepted", Redact(m.Issuer), Redact(asked))
	}
}

// IssuerDiffersBySlash reports whether the authorization server's metadata names its issuer
// with a trailing slash more or less than the issuer it was fetched for (Result.Issuer): the
// one difference checkAuthServer accepts, against RFC 8414 §3.3, and doctor warns about.
// AuthServer.Issuer is then the issuer in use.
func (r *Result) IssuerDiffersBySlash() bool {
	return r.AuthServer != nil && r.Issuer != "" && r.AuthServer.Issuer != r.Issuer && slashOnly(r.AuthServer.Issuer, r.Issuer)
}

// authServerMetadataURLs lists the metadata URLs for an issuer in the order
// of the MCP specification (RFC 8414 §3.1 path insertion, then OpenID
// Connect Discovery with insertion, then with appending).
func authServerMetadataURLs(iu *url.URL) []string {
	o := origin(iu)
	if !hasPath(iu) {
		return []string{
			o + "/.well-known/oauth-authorization-server",
			o + "/.well-known/openid-configuration",
		}
	}
	p := strings.TrimRight(iu.EscapedPath(), "/")
	return []string{
		o + "/.well-known/oauth-authorization-server" + p,
		o + "/.well-known/openid-configuration" + p,
		o + p + "/.well-known/openid-configuration",
	}
}
