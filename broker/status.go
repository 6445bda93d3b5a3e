package broker

import (
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// ServerStatus is what status shows for one server. It never holds a secret.
type ServerStatus struct {
	Name      string           `json:"name"`
	URL       string           `json:"url"`
	Auth      config.AuthMode  `json:"auth"`
	Transport config.Transport `json:"transport"`
	// ClientAuth and SigningAlg are the configuration's: private_key_jwt and the key's
	// algorithm for a client that signs its assertions, empty otherwise.
	ClientAuth string `json:"client_auth,omitempty"`
	SigningAlg string `json:"signing_alg,omitempty"`
	// SignedIn is true when a request can be made without a person: a live token, a refresh
	// token, a client-credentials client or a static token.
	SignedIn bool `json:"signed_in"`
	// State is where the credential stands; it carries its words for each audience, and
	// `status --json` writes it as the words `status` prints.
	State  SignInState `json:"state"`
	Expiry *time.Time  `json:"expiry,omitempty"`
	Scopes []string    `json:"scopes,omitempty"`
	Issuer string      `json:"issuer,omitempty"`
	// Client is the registered OAuth client in use with Issuer, if any.
	Client *ClientStatus `json:"client,omitempty"`
	// IdP names the identity provider an enterprise server signs in through.
	IdP string `json:"idp,omitempty"`
	// DPoP is true when the token is bound to this broker's DPoP key (RFC 9449): it is sent
	// with a proof of the key, and is useless without it.
	DPoP bool `json:"dpop,omitempty"`
	// Account is whose the sign-in is, while signed in and when the server said (see Account);
	// for an enterprise server, the sign-in at its identity provider.
	Account *Account `json:"account,omitempty"`
	// SameURLAs names the other servers configured with the same URL (SameURLServers): each
	// has its own sign-in, and Account tells them apart.
	SameURLAs []string `json:"same_url_as,omitempty"`
	// ExpiryAssumed is set when the server did not say when the token expires, and Expiry is
	// the lifetime the broker assumed, renewing the token then or when the server refuses it.
	ExpiryAssumed bool `json:"expiry_assumed,omitempty"`
	// Deviations are the ways the server's authorization server bent the rules at the last
	// sign-in or renewal, each worked around (see oauth.Deviation; Describe words them).
	Deviations []oauth.Deviation `json:"deviations,omitempty"`
	// SignInBy is the earliest moment the person must sign in again, while signed in to an
	// OAuth server and when one is known, and SignInByReason says why: the access token's
	// expiry when there is no refresh token, the refresh token's own expiry where the server
	// said it, or the sign-in's start plus SessionLimit.
	SignInBy       *time.Time     `json:"sign_in_by,omitempty"`
	SignInByReason SignInByReason `json:"sign_in_by_reason,omitempty"`
	// SessionLimitSeconds is how long the server's sign-ins last, as learnt from a refresh it
	// refused (see SessionLimit); 0 when nothing was learnt.
	SessionLimitSeconds int64 `json:"session_limit_seconds,omitempty"`
	// RenewalFailure is the last background renewal that failed, until a renewal or sign-in
	// succeeds or the person signs out.
	RenewalFailure *RenewalFailure `json:"renewal_failure,omitempty"`
}

// SessionLimit is SessionLimitSeconds as a duration.
func (s ServerStatus) SessionLimit() time.Duration {
	return time.Duration(s.SessionLimitSeconds) * time.Second
}

// ClientStatus describes a client registration without its secret.
type ClientStatus struct {
	ID           string     `json:"client_id"`
	Kind         string     `json:"kind"`
	AuthMethod   string     `json:"token_endpoint_auth_method,omitempty"`
	RedirectURI  string     `json:"redirect_uri,omitempty"`
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
}

// Status reports every configured server; see ReadStatus.
func (b *Broker) Status() ([]ServerStatus, error) { return ReadStatus(b.configPath, b.now()) }

// ReadStatus reports every server configured in configPath. It reads the configuration and the
// state file only, never the secret store, so it is fast, needs no Broker, and never blocks on
// a locked keychain.
func ReadStatus(configPath string, now time.Time) ([]ServerStatus, error) {
	f, st, err := readStatusFiles(configPath)
	if err != nil {
		return nil, err
	}
	return serverStatus(f, st, now), nil
}

// ReadAllStatus is ReadStatus and ReadIdPStatus from one reading of the two files: what the
// tray polls for.
func ReadAllStatus(configPath string, now time.Time) ([]ServerStatus, []IdPStatus, error) {
	f, st, err := readStatusFiles(configPath)
	if err != nil {
		return nil, nil, err
	}
	return serverStatus(f, st, now), idpStatus(f, st, now), nil
}

// readStatusFiles reads the configuration at configPath and the state file beside it.
func readStatusFiles(configPath string) (*config.File, *state, error) {
	f, err := config.Load(configPath)
	if err != nil {
		return nil, nil, wrap(OpStatus, "", err)
	}
	st, err := loadState(statePath(configPath))
	if err != nil {
		return nil, nil, wrap(OpStatus, "", err)
	}
	return f, st, nil
}

// serverStatus is every configured server's status, from the configuration f and the state st.
func serverStatus(f *config.File, st *state, now time.Time) []ServerStatus {
	servers := f.Servers
	out := make([]ServerStatus, 0, len(servers))
	for _, srv := range servers {
		ss := ServerStatus{Name: srv.Name, URL: srv.URL, Auth: srv.Auth, Transport: srv.Transport, State: StateSignInRequired,
			ClientAuth: srv.ClientAuth, SigningAlg: srv.SigningAlg, SameURLAs: SameURLServers(servers, srv)}
		if ss.Transport == "" {
			ss.Transport = config.TransportAuto
		}
		s := st.Servers[srv.Name]
		if s == nil {
			s = &serverState{}
		}
		ss.SessionLimitSeconds = int64(s.SessionLimit / time.Second)
		if f := s.RenewalFailure; f != nil {
			rf := *f
			ss.RenewalFailure = &rf
		}
		switch srv.Auth {
		case config.AuthNone:
			ss.SignedIn, ss.State = true, StateNoAuth
		case config.AuthBearer:
			ss.SignedIn, ss.State = s.StaticToken, StateNoToken
			if s.StaticToken {
				ss.State = StateStaticToken
			}
		default:
			if t := s.Token; t != nil {
				ss.Issuer, ss.DPoP = t.Issuer, t.DPoP
				ss.Scopes = strings.Fields(t.Scope)
				if !t.Expiry.IsZero() {
					e := t.Expiry
					ss.Expiry = &e
				}
				ss.ExpiryAssumed = t.ExpiryAssumed
				ss.Deviations = serverDeviations(s)
				switch {
				case !t.Expiry.IsZero() && now.Before(t.Expiry) && !t.Refreshable && srv.Auth == config.AuthOAuth:
					// A person signs in again at the expiry: said now, while it can be helped.
					ss.SignedIn, ss.State = true, StateSignedInNoRefresh
				case t.Expiry.IsZero() || now.Before(t.Expiry):
					ss.SignedIn, ss.State = true, StateSignedIn
				case t.Refreshable || srv.Auth == config.AuthClientCredentials || srv.Auth == config.AuthWorkload:
					ss.SignedIn, ss.State = true, StateExpired
				}
				if ss.SignedIn && srv.Auth == config.AuthOAuth {
					ss.SignInBy, ss.SignInByReason = signInBy(t, s)
				}
				if ss.SignedIn && t.Account != nil {
					a := *t.Account
					ss.Account = &a
				}
				for _, r := range s.Registrations {
					if r.Issuer == t.Issuer {
						cs := &ClientStatus{ID: r.ClientID, Kind: r.Kind, AuthMethod: r.AuthMethod, RedirectURI: r.RedirectURI}
						if !r.RegisteredAt.IsZero() {
							ra := r.RegisteredAt
							cs.RegisteredAt = &ra
						}
						ss.Client = cs
					}
				}
			}
		}
		if srv.Auth == config.AuthEnterprise {
			// Its tokens come and go with the sign-in at the identity provider.
			ss.IdP = srv.IdP
			ss.SignedIn, ss.State, ss.Account = false, StateSignInRequired, nil
			if p, ok := f.IdP(srv.IdP); ok {
				if info := st.IdPs[p.Issuer]; info != nil && info.ClientID == p.ClientID && info.usableAt(now) {
					ss.SignedIn, ss.State = true, StateSignedInIdP
					ss.Account = &Account{Subject: info.Subject, Email: info.Email, Source: AccountFromIdP}
				}
			}
		}
		out = append(out, ss)
	}
	return out
}
