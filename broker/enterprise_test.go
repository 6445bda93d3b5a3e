package broker_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// The enterprise setup of these tests: a company identity provider (IdP) where the broker is
// the public client "broker-at-idp", an MCP authorization server (the env's) that trusts the
// IdP's ID-JAGs and knows the broker as the confidential client "mcp-client", and the server
// "demo" configured with auth enterprise and the IdP "corp".
const (
	idpClientID = "broker-at-idp"
	mcpClientID = "mcp-client"
)

type enterpriseEnv struct {
	*env
	idp   *authserver.Server
	clock *clock
}

func newEnterpriseEnv(t *testing.T, idpOpts authserver.Options) *enterpriseEnv {
	t.Helper()
	c := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{JWTBearer: true, AccessTokenTTL: time.Hour, Now: c.now}})
	e.b = e.brokerWithClock(c)
	idpOpts.Now, idpOpts.AutoApprove, idpOpts.OpenID, idpOpts.TokenExchange = c.now, true, true, true
	if idpOpts.Scopes == nil {
		idpOpts.Scopes = []string{"openid", "offline_access", "profile"}
	}
	idp := authserver.New(idpOpts)
	if _, err := idp.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	idp.RegisterClient(authserver.Client{ID: idpClientID, RedirectURIs: loopbackAny()})
	idp.SetIDJAGClient(e.as.Issuer(), mcpClientID)
	e.as.Trust(idp.Issuer(), idp.PublicKey())
	e.as.RegisterClient(authserver.Client{ID: mcpClientID, Secret: "mcp-secret", GrantTypes: []string{authserver.GrantJWTBearer}})

	ctx := t.Context()
	if err := e.b.AddIdP(ctx, config.IdP{Name: "corp", Issuer: idp.Issuer(), ClientID: idpClientID}, ""); err != nil {
		t.Fatal(err)
	}
	srv := config.Server{Name: "demo", URL: e.mcp.URL(), Auth: config.AuthEnterprise, IdP: "corp", ClientID: mcpClientID}
	if err := e.b.AddServer(ctx, srv, "mcp-secret"); err != nil {
		t.Fatal(err)
	}
	return &enterpriseEnv{env: e, idp: idp, clock: c}
}

// idpLogin signs in to the IdP in the (fake) browser.
func (e *enterpriseEnv) idpLogin(opts broker.IdPLoginOptions) (*broker.IdPLoginResult, error) {
	e.t.Helper()
	res, err := e.b.IdPLogin(e.t.Context(), "corp", opts)
	e.browser.Wait()
	return res, err
}

func (e *enterpriseEnv) status() broker.ServerStatus {
	e.t.Helper()
	st, err := e.b.Status()
	if err != nil {
		e.t.Fatal(err)
	}
	return st[0]
}

