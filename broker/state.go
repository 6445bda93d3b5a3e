package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/lock"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// state is the non-secret mirror of what the secret store holds, per server. It lets status
// answer without the keychain, and lets `servers remove` find every registration to delete.
type state struct {
	Servers map[string]*serverState `json:"servers"`
	// IdPs describes the sign-in at each identity provider, by issuer (as its secrets are keyed).
	IdPs map[string]*idpInfo `json:"idps,omitempty"`
}

type serverState struct {
	// Registrations lists the client registrations kept in the secret store, one per issuer.
	Registrations []registrationInfo `json:"registrations,omitempty"`
	Token         *tokenInfo         `json:"token,omitempty"`
	// StaticToken is set while a bearer server's token is in the secret store.
	StaticToken bool `json:"static_token,omitempty"`
	// JSONEndpoints are the endpoints of its authorization server (token, revocation) known
	// to read only JSON bodies (oauth.DeviationJSONBody): what the server taught, not a
	// mirror of the secret store (see learnedFormats).
	JSONEndpoints []string `json:"json_endpoints,omitempty"`
	// SessionLimit is how old a sign-in was when the authorization server refused its
	// refresh token, which had no expiry of its own (see renewalRefused): what the server
	// taught about how long its sign-ins last. A new sign-in keeps it; `servers remove` drops it.
	SessionLimit time.Duration `json:"session_limit,omitempty"`
	// RenewalFailure is the last background renewal that failed, until a renewal or sign-in
	// succeeds or the person signs out.
	RenewalFailure *RenewalFailure `json:"renewal_failure,omitempty"`
}

// registrationInfo describes a registration without its secret.
type registrationInfo struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	Kind         string    `json:"kind"`
	AuthMethod   string    `json:"token_endpoint_auth_method"`
	RedirectURI  string    `json:"redirect_uri,omitempty"`
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	// Deviations are the ways the registration endpoint bent RFC 7591 registering the client.
	Deviations []oauth.Deviation `json:"deviations,omitempty"`
}

// tokenInfo describes the stored token without the token.
type tokenInfo struct {
	Issuer      string    `json:"issuer,omitempty"`
	ClientID    string    `json:"client_id,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	ObtainedAt  time.Time `json:"obtained_at,omitzero"`
	Refreshable bool      `json:"refreshable"`
	// RefreshExpiry is when the refresh token expires, where the server said (zero if not).
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	// SignedInAt is when the person signed in to start the grant, kept across its refreshes:
	// a session limit counts from it. Zero when unknown (a grant stored before it was kept).
	SignedInAt time.Time `json:"signed_in_at,omitzero"`
	// DPoP is true when the token is bound to the server's DPoP key (RFC 9449).
	DPoP bool `json:"dpop,omitempty"`
	// Account is whose the token is, when known: the grant's (storedToken.Account).
	Account *Account `json:"account,omitempty"`
	// ExpiryAssumed is set when the server did not say when the token expires and Expiry is
	// the lifetime the broker assumed (see assumedLifetime).
	ExpiryAssumed bool `json:"expiry_assumed,omitempty"`
	// Deviations are the ways the token endpoint bent RFC 6749 granting the token.
	Deviations []oauth.Deviation `json:"deviations,omitempty"`
}

func statePath(configPath string) string {
	return filepath.Join(filepath.Dir(configPath), "state.json")
}

func loadState(path string) (*state, error) {
	st := &state{Servers: map[string]*serverState{}, IdPs: map[string]*idpInfo{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		// The state is only a mirror: a damaged one is rebuilt as sign-ins happen, and the old
		// file is kept aside for a human to look at.
		_ = os.Rename(path, path+".damaged")
		return &state{Servers: map[string]*serverState{}, IdPs: map[string]*idpInfo{}}, nil
	}
	if st.Servers == nil {
		st.Servers = map[string]*serverState{}
	}
	if st.IdPs == nil {
		st.IdPs = map[string]*idpInfo{}
	}
	return st, nil
}

// updateState applies fn to the state file under its own lock, atomically.
func (b *Broker) updateState(ctx context.Context, fn func(*state)) error {
	path := statePath(b.configPath)
	release, err := lock.Acquire(ctx, path+".lock")
	if err != nil {
		return err
	}
	defer release()
	st, err := loadState(path)
	if err != nil {
		return err
	}
	fn(st)
	for name, s := range st.Servers {
		if len(s.Registrations) == 0 && s.Token == nil && !s.StaticToken && len(s.JSONEndpoints) == 0 && s.SessionLimit == 0 && s.RenewalFailure == nil {
			delete(st.Servers, name)
		}
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the state: %w", err)
	}
	return config.WriteFileAtomic(path, append(data, '\n'), 0o600)
}

func (st *state) server(name string) *serverState {
	s := st.Servers[name]
	if s == nil {
		s = &serverState{}
		st.Servers[name] = s
	}
	return s
}

func (s *serverState) putRegistration(r registrationInfo) {
	s.Registrations = slices.DeleteFunc(s.Registrations, func(x registrationInfo) bool { return x.Issuer == r.Issuer })
	s.Registrations = append(s.Registrations, r)
}

// lockFile is the per-server lock, next to the config so every process of the user finds it.
func lockFile(configPath, name string) string {
	return filepath.Join(filepath.Dir(configPath), "locks", name+".lock")
}
