package broker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// URLServerName is the name under which a server known only by its URL (`bridge --url`) is
// kept: "url-<host>-<first 8 hex digits of the URL's SHA-256>", a valid server name that is
// the same for the same URL in every process, so its tokens are found again.
func URLServerName(rawURL string) string {
	host := "server"
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(host))
	sum := sha256.Sum256([]byte(rawURL))
	const room = 64 - len("url-") - len("-") - 8
	return "url-" + host[:min(len(host), room)] + "-" + hex.EncodeToString(sum[:4])
}

// EnsureURLServer returns the server to use for an MCP URL given on its own: the configured
// server with exactly that URL if there is one, else a new OAuth server (transport auto) added
// to the configuration under URLServerName(rawURL). Keeping it in the configuration gives its
// tokens a home in the secret store and lets `status`, `logout` and `servers remove` see it.
//
// Its errors name the server URLServerName(rawURL).
func (b *Broker) EnsureURLServer(ctx context.Context, rawURL string) (config.Server, error) {
	srv, err := b.ensureURLServer(ctx, rawURL)
	return srv, wrap(OpAdd, URLServerName(rawURL), err)
}

// ensureURLServer is EnsureURLServer, with errors that do not name the server: see OpError.
func (b *Broker) ensureURLServer(ctx context.Context, rawURL string) (config.Server, error) {
	srv := config.Server{Name: URLServerName(rawURL), URL: rawURL, Auth: config.AuthOAuth, Transport: config.TransportAuto}
	if err := srv.Validate(); err != nil {
		return config.Server{}, err
	}
	find := func(f *config.File) (config.Server, bool, error) {
		for _, s := range f.Servers {
			if s.URL == rawURL {
				return s, true, nil
			}
		}
		if _, ok := f.Server(srv.Name); ok {
			return config.Server{}, false, errors.New("a server of this name is configured with another URL: rename or remove it")
		}
		return config.Server{}, false, nil
	}
	// The usual case, a URL seen before, reads the file and writes nothing.
	f, err := config.Load(b.configPath)
	if err != nil {
		return config.Server{}, err
	}
	if s, ok, err := find(f); ok || err != nil {
		return s, err
	}
	out := srv
	err = config.Update(ctx, b.configPath, func(f *config.File) error {
		s, ok, err := find(f)
		if err != nil {
			return err
		}
		if ok {
			out = s // another process added it meanwhile
			return nil
		}
		f.Put(srv)
		return nil
	})
	if err != nil {
		return config.Server{}, err
	}
	return out, nil
}
