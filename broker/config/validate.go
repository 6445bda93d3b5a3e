package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/provider"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// maxNameLen bounds server names: they become file names, keychain account
// names and Claude Code server keys.
const maxNameLen = 64

// ValidateName checks a server name: 1 to 64 characters from A-Z a-z 0-9 . _ -,
// not starting with '.' or '-' (so it is never a hidden file, a relative path
// or a command-line flag).
func ValidateName(name string) error { return validateName("server name", name) }

// ValidateIdPName checks an identity provider's name by the rules of ValidateName: it becomes
// a lock file's name.
func ValidateIdPName(name string) error { return validateName("identity provider name", name) }

func validateName(what, name string) error {
	if name == "" {
		return errors.New(what + " is empty")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%s %q is longer than %d characters", what, name, maxNameLen)
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%s %q must not start with '.' or '-'", what, name)
	}
	for _, r := range name {
		if !isNameChar(r) {
			return fmt.Errorf("%s %q has %q: use only letters, digits, '.', '_' and '-'", what, name, r)
		}
	}
	return nil
}

func isNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '_' || r == '-'
}

// Validate checks that s is usable: a valid name; an absolute http(s) URL
// with a host, no credentials and no fragment, using plain http only for a
// loopback host; a known auth mode, transport and DPoP setting; well-formed scopes, header name and client metadata URL.
// A setting that is not valid is an *InvalidServerError.
func (s Server) Validate() error {
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	if err := s.validateSettings(); err != nil {
		return &InvalidServerError{Name: s.Name, Err: err}
	}
	return nil
}

// InvalidServerError says that one of a server's settings is not valid. Its text names the
// server, for a file of many; Err says what is wrong without the name, for a message next to
// the setting's field.
type InvalidServerError struct {
	Name string
	Err  error
}

func (e *InvalidServerError) Error() string { return fmt.Sprintf("server %q: %v", e.Name, e.Err) }

// Unwrap returns what is wrong.
func (e *InvalidServerError) Unwrap() error { return e.Err }

func (s Server) validateSettings() error {
	if err := validateServerURL(s.URL); err != nil {
		return err
	}
	switch s.Auth {
	case AuthOAuth, AuthBearer, AuthNone, AuthClientCredentials:
		// client-credentials works without a client id too: servers that register machine
		// clients dynamically hand one out.
	case AuthWorkload, AuthEnterprise:
		// The JWT bearer grant registers nothing: the client is one the authorization
		// server knows beforehand.
		if s.ClientID == "" {
			return fmt.Errorf("auth %s needs the client id the authorization server knows this client by", s.Auth)
		}
	default:
		return fmt.Errorf("unknown auth mode %q: want oauth, client-credentials, workload, enterprise, bearer or none", s.Auth)
	}
	if err := s.validateAssertionSettings(); err != nil {
		return err
	}
	if err := s.validateClientAuth(); err != nil {
		return err
	}
	if err := s.validateSignInSettings(); err != nil {
		return err
	}
	switch s.Transport {
	case "", TransportAuto, TransportStreamableHTTP, TransportSSE:
	default:
		return fmt.Errorf("unknown transport %q: want auto, streamable-http or sse", s.Transport)
	}
	switch s.DPoP {
	case "", DPoPAuto, DPoPOn, DPoPOff:
	default:
		return fmt.Errorf("unknown dpop setting %q: want auto, on or off", s.DPoP)
	}
	for _, sc := range s.Scopes {
		if !isScopeToken(sc) {
			return fmt.Errorf("invalid scope %q: a scope is one or more printable characters without spaces, '\"' or '\\'", sc)
		}
	}
	if s.Header != "" && !isToken(s.Header) {
		return fmt.Errorf("invalid header name %q", s.Header)
	}
	if s.ClientMetadataURL != "" {
		if err := validateClientMetadataURL(s.ClientMetadataURL); err != nil {
			return err
		}
	}
	return nil
}

