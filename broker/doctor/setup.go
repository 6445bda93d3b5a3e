package doctor

import (
	"errors"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// Configured returns the setup of the server called name as the configuration f (read from
// configPath) and the broker's status beside it (broker.ReadStatus, read at now) record it:
// all that `doctor NAME` judges except the client's private key, which only the secret store
// holds (see WithClientKey). A status that cannot be read leaves Status and Deviations empty:
// the server is diagnosed all the same.
func Configured(configPath string, f *config.File, name string, now time.Time) (Setup, error) {
	srv, ok := f.Server(name)
	if !ok {
		return Setup{}, &broker.UnknownServerError{Name: name}
	}
	s := Setup{Server: *srv, SameURLAs: broker.SameURLServers(f.Servers, *srv), Now: now}
	if p, ok := f.IdP(srv.IdP); ok && srv.IdP != "" {
		s.IdP = p
	}
	if all, err := broker.ReadStatus(configPath, now); err == nil {
		for _, st := range all {
			if st.Name == name {
				s.Status, s.Deviations = &st, st.Deviations
			}
		}
	}
	return s, nil
}

// WithClientKey records what the secret store said of the private key of a private_key_jwt
// client (broker.Broker.ClientKey): its algorithm, or why it could not be read, in words
// without the server's name (the report is about the server already).
func (s *Setup) WithClientKey(ck *broker.ClientKey, err error) {
	if err != nil {
		var op *broker.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		s.KeyProblem = err.Error()
		return
	}
	s.KeyAlgorithm = ck.Algorithm
}
