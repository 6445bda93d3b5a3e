package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// AddServer adds or replaces a server in the configuration. secret, when not empty, is stored
// in the secret store: the client secret for OAuth and client-credentials servers, the token
// for bearer servers. Replacing a server with another URL forgets its tokens, which belong to
// the old one.
func (b *Broker) AddServer(ctx context.Context, srv config.Server, secret string) error {
	if srv.Auth == "" {
		srv.Auth = config.AuthOAuth
	}
	if srv.Transport == "" {
		srv.Transport = config.TransportAuto
	}
	if err := config.ValidateName(srv.Name); err != nil {
		return err
	}
	if err := srv.Validate(); err != nil {
		return err
	}
	if srv.Auth == config.AuthBearer && secret == "" {
		if _, err := b.staticCredential(ctx, srv); err != nil {
			return errors.New("a bearer server needs its token: pass it on standard input with --token-stdin")
		}
	}
	if secret != "" {
		key := clientSecretKey(srv.Name)
		switch srv.Auth {
		case config.AuthBearer:
			key = staticTokenKey(srv.Name)
		case config.AuthNone:
			return errors.New("a server without authorization takes no secret")
		}
		if err := b.secrets.Set(ctx, key, secret); err != nil {
			return fmt.Errorf("storing the secret for %s: %w", srv.Name, err)
		}
		if srv.Auth == config.AuthBearer {
			if err := b.updateState(ctx, func(s *state) { s.server(srv.Name).StaticToken = true }); err != nil {
				return err
			}
		}
	}
	var oldURL string
	err := config.Update(ctx, b.configPath, func(f *config.File) error {
		if old, ok := f.Server(srv.Name); ok {
			oldURL = old.URL
		}
		f.Put(srv)
		return nil
	})
	if err != nil {
		return err
	}
	if oldURL != "" && oldURL != srv.URL {
		b.forgetToken(ctx, srv.Name)
	}
	return nil
}

// RemoveServer removes a server and every secret kept for it.
func (b *Broker) RemoveServer(ctx context.Context, name string) error {
	if _, err := b.Server(name); err != nil {
		return err
	}
	if err := b.deleteSecrets(ctx, name, true); err != nil {
		return err
	}
	return config.Update(ctx, b.configPath, func(f *config.File) error {
		f.Remove(name)
		return nil
	})
}

// Logout forgets the server's tokens (and a bearer server's static token). Client registrations
// stay, so the next sign-in does not register again.
func (b *Broker) Logout(ctx context.Context, name string) error {
	srv, err := b.Server(name)
	if err != nil {
		return err
	}
	keys := []string{refreshKey(name), tokenKey(name)}
	if srv.Auth == config.AuthBearer {
		keys = append(keys, staticTokenKey(name))
	}
	for _, k := range keys {
		if err := b.secrets.Delete(ctx, k); err != nil {
			return fmt.Errorf("%s: deleting a stored token: %w", name, err)
		}
	}
	return b.updateState(ctx, func(s *state) {
		s.server(name).Token = nil
		s.server(name).StaticToken = false
	})
}

// deleteSecrets removes every secret of a server, registrations included.
func (b *Broker) deleteSecrets(ctx context.Context, name string, registrations bool) error {
	keys := []string{refreshKey(name), tokenKey(name), staticTokenKey(name), clientSecretKey(name)}
	st, err := loadState(statePath(b.configPath))
	if err != nil {
		return err
	}
	if s := st.Servers[name]; s != nil && registrations {
		for _, r := range s.Registrations {
			keys = append(keys, registrationKey(name, r.Issuer))
		}
	}
	for _, k := range keys {
		if err := b.secrets.Delete(ctx, k); err != nil {
			return fmt.Errorf("%s: deleting a stored secret: %w", name, err)
		}
	}
	return b.updateState(ctx, func(s *state) { delete(s.Servers, name) })
}