// validateAssertionSettings checks the settings of the JWT bearer modes: a workload's one
// source of JWTs, an enterprise server's identity provider, and neither on another mode.
func (s Server) validateAssertionSettings() error {
	source := s.AssertionFile != "" || s.AssertionCommand != ""
	switch {
	case s.Auth != AuthWorkload && source:
		return errors.New("an assertion file or command goes only with auth workload")
	case s.Auth != AuthEnterprise && s.IdP != "":
		return errors.New("an identity provider goes only with auth enterprise")
	case s.Auth == AuthWorkload && !source:
		return errors.New("auth workload needs the file or the command its JWT comes from")
	case s.AssertionFile != "" && s.AssertionCommand != "":
		return errors.New("give the workload's JWT either as a file or as a command, not both")
	case s.AssertionFile != "" && !filepath.IsAbs(s.AssertionFile):
		// The bridge runs in whatever folder its host starts it in.
		return fmt.Errorf("assertion file %q must be an absolute path", s.AssertionFile)
	case strings.ContainsAny(s.AssertionCommand, "\r\n"):
		return errors.New("the assertion command must be one line")
	case s.Auth == AuthEnterprise && s.IdP == "":
		return errors.New("auth enterprise needs the identity provider to sign in through")
	case s.IdP != "":
		return ValidateIdPName(s.IdP)
	}
	return nil
}

// Validate checks an identity provider: a valid name, an issuer URL (https, or http on a
// loopback host, without query or fragment) and a client id.
func (p IdP) Validate() error {
	if err := ValidateIdPName(p.Name); err != nil {
		return err
	}
	if err := validateIssuer(p.Issuer); err != nil {
		return &InvalidIdPError{Name: p.Name, Err: err}
	}
	if p.ClientID == "" {
		return &InvalidIdPError{Name: p.Name, Err: errors.New("no client id")}
	}
	return nil
}

// InvalidIdPError says that one of an identity provider's settings is not valid; like
// InvalidServerError, its text names the identity provider and Err does not.
type InvalidIdPError struct {
	Name string
	Err  error
}

func (e *InvalidIdPError) Error() string {
	return fmt.Sprintf("identity provider %q: %v", e.Name, e.Err)
}

// Unwrap returns what is wrong.
func (e *InvalidIdPError) Unwrap() error { return e.Err }

// validateIssuer checks an OpenID Connect issuer: like a server URL, without a query (OpenID
// Connect Discovery §3, RFC 8414 §2).
func validateIssuer(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return fmt.Errorf("issuer %q must be an absolute URL without query or fragment, like https://idp.example.com", redact.URL(raw))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		return fmt.Errorf("issuer %q must use https (http is allowed only for localhost and 127.0.0.1)", redact.URL(raw))
	}
	return nil
}

// validateSignInSettings checks the escape hatches of a browser sign-in (the provider profile,
// extra authorization parameters, no resource, the token to send): known values, and only on an
// OAuth server, the one mode whose requests they change.
func (s Server) validateSignInSettings() error {
	set := s.Provider != "" || len(s.AuthParams) > 0 || s.NoResource || s.SendToken != ""
	switch {
	case set && s.Auth != AuthOAuth:
		return errors.New("a provider, authorization parameters, no resource and the token to send go only with auth oauth")
	case !provider.Valid(s.Provider):
		return fmt.Errorf("unknown provider %q: want one of %s", s.Provider, strings.Join(provider.Names(), ", "))
	}
	switch s.SendToken {
	case "", provider.TokenAccess, provider.TokenID:
	default:
		return fmt.Errorf("unknown token to send %q: want access or id", s.SendToken)
	}
	for k, v := range s.AuthParams {
		switch {
		case !isScopeToken(k) || strings.Contains(k, "="):
			return fmt.Errorf("invalid authorization parameter name %q", k)
		case slices.Contains(provider.Reserved, k):
			return fmt.Errorf("the authorization parameter %q is set by the sign-in itself (the scopes and the resource have settings of their own)", k)
		case strings.ContainsFunc(v, unicode.IsControl):
			return fmt.Errorf("the authorization parameter %q has a control character in its value", k)
		}
	}
	return nil
}

