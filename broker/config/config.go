package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/lock"
)

// Version is the config file format this build reads and writes. A file with
// a higher version came from a newer mcp-broker; Load refuses it rather than
// let Save drop fields it does not know.
const Version = 1

// AuthMode says how mcp-broker authenticates to a server.
type AuthMode string

// The auth modes.
const (
	// AuthOAuth is the interactive OAuth 2.1 authorization code flow with PKCE.
	AuthOAuth AuthMode = "oauth"
	// AuthClientCredentials is the OAuth client credentials grant for
	// machine clients; the client secret is in the secret store.
	AuthClientCredentials AuthMode = "client-credentials"
	// AuthBearer sends a static token or API key from the secret store.
	AuthBearer AuthMode = "bearer"
	// AuthNone sends no credentials.
	AuthNone AuthMode = "none"
	// AuthWorkload is workload identity federation (RFC 7523 JWT bearer grant): a machine
	// exchanges a JWT its platform issues (read from AssertionFile or AssertionCommand on
	// every token request) for an access token, without a person or a browser.
	AuthWorkload AuthMode = "workload"
	// AuthEnterprise is enterprise-managed authorization (SEP-990): the person signs in once
	// to the company's identity provider (IdP), whose ID token is exchanged (RFC 8693) for an
	// ID-JAG that the server's authorization server takes with the JWT bearer grant.
	AuthEnterprise AuthMode = "enterprise"
)

// ClientAuthPrivateKeyJWT is the one value of Server.ClientAuth: the client proves itself at the
// token endpoint with a JWT signed by its private key (private_key_jwt, RFC 7523 §2.2).
const ClientAuthPrivateKeyJWT = "private_key_jwt"

// Transport selects the MCP HTTP transport.
type Transport string

// The transports.
const (
	// TransportAuto tries Streamable HTTP and falls back to legacy SSE.
	TransportAuto Transport = "auto"
	// TransportStreamableHTTP is the Streamable HTTP transport (2025-03-26 on).
	TransportStreamableHTTP Transport = "streamable-http"
	// TransportSSE is the legacy HTTP+SSE transport (2024-11-05).
	TransportSSE Transport = "sse"
)

// DPoPMode says when a server's tokens are bound to a key with DPoP (RFC 9449).
type DPoPMode string

// The DPoP modes.
const (
	// DPoPAuto uses DPoP when the server's metadata asks for it or offers it on both sides:
	// see package dpop's Decide.
	DPoPAuto DPoPMode = "auto"
	// DPoPOn always sends DPoP proofs to the authorization server.
	DPoPOn DPoPMode = "on"
	// DPoPOff never does: tokens are Bearer tokens.
	DPoPOff DPoPMode = "off"
)

// Server is one remote MCP server. It holds no secret: tokens, client secrets
// and API keys are in the secret store, keyed by the server's name.
type Server struct {
	// Name is the user's handle for the server (see ValidateName).
	Name string `json:"name"`
	// URL is the MCP endpoint, also the OAuth resource indicator.
	URL string `json:"url"`
	// Auth is how to authenticate.
	Auth AuthMode `json:"auth"`
	// ClientID is a pre-registered OAuth client id (required for
	// client-credentials; optional for oauth, where it skips registration).
	ClientID string `json:"client_id,omitempty"`
	// Scopes, when set, are requested instead of the discovered ones.
	Scopes []string `json:"scopes,omitempty"`
	// Transport is the MCP transport; "" means auto.
	Transport Transport `json:"transport,omitempty"`
	// Header names the header a bearer token or API key goes in; "" means
	// "Authorization: Bearer <token>".
	Header string `json:"header,omitempty"`
	// ClientMetadataURL is an https URL of a Client ID Metadata Document,
	// used as the client id where the authorization server supports it.
	ClientMetadataURL string `json:"client_metadata_url,omitempty"`
	// NoResourceOnRefresh leaves the resource parameter out of refresh
	// requests, for authorization servers that reject it there.
	NoResourceOnRefresh bool `json:"no_resource_on_refresh,omitempty"`
	// NoResource leaves the resource parameter out of every request of a
	// browser sign-in (authorization, token and refresh), for authorization
	// servers that refuse it; it implies NoResourceOnRefresh.
	NoResource bool `json:"no_resource,omitempty"`
	// Provider names the provider profile (package provider) whose departures
	// from the specifications a browser sign-in applies: "" detects it from
	// the authorization server's issuer, "none" turns detection off.
	Provider string `json:"provider,omitempty"`
	// AuthParams are extra parameters of the authorization request, for what
	// a provider wants that no profile knows; they win over the profile's.
	// They are not secret: they go in the URL the browser opens.
	AuthParams map[string]string `json:"auth_params,omitempty"`
	// SendToken is the token a browser sign-in's server is sent: "" or
	// "access" for the access token, "id" for the OpenID Connect ID token
	// (some servers behind Amazon Cognito check that one).
	SendToken string `json:"send_token,omitempty"`
	// ClientAuth is ClientAuthPrivateKeyJWT for a client-credentials server
	// whose client signs a JWT with its private key instead of sending a
	// secret; the key is in the secret store. Empty means a client secret.
	ClientAuth string `json:"client_auth,omitempty"`
	// SigningAlg is the JWS algorithm of that key, ES256 or RS256. The key
	// decides it; it is kept here so that status and doctor can name it
	// without reading the secret store.
	SigningAlg string `json:"signing_alg,omitempty"`
	// AssertionFile is the file a workload server's JWT is read from, fresh
	// for every token request (a Kubernetes projected token, say). Only for
	// AuthWorkload; the JWT itself is never stored.
	AssertionFile string `json:"assertion_file,omitempty"`
	// AssertionCommand is the command (run by the shell) whose standard
	// output is a workload server's JWT, run for every token request. Only
	// for AuthWorkload, and exclusive with AssertionFile.
	AssertionCommand string `json:"assertion_command,omitempty"`
	// IdP names the identity provider (File.IdPs) an enterprise server's
	// tokens are obtained through. Only for AuthEnterprise.
	IdP string `json:"idp,omitempty"`
	// DPoP says when tokens are DPoP-bound (RFC 9449); "" means auto.
	DPoP DPoPMode `json:"dpop,omitempty"`
	// HiddenTools names the server's tools the bridge keeps out of the client's tools/list
	// (and refuses to call), to spare Claude Code's context the tools never used.
	HiddenTools []string `json:"hidden_tools,omitempty"`
	// ReadOnly hides every tool the server does not annotate readOnlyHint: true.
	ReadOnly bool `json:"read_only,omitempty"`
}

