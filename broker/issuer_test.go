package broker_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// movingIssuer is one MCP server URL whose metadata names one authorization server, and then,
// after switchIssuer, another: what a server does when its operator moves it to another
// authorization server, or when someone able to change its metadata wants the credentials
// sent to a server of theirs.
type movingIssuer struct {
	t       *testing.T
	first   *authserver.Server
	second  *authserver.Server
	url     string
	current atomic.Pointer[mcpserver.Server]
	mcps    [2]*mcpserver.Server
	b       *broker.Broker
	store   *secrets.Memory
	browser *opener.Browser
	config  string
	prompt  *bytes.Buffer
}

func newMovingIssuer(t *testing.T, asOpts authserver.Options, srv config.Server, secret string, c *clock) *movingIssuer {
	t.Helper()
	m := &movingIssuer{t: t, store: secrets.NewMemory(), browser: &opener.Browser{}, prompt: &bytes.Buffer{}}
	asOpts.AutoApprove = true
	if c != nil {
		asOpts.Now = c.now
	}
	for i, as := range []**authserver.Server{&m.first, &m.second} {
		*as = authserver.New(asOpts)
		if _, err := (*as).Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*as).Close() })
		// Not started: mounted behind the one URL below, so their metadata names that URL.
		m.mcps[i] = mcpserver.New(mcpserver.Options{Verifier: *as, AuthServers: []string{(*as).Issuer()}})
	}
	m.current.Store(m.mcps[0])
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.current.Load().Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	m.url = front.URL + mcpserver.PathMCP
	m.config = filepath.Join(t.TempDir(), "config.json")
	opts := broker.Options{ConfigPath: m.config, Secrets: m.store, Opener: m.browser, Prompt: m.prompt, SignInTimeout: 20 * time.Second}
	if c != nil {
		opts.Now = c.now
	}
	var err error
	if m.b, err = broker.New(opts); err != nil {
		t.Fatal(err)
	}
	srv.Name, srv.URL = "demo", m.url
	if srv.Auth == "" {
		srv.Auth = config.AuthOAuth
	}
	if err := m.b.AddServer(t.Context(), srv, secret); err != nil {
		t.Fatal(err)
	}
	return m
}

// switchIssuer makes the server's metadata name the second authorization server.
func (m *movingIssuer) switchIssuer() { m.current.Store(m.mcps[1]) }

// switchBack makes it name the first again.
func (m *movingIssuer) switchBack() { m.current.Store(m.mcps[0]) }

func (m *movingIssuer) login(opts broker.LoginOptions) (*broker.LoginResult, error) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), 30*time.Second)
	defer cancel()
	res, err := m.b.Login(ctx, "demo", opts)
	m.browser.Wait()
	return res, err
}

// requestsWith counts the requests as received that name clientID.
func requestsWith(as *authserver.Server, clientID string) int {
	n := 0
	for _, r := range as.Requests() {
		if r.ClientID == clientID || r.Form.Get("client_id") == clientID {
			n++
		}
	}
	return n
}

