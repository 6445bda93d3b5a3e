package broker_test

import (
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// TestReuseUntilIsTheRenewalMoment: a credential's ReuseUntil is the moment the broker renews
// its token, by the broker's own rule (a minute before expiry, or a quarter of the lifetime for
// short-lived tokens): a nanosecond before it, the same token is handed out and nothing reaches
// the authorization server; at it, the broker renews (a refresh, or for client credentials a
// new grant), and the new credential carries its own ReuseUntil by the same rule.
func TestReuseUntilIsTheRenewalMoment(t *testing.T) {
	tests := []struct {
		name   string
		ttl    time.Duration
		margin time.Duration // the broker's refresh margin for ttl
		server config.Server
		login  bool
		// renewals counts the grants that renewed the token.
		renewals func(authserver.Stats) int
	}{
		{
			name: "an hour-long token, a minute before expiry", ttl: time.Hour, margin: time.Minute, login: true,
			renewals: func(s authserver.Stats) int { return s.Refreshes },
		},
		{
			name: "a two-minute token, a quarter of its lifetime", ttl: 2 * time.Minute, margin: 30 * time.Second, login: true,
			renewals: func(s authserver.Stats) int { return s.Refreshes },
		},
		{
			name: "client credentials", ttl: time.Hour, margin: time.Minute,
			server:   config.Server{Auth: config.AuthClientCredentials},
			renewals: func(s authserver.Stats) int { return s.ClientCredentialsGrants - 1 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			e := newEnv(t, envOptions{
				as:     authserver.Options{AccessTokenTTL: tt.ttl, Now: clock.now, ClientCredentials: tt.server.Auth == config.AuthClientCredentials},
				server: tt.server,
			})
			e.b = e.brokerWithClock(clock)
			if tt.login {
				e.mustLogin()
			}
			first := e.credential()
			checkMargin(t, first, tt.margin)
			clock.advance(first.ReuseUntil.Sub(clock.now()) - time.Nanosecond)
			if again := e.credential(); again.Value != first.Value || !again.ReuseUntil.Equal(first.ReuseUntil) {
				t.Error("the token was renewed before its ReuseUntil")
			}
			if n := tt.renewals(e.as.Stats()); n != 0 {
				t.Errorf("%d renewals before ReuseUntil", n)
			}
			clock.advance(time.Nanosecond)
			next := e.credential()
			if next.Value == first.Value {
				t.Error("the token was handed out again at its ReuseUntil")
			}
			if n := tt.renewals(e.as.Stats()); n != 1 {
				t.Errorf("%d renewals at ReuseUntil, want 1", n)
			}
			checkMargin(t, next, tt.margin)
			if !next.ReuseUntil.After(clock.now()) {
				t.Errorf("the renewed token is due at once: ReuseUntil %s, now %s", next.ReuseUntil, clock.now())
			}
		})
	}
}

// TestReuseUntilAfterRejection: the credential a refresh after a 401 returns carries the
// ReuseUntil of its new token.
func TestReuseUntilAfterRejection(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	old := e.credential()
	cred, err := e.b.Refresh(t.Context(), "demo", old.Value)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Value == old.Value {
		t.Fatal("the refused token came back")
	}
	checkMargin(t, cred, time.Minute)
}

// checkMargin checks that cred may be reused until margin before it expires. The lifetime the
// broker takes a quarter of runs from before the token request to after it, so for short-lived
// tokens the margin can exceed a quarter of the server's TTL by a little.
func checkMargin(t *testing.T, cred *broker.Credential, margin time.Duration) {
	t.Helper()
	if cred.Expiry.IsZero() || cred.ReuseUntil.IsZero() {
		t.Fatalf("expiry %s, ReuseUntil %s: want both set", cred.Expiry, cred.ReuseUntil)
	}
	if got := cred.Expiry.Sub(cred.ReuseUntil); got < margin || got > margin+250*time.Millisecond {
		t.Fatalf("ReuseUntil is %s before expiry, want %s", got, margin)
	}
}

// TestNoReuseUntilWithoutExpiry: a credential with no end the broker knows of has a zero
// ReuseUntil, and the broker hands it out unchanged however much time passes. The cache of a
// caller decides how often to read it again (the bridge's re-reads a static token every few
// minutes, to notice a replaced one).
func TestNoReuseUntilWithoutExpiry(t *testing.T) {
	t.Run("static token", func(t *testing.T) {
		e := newEnv(t, envOptions{server: config.Server{Auth: config.AuthBearer}, secret: "api-key-value"})
		if cred := e.credential(); !cred.ReuseUntil.IsZero() || !cred.Expiry.IsZero() {
			t.Errorf("static token: ReuseUntil %s, expiry %s; want both zero", cred.ReuseUntil, cred.Expiry)
		}
	})
	t.Run("OAuth token without expiry", func(t *testing.T) {
		clock := newClock()
		e := newEnv(t, envOptions{as: authserver.Options{Now: clock.now}})
		e.b = e.brokerWithClock(clock)
		e.mustLogin()
		if err := e.b.SaveGrantForTest(t.Context(), "demo", "AT-forever", "RT", time.Time{}); err != nil {
			t.Fatal(err)
		}
		clock.advance(365 * 24 * time.Hour)
		cred := e.credential()
		if cred.Value != "Bearer AT-forever" || !cred.ReuseUntil.IsZero() {
			t.Errorf("token without expiry: value %q, ReuseUntil %s; want it unchanged, zero", cred.Value, cred.ReuseUntil)
		}
		if n := e.as.Stats().Refreshes; n != 0 {
			t.Errorf("%d refreshes of a token without expiry", n)
		}
	})
}

// credential returns the broker's credential for "demo", failing the test on an error.
func (e *env) credential() *broker.Credential {
	e.t.Helper()
	cred, err := e.b.Credential(e.t.Context(), "demo")
	if err != nil {
		e.t.Fatalf("credential: %v", err)
	}
	if cred == nil {
		e.t.Fatal("no credential")
	}
	return cred
}
