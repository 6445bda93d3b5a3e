package broker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// failingDeletes is a secret store whose Delete fails, as a locked keychain's does.
type failingDeletes struct{ secrets.Store }

var errKeychainLocked = errors.New("the keychain is locked")

func (failingDeletes) Delete(context.Context, string) error { return errKeychainLocked }

// otherMCPServer starts a second MCP server trusting the env's authorization server.
func otherMCPServer(t *testing.T, e *env) *mcpserver.Server {
	t.Helper()
	m := mcpserver.New(mcpserver.Options{Verifier: e.as, AuthServers: []string{e.as.Issuer()}})
	if _, err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A new URL for a server must never be written while the old URL's tokens are still stored:
// when they cannot be deleted, `servers add` fails and the configuration is left as it was.
func TestAddServerNewURLFailsWhenTheOldTokensStay(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	other := otherMCPServer(t, e)
	b, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: failingDeletes{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	err = b.AddServer(t.Context(), config.Server{Name: "demo", URL: other.URL()}, "")
	if !errors.Is(err, errKeychainLocked) {
		t.Fatalf("AddServer with a new URL while the old tokens cannot be deleted: err = %v, want the keychain's error", err)
	}
	srv, err := e.b.Server("demo")
	if err != nil {
		t.Fatal(err)
	}
	if srv.URL != e.mcp.URL() {
		t.Errorf("the configuration was changed to %s although the old tokens are still stored", srv.URL)
	}
	// Nothing was lost either: the old sign-in still works for the old URL.
	if got := e.callTool("echo"); got != 200 {
		t.Errorf("the old URL with its own token: HTTP %d", got)
	}

	// With a working keychain the change goes through and the old tokens are gone.
	if err := e.b.AddServer(t.Context(), config.Server{Name: "demo", URL: other.URL()}, ""); err != nil {
		t.Fatal(err)
	}
	for _, k := range e.store.Keys() {
		if strings.HasPrefix(k, "oauth-token/") || strings.HasPrefix(k, "refresh-token/") {
			t.Errorf("%s kept after the URL changed", k)
		}
	}
}

// A stored token is only ever handed out for the URL it was obtained for, whatever wrote the
// configuration (an older mcp-broker, a hand edit, a `servers add` that failed half-way).
func TestCredentialRefusesATokenForAnotherURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	other := otherMCPServer(t, e)
	err := config.Update(t.Context(), e.config, func(f *config.File) error {
		s, _ := f.Server("demo")
		s.URL = other.URL()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := e.b.Credential(t.Context(), "demo")
	var other2 *broker.TokenForOtherURLError
	if !errors.As(err, &other2) {
		t.Fatalf("Credential after the URL changed under the token: cred = %v, err = %v; want a TokenForOtherURLError", cred != nil, err)
	}
	if !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("err = %v does not match ErrSignInRequired: the bridge would not ask for a sign-in", err)
	}
	for _, want := range []string{e.mcp.URL(), other.URL()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if h := hint.Of(err); h != hint.SignIn {
		t.Errorf("hint %v, want %v", h, hint.SignIn)
	}
	for _, secret := range tokensIn(e) {
		if strings.Contains(err.Error(), secret) {
			t.Error("the error leaks a secret")
		}
	}
	// Refresh after a 401 refuses it too, without a request to the authorization server.
	if _, err := e.b.Refresh(t.Context(), "demo", "Bearer something"); !errors.As(err, &other2) {
		t.Errorf("Refresh: err = %v, want a TokenForOtherURLError", err)
	}
	if n := e.as.Stats().Refreshes; n != 0 {
		t.Errorf("%d refreshes of a token for another URL", n)
	}
	// A sign-in for the new URL replaces it.
	e.mustLogin()
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Errorf("after signing in for the new URL: %v", err)
	}
}

// The comparison is of canonical URLs: a trailing slash or an upper-case host is the same server.
func TestCredentialAcceptsTheSameURLWrittenOtherwise(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	err := config.Update(t.Context(), e.config, func(f *config.File) error {
		s, _ := f.Server("demo")
		s.URL = strings.Replace(e.mcp.URL(), "127.0.0.1", "127.0.0.1", 1) + "/"
		s.URL = strings.Replace(s.URL, "http://", "HTTP://", 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Errorf("Credential for the same URL written otherwise: %v", err)
	}
}

// A token about to expire is not refreshed for another URL either: the check comes before the
// refresh, so the old refresh token never reaches the authorization server on behalf of the
// new URL.
func TestCredentialRefusesToRefreshForAnotherURL(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authOptionsWithClock(clock)})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	other := otherMCPServer(t, e)
	err := config.Update(t.Context(), e.config, func(f *config.File) error {
		s, _ := f.Server("demo")
		s.URL = other.URL()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Hour)
	var other2 *broker.TokenForOtherURLError
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.As(err, &other2) {
		t.Fatalf("err = %v, want a TokenForOtherURLError", err)
	}
	if n := e.as.Stats().Refreshes; n != 0 {
		t.Errorf("%d refreshes for another URL", n)
	}
}

// A static token (an API key) belongs to its URL as much as an OAuth token does: moving a
// bearer server to a new URL takes its token again, and the old one is never sent there.
func TestAddServerNewURLTakesTheStaticTokenAgain(t *testing.T) {
	e := newEnv(t, envOptions{server: config.Server{Auth: config.AuthBearer, Header: "X-API-Key"}, secret: "key-for-the-old-url"})
	other := otherMCPServer(t, e)
	moved := config.Server{Name: "demo", URL: other.URL(), Auth: config.AuthBearer, Header: "X-API-Key"}
	err := e.b.AddServer(t.Context(), moved, "")
	if err == nil || hint.Of(err) != hint.StoreToken {
		t.Fatalf("moving a bearer server without its token: err = %v, want one that asks for the token (hint.StoreToken)", err)
	}
	if srv, _ := e.b.Server("demo"); srv.URL != e.mcp.URL() {
		t.Errorf("the configuration was changed to %s", srv.URL)
	}
	if err := e.b.AddServer(t.Context(), moved, "key-for-the-new-url"); err != nil {
		t.Fatal(err)
	}
	cred, err := e.b.Credential(t.Context(), "demo")
	if err != nil || cred.Value != "key-for-the-new-url" {
		t.Fatalf("credential after the move: %v, %v", cred, err)
	}
	// Moving it again as an OAuth server drops the static token: no mode sends it to the new URL.
	if err := e.b.AddServer(t.Context(), config.Server{Name: "demo", URL: e.mcp.URL()}, ""); err != nil {
		t.Fatal(err)
	}
	if keys := e.store.Keys(); len(keys) != 0 {
		t.Errorf("secrets left after the move: %v", keys)
	}
}

// A bridge's sign-in "if needed" does not count a token for another URL as a sign-in.
func TestLoginIfNeededIgnoresATokenForAnotherURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	other := otherMCPServer(t, e)
	err := config.Update(t.Context(), e.config, func(f *config.File) error {
		s, _ := f.Server("demo")
		s.URL = other.URL()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(broker.LoginOptions{IfNeeded: true}); err != nil {
		t.Fatal(err)
	}
	if n := e.as.Stats().CodeExchanges; n != 2 {
		t.Errorf("%d sign-ins, want 2: the token for the old URL was taken for a sign-in to the new one", n)
	}
	cred, err := e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got := mcpPost(t, other.URL(), cred, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); got != 200 {
		t.Errorf("the new URL with the new token: HTTP %d", got)
	}
}
