package broker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestDPoPKey: the key is made at the first DPoP sign-in, kept in the secret store and used
// again by the next sign-in and by renewals; a grant whose key is gone asks for a sign-in
// rather than go on without a proof; removing the server deletes the key.
func TestDPoPKey(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{DPoP: true}, mcp: mcpserver.Options{DPoPOnly: true}})
	res := e.mustLogin()
	if !res.DPoP {
		t.Fatalf("login result %+v: want DPoP", res)
	}
	key, err := e.store.Get(t.Context(), "dpop-key/demo")
	if err != nil || !strings.Contains(key, "PRIVATE KEY") {
		t.Fatalf("the key is not in the secret store: %v", err)
	}
	cred := e.credential()
	if cred.DPoP == nil || !strings.HasPrefix(cred.Value, "DPoP ") {
		t.Fatalf("credential %q without a prover", cred.Header)
	}
	jkt := cred.DPoP.Thumbprint()
	if info, ok := e.as.Verify(strings.TrimPrefix(cred.Value, "DPoP ")); !ok || info.JKT != jkt {
		t.Fatalf("the token is bound to %q, the key is %q", info.JKT, jkt)
	}
	if got := e.callTool("whoami"); got != 200 {
		t.Fatalf("tools/call with the DPoP credential: HTTP %d", got)
	}

	// A second sign-in and a renewal keep the key; the renewal's token is bound to it too.
	e.mustLogin()
	if again, _ := e.store.Get(t.Context(), "dpop-key/demo"); again != key {
		t.Error("the second sign-in made a new key")
	}
	renewed, err := e.b.Refresh(t.Context(), "demo", e.credential().Value)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := e.as.Verify(strings.TrimPrefix(renewed.Value, "DPoP ")); !ok || info.JKT != jkt || renewed.DPoP.Thumbprint() != jkt {
		t.Errorf("the renewed token is bound to %q, want %q", info.JKT, jkt)
	}
	if s := e.as.Stats(); s.Refreshes != 1 || s.DPoPBound != 3 {
		t.Errorf("authorization server: %+v", s)
	}

	// The key gone (another process signed out and in, a damaged store): no token goes out
	// without its proof, and a refresh is not tried without the key.
	if err := e.store.Delete(t.Context(), "dpop-key/demo"); err != nil {
		t.Fatal(err)
	}
	other, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: e.store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Credential(t.Context(), "demo"); !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("Credential without the key: %v, want sign-in required", err)
	}
	if _, err := other.Refresh(t.Context(), "demo", renewed.Value); !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("Refresh without the key: %v, want sign-in required", err)
	}
	if n := e.as.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes: one was tried without the key", n)
	}

	e.mustLogin()
	if err := e.b.RemoveServer(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(t.Context(), "dpop-key/demo"); err == nil {
		t.Error("the key outlived the server")
	}
}

// TestDPoPClientCredentials: a machine client gets a DPoP-bound token with the
// client-credentials grant, and so does its renewal at expiry.
func TestDPoPClientCredentials(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{
		as:     authserver.Options{ClientCredentials: true, DPoP: true, DPoPNonce: true, AccessTokenTTL: time.Hour, Now: clock.now},
		server: config.Server{Auth: config.AuthClientCredentials, ClientID: "bot", DPoP: config.DPoPOn},
		secret: "bot-secret",
	})
	e.as.RegisterClient(authserver.Client{ID: "bot", Secret: "bot-secret", GrantTypes: []string{"client_credentials"}})
	e.b = e.brokerWithClock(clock)
	if res := e.mustLogin(); !res.DPoP {
		t.Fatalf("login result %+v: want DPoP", res)
	}
	clock.advance(time.Hour)
	cred := e.credential()
	if info, ok := e.as.Verify(strings.TrimPrefix(cred.Value, "DPoP ")); !ok || cred.DPoP == nil || info.JKT != cred.DPoP.Thumbprint() {
		t.Errorf("the renewed token is bound to %q (valid %v)", info.JKT, ok)
	}
	if s := e.as.Stats(); s.ClientCredentialsGrants != 2 || s.DPoPBound != 2 || s.DPoPNonceChallenges != 1 {
		t.Errorf("authorization server: %+v; want two bound grants, one nonce challenge", s)
	}
}
