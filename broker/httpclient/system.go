package httpclient

import (
	"net/url"
	"runtime"
	"strings"
	"sync"

	"github.com/mattn/go-ieproxy"
	"golang.org/x/net/http/httpproxy"
)

// The operating system's proxy settings, for the programs that no shell starts: the tray
// starts at login, and Claude Code's desktop app starts bridges, with no proxy variables.
// Package ieproxy reads them: on Windows the user's Internet settings (WinHTTP, else the
// registry: a fixed proxy with its bypass list, or a proxy auto-configuration script); on
// macOS the network settings through CFNetwork (a fixed proxy, its exceptions, or a script),
// which needs cgo: the tray build has it, the command-line build does not, and reads the
// environment alone there. Elsewhere (Linux) there are none: GNOME's settings are not read.

// SystemSettingsRead says whether this build reads the operating system's proxy settings:
// on Windows, and on macOS in a build with cgo.
const SystemSettingsRead = runtime.GOOS == "windows" || runtime.GOOS == "darwin" && cgoBuild

// systemProxy is the operating system's proxy settings, read once per Network.
type systemProxy struct {
	fixed func(*url.URL) (*url.URL, error) // the fixed proxy with its bypass list; nil for none
	pac   *ieproxy.ProxyScriptConf         // the auto-configuration script; nil for none

	mu    sync.Mutex
	cache map[string]*url.URL // the script's answer per scheme://host, nil for direct
}

// systemMu serialises ieproxy's reads: ReloadConf writes a variable of its package that a
// concurrent read would race with.
var systemMu sync.Mutex

// readSystem reads the system's settings; nil when they name no proxy.
func readSystem() *systemProxy {
	systemMu.Lock()
	conf := ieproxy.ReloadConf()
	systemMu.Unlock()
	return newSystemProxy(conf)
}

// newSystemProxy turns ieproxy's reading into a systemProxy; nil when it names no proxy.
func newSystemProxy(conf ieproxy.ProxyConf) *systemProxy {
	s := &systemProxy{cache: map[string]*url.URL{}}
	if st := conf.Static; st.Active {
		// A proxy for one scheme, or one for all (Windows writes it without "scheme=").
		pick := func(scheme string) string {
			if p, ok := st.Protocols[scheme]; ok {
				return p
			}
			return st.Protocols[""]
		}
		cfg := httpproxy.Config{HTTPSProxy: pick("https"), HTTPProxy: pick("http"), NoProxy: st.NoProxy}
		if cfg.HTTPSProxy != "" || cfg.HTTPProxy != "" {
			s.fixed = cfg.ProxyFunc()
		}
	}
	if conf.Automatic.Active {
		pac := conf.Automatic
		s.pac = &pac
	}
	if s.fixed == nil && s.pac == nil {
		return nil
	}
	return s
}

// proxyFor returns the system's proxy for u, nil for none: the script's answer when there is
// a script and it names one, else the fixed proxy's.
func (s *systemProxy) proxyFor(u *url.URL) (*url.URL, error) {
	if s.pac != nil {
		if p := s.fromScript(u); p != nil {
			return p, nil
		}
	}
	if s.fixed != nil {
		return s.fixed(u)
	}
	return nil, nil
}

// fromScript runs the auto-configuration script for u's scheme and host (its path and query
// are no business of the script's), once per host: running it may fetch it first.
func (s *systemProxy) fromScript(u *url.URL) *url.URL {
	key := strings.ToLower(u.Scheme + "://" + u.Host)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.cache[key]; ok {
		return p
	}
	var p *url.URL
	// The answer is "host:port", or "" for direct.
	if host := strings.TrimSpace(s.pac.FindProxyForURL(key + "/")); host != "" && !strings.EqualFold(host, "DIRECT") {
		if parsed, err := ParseProxy(host); err == nil {
			p = parsed
		}
	}
	s.cache[key] = p
	return p
}
