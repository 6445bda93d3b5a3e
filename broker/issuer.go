package broker

import (
	"fmt"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// IssuerChangedError says the server's metadata names another authorization server than the
// one its pre-registered client was first used with. The client's secret was issued by the
// first; sending it to whatever server the metadata names today would hand it to anyone able
// to change that metadata. A person who knows the move is genuine accepts it with
// LoginOptions.AcceptNewIssuer (`mcp-broker login NAME --accept-new-issuer`).
type IssuerChangedError struct {
	Server, ClientID string
	// Was is the issuer the client was first used with, Now the one the metadata names.
	Was, Now string
}

func (e *IssuerChangedError) Error() string {
	return fmt.Sprintf("its sign-in server changed from %s to %s; the client %q (and its secret) was set up for the first, so nothing was sent to the new one",
		e.Was, e.Now, e.ClientID)
}

// Hint is the next step: accept the new authorization server, if the move is genuine.
func (e *IssuerChangedError) Hint() hint.Hint { return hint.AcceptNewIssuer }

// checkIssuer refuses to use the server's pre-registered client with issuer when the client was
// first used with another authorization server and the person did not accept the change. The
// issuers a client was used with are the state file's pre-registered registrations for its id
// (saveClient keeps one: the issuer of the last successful sign-in). Dynamic registrations and
// metadata-document clients need no such check: they are looked up by issuer and made anew
// for a new one.
func (b *Broker) checkIssuer(srv config.Server, issuer string, accept bool) error {
	if srv.ClientID == "" || accept {
		return nil
	}
	st, err := loadState(statePath(b.configPath))
	if err != nil {
		return err
	}
	s := st.Servers[srv.Name]
	if s == nil {
		return nil // first use: this issuer becomes the client's
	}
	was := ""
	for _, r := range s.Registrations {
		if r.Kind != oauth.KindPreRegistered || r.ClientID != srv.ClientID {
			continue
		}
		if r.Issuer == issuer {
			return nil
		}
		was = r.Issuer
	}
	if was == "" {
		return nil
	}
	return &IssuerChangedError{Server: srv.Name, ClientID: srv.ClientID, Was: was, Now: issuer}
}
