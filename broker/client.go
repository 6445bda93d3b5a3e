package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/provider"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// registration reads what the state file knows of the server's client at issuer.
func (b *Broker) registration(name, issuer string) (registrationInfo, bool) {
	st, err := loadState(statePath(b.configPath))
	if err != nil {
		return registrationInfo{}, false
	}
	s := st.Servers[name]
	if s == nil {
		return registrationInfo{}, false
	}
	i := slices.IndexFunc(s.Registrations, func(r registrationInfo) bool { return r.Issuer == issuer })
	if i < 0 {
		return registrationInfo{}, false
	}
	return s.Registrations[i], true
}

// loadClient returns the client registered for the server at issuer, with its secret.
func (b *Broker) loadClient(ctx context.Context, srv config.Server, issuer string) (*oauth.Client, error) {
	info, known := b.registration(srv.Name, issuer)
	switch {
	case srv.ClientID != "" && (!known || info.Kind == oauth.KindPreRegistered):
		c := &oauth.Client{ID: srv.ClientID, Issuer: issuer, Kind: oauth.KindPreRegistered, AuthMethod: info.AuthMethod, RedirectURI: info.RedirectURI}
		if srv.ClientAuth == config.ClientAuthPrivateKeyJWT {
			// The configuration decides, whatever the client was used with before.
			key, err := b.clientKey(ctx, srv.Name)
			if err != nil {
				return nil, err
			}
			c.Key, c.AuthMethod = key, oauth.AuthPrivateKeyJWT
			return c, nil
		}
		secret, err := b.secrets.Get(ctx, clientSecretKey(srv.Name))
		switch {
		case err == nil:
			c.Secret = secret
		case !errors.Is(err, secrets.ErrNotFound):
			return nil, fmt.Errorf("reading the client secret: %w", err)
		}
		if c.AuthMethod == "" {
			c.AuthMethod = oauth.AuthNone
			if c.Secret != "" {
				c.AuthMethod = oauth.AuthClientSecretBasic
			}
		}
		return c, nil
	case known && info.Kind == oauth.KindMetadataDoc:
		return &oauth.Client{ID: info.ClientID, Issuer: issuer, Kind: oauth.KindMetadataDoc, AuthMethod: oauth.AuthNone, RedirectURI: info.RedirectURI}, nil
	}
	raw, err := b.secrets.Get(ctx, registrationKey(srv.Name, issuer))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the client registration is gone"}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the client registration: %w", err)
	}
	var c oauth.Client
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.ID == "" || c.Issuer != issuer {
		return nil, &SignInRequiredError{Server: srv.Name, Reason: "the stored client registration is damaged"}
	}
	return &c, nil
}

// preRegisteredClient is the client the person registered with the authorization server
// (srv.ClientID), with the authentication method chosen from what the server supports on its
// first use there.
func (b *Broker) preRegisteredClient(ctx context.Context, srv config.Server, as *discovery.AuthServerMetadata) (*oauth.Client, error) {
	c, err := b.loadClient(ctx, srv, as.Issuer)
	if err != nil {
		return nil, err
	}
	if info, ok := b.registration(srv.Name, as.Issuer); !ok || info.Kind != oauth.KindPreRegistered {
		if c.AuthMethod, err = oauth.ChooseAuthMethod(as.AuthMethods(), c.Proof()); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// clientPlan is the client a sign-in will use, decided before the loopback server starts.
type clientPlan struct {
	client *oauth.Client
	// register is set when the client must first be registered dynamically, once the
	// loopback redirect URI is known.
	register bool
	// port is the loopback port to reuse (0: any free port).
	port int
}

// planClient chooses the client for a browser sign-in, in the MCP order: a pre-registered
// client, a Client ID Metadata Document, a dynamic registration we already hold for this very
// issuer, a new dynamic registration, unless the provider's profile says registration does not
// work there (prof.NoRegistration).
func (b *Broker) planClient(ctx context.Context, srv config.Server, as *discovery.AuthServerMetadata, prof provider.Profile) (*clientPlan, error) {
	issuer := as.Issuer
	if srv.ClientID != "" {
		c, err := b.preRegisteredClient(ctx, srv, as)
		if err != nil {
			return nil, err
		}
		return &clientPlan{client: c, port: portOf(c.RedirectURI)}, nil
	}
	if srv.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported {
		info, _ := b.registration(srv.Name, issuer)
		c := &oauth.Client{ID: srv.ClientMetadataURL, Issuer: issuer, Kind: oauth.KindMetadataDoc, AuthMethod: oauth.AuthNone, RedirectURI: info.RedirectURI}
		return &clientPlan{client: c, port: portOf(c.RedirectURI)}, nil
	}
	if c, err := b.loadClient(ctx, srv, issuer); err == nil && c.Kind == oauth.KindDynamic && !c.Expired(b.now()) && c.CanUse("authorization_code") {
		// (A registration made for the device grant is not reused: it has no redirect URI.)
		return &clientPlan{client: c, port: portOf(c.RedirectURI)}, nil
	} else if err != nil && !errors.Is(err, ErrSignInRequired) {
		return nil, err
	}
	if prof.NoRegistration {
		// Said before a registration is tried: it fails there in the provider's own words, or
		// (Okta) with a bare 401.
		return nil, hint.With(fmt.Errorf("%s does not register clients dynamically for this program: it needs a client registered there beforehand, %s", prof.Title, prof.Register), hint.PreRegisteredClient)
	}
	if as.RegistrationEndpoint == "" {
		next := hint.ClientID
		if as.ClientIDMetadataDocumentSupported {
			next = hint.ClientIDOrMetadataURL
		}
		return nil, hint.With(fmt.Errorf("the authorization server %s offers no dynamic client registration", issuer), next)
	}
	return &clientPlan{register: true}, nil
}

// portOf returns the port of a loopback redirect URI, or 0.
func portOf(redirectURI string) int {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// saveClient records the client a successful sign-in used: dynamic registrations (they hold a
// secret) in the secret store, every kind in the state file.
func (b *Broker) saveClient(ctx context.Context, name string, c *oauth.Client) error {
	if c.Kind == oauth.KindDynamic {
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encoding the client registration: %w", err)
		}
		if err := b.secrets.Set(ctx, registrationKey(name, c.Issuer), string(data)); err != nil {
			return fmt.Errorf("storing the client registration: %w", err)
		}
	}
	return b.updateState(ctx, func(s *state) {
		if c.Kind == oauth.KindPreRegistered {
			// A pre-registered client belongs to one issuer at a time (see checkIssuer): the one
			// it was just used with, first or accepted.
			s.server(name).Registrations = slices.DeleteFunc(s.server(name).Registrations, func(r registrationInfo) bool {
				return r.Kind == oauth.KindPreRegistered && r.ClientID == c.ID && r.Issuer != c.Issuer
			})
		}
		s.server(name).putRegistration(registrationInfo{
			Issuer: c.Issuer, ClientID: c.ID, Kind: c.Kind, AuthMethod: c.AuthMethod,
			RedirectURI: c.RedirectURI, RegisteredAt: c.RegisteredAt,
			Deviations: registrationDeviations(c, s.server(name).Registrations),
		})
	})
}