// IdP is a company's identity provider (an OpenID Connect provider), signed
// in to once for every server configured with AuthEnterprise and its name.
// It holds no secret: its client secret and the sign-in's ID and refresh
// tokens are in the secret store, keyed by its issuer.
type IdP struct {
	// Name is the user's handle for the identity provider (see ValidateName).
	Name string `json:"name"`
	// Issuer is its OpenID Connect issuer URL; its metadata is found from it.
	Issuer string `json:"issuer"`
	// ClientID is this program's client at the identity provider.
	ClientID string `json:"client_id"`
}

// File is the whole config file.
type File struct {
	// Version is the file format version (see the Version constant).
	Version int `json:"version"`
	// SecretStore is "keychain" (the default when empty) or "file"; the
	// MCP_BROKER_SECRET_STORE environment variable overrides it.
	SecretStore string `json:"secret_store,omitempty"`
	// Proxy is how every server is reached: "" (the environment's HTTPS_PROXY, else the
	// system's proxy settings), "direct" (no proxy), or a proxy URL such as
	// http://proxy.example.com:3128. It never holds a password (see ValidateProxy).
	Proxy string `json:"proxy,omitempty"`
	// CAFile is a PEM file of certificate authorities trusted besides the system's (a proxy's
	// that inspects TLS); the MCP_BROKER_CA_FILE environment variable overrides it.
	CAFile string `json:"ca_file,omitempty"`
	// TrafficBodies includes the messages' bodies, redacted, in the bridges' traffic timeline
	// (`mcp-broker traffic --bodies on`); off by default.
	TrafficBodies bool `json:"traffic_bodies,omitempty"`
	// Servers are the configured servers, sorted by name on Save.
	Servers []Server `json:"servers"`
	// IdPs are the identity providers enterprise servers sign in through,
	// sorted by name on Save.
	IdPs []IdP `json:"idps,omitempty"`
}

// Server returns a pointer to the named server, so Update callbacks can
// change it in place, and whether it exists.
func (f *File) Server(name string) (*Server, bool) {
	for i := range f.Servers {
		if f.Servers[i].Name == name {
			return &f.Servers[i], true
		}
	}
	return nil, false
}

// Put adds s, or replaces the server of the same name.
func (f *File) Put(s Server) {
	if old, ok := f.Server(s.Name); ok {
		*old = s
		return
	}
	f.Servers = append(f.Servers, s)
}

// Remove deletes the named server and reports whether it was there.
func (f *File) Remove(name string) bool {
	n := len(f.Servers)
	f.Servers = slices.DeleteFunc(f.Servers, func(s Server) bool { return s.Name == name })
	return len(f.Servers) != n
}

// IdP returns a pointer to the named identity provider, and whether it exists.
func (f *File) IdP(name string) (*IdP, bool) {
	for i := range f.IdPs {
		if f.IdPs[i].Name == name {
			return &f.IdPs[i], true
		}
	}
	return nil, false
}

