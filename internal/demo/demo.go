// Package demo runs the built-in demo: the in-repo OAuth 2.1 authorization
// server (package authserver) and the in-repo MCP server (package mcpserver)
// on 127.0.0.1, wired together, so that a newcomer can try sign-in and
// Claude Code end to end without an account anywhere. It backs both
// `mcp-broker demo` and the tray's "Try the demo server".
//
// The two servers listen on fixed default ports (DefaultMCPAddr,
// DefaultAuthAddr) so that the server entry "demo" saved in the broker's
// configuration keeps pointing at the right URL across restarts of the demo;
// when a default port is taken, the demo takes any free port instead and
// says so (Notes).
//
// The authorization server keeps everything in memory, so a restart forgets
// every client it registered dynamically and every token it issued. The
// broker keeps its registration for an issuer and would send the new server
// a client id it has never heard of, which ends on an error page with no
// redirect back. That is why the entry uses a client pre-registered on every
// start (ClientID), and why AddTo forgets the entry's old tokens: after a
// restart the user simply signs in again. Dynamic Client Registration stays
// enabled for other clients (Claude Code or the MCP Inspector pointed at
// the MCP URL directly).
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sync"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/internal/localhttp"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

const (
	// DefaultMCPAddr is where the MCP server listens unless told otherwise.
	// Port 28787 lies below every common ephemeral port range (Linux starts at
	// 32768, macOS and Windows at 49152), so an outgoing connection never
	// holds it by chance, and it is not a usual development server port
	// (8787, which Cloudflare's wrangler and RStudio use, is).
	DefaultMCPAddr = "127.0.0.1:28787"
	// DefaultAuthAddr is where the authorization server listens unless told
	// otherwise: the port next to DefaultMCPAddr's.
	DefaultAuthAddr = "127.0.0.1:28788"

	// ServerName is the name of the demo's entry in the broker's
	// configuration.
	ServerName = "demo"
	// ClientID is the public OAuth client pre-registered on the demo's
	// authorization server for the broker (any loopback port, path
	// /callback), and set as the entry's client id.
	ClientID = "mcp-broker-demo"
	// ClientName is what the consent page says is asking for access.
	ClientName = "MCP Broker"
)

// Scopes are the scopes the MCP server advertises (and the broker therefore
// asks for, plus offline_access for a refresh token).
var Scopes = []string{"mcp:read", "mcp:write"}

// Options configures Start. The zero value is the usual demo.
type Options struct {
	// MCPAddr is the loopback address the MCP server listens on. Empty means
	// DefaultMCPAddr, or any free port when that one cannot be had; an
	// address given here is used as it is or Start fails ("127.0.0.1:0"
	// asks for any free port).
	MCPAddr string
	// AuthAddr is the same for the authorization server (DefaultAuthAddr).
	AuthAddr string
}

// Demo is a running demo: an authorization server and an MCP server that
// trusts it. Its methods are safe for concurrent use.
type Demo struct {
	as    *authserver.Server
	mcp   *mcpserver.Server
	notes []string

	// stopWatch detaches Close from the context given to Start.
	stopWatch func() bool
	once      sync.Once
	done      chan struct{}
	closeErr  error
}

// Start starts the authorization server and the MCP server on 127.0.0.1 and
// returns once both accept connections. They run until Close, or until ctx
// is cancelled; either way Wait then returns.
//
// The authorization server shows a consent page (a person clicks Allow in a
// real browser), accepts Dynamic Client Registration with loopback and https
// redirect URIs, issues rotating refresh tokens and adds `iss` to its
// redirects (RFC 9207). The MCP server serves Streamable HTTP (MCPURL) and
// legacy SSE (SSEURL), names the authorization server in its Protected
// Resource Metadata, and offers the tools echo, add, whoami and admin_action,
// a prompt and a resource.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var notes []string
	mcpLn, note, err := listen(opts.MCPAddr, DefaultMCPAddr, "MCP server")
	if err != nil {
		return nil, err
	}
	notes = appendNote(notes, note)
	asLn, note, err := listen(opts.AuthAddr, DefaultAuthAddr, "authorization server")
	if err != nil {
		_ = mcpLn.Close()
		return nil, err
	}
	notes = appendNote(notes, note)

	as := authserver.New(authserver.Options{ISSParameter: true})
	// Any port on the loopback literals: the broker's callback server takes
	// whatever port is free (RFC 8252 §7.3), and the AS ignores the port for
	// loopback redirect URIs.
	as.RegisterClient(authserver.Client{
		ID:           ClientID,
		Name:         ClientName,
		RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback"},
	})
	if _, err := as.Serve(asLn); err != nil {
		_ = asLn.Close()
		_ = mcpLn.Close()
		return nil, fmt.Errorf("starting the demo authorization server: %w", err)
	}
	m := mcpserver.New(mcpserver.Options{
		Verifier:    as,
		AuthServers: []string{as.Issuer()},
		Scopes:      slices.Clone(Scopes),
	})
	if _, err := m.Serve(mcpLn); err != nil {
		_ = mcpLn.Close()
		_ = as.Close()
		return nil, fmt.Errorf("starting the demo MCP server: %w", err)
	}
	d := &Demo{as: as, mcp: m, notes: notes, done: make(chan struct{})}
	d.stopWatch = context.AfterFunc(ctx, func() { _ = d.Close() })
	return d, nil
}

