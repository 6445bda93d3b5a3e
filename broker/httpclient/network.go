package httpclient

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"golang.org/x/net/http/httpproxy"

	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// How a Network reaches servers is the user's to say, in this order: the configuration's
// proxy (Settings.Proxy: a proxy URL, or ProxyDirect for none), else the environment's
// (HTTPS_PROXY for https URLs, HTTP_PROXY for http ones, upper case before lower case, as curl
// and Go read them), else the operating system's settings (system.go), else none. NO_PROXY
// applies to the first two. A loopback host (localhost, 127.0.0.0/8, ::1) is never reached
// through a proxy, whatever the settings say: the bridge's own sign-in callback and the local
// servers people test with live there, and a corporate proxy cannot reach them.
//
// TLS trusts the system's certificate authorities (on Linux, SSL_CERT_FILE and SSL_CERT_DIR
// name them; on macOS and Windows the OS verifies) and, with a CA file, that file's too: the
// CA of a proxy that inspects TLS, say. The file adds to the system's, never replaces them.

// Setting names, as people see them in messages and in Summary.
const (
	// EnvCAFile names a PEM file of certificate authorities to trust besides the system's. It
	// overrides Settings.CAFile (the configuration's ca_file), as MCP_BROKER_SECRET_STORE
	// overrides secret_store.
	EnvCAFile = "MCP_BROKER_CA_FILE"
	// ProxyDirect is the Settings.Proxy that turns every proxy off, the environment's too.
	ProxyDirect = "direct"
	// FromConfig is the source of a proxy or CA file set in the configuration file.
	FromConfig = "config.json"
	// FromSystem is the source of a proxy from the operating system's settings.
	FromSystem = "system settings"
	// FromLoopback is why a request to a loopback host goes direct.
	FromLoopback = "loopback"
)

// The proxy variables, in the order they are read: upper case first, as Go and curl do.
var (
	httpsProxyVars = []string{"HTTPS_PROXY", "https_proxy"}
	httpProxyVars  = []string{"HTTP_PROXY", "http_proxy"}
	noProxyVars    = []string{"NO_PROXY", "no_proxy"}
)

// Settings are the user's choices of how to reach servers. The zero value is the environment's
// proxy, else the system's, and the system's certificate authorities.
type Settings struct {
	// Proxy is "" (the environment's proxy, else the system's), ProxyDirect, or the URL of a
	// proxy (http, https, socks5 or socks5h; "host:port" means http) used for every server
	// but those NO_PROXY names.
	Proxy string
	// CAFile is a PEM file of certificate authorities to trust besides the system's; "" for
	// none. EnvCAFile overrides it.
	CAFile string
	// Getenv reads the proxy variables and EnvCAFile; nil means os.Getenv.
	Getenv func(string) string

	// system reads the operating system's proxy settings; nil means readSystem. Tests set it.
	system func() *systemProxy
}

// Network is Settings made ready to build clients with (WithNetwork): the proxy URLs parsed
// and the CA file read. It is safe for concurrent use, and is meant to be shared by the
// clients of one program.
type Network struct {
	direct     bool     // ProxyDirect
	https      *url.URL // the proxy of https URLs, from the configuration or the environment
	http       *url.URL // the proxy of http URLs, likewise
	httpsFrom  string   // where https comes from: FromConfig or the variable's name
	httpFrom   string
	noProxy    string // NO_PROXY's value, and its variable
	noProxyVar string
	fixed      func(*url.URL) (*url.URL, error) // https and http with NO_PROXY; nil for none
	system     func() *systemProxy              // read on first use, when nothing else names a proxy

	roots  *x509.CertPool // the system's plus the CA file's; nil for the system's alone
	caFile string
	caFrom string
}

// NewNetwork checks s and reads its CA file. Its errors name the setting at fault, never a
// proxy's password.
func NewNetwork(s Settings) (*Network, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	n := &Network{system: s.system}
	if n.system == nil {
		n.system = sync.OnceValue(readSystem)
	}
	if err := n.setProxy(s.Proxy, getenv); err != nil {
		return nil, err
	}
	n.caFile, n.caFrom = s.CAFile, FromConfig
	if f := getenv(EnvCAFile); f != "" {
		n.caFile, n.caFrom = f, EnvCAFile
	}
	if n.caFile != "" {
		roots, err := loadRoots(n.caFile)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", n.caFrom, n.caFile, err)
		}
		n.roots = roots
	}
	return n, nil
}

