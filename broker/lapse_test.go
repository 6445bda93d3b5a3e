package broker_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// stateFile reads the env's state.json: its text, and the entry of server "demo".
func (e *env) stateFile() (string, map[string]any) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(e.config), "state.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var st struct {
		Servers map[string]map[string]any `json:"servers"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		e.t.Fatal(err)
	}
	return string(data), st.Servers["demo"]
}

// demoStatus is the status of server "demo".
func (e *env) demoStatus() broker.ServerStatus {
	e.t.Helper()
	st, err := e.b.Status()
	if err != nil || len(st) != 1 {
		e.t.Fatalf("status: %v, %d servers", err, len(st))
	}
	return st[0]
}

// noSecretIn fails the test when text holds any secret of the env's store, or a part of one
// long enough to be a token.
func (e *env) noSecretIn(what, text string) {
	e.t.Helper()
	for _, k := range e.store.Keys() {
		v, _ := e.store.Get(e.t.Context(), k)
		var grant map[string]any
		secrets := []string{v}
		if json.Unmarshal([]byte(v), &grant) == nil {
			secrets = nil
			for _, f := range []string{"access_token", "refresh_token", "id_token"} {
				if s, _ := grant[f].(string); s != "" {
					secrets = append(secrets, s)
				}
			}
		}
		for _, s := range secrets {
			if len(s) >= 16 && strings.Contains(text, s) {
				e.t.Errorf("%s holds the secret of %s", what, k)
			}
		}
	}
}

// near reports whether got is within a few seconds of want (the token endpoint counts whole
// seconds).
func near(got *time.Time, want time.Time) bool {
	return got != nil && got.Sub(want).Abs() <= 2*time.Second
}

// TestRefreshTokenExpiry: a refresh token whose server says when it expires (Keycloak's
// refresh_expires_in, GitHub's refresh_token_expires_in) makes that the moment to sign in
// again; the moment and the sign-in's start are in the state file, the sign-in's start stays
// across refreshes, and no secret is in the file.
func TestRefreshTokenExpiry(t *testing.T) {
	for _, field := range []string{authserver.RefreshExpiresIn, authserver.RefreshTokenExpiresIn} {
		t.Run(field, func(t *testing.T) {
			clock := newClock()
			e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, SessionMax: 8 * time.Hour, Now: clock.now,
				Mimic: authserver.Mimic{RefreshExpiry: field}}})
			e.b = e.brokerWithClock(clock)
			signedIn := clock.now()
			e.mustLogin()

			s := e.demoStatus()
			if !near(s.SignInBy, signedIn.Add(8*time.Hour)) || s.SignInByReason != broker.SignInByRefreshExpiry {
				t.Fatalf("sign in by %v (%s), want %v (refresh token expires)", s.SignInBy, s.SignInByReason, signedIn.Add(8*time.Hour))
			}
			text, entry := e.stateFile()
			tok, _ := entry["token"].(map[string]any)
			if tok["refresh_expiry"] == nil || tok["signed_in_at"] == nil {
				t.Errorf("the state file's token lacks refresh_expiry or signed_in_at: %v", tok)
			}
			e.noSecretIn("state.json", text)

			clock.advance(3 * time.Hour)
			if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
				t.Fatal(err)
			}
			if e.as.Stats().Refreshes != 1 {
				t.Fatalf("refreshes = %d, want 1", e.as.Stats().Refreshes)
			}
			s = e.demoStatus()
			if !near(s.SignInBy, signedIn.Add(8*time.Hour)) || s.SignInByReason != broker.SignInByRefreshExpiry {
				t.Errorf("after a refresh: sign in by %v (%s), want %v", s.SignInBy, s.SignInByReason, signedIn.Add(8*time.Hour))
			}
			_, entry = e.stateFile()
			after, _ := entry["token"].(map[string]any)
			if after["signed_in_at"] != tok["signed_in_at"] {
				t.Errorf("a refresh moved the sign-in's start: %v, was %v", after["signed_in_at"], tok["signed_in_at"])
			}
			text, _ = e.stateFile()
			e.noSecretIn("state.json", text)
		})
	}
}

// TestSessionLimitLearnt: a server that says nothing of its refresh tokens' lifetime, and
// refuses them once its session limit has passed, teaches the broker that limit: the refusal
// is recorded (and no secret with it), the next sign-in shows when it will have to be done
// again, signing out ends the record but keeps what was learnt, and removing the server
// forgets it all.
func TestSessionLimitLearnt(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, SessionMax: 8 * time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	if s := e.demoStatus(); s.SignInBy != nil || s.RenewalFailure != nil || s.SessionLimitSeconds != 0 {
		t.Fatalf("a fresh sign-in with a refresh token of no known end: %+v", s)
	}

	clock.advance(8*time.Hour + 30*time.Minute)
	refusedAt := clock.now()
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.Is(err, broker.ErrSignInRequired) {
		t.Fatalf("a refresh after the session limit: %v, want sign-in required", err)
	}
	s := e.demoStatus()
	if f := s.RenewalFailure; f == nil || f.Kind != broker.RenewalRefused || !f.At.Equal(refusedAt) || f.Reason == "" {
		t.Fatalf("renewal failure %+v, want refused at %v", f, refusedAt)
	}
	if got, want := s.SessionLimit(), 8*time.Hour+30*time.Minute; got != want {
		t.Errorf("learnt session limit %v, want %v", got, want)
	}
	if s.SignedIn {
		t.Errorf("still signed in after the refusal: %+v", s)
	}
	text, _ := e.stateFile()
	if strings.Contains(text, "the session has ended") {
		t.Error("the server's own words are in the state file")
	}

	clock.advance(time.Hour)
	again := clock.now()
	e.mustLogin()
	s = e.demoStatus()
	if s.RenewalFailure != nil {
		t.Errorf("a new sign-in kept the failure: %+v", s.RenewalFailure)
	}
	if !near(s.SignInBy, again.Add(8*time.Hour+30*time.Minute)) || s.SignInByReason != broker.SignInBySessionLimit {
		t.Errorf("sign in by %v (%s), want %v (session limit)", s.SignInBy, s.SignInByReason, again.Add(8*time.Hour+30*time.Minute))
	}
	text, _ = e.stateFile()
	e.noSecretIn("state.json", text)

	if _, err := e.b.Logout(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if s := e.demoStatus(); s.SessionLimitSeconds == 0 {
		t.Error("signing out forgot what the server taught")
	}
	if err := e.b.RemoveServer(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if text, _ := os.ReadFile(filepath.Join(filepath.Dir(e.config), "state.json")); strings.Contains(string(text), `"demo"`) {
		t.Errorf("a removed server is still in the state file:\n%s", text)
	}
}

// TestRevocationIsNoLimit: a refresh refused soon after the sign-in (a sign-out elsewhere) is
// recorded, but teaches no session limit.
func TestRevocationIsNoLimit(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: 10 * time.Minute, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	e.as.RevokeAll()
	clock.advance(10 * time.Minute)
	if _, err := e.b.Credential(t.Context(), "demo"); !errors.Is(err, broker.ErrSignInRequired) {
		t.Fatalf("err = %v, want sign-in required", err)
	}
	s := e.demoStatus()
	if s.RenewalFailure == nil || s.RenewalFailure.Kind != broker.RenewalRefused {
		t.Errorf("renewal failure %+v, want refused", s.RenewalFailure)
	}
	if s.SessionLimitSeconds != 0 {
		t.Errorf("a revocation after ten minutes was taken for a session limit of %v", s.SessionLimit())
	}
}

// TestTransientRenewalFailure: a token service that is down fails the refresh without
// ending the sign-in; the failure is recorded once for the episode, however many requests
// retry, and a refresh that works again clears it.
func TestTransientRenewalFailure(t *testing.T) {
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now}})
	e.b = e.brokerWithClock(clock)
	e.mustLogin()
	e.as.SetTokenOutage(503)
	clock.advance(time.Hour)
	failedAt := clock.now()
	if _, err := e.b.Credential(t.Context(), "demo"); err == nil || errors.Is(err, broker.ErrSignInRequired) {
		t.Fatalf("a refresh while the token service is down: %v, want a failure that is no sign-in", err)
	}
	s := e.demoStatus()
	if f := s.RenewalFailure; f == nil || f.Kind != broker.RenewalFailed || !f.At.Equal(failedAt) || !strings.Contains(f.Reason, "503") {
		t.Fatalf("renewal failure %+v, want failed at %v, HTTP 503", f, failedAt)
	}
	if !s.SignedIn {
		t.Error("a failure that is no refusal ended the sign-in")
	}
	first, _ := e.stateFile()
	path := filepath.Join(filepath.Dir(e.config), "state.json")
	info, _ := os.Stat(path)

	clock.advance(time.Minute)
	for range 3 {
		if _, err := e.b.Credential(t.Context(), "demo"); err == nil {
			t.Fatal("a refresh got through the outage")
		}
	}
	if text, _ := e.stateFile(); text != first {
		t.Errorf("the state file changed while the outage went on:\n%s\nwas:\n%s", text, first)
	}
	if again, _ := os.Stat(path); !again.ModTime().Equal(info.ModTime()) {
		t.Error("the state file was written again during one outage")
	}

	e.as.SetTokenOutage(0)
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if s := e.demoStatus(); s.RenewalFailure != nil {
		t.Errorf("a refresh that worked kept the failure: %+v", s.RenewalFailure)
	}
}