// PutIdP adds p, or replaces the identity provider of the same name.
func (f *File) PutIdP(p IdP) {
	if old, ok := f.IdP(p.Name); ok {
		*old = p
		return
	}
	f.IdPs = append(f.IdPs, p)
}

// RemoveIdP deletes the named identity provider and reports whether it was there.
func (f *File) RemoveIdP(name string) bool {
	n := len(f.IdPs)
	f.IdPs = slices.DeleteFunc(f.IdPs, func(p IdP) bool { return p.Name == name })
	return len(f.IdPs) != n
}

// Validate checks every server and identity provider, that no two share a
// name, and that every enterprise server names a configured identity provider.
func (f *File) Validate() error {
	if f.SecretStore != "" && f.SecretStore != "keychain" && f.SecretStore != "file" {
		return fmt.Errorf("secret_store %q: want \"keychain\" or \"file\"", f.SecretStore)
	}
	if err := ValidateProxy(f.Proxy); err != nil {
		return err
	}
	if err := ValidateCAFile(f.CAFile); err != nil {
		return err
	}
	seen := make(map[string]bool, len(f.Servers))
	for _, s := range f.Servers {
		if err := s.Validate(); err != nil {
			return err
		}
		if seen[s.Name] {
			return fmt.Errorf("server %q is configured twice", s.Name)
		}
		seen[s.Name] = true
	}
	idps := make(map[string]bool, len(f.IdPs))
	for _, p := range f.IdPs {
		if err := p.Validate(); err != nil {
			return err
		}
		if idps[p.Name] {
			return fmt.Errorf("identity provider %q is configured twice", p.Name)
		}
		idps[p.Name] = true
	}
	for _, s := range f.Servers {
		if s.Auth == AuthEnterprise && !idps[s.IdP] {
			return &InvalidServerError{Name: s.Name, Err: &UnknownIdPError{Name: s.IdP}}
		}
	}
	return nil
}

// UnknownIdPError says no identity provider of that name is configured.
type UnknownIdPError struct{ Name string }

func (e *UnknownIdPError) Error() string {
	return fmt.Sprintf("no identity provider named %q is configured", e.Name)
}

// Load reads the config file at path. A missing file is an empty config, not
// an error: that is the state before the first `servers add`. A malformed
// file is an error naming the file and the line and column, and is left as
// it is for the user to fix.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: Version}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("config file %s is not valid: %s", path, describeJSONError(data, err))
	}
	switch {
	case f.Version > Version:
		return nil, fmt.Errorf("config file %s has version %d, but this mcp-broker reads version %d: upgrade mcp-broker", path, f.Version, Version)
	case f.Version < 0:
		return nil, fmt.Errorf("config file %s has invalid version %d", path, f.Version)
	case f.Version == 0:
		// A hand-written file may leave the version out; it means 1.
		f.Version = Version
	}
	return &f, nil
}

// describeJSONError turns an encoding/json error into "line L, column C: why"
// so a user can find a typo in a hand-edited file.
func describeJSONError(data []byte, err error) string {
	var offset int64 = -1
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		offset = syntaxErr.Offset
	case errors.As(err, &typeErr):
		offset = typeErr.Offset
	}
	if offset <= 0 || offset > int64(len(data)) {
		return err.Error()
	}
	// Offset counts the bytes read when decoding failed, so the culprit is
	// the last of them.
	before := data[:offset-1]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// Save validates f and writes it to path atomically, servers sorted by name,
// as a 0600 file, creating the folder 0700 if needed. f itself is not
// reordered. An existing folder's mode is left alone: it may be one the user
// chose with MCP_BROKER_CONFIG_DIR.
func Save(path string, f *File) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("not saving config: %w", err)
	}
	out := *f
	out.Version = Version
	out.Servers = slices.Clone(f.Servers)
	if out.Servers == nil {
		out.Servers = []Server{} // "servers": [] reads better than null
	}
	slices.SortFunc(out.Servers, func(a, b Server) int { return strings.Compare(a.Name, b.Name) })
	out.IdPs = slices.Clone(f.IdPs)
	slices.SortFunc(out.IdPs, func(a, b IdP) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating config folder: %w", err)
	}
	if err := WriteFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("saving config: %w", err)
	}
	return nil
}

// Update loads the config at path, calls fn to change it, and saves the
// result, all under a cross-process lock on path+".lock" so concurrent
// updates from several processes apply one after another. If fn returns an
// error nothing is written and Update returns that error unchanged.
func Update(ctx context.Context, path string, fn func(*File) error) error {
	release, err := lock.Acquire(ctx, path+".lock")
	if err != nil {
		return fmt.Errorf("locking config: %w", err)
	}
	defer release()
	f, err := Load(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	if err := Save(path, f); err != nil {
		return err
	}
	return release()
}