// setProxy resolves the proxy part of the settings.
func (n *Network) setProxy(setting string, getenv func(string) string) error {
	n.noProxyVar, n.noProxy = firstSet(getenv, noProxyVars)
	switch setting {
	case "":
	case ProxyDirect:
		n.direct = true
		return nil
	default:
		u, err := ParseProxy(setting)
		if err != nil {
			return fmt.Errorf("proxy in %s: %w", FromConfig, err)
		}
		n.https, n.http, n.httpsFrom, n.httpFrom = u, u, FromConfig, FromConfig
	}
	if n.https == nil && n.http == nil {
		for _, p := range []struct {
			vars []string
			u    **url.URL
			from *string
		}{{httpsProxyVars, &n.https, &n.httpsFrom}, {httpProxyVars, &n.http, &n.httpFrom}} {
			name, value := firstSet(getenv, p.vars)
			if value == "" {
				continue
			}
			u, err := ParseProxy(value)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			*p.u, *p.from = u, name
		}
	}
	if n.https != nil || n.http != nil {
		cfg := httpproxy.Config{NoProxy: n.noProxy}
		if n.https != nil {
			cfg.HTTPSProxy = n.https.String()
		}
		if n.http != nil {
			cfg.HTTPProxy = n.http.String()
		}
		n.fixed = cfg.ProxyFunc()
	}
	return nil
}

// firstSet returns the first of vars that is set, and its value.
func firstSet(getenv func(string) string, vars []string) (name, value string) {
	for _, v := range vars {
		if s := getenv(v); s != "" {
			return v, s
		}
	}
	return "", ""
}

// ParseProxy parses a proxy setting: a URL with the scheme http, https, socks5 or socks5h and a
// host, or "host:port", which means http (a host alone is refused). Its errors show the setting without its user
// information: a proxy's password is a secret.
func ParseProxy(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		if !strings.Contains(s, ":") {
			// A word alone ("Direct", "none", "system") is a mistake more often than a proxy
			// host on port 80.
			return nil, fmt.Errorf("%q is not a proxy URL like http://proxy.example.com:3128", redact.URL(s))
		}
		s = "http://" + s
	}
	shown := redact.URL(s)
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error quotes the whole input, password included.
		return nil, fmt.Errorf("%q is not a proxy URL like http://proxy.example.com:3128", shown)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("proxy %q: the scheme must be http, https, socks5 or socks5h", shown)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("proxy %q has no host", shown)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return nil, fmt.Errorf("proxy %q: the port is not valid", shown)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("proxy %q: a proxy URL has no path, query or fragment", shown)
	}
	u.Path = ""
	return u, nil
}

// CheckCAFile reports what is wrong with the CA file at path, as NewNetwork would: one that
// cannot be read or holds no PEM certificate.
func CheckCAFile(path string) error {
	_, err := loadRoots(path)
	return err
}

// loadRoots returns the system's certificate authorities plus those of the PEM file at path.
func loadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	// On macOS and Windows the system pool verifies with the OS (its trust settings included)
	// and then with the certificates added to it.
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, errors.New("the CA file holds no PEM certificate")
	}
	return roots, nil
}

// Route is how requests to one URL leave this machine.
type Route struct {
	// Proxy is the proxy's URL without user information; "" when the requests go direct.
	Proxy string
	// From is the setting that decided: FromConfig, a variable's name (HTTPS_PROXY,
	// NO_PROXY…), FromSystem or FromLoopback; "" when nothing names a proxy.
	From string
}

// String says it for people: "through the proxy http://proxy:3128 (HTTPS_PROXY)", "direct".
func (r Route) String() string {
	switch {
	case r.Proxy != "":
		return fmt.Sprintf("through the proxy %s (%s)", r.Proxy, r.From)
	case r.From == FromLoopback:
		return "direct (a loopback host never goes through a proxy)"
	case r.From != "":
		return "direct (" + r.From + ")"
	}
	return "direct (no proxy is set)"
}

// Route returns how requests to rawURL leave this machine. Reading the system's settings may
// take a moment the first time (a proxy auto-configuration script is fetched and run).
func (n *Network) Route(rawURL string) Route {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Route{}
	}
	p, from, err := n.proxyFor(u)
	if err != nil || p == nil {
		return Route{From: from}
	}
	return Route{Proxy: redact.URL(p.String()), From: from}
}

// proxy is the transport's Proxy function.
func (n *Network) proxy(req *http.Request) (*url.URL, error) {
	p, _, err := n.proxyFor(req.URL)
	return p, err
}

// proxyFor picks the proxy of u, nil for none, and says which setting decided.
func (n *Network) proxyFor(u *url.URL) (*url.URL, string, error) {
	switch {
	case isLoopback(u.Hostname()):
		return nil, FromLoopback, nil
	case n.direct:
		return nil, FromConfig, nil
	case n.fixed != nil:
		p, err := n.fixed(u)
		if err != nil {
			return nil, "", err
		}
		if p != nil {
			return p, n.fromFor(u.Scheme), nil
		}
		if n.fromFor(u.Scheme) != "" {
			return nil, n.noProxyVar, nil // NO_PROXY names the host
		}
		return nil, "", nil
	}
	if sys := n.system(); sys != nil {
		p, err := sys.proxyFor(u)
		if err != nil || p == nil {
			return nil, "", err
		}
		return p, FromSystem, nil
	}
	return nil, "", nil
}