// TestEnterpriseManagedAuthorization is SEP-990 through the broker: one browser sign-in at the
// company's IdP, and the server gets its token by token exchange at the IdP and the JWT bearer
// grant at its authorization server, with no consent page of its own; at expiry both run
// again, without a person; an expired ID token is renewed at the IdP.
func TestEnterpriseManagedAuthorization(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{IDTokenTTL: 2 * time.Hour, AccessTokenTTL: 8 * time.Hour})

	// Not signed in at the IdP: the server asks for that sign-in, with its own hint.
	_, err := e.b.Credential(t.Context(), "demo")
	var idpErr *broker.IdPSignInRequiredError
	if !errors.As(err, &idpErr) || idpErr.IdP != "corp" || !errors.Is(err, broker.ErrSignInRequired) || hint.Of(err) != hint.SignInIdP {
		t.Fatalf("Credential before the IdP sign-in = %v", err)
	}
	if st := e.status(); st.SignedIn || st.State != broker.StateSignInRequired || st.IdP != "corp" {
		t.Errorf("status before = %+v", st)
	}

	res, err := e.idpLogin(broker.IdPLoginOptions{})
	if err != nil {
		t.Fatalf("IdP login: %v\n%s", err, e.prompt)
	}
	if !res.Renewable || res.Subject != authserver.DemoSubject || len(res.Servers) != 1 || res.Servers[0].Server != "demo" || len(res.Failed) != 0 {
		t.Errorf("IdP login result = %+v", res)
	}
	// One browser visit, to the IdP, for openid (and offline_access, which it offers).
	if urls := e.browser.URLs(); len(urls) != 1 || !strings.HasPrefix(urls[0], e.idp.Issuer()+"/authorize?") {
		t.Fatalf("browser visits = %v", urls)
	}
	az := e.idp.Requests()[0].Form
	if az.Get("scope") != "openid offline_access" || az.Get("prompt") != "consent" || az.Get("code_challenge_method") != "S256" || az.Has("resource") {
		t.Errorf("IdP authorization request = %v", az)
	}
	if n := len(e.requests(authserver.EndpointAuthorize)); n != 0 {
		t.Errorf("%d authorization requests at the MCP authorization server: no consent page per server", n)
	}

	// The two exchanges, exactly as SEP-990 has them.
	var exchange, bearerGrant []authserver.Request
	for _, r := range e.idp.Requests() {
		if r.Endpoint == authserver.EndpointToken && r.Form.Get("grant_type") == oauth.GrantTokenExchange {
			exchange = append(exchange, r)
		}
	}
	bearerGrant = e.requests(authserver.EndpointToken)
	if len(exchange) != 1 || len(bearerGrant) != 1 {
		t.Fatalf("%d token exchanges, %d JWT bearer grants; want one each", len(exchange), len(bearerGrant))
	}
	x := exchange[0].Form
	if x.Get("subject_token_type") != oauth.TokenTypeIDToken || x.Get("requested_token_type") != oauth.TokenTypeIDJAG ||
		x.Get("audience") != e.as.Issuer() || x.Get("resource") != e.mcp.URL() || x.Get("subject_token") != authserver.Redacted || exchange[0].ClientID != idpClientID {
		t.Errorf("token exchange = %v (client %q)", x, exchange[0].ClientID)
	}
	g := bearerGrant[0]
	if g.Form.Get("grant_type") != oauth.GrantJWTBearer || g.AuthMethod != authserver.AuthClientSecretBasic || g.ClientID != mcpClientID || g.Form.Get("assertion") != authserver.Redacted {
		t.Errorf("JWT bearer grant = %v (client %q, %s)", g.Form, g.ClientID, g.AuthMethod)
	}
	if got := e.callTool("whoami"); got != 200 {
		t.Fatalf("tools/call: HTTP %d", got)
	}
	st := e.status()
	if !st.SignedIn || st.State != broker.StateSignedInIdP || st.IdP != "corp" || st.Client == nil || st.Client.ID != mcpClientID {
		t.Errorf("status = %+v", st)
	}
	idps, err := e.b.IdPs()
	if err != nil || len(idps) != 1 || !idps[0].SignedIn || idps[0].Subject != authserver.DemoSubject || !slices.Equal(idps[0].Servers, []string{"demo"}) {
		t.Errorf("IdPs = %+v, %v", idps, err)
	}

	// The access token expires: exchange and grant again, no browser.
	e.clock.advance(time.Hour + time.Minute)
	if got := e.callTool("whoami"); got != 200 {
		t.Fatalf("after the access token expired: HTTP %d", got)
	}
	if s := e.idp.Stats(); s.TokenExchanges != 2 || s.Refreshes != 0 {
		t.Errorf("IdP stats after renewal = %+v", s)
	}
	// The ID token expires too: it is renewed at the IdP with its refresh token first.
	e.clock.advance(time.Hour + time.Minute)
	if got := e.callTool("whoami"); got != 200 {
		t.Fatalf("after the ID token expired: HTTP %d", got)
	}
	if s := e.idp.Stats(); s.TokenExchanges != 3 || s.Refreshes != 1 {
		t.Errorf("IdP stats after the ID token's renewal = %+v", s)
	}
	if len(e.browser.URLs()) != 1 || e.as.Stats().JWTBearerGrants != 3 {
		t.Errorf("browser %v, grants %+v", e.browser.URLs(), e.as.Stats())
	}
	for _, v := range tokensIn(e.env) {
		for _, r := range e.as.Requests() {
			if strings.Contains(r.Form.Encode(), v) {
				t.Error("a stored secret went to the authorization server")
			}
		}
	}

	// Signing out of the IdP signs every server configured with it out.
	if err := e.b.IdPLogout(t.Context(), "corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.As(err, &idpErr) {
		t.Errorf("Credential after the IdP sign-out = %v", err)
	}
	if st := e.status(); st.SignedIn || st.Expiry != nil {
		t.Errorf("status after the IdP sign-out = %+v", st)
	}
}