// validateClientAuth checks private_key_jwt's settings: only for a client-credentials server with
// a client id (the key belongs to a client registered beforehand with its public key), and an
// algorithm only with it.
func (s Server) validateClientAuth() error {
	switch {
	case s.ClientAuth == "" && s.SigningAlg != "":
		return errors.New("a signing algorithm goes only with client auth private_key_jwt")
	case s.ClientAuth == "":
		return nil
	case s.ClientAuth != ClientAuthPrivateKeyJWT:
		return fmt.Errorf("unknown client auth %q: want private_key_jwt, or none for a client secret", s.ClientAuth)
	case s.Auth != AuthClientCredentials:
		return errors.New("client auth private_key_jwt goes only with auth client-credentials")
	case s.ClientID == "":
		return errors.New("client auth private_key_jwt needs the client id its public key is registered under")
	}
	switch s.SigningAlg {
	case "", "ES256", "RS256":
		return nil
	}
	return fmt.Errorf("unknown signing algorithm %q: want ES256 or RS256", s.SigningAlg)
}

func validateServerURL(raw string) error {
	// The messages name the URL without its query: people put API keys there.
	shown := redact.URL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL it quotes
		}
		return fmt.Errorf("invalid url %q: %w", shown, err)
	}
	if !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("url %q must be absolute, like https://mcp.example.com/mcp", shown)
	}
	if u.User != nil {
		// Anything in the userinfo would be a credential in a plain-text file.
		// The URL is left out of the message for the same reason.
		return errors.New("url must not contain a user name or password: keep credentials in the secret store (auth bearer)")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		// The URL is the OAuth resource indicator, which must not have a
		// fragment (RFC 8707 section 2).
		return fmt.Errorf("url %q must not contain a fragment (#...)", shown)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("url %q uses plain http: use https (http is allowed only for localhost and 127.0.0.1)", shown)
		}
	default:
		return fmt.Errorf("url %q must use https", shown)
	}
	return nil
}

// validateClientMetadataURL checks a Client ID Metadata Document URL: the
// draft requires https and a path, since the URL itself is the client id.
func validateClientMetadataURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
		u.Path == "" || u.Path == "/" {
		return fmt.Errorf("client metadata url %q must be an https URL with a path and no fragment", raw)
	}
	return nil
}

// IsLoopbackHost reports whether host (without port; IPv6 without brackets)
// is "localhost" or a loopback IP address (127.0.0.0/8, ::1): the hosts for
// which plain http does not leave the machine.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isScopeToken follows RFC 6749 section 3.3:
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// isToken reports whether s is an HTTP field name (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// ValidateProxy checks the proxy setting: "" or "direct", or a proxy URL that
// httpclient.ParseProxy accepts and that holds no user information. A password in the
// configuration file would be a secret in plain text, and the setting passes through argv; a
// proxy that asks for one takes it from HTTPS_PROXY. The error never shows the password.
func ValidateProxy(proxy string) error {
	if proxy == "" || proxy == httpclient.ProxyDirect {
		return nil
	}
	u, err := httpclient.ParseProxy(proxy)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	if u.User != nil {
		return fmt.Errorf("proxy %q must not hold a user name or password: give a proxy that asks for one in HTTPS_PROXY", redact.URL(u.String()))
	}
	return nil
}

// ValidateCAFile checks the CA file setting: "" or an absolute path (the file itself is read
// when a client is built: see httpclient.NewNetwork).
func ValidateCAFile(path string) error {
	if path != "" && !filepath.IsAbs(path) {
		return fmt.Errorf("ca_file %q must be an absolute path", path)
	}
	return nil
}