// A pre-registered client's secret goes only to the authorization server the client was first
// used with: when the server's metadata names another one, the sign-in is refused before any
// request reaches it, with an error that names both and how to accept the change.
func TestPreRegisteredClientStaysWithItsIssuer(t *testing.T) {
	m := newMovingIssuer(t, authserver.Options{}, config.Server{ClientID: "pre"}, "pre-secret", nil)
	for _, as := range []*authserver.Server{m.first, m.second} {
		// The second accepts the client too, as a server set up to collect secrets would.
		as.RegisterClient(authserver.Client{ID: "pre", Secret: "pre-secret", RedirectURIs: loopbackAny()})
	}
	if _, err := m.login(broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	m.switchIssuer()
	pages := len(m.browser.URLs())
	_, err := m.login(broker.LoginOptions{})
	var ic *broker.IssuerChangedError
	if !errors.As(err, &ic) {
		t.Fatalf("sign-in after the issuer changed: err = %v, want an IssuerChangedError", err)
	}
	for _, want := range []string{m.first.Issuer(), m.second.Issuer()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if h := hint.Of(err); h != hint.AcceptNewIssuer {
		t.Errorf("hint %v, want %v", h, hint.AcceptNewIssuer)
	}
	if n := len(m.second.Requests()); n != 0 {
		t.Errorf("the new authorization server received %d requests before the change was accepted", n)
	}
	if n := len(m.browser.URLs()); n != pages {
		t.Errorf("a browser page was opened for the new authorization server")
	}

	// Accepted, the client moves to the new issuer, and stays there.
	if _, err := m.login(broker.LoginOptions{AcceptNewIssuer: true}); err != nil {
		t.Fatalf("sign-in accepting the new issuer: %v", err)
	}
	if tr := m.second.Requests(); len(tr) == 0 || requestsWith(m.second, "pre") == 0 {
		t.Errorf("the accepted sign-in did not use the client at the new issuer")
	}
	if _, err := m.login(broker.LoginOptions{}); err != nil {
		t.Errorf("a second sign-in at the accepted issuer: %v", err)
	}
	// Back to the first is a change like any other.
	m.switchBack()
	if _, err := m.login(broker.LoginOptions{}); !errors.As(err, &ic) {
		t.Errorf("sign-in after moving back: err = %v, want an IssuerChangedError", err)
	}
}

// The client-credentials grant, which needs no person, refuses the same way: a bridge asking
// for a credential never sends the client secret to the new issuer.
func TestClientCredentialsStayWithTheirIssuer(t *testing.T) {
	m := newMovingIssuer(t, authserver.Options{ClientCredentials: true},
		config.Server{Auth: config.AuthClientCredentials, ClientID: "bot"}, "bot-secret", nil)
	for _, as := range []*authserver.Server{m.first, m.second} {
		as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})
	}
	if _, err := m.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	m.switchIssuer()
	if _, err := m.b.Logout(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	_, err := m.b.Credential(t.Context(), "demo")
	var ic *broker.IssuerChangedError
	if !errors.As(err, &ic) {
		t.Fatalf("credential after the issuer changed: err = %v, want an IssuerChangedError", err)
	}
	if n := len(m.second.Requests()); n != 0 {
		t.Errorf("the new authorization server received %d requests", n)
	}
	if _, err := m.login(broker.LoginOptions{AcceptNewIssuer: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.b.Credential(t.Context(), "demo"); err != nil {
		t.Errorf("credential once the new issuer is accepted: %v", err)
	}
	if m.second.Stats().ClientCredentialsGrants != 1 {
		t.Errorf("stats at the new issuer = %+v", m.second.Stats())
	}
}

// Dynamic registrations belong to their issuer: a new one is made at the new issuer, and the
// old client id never reaches it.
func TestDynamicRegistrationPerIssuer(t *testing.T) {
	m := newMovingIssuer(t, authserver.Options{}, config.Server{}, "", nil)
	if _, err := m.login(broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	first := m.first.Requests()[len(m.first.Requests())-1].ClientID
	m.switchIssuer()
	if _, err := m.login(broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := m.second.Stats().Registrations; n != 1 {
		t.Errorf("%d registrations at the new issuer, want 1", n)
	}
	if first == "" || requestsWith(m.second, first) != 0 {
		t.Errorf("the client id registered at the first issuer (%q) reached the second", first)
	}
	// Back at the first issuer, its own registration is used again.
	m.switchBack()
	if _, err := m.login(broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := m.first.Stats().Registrations; n != 1 {
		t.Errorf("%d registrations at the first issuer, want its first one reused", n)
	}
}

// A stored token is renewed where it was obtained: after the server's metadata names another
// issuer, the refresh token still goes to the first one, never to the new one.
func TestTokenRefreshedAtItsOwnIssuer(t *testing.T) {
	c := newClock()
	m := newMovingIssuer(t, authserver.Options{}, config.Server{}, "", c)
	if _, err := m.login(broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	m.switchIssuer()
	c.advance(2 * time.Hour)
	if _, err := m.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if n := m.first.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes at the token's issuer, want 1", n)
	}
	if n := len(m.second.Requests()); n != 0 {
		t.Errorf("the new issuer received %d requests", n)
	}
}

// When the server refuses a token and its metadata now names another authorization server, the
// token is not renewed at the old one (MCP 2026-07-28, "Authorization Server Binding"): renewed
// there it would only be refused again. A browser sign-in is asked for, which registers anew
// at the new server; a client-credentials server gets its token from the new server by
// itself, or, with a client set up for the old one, refuses to send it there.
func TestRefusedTokenAfterTheServerMoved(t *testing.T) {
	t.Run("browser sign-in", func(t *testing.T) {
		m := newMovingIssuer(t, authserver.Options{}, config.Server{}, "", nil)
		if _, err := m.login(broker.LoginOptions{}); err != nil {
			t.Fatal(err)
		}
		old, err := m.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		firstClient := m.first.Requests()[len(m.first.Requests())-1].ClientID
		m.switchIssuer()
		if got := mcpPost(t, m.url, old, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); got != http.StatusUnauthorized {
			t.Fatalf("the moved server answered the old token with HTTP %d, want 401", got)
		}
		if _, err := m.b.Refresh(t.Context(), "demo", old.Value); !errors.Is(err, broker.ErrSignInRequired) {
			t.Fatalf("refresh of the refused token after the move: err = %v, want sign-in required", err)
		}
		if n := m.first.Stats().Refreshes; n != 0 {
			t.Errorf("%d refreshes at the old authorization server, want none", n)
		}
		if _, err := m.login(broker.LoginOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := m.second.Stats().Registrations; n != 1 {
			t.Errorf("%d registrations at the new authorization server, want 1", n)
		}
		if requestsWith(m.second, firstClient) != 0 {
			t.Errorf("the old server's client id %q reached the new one", firstClient)
		}
		cred, err := m.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if got := mcpPost(t, m.url, cred, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); got != http.StatusOK {
			t.Errorf("the new token: HTTP %d", got)
		}
	})
	t.Run("client credentials, registered dynamically", func(t *testing.T) {
		m := newMovingIssuer(t, authserver.Options{ClientCredentials: true}, config.Server{Auth: config.AuthClientCredentials}, "", nil)
		old, err := m.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		m.switchIssuer()
		cred, err := m.b.Refresh(t.Context(), "demo", old.Value)
		if err != nil {
			t.Fatal(err)
		}
		if s := m.first.Stats(); s.ClientCredentialsGrants != 1 {
			t.Errorf("stats at the old authorization server = %+v, want its one first grant", s)
		}
		if s := m.second.Stats(); s.Registrations != 1 || s.ClientCredentialsGrants != 1 {
			t.Errorf("stats at the new authorization server = %+v, want a registration and a grant", s)
		}
		if got := mcpPost(t, m.url, cred, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); got != http.StatusOK {
			t.Errorf("the new token: HTTP %d", got)
		}
	})
	t.Run("client credentials, pre-registered", func(t *testing.T) {
		m := newMovingIssuer(t, authserver.Options{ClientCredentials: true},
			config.Server{Auth: config.AuthClientCredentials, ClientID: "bot"}, "bot-secret", nil)
		for _, as := range []*authserver.Server{m.first, m.second} {
			as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})
		}
		old, err := m.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		m.switchIssuer()
		var ic *broker.IssuerChangedError
		if _, err := m.b.Refresh(t.Context(), "demo", old.Value); !errors.As(err, &ic) {
			t.Fatalf("refresh after the move: err = %v, want an IssuerChangedError", err)
		}
		if n := len(m.second.Requests()); n != 0 {
			t.Errorf("the new authorization server received %d requests", n)
		}
		if n := m.first.Stats().ClientCredentialsGrants; n != 1 {
			t.Errorf("%d grants at the old authorization server, want its first one only", n)
		}
	})
	t.Run("not moved", func(t *testing.T) {
		// A token refused by a server that did not move is renewed at its own server as before.
		m := newMovingIssuer(t, authserver.Options{}, config.Server{}, "", nil)
		if _, err := m.login(broker.LoginOptions{}); err != nil {
			t.Fatal(err)
		}
		old, err := m.b.Credential(t.Context(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.b.Refresh(t.Context(), "demo", old.Value); err != nil {
			t.Fatal(err)
		}
		if n := m.first.Stats().Refreshes; n != 1 {
			t.Errorf("%d refreshes, want 1", n)
		}
	})
}