// TestEnterpriseIDTokenHandedIn: a machine that holds an ID token already hands it in (no
// browser); it is checked against the IdP and its client, and once it expires, with no refresh
// token, a person must sign in again.
func TestEnterpriseIDTokenHandedIn(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{})
	for name, tok := range map[string]string{
		"another client's":  e.idp.IssueIDToken("someone-else", "alice", time.Hour),
		"expired":           e.idp.IssueIDToken(idpClientID, "alice", -time.Minute),
		"another issuer's":  e.as.IssueIDToken(idpClientID, "alice", time.Hour),
		"not a JWT at all?": "hello",
	} {
		if _, err := e.idpLogin(broker.IdPLoginOptions{IDToken: tok}); err == nil {
			t.Errorf("%s ID token accepted", name)
		} else if strings.Contains(err.Error(), tok) {
			t.Errorf("the error quotes the ID token: %v", err)
		}
	}
	res, err := e.idpLogin(broker.IdPLoginOptions{IDToken: e.idp.IssueIDToken(idpClientID, "alice", time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Subject != "alice" || res.Renewable || len(res.Servers) != 1 || len(e.browser.URLs()) != 0 {
		t.Errorf("result = %+v, browser %v", res, e.browser.URLs())
	}
	if got := e.callTool("whoami"); got != 200 {
		t.Fatalf("tools/call: HTTP %d", got)
	}
	e.clock.advance(2 * time.Hour)
	_, err = e.b.Credential(t.Context(), "demo")
	var idpErr *broker.IdPSignInRequiredError
	if !errors.As(err, &idpErr) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("Credential after the ID token expired = %v", err)
	}
	if st := e.status(); st.SignedIn {
		t.Errorf("status after the ID token expired = %+v", st)
	}
}

// TestEnterpriseLoginSignsInToTheIdP: `login` of an enterprise server (and so a bridge's own
// sign-in) signs in to the IdP when needed, then gets the token.
func TestEnterpriseLoginSignsInToTheIdP(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{})
	if _, err := e.login(broker.LoginOptions{}); err != nil {
		t.Fatalf("login: %v", err)
	}
	if urls := e.browser.URLs(); len(urls) != 1 || !strings.HasPrefix(urls[0], e.idp.Issuer()) {
		t.Errorf("browser visits = %v", urls)
	}
	if e.as.Stats().JWTBearerGrants != 1 {
		t.Errorf("AS stats = %+v", e.as.Stats())
	}
	// Signed in at the IdP now: a second login is a grant alone.
	if _, err := e.login(broker.LoginOptions{}); err != nil || len(e.browser.URLs()) != 1 {
		t.Errorf("second login: %v, browser %v", err, e.browser.URLs())
	}
}

// TestIdPConfiguration: an IdP in use stays; changing its client forgets its sign-in; one
// issuer is one IdP.
func TestIdPConfiguration(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{})
	ctx := t.Context()
	if err := e.b.RemoveIdP(ctx, "corp"); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Errorf("RemoveIdP of an IdP in use = %v", err)
	}
	if err := e.b.AddIdP(ctx, config.IdP{Name: "corp2", Issuer: e.idp.Issuer(), ClientID: "x"}, ""); err == nil {
		t.Error("a second IdP with the same issuer was accepted")
	}
	if _, err := e.idpLogin(broker.IdPLoginOptions{IDToken: e.idp.IssueIDToken(idpClientID, "alice", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := e.b.AddIdP(ctx, config.IdP{Name: "corp", Issuer: e.idp.Issuer(), ClientID: "new-client"}, ""); err != nil {
		t.Fatal(err)
	}
	if idps, _ := e.b.IdPs(); idps[0].SignedIn {
		t.Error("the sign-in of the old client survived a client change")
	}
	if err := e.b.AddServer(ctx, config.Server{Name: "demo", URL: e.mcp.URL(), Auth: config.AuthOAuth}, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.b.RemoveIdP(ctx, "corp"); err != nil {
		t.Fatalf("RemoveIdP: %v", err)
	}
	for _, k := range e.store.Keys() {
		if strings.HasPrefix(k, "idp-") {
			t.Errorf("secret %q left after RemoveIdP", k)
		}
	}
}
