package broker

import (
	"context"
	"slices"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// Account is whose a sign-in is, as the authorization server says: so that a person with two
// servers at one URL (work and personal) sees which account each is signed in with. It is
// never used to decide anything, and never checked: what it says is shown, nothing more.
//
// It is kept with the grant in the secret store (storedToken), so that it changes with the
// grant, and mirrored in state.json (tokenInfo), so that status and the tray show it without
// the keychain. An email address is personal but no credential; state.json is the user's
// alone (0600 in a 0700 folder), like the configuration.
type Account struct {
	Subject  string `json:"sub,omitempty"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	// Source is where it was learnt.
	Source AccountSource `json:"source"`
}

// AccountSource says where an Account was learnt.
type AccountSource string

// The sources of an Account, in the order a sign-in tries them (see identify).
const (
	// AccountFromIDToken: the claims of the ID token the token endpoint sent (OpenID Connect).
	AccountFromIDToken AccountSource = "id_token"
	// AccountFromUserInfo: the OpenID Connect UserInfo endpoint.
	AccountFromUserInfo AccountSource = "userinfo"
	// AccountFromIntrospection: token introspection (RFC 7662).
	AccountFromIntrospection AccountSource = "introspection"
	// AccountFromIdP: the sign-in at the identity provider an enterprise server gets its
	// tokens through.
	AccountFromIdP AccountSource = "identity_provider"
)

// String is the account for people: its email, else its user name, else its subject.
func (a *Account) String() string {
	if a == nil {
		return ""
	}
	switch {
	case a.Email != "":
		return a.Email
	case a.Username != "":
		return a.Username
	}
	return a.Subject
}

// samePerson reports whether two accounts are one: by subject when both have one, else by
// what String shows.
func (a *Account) samePerson(o *Account) bool {
	switch {
	case a == nil || o == nil:
		return false
	case a.Subject != "" && o.Subject != "":
		return a.Subject == o.Subject
	}
	return a.String() != "" && a.String() == o.String()
}

// identifyTimeout bounds what a sign-in asks to learn whose it is: a slow UserInfo or
// introspection endpoint must not hold up a sign-in that has succeeded.
const identifyTimeout = 10 * time.Second

// identify learns whose a new grant is, from the first of these that tells:
//
//   - the ID token of the token response, which an OpenID provider sends when the scope openid
//     was granted (OpenID Connect Core §3.1.3.3). Its claims are read without checking its
//     signature (oauth.ParseIDToken): it came from the token endpoint over TLS, and serves only
//     to be shown. An ID token of another issuer or client is ignored;
//   - the UserInfo endpoint, when the metadata names one and openid was granted: only then is
//     the access token one for it (§5.3), and it goes nowhere else than to the authorization
//     server that issued it (and only a Bearer token: a DPoP-bound one would need a proof);
//   - token introspection (RFC 7662), when the metadata names an endpoint and the server lets
//     this client ask (many take only resource servers, and refuse);
//
// else nobody knows, and it returns nil. None of these failing fails the sign-in: why goes to
// the log.
func (b *Broker) identify(ctx context.Context, name string, as *discovery.AuthServerMetadata, client *oauth.Client, tok *oauth.Token) *Account {
	if a := b.idTokenAccount(name, tok.IDToken, as.Issuer, client.ID); a != nil {
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, identifyTimeout)
	defer cancel()
	// A DPoP-bound token (RFC 9449) is never sent as a bearer token: UserInfo is skipped.
	if ep := as.UserinfoEndpoint; ep != "" && slices.Contains(tok.Scopes(), "openid") && tok.DPoPJKT == "" {
		if err := discovery.CheckEndpoint(ep); err != nil {
			b.log.Info("not asking the UserInfo endpoint whose the sign-in is", "server", name, "err", err)
		} else if id, err := oauth.UserInfo(ctx, b.http, ep, tok.AccessToken); err != nil {
			b.log.Info("the UserInfo endpoint did not say whose the sign-in is", "server", name, "err", err)
		} else {
			return accountOf(id, AccountFromUserInfo)
		}
	}
	if ep := as.IntrospectionEndpoint; ep != "" {
		if err := discovery.CheckEndpoint(ep); err != nil {
			b.log.Info("not asking the introspection endpoint whose the sign-in is", "server", name, "err", err)
		} else if id, err := oauth.Introspect(ctx, b.http, ep, client, tok.AccessToken); err != nil {
			b.log.Info("token introspection did not say whose the sign-in is", "server", name, "err", err)
		} else {
			return accountOf(id, AccountFromIntrospection)
		}
	}
	return nil
}

// idTokenAccount is the account an ID token names, when it is one of issuer for clientID
// (OpenID Connect Core §3.1.3.7, items 2 and 3: an ID token for someone else is no answer);
// nil for none.
func (b *Broker) idTokenAccount(name, idToken, issuer, clientID string) *Account {
	if idToken == "" {
		return nil
	}
	c, err := oauth.ParseIDToken(idToken)
	if err == nil {
		// Its expiry does not matter to what is only shown: the zero time is before any exp.
		err = c.Check(issuer, clientID, time.Time{})
	}
	if err != nil {
		b.log.Info("the ID token does not say whose the sign-in is", "server", name, "err", err)
		return nil
	}
	return &Account{Subject: c.Subject, Email: c.Email, Username: c.Username, Source: AccountFromIDToken}
}

func accountOf(id *oauth.Identity, src AccountSource) *Account {
	return &Account{Subject: id.Subject, Email: id.Email, Username: id.Username, Source: src}
}

// sameAccountAs returns the servers other than srv, at the same URL and signed in at the same
// authorization server, whose state says they are signed in as the same person as acct: a
// second sign-in that meant another account and got the first, because the browser was still
// signed in to it.
func (b *Broker) sameAccountAs(srv config.Server, issuer string, acct *Account) []string {
	if acct == nil {
		return nil
	}
	servers, err := b.Servers()
	if err != nil {
		return nil
	}
	st, err := loadState(statePath(b.configPath))
	if err != nil {
		return nil
	}
	var out []string
	for _, name := range SameURLServers(servers, srv) {
		if s := st.Servers[name]; s != nil && s.Token != nil && s.Token.Issuer == issuer && acct.samePerson(s.Token.Account) {
			out = append(out, name)
		}
	}
	return out
}
