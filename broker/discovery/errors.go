package discovery

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoS256 matches (with errors.Is) the error returned when an
// authorization server does not advertise PKCE S256. The MCP specification
// tells clients to refuse such a server: without PKCE a stolen authorization
// code can be redeemed by whoever stole it.
var ErrNoS256 = errors.New("the authorization server does not advertise PKCE S256")

// ErrNoDeviceGrant is returned when a device sign-in is asked of an
// authorization server that does not offer the device authorization grant
// (see AuthServerMetadata.OffersDeviceGrant).
var ErrNoDeviceGrant = errors.New("the authorization server does not offer the device authorization grant (RFC 8628: no device_authorization_endpoint, or grant_types_supported without " + GrantDeviceCode + ")")

// NoS256Error is returned when authorization server metadata lacks
// code_challenge_methods_supported or does not list S256 in it.
type NoS256Error struct {
	Issuer     string
	Advertised []string // the code_challenge_methods_supported it sent, if any
}

// Error implements error.
func (e *NoS256Error) Error() string {
	adv := "it advertises no code_challenge_methods_supported"
	if len(e.Advertised) > 0 {
		adv = "it advertises only " + truncate(strings.Join(e.Advertised, ", "), 100)
	}
	return fmt.Sprintf("the authorization server %s does not advertise PKCE S256 (%s): refusing to sign in without it",
		Redact(e.Issuer), adv)
}

// Is makes errors.Is(err, ErrNoS256) true.
func (e *NoS256Error) Is(target error) bool { return target == ErrNoS256 }

// InsecureEndpointError is returned when a URL discovery would fetch, call or
// open fails CheckEndpoint. Field names where the URL came from: an
// authorization server metadata field ("token_endpoint"), the challenge's
// "resource_metadata", "authorization_servers[0]" or "server URL".
type InsecureEndpointError struct {
	Field  string
	URL    string
	Reason error // from CheckEndpoint
}

// Error implements error.
func (e *InsecureEndpointError) Error() string {
	return fmt.Sprintf("refusing %s %q: %v", e.Field, Redact(e.URL), e.Reason)
}

// Unwrap returns the underlying cause.
func (e *InsecureEndpointError) Unwrap() error { return e.Reason }

// MissingFieldError is returned when authorization server metadata lacks an
// endpoint the client cannot do without.
type MissingFieldError struct {
	Field string
}

// Error implements error.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("the authorization server metadata has no %s, which signing in needs", e.Field)
}

// ResourceMismatchError is returned when protected-resource metadata names a
// resource other than the server asked about. Signing in anyway could mint a
// token for another server, or hand ours to one (RFC 9728 §3.3, §7.3).
type ResourceMismatchError struct {
	Advertised  string // the metadata's resource
	Expected    string // the canonical URI of the server asked about
	MetadataURL string
}

// Error implements error.
func (e *ResourceMismatchError) Error() string {
	return fmt.Sprintf("the server's metadata names resource %q, not %q: refusing to sign in (it could send your token elsewhere)",
		Redact(e.Advertised), Redact(e.Expected))
}

// IssuerMismatchError is returned when authorization server metadata names an
// issuer other than the one its URL was built from. RFC 8414 §3.3 and the
// MCP specification require them to be identical strings; anything else may
// be one server impersonating another. (A trailing slash more or less is the
// one difference accepted: see checkAuthServer.)
type IssuerMismatchError struct {
	Expected    string // the issuer the metadata URL was built from
	Got         string // the issuer the metadata names
	MetadataURL string
}

// Error implements error.
func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("the authorization server metadata at %s names issuer %q, not %q: refusing to use it",
		Redact(e.MetadataURL), Redact(e.Got), Redact(e.Expected))
}

// MetadataError is returned when a metadata document was found but cannot
// be used: larger than the cap, not JSON, or lacking a required member.
type MetadataError struct {
	Purpose string // PurposeResourceMetadata or PurposeAuthServerMetadata
	URL     string
	Err     error
}

// Error implements error.
func (e *MetadataError) Error() string {
	return fmt.Sprintf("%s at %s is unusable: %v", e.Purpose, Redact(e.URL), e.Err)
}

// Unwrap returns the underlying cause.
func (e *MetadataError) Unwrap() error { return e.Err }

// TooLargeError is the reason of a MetadataError whose body exceeded
// Fetcher.MaxBytes; we stop reading rather than buffer whatever a server sends.
type TooLargeError struct {
	Limit int64
}

// Error implements error.
func (e *TooLargeError) Error() string { return "metadata larger than " + formatBytes(e.Limit) }

// NotFoundError is returned when none of the candidate URLs for a metadata
// document answered with one.
type NotFoundError struct {
	Purpose string   // PurposeAuthServerMetadata, usually
	Subject string   // what the metadata is about: the issuer
	Tried   []string // the URLs asked, in order
}

// Error implements error.
func (e *NotFoundError) Error() string {
	tried := make([]string, len(e.Tried))
	for i, u := range e.Tried {
		tried[i] = Redact(u)
	}
	return fmt.Sprintf("found no %s for %s (tried %s)", e.Purpose, Redact(e.Subject), strings.Join(tried, ", "))
}

// RedirectError is returned when a discovery request was redirected to
// another origin, or too often. Metadata must come from the origin we asked;
// following a redirect elsewhere would let that origin answer for it.
type RedirectError struct {
	From, To string // origins, or URLs when the limit was hit
	TooMany  bool
}

// Error implements error.
func (e *RedirectError) Error() string {
	if e.TooMany {
		return fmt.Sprintf("stopped after %d redirects at %s", maxRedirects, Redact(e.To))
	}
	return fmt.Sprintf("refusing a redirect from %s to %s: discovery follows redirects only within one origin", e.From, e.To)
}

// UnreachableError is returned when the MCP server itself could not be
// reached: DNS, connection, TLS or timeout.
type UnreachableError struct {
	URL string
	Err error
}

// Error implements error.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the MCP server at %s: %v", Redact(e.URL), e.Err)
}

// Unwrap returns the underlying cause.
func (e *UnreachableError) Unwrap() error { return e.Err }

// NoAuthInfoError is returned when the server neither answered without a
// token nor asked for one (no 2xx, no 401) and publishes no metadata: most
// likely the URL is not an MCP endpoint.
type NoAuthInfoError struct {
	URL    string
	Status int // the probe's HTTP status
}

// Error implements error.
func (e *NoAuthInfoError) Error() string {
	return fmt.Sprintf("the server at %s answered %d and publishes no authorization metadata: check that the URL is its MCP endpoint",
		Redact(e.URL), e.Status)
}

// formatBytes renders n as "1 MiB", "64 KiB" or "1000 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
