package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// maxNameLen bounds server names: they become file names, keychain account
// names and Claude Code server keys.
const maxNameLen = 64

// ValidateName checks a server name: 1 to 64 characters from A-Z a-z 0-9 . _ -,
// not starting with '.' or '-' (so it is never a hidden file, a relative path
// or a command-line flag).
func ValidateName(name string) error {
	if name == "" {
		return errors.New("server name is empty")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("server name %q is longer than %d characters", name, maxNameLen)
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("server name %q must not start with '.' or '-'", name)
	}
	for _, r := range name {
		if !isNameChar(r) {
			return fmt.Errorf("server name %q has %q: use only letters, digits, '.', '_' and '-'", name, r)
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
// loopback host; a known auth mode and transport; well-formed scopes, header name and client metadata URL.
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
	default:
		return fmt.Errorf("unknown auth mode %q: want oauth, client-credentials, bearer or none", s.Auth)
	}
	switch s.Transport {
	case "", TransportAuto, TransportStreamableHTTP, TransportSSE:
	default:
		return fmt.Errorf("unknown transport %q: want auto, streamable-http or sse", s.Transport)
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