// listen listens on addr; with addr empty, on def, or on any free loopback
// port when def cannot be had. note says so in that case.
func listen(addr, def, what string) (ln net.Listener, note string, err error) {
	if addr != "" {
		ln, err = localhttp.Listen(addr)
		if err != nil {
			return nil, "", fmt.Errorf("starting the demo %s: %w", what, err)
		}
		return ln, "", nil
	}
	ln, err = localhttp.Listen(def)
	if err == nil {
		return ln, "", nil
	}
	// Any failure counts, not only "address in use": Windows also refuses
	// ports inside its reserved (excluded) ranges, with "access denied".
	ln, err2 := localhttp.Listen("127.0.0.1:0")
	if err2 != nil {
		return nil, "", fmt.Errorf("starting the demo %s: %w", what, errors.Join(err, err2))
	}
	_, port, _ := net.SplitHostPort(def)
	note = fmt.Sprintf("port %s is taken (is another demo running?), so the %s listens on %s instead; it moves again on the next start",
		port, what, ln.Addr())
	return ln, note, nil
}

func appendNote(notes []string, note string) []string {
	if note == "" {
		return notes
	}
	return append(notes, note)
}

// MCPURL is the MCP server's Streamable HTTP endpoint, e.g.
// "http://127.0.0.1:28787/mcp": the URL to configure a client with.
func (d *Demo) MCPURL() string { return d.mcp.URL() }

// SSEURL is the MCP server's legacy HTTP+SSE endpoint, for clients of the
// 2024-11-05 era.
func (d *Demo) SSEURL() string { return d.mcp.SSEURL() }

// AuthURL is the authorization server's issuer, e.g.
// "http://127.0.0.1:28788"; its metadata is at
// AuthURL()+"/.well-known/oauth-authorization-server".
func (d *Demo) AuthURL() string { return d.as.Issuer() }

// Notes are sentences for the user about how the demo started differently
// from the usual (a default port was taken). Usually none.
func (d *Demo) Notes() []string { return slices.Clone(d.notes) }

// Server is the broker configuration entry for the demo: ServerName, the MCP
// URL, OAuth with the pre-registered ClientID, Streamable HTTP.
func (d *Demo) Server() config.Server {
	return config.Server{
		Name:      ServerName,
		URL:       d.MCPURL(),
		Auth:      config.AuthOAuth,
		ClientID:  ClientID,
		Transport: config.TransportStreamableHTTP,
	}
}

// Close stops both servers and waits for them to exit. It is safe to call
// more than once and from several goroutines; every call returns the result
// of the first.
func (d *Demo) Close() error {
	d.once.Do(func() {
		d.stopWatch()
		// The MCP server first: its clients' last requests may still need
		// the authorization server to verify their tokens.
		d.closeErr = errors.Join(d.mcp.Close(), d.as.Close())
		close(d.done)
	})
	return d.closeErr
}

// Done is closed once the demo has stopped (Close, or the context given to
// Start was cancelled).
func (d *Demo) Done() <-chan struct{} { return d.done }

// Wait blocks until the demo has stopped and returns the error of stopping
// it, if any.
func (d *Demo) Wait() error {
	<-d.done
	return d.closeErr
}

// Registry is what AddTo needs of the broker; *broker.Broker has it.
type Registry interface {
	Servers() ([]config.Server, error)
	AddServer(ctx context.Context, srv config.Server, secret string) error
	Logout(ctx context.Context, name string) (*broker.LogoutResult, error)
}

// NameTakenError says that the name "demo" is taken by a server that is not
// a demo (one the user added under that name), which AddTo will not
// overwrite.
type NameTakenError struct {
	// URL is the URL of the server that holds the name.
	URL string
}

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("a server named %q already exists (%s) and is not the demo: remove it with `mcp-broker servers remove %s`, or rename it, then start the demo again",
		ServerName, e.URL, ServerName)
}

// AddTo adds the demo to the broker's configuration as server "demo"
// (Server), or points an existing demo entry at this demo, and returns the
// entry. Call it once, right after Start.
//
// An existing entry's tokens are forgotten: they were issued by an earlier
// run of the demo's in-memory authorization server and mean nothing to this
// one, and keeping them would show "signed in" for a server that will refuse
// them. A server named "demo" that AddTo did not write is the user's own:
// AddTo leaves it alone and returns a *NameTakenError.
func (d *Demo) AddTo(ctx context.Context, r Registry) (config.Server, error) {
	srv := d.Server()
	servers, err := r.Servers()
	if err != nil {
		return config.Server{}, fmt.Errorf("reading the configured servers: %w", err)
	}
	i := slices.IndexFunc(servers, func(s config.Server) bool { return s.Name == ServerName })
	existed := i >= 0
	if existed && !isDemoEntry(servers[i], srv) {
		return config.Server{}, &NameTakenError{URL: servers[i].URL}
	}
	if err := r.AddServer(ctx, srv, ""); err != nil {
		return config.Server{}, fmt.Errorf("adding the demo server: %w", err)
	}
	if existed {
		// The earlier demo's authorization server is usually gone with its process: the
		// tokens are deleted here, and a revocation that cannot reach it changes nothing.
		if _, err := r.Logout(ctx, ServerName); err != nil {
			return config.Server{}, fmt.Errorf("forgetting the tokens of an earlier demo: %w", err)
		}
	}
	return srv, nil
}

// isDemoEntry reports whether the configured server old is a demo entry,
// which AddTo may overwrite with srv: one AddTo wrote (the demo's client id on
// a loopback http URL), or one already pointing at this very demo.
func isDemoEntry(old, srv config.Server) bool {
	if old.URL == srv.URL {
		return true
	}
	u, err := url.Parse(old.URL)
	return err == nil && u.Scheme == "http" && config.IsLoopbackHost(u.Hostname()) && old.ClientID == ClientID
}