// fromFor is the source of the proxy of URLs of that scheme, "" when there is none.
func (n *Network) fromFor(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https":
		if n.https != nil {
			return n.httpsFrom
		}
	case "http":
		if n.http != nil {
			return n.httpFrom
		}
	}
	return ""
}

// isLoopback reports whether host (without port; IPv6 without brackets) is localhost or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Summary is the network settings in force, for `status` and `doctor`: what a person needs to
// tell why requests go where they go. It holds no password.
type Summary struct {
	// Proxy is the proxy of https URLs without user information, ProxyDirect when the
	// configuration turns proxies off, FromSystem when the system's settings decide (where
	// SystemSettingsRead), "" for none.
	Proxy string `json:"proxy,omitempty"`
	// ProxyFrom is where Proxy comes from: FromConfig or a variable's name.
	ProxyFrom string `json:"proxy_from,omitempty"`
	// HTTPProxy is the proxy of http URLs when it is not Proxy, likewise.
	HTTPProxy     string `json:"http_proxy,omitempty"`
	HTTPProxyFrom string `json:"http_proxy_from,omitempty"`
	// NoProxy is the hosts NO_PROXY keeps off the proxy.
	NoProxy string `json:"no_proxy,omitempty"`
	// CAFile is the CA file trusted besides the system's authorities, and where it is set.
	CAFile     string `json:"ca_file,omitempty"`
	CAFileFrom string `json:"ca_file_from,omitempty"`
}

// Summary returns the settings in force. It does not read the system's settings: those
// depend on the URL (a proxy auto-configuration script decides per host); Route says.
func (n *Network) Summary() Summary {
	var s Summary
	switch {
	case n.direct:
		s.Proxy, s.ProxyFrom = ProxyDirect, FromConfig
	case n.https == nil && n.http == nil:
		if SystemSettingsRead {
			s.Proxy = FromSystem
		}
	default:
		if n.https != nil {
			s.Proxy, s.ProxyFrom = redact.URL(n.https.String()), n.httpsFrom
		}
		if n.http != nil && (n.https == nil || n.http.String() != n.https.String()) {
			s.HTTPProxy, s.HTTPProxyFrom = redact.URL(n.http.String()), n.httpFrom
		}
		s.NoProxy = n.noProxy
	}
	if n.caFile != "" {
		s.CAFile, s.CAFileFrom = n.caFile, n.caFrom
	}
	return s
}

// Lines says the Summary for people, one setting a line.
func (s Summary) Lines() []string {
	var lines []string
	switch {
	case s.Proxy == ProxyDirect:
		lines = append(lines, "proxy: none ("+FromConfig+" says "+ProxyDirect+")")
	case s.Proxy == FromSystem:
		lines = append(lines, "proxy: the system's settings, where they name one (no HTTPS_PROXY or proxy in "+FromConfig+")")
	case s.Proxy != "":
		lines = append(lines, fmt.Sprintf("proxy: %s (%s)", s.Proxy, s.ProxyFrom))
	case s.HTTPProxy != "":
		lines = append(lines, "proxy: none for https URLs (HTTP_PROXY applies to http URLs only: set HTTPS_PROXY)")
	}
	if s.HTTPProxy != "" {
		lines = append(lines, fmt.Sprintf("proxy for http URLs: %s (%s)", s.HTTPProxy, s.HTTPProxyFrom))
	}
	if s.NoProxy != "" {
		lines = append(lines, "no proxy for: "+s.NoProxy)
	}
	if s.CAFile != "" {
		lines = append(lines, fmt.Sprintf("CA file: %s (%s), trusted besides the system's", s.CAFile, s.CAFileFrom))
	}
	return lines
}

// WithNetwork makes the client reach servers as n says: its proxy and its certificate
// authorities. Without it a client uses the environment's proxy, else the system's, and the
// system's certificate authorities.
func WithNetwork(n *Network) Option {
	return func(s *settings) { s.network = n }
}

// defaultNetwork is the Network of clients built without WithNetwork. Settings without a CA
// file or a proxy URL cannot fail but for a proxy variable that is not a URL; then every
// request through it fails with that error, rather than go direct behind the user's back.
var defaultNetwork = sync.OnceValue(func() *Network {
	n, err := NewNetwork(Settings{})
	if err != nil {
		return &Network{fixed: func(*url.URL) (*url.URL, error) { return nil, err }, system: func() *systemProxy { return nil }}
	}
	return n
})
