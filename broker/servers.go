package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// AddServer adds or replaces a server in the configuration. secret, when not empty, is stored
// in the secret store: the client secret for OAuth and client-credentials servers, the token
// for bearer servers, the client's private key (PEM) for servers whose client authenticates
// with private_key_jwt (srv.SigningAlg is then set from the key; an empty secret keeps the key
// stored, which must exist). Replacing a server with another URL first deletes its tokens,
// which belong to the old one, and changes nothing when they cannot be deleted; a bearer server
// moved to another URL needs its (new) token passed again.
//
// A name that is not valid names no server: its error has none (OpError.Server is empty).
func (b *Broker) AddServer(ctx context.Context, srv config.Server, secret string) error {
	if err := config.ValidateName(srv.Name); err != nil {
		return wrap(OpAdd, "", err)
	}
	return wrap(OpAdd, srv.Name, b.addServer(ctx, srv, secret))
}

// addServer is AddServer, with errors that do not name the server: see OpError.
func (b *Broker) addServer(ctx context.Context, srv config.Server, secret string) error {
	if srv.Auth == "" {
		srv.Auth = config.AuthOAuth
	}
	if srv.Transport == "" {
		srv.Transport = config.TransportAuto
	}
	if err := srv.Validate(); err != nil {
		return err
	}
	if srv.Auth == config.AuthBearer && secret == "" {
		if _, err := b.staticCredential(ctx, srv); err != nil {
			return hint.With(errors.New("a bearer server needs its token"), hint.StoreToken)
		}
	}
	if srv.ClientAuth == config.ClientAuthPrivateKeyJWT {
		if err := b.putClientKey(ctx, &srv, secret); err != nil {
			return err
		}
		secret = "" // stored, as the key it is
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
			return fmt.Errorf("storing the secret: %w", err)
		}
		if srv.Auth == config.AuthBearer {
			if err := b.updateState(ctx, func(s *state) { s.server(srv.Name).StaticToken = true }); err != nil {
				return err
			}
		}
	}
	return config.Update(ctx, b.configPath, func(f *config.File) error {
		// The old URL's tokens go first, under the config lock: were the new URL written
		// first and the deletion to fail, a token would be handed out for a server it was
		// never meant for. When they cannot be deleted, the configuration stays as it was.
		old, ok := f.Server(srv.Name)
		if ok && !SameServerURL(old.URL, srv.URL) {
			// A static token just given is for the new URL; one stored before is not.
			newStatic := srv.Auth == config.AuthBearer && secret != ""
			if srv.Auth == config.AuthBearer && !newStatic {
				return hint.With(fmt.Errorf("the server moves to a new URL, and its stored token belongs to the old one: it needs the token for %s", redact.URL(srv.URL)), hint.StoreToken)
			}
			if err := b.deleteTokens(ctx, srv.Name, !newStatic); err != nil {
				return fmt.Errorf("its URL changes, so the tokens of the old one must go first, and they could not be deleted (nothing was changed): %w", err)
			}
		}
		if ok && old.ClientAuth == config.ClientAuthPrivateKeyJWT && srv.ClientAuth != config.ClientAuthPrivateKeyJWT {
			// The client no longer signs with its key: it goes, as it would with the server.
			if err := b.secrets.Delete(ctx, clientKeyKey(srv.Name)); err != nil {
				return fmt.Errorf("deleting the client's private key, no longer used: %w", err)
			}
		}
		f.Put(srv)
		return nil
	})
}

// deleteTokens deletes the server's access and refresh tokens, and with static its static
// token, then the DPoP key the tokens were bound to, and their mention in the state file,
// stopping at the first failure.
func (b *Broker) deleteTokens(ctx context.Context, name string, static bool) error {
	keys := []string{refreshKey(name), tokenKey(name)}
	if static {
		keys = append(keys, staticTokenKey(name))
	}
	for _, k := range keys {
		if err := b.secrets.Delete(ctx, k); err != nil {
			return fmt.Errorf("deleting a stored token: %w", err)
		}
	}
	b.forgetDPoPKey(name)
	if err := b.secrets.Delete(ctx, dpopKey(name)); err != nil {
		return fmt.Errorf("deleting the DPoP key: %w", err)
	}
	return b.updateState(ctx, func(s *state) {
		s.server(name).Token = nil
		s.server(name).RenewalFailure = nil // signed out: no renewal is outstanding
		if static {
			s.server(name).StaticToken = false
		}
	})
}

// RemoveServer removes a server and every secret kept for it.
func (b *Broker) RemoveServer(ctx context.Context, name string) error {
	return wrap(OpRemove, name, b.removeServer(ctx, name))
}

// removeServer is RemoveServer, with errors that do not name the server: see OpError.
func (b *Broker) removeServer(ctx context.Context, name string) error {
	if _, err := b.server(name); err != nil {
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

// deleteSecrets removes every secret of a server, registrations included: the well-known keys,
// every key the store's index of the server names (which needs no state.json), and the
// registrations state.json lists (those stored before the index existed).
func (b *Broker) deleteSecrets(ctx context.Context, name string, registrations bool) error {
	keys := wellKnownKeys(name)
	if st, err := loadState(statePath(b.configPath)); err != nil {
		b.log.Warn("reading the state file; deleting what the secret store's index names", "server", name, "err", err)
	} else if s := st.Servers[name]; s != nil && registrations {
		for _, r := range s.Registrations {
			keys = append(keys, registrationKey(name, r.Issuer))
		}
	}
	del := func() error { return b.index.DeleteGroup(ctx, name, keys...) }
	if !registrations {
		del = func() error {
			for _, k := range keys {
				if err := b.secrets.Delete(ctx, k); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := del(); err != nil {
		return fmt.Errorf("deleting a stored secret: %w", err)
	}
	return b.updateState(ctx, func(s *state) { delete(s.Servers, name) })
}
