package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// serverName is the name the bridge knows a transport's server by.
func serverName(t transport) string { return "bench-" + string(t) }

// signIn configures one server per transport in a config folder of its own with the file
// secret store, signs in to each for real (registration, PKCE, code exchange with the in-repo
// authorization server, a "browser" that follows the redirects), and returns each server's
// Authorization header value, for the clients that do not go through the broker. The bridge
// later reads the same token from the same store, as it would from the keychain.
func signIn(ctx context.Context, configDir, base string) (map[transport]string, error) {
	store, err := secrets.NewFileStore(filepath.Join(configDir, "secrets"))
	if err != nil {
		return nil, err
	}
	b, err := broker.New(broker.Options{
		ConfigPath:    filepath.Join(configDir, "config.json"),
		Secrets:       store,
		Opener:        &opener.Browser{},
		SignInTimeout: 30 * time.Second,
		Version:       "bench",
		Log:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	headers := map[transport]string{}
	for _, t := range transports {
		name := serverName(t)
		cfgTransport := config.TransportStreamableHTTP
		if t == legacySSE {
			cfgTransport = config.TransportSSE
		}
		if err := b.AddServer(ctx, config.Server{Name: name, URL: endpoint(base, t), Transport: cfgTransport, Auth: config.AuthOAuth}, ""); err != nil {
			return nil, fmt.Errorf("adding %s: %w", name, err)
		}
		if _, err := b.Login(ctx, name, broker.LoginOptions{}); err != nil {
			return nil, fmt.Errorf("signing in to %s: %w", name, err)
		}
		cred, err := b.Credential(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("reading the credential of %s: %w", name, err)
		}
		if cred == nil || cred.Header != "Authorization" {
			return nil, fmt.Errorf("%s: the sign-in gave no bearer token", name)
		}
		headers[t] = cred.Value
	}
	return headers, nil
}
