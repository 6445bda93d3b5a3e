package broker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// TestTraceReportsSteps signs in, refreshes, and refreshes a revoked grant under a trace: each
// step is reported in order, with its outcome.
func TestTraceReportsSteps(t *testing.T) {
	e := newEnv(t, envOptions{})
	var mu sync.Mutex
	var steps []string
	ctx := broker.WithTrace(t.Context(), func(s broker.Step) {
		mu.Lock()
		defer mu.Unlock()
		outcome := "ok"
		if s.Err != nil {
			outcome = "failed"
		}
		if s.Server != "demo" {
			t.Errorf("step %s for server %q", s.Name, s.Server)
		}
		steps = append(steps, string(s.Name)+" "+outcome)
	})
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := e.b.Login(lctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	e.browser.Wait()
	cred, err := e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Refresh(ctx, "demo", cred.Value); err != nil {
		t.Fatal(err)
	}
	cred, err = e.b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	e.as.RevokeAll()
	if _, err := e.b.Refresh(ctx, "demo", cred.Value); err == nil {
		t.Fatal("a refresh of a revoked grant succeeded")
	}
	want := []string{"discovery ok", "registration ok", "authorization ok", "token ok", "refresh ok", "refresh failed"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(steps, want) {
		t.Errorf("steps = %q, want %q", steps, want)
	}
}

// stepRecorder is a trace that keeps the steps of the server "demo" as "name outcome".
type stepRecorder struct {
	t     *testing.T
	mu    sync.Mutex
	steps []string
}

// traced returns ctx with a trace into a new recorder.
func traced(t *testing.T, ctx context.Context) (context.Context, *stepRecorder) {
	r := &stepRecorder{t: t}
	return broker.WithTrace(ctx, func(s broker.Step) {
		outcome := "ok"
		if s.Err != nil {
			outcome = "failed"
		}
		if s.Server != "demo" {
			t.Errorf("step %s for server %q", s.Name, s.Server)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.steps = append(r.steps, string(s.Name)+" "+outcome)
	}), r
}

// took checks the steps reported since the last call, and forgets them.
func (r *stepRecorder) took(what string, want ...string) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Equal(r.steps, want) {
		r.t.Errorf("%s: steps = %q, want %q", what, r.steps, want)
	}
	r.steps = nil
}

// TestTraceClientCredentials: the client-credentials grant reports its discovery, its dynamic
// registration and its token request, and its renewal (a new grant) the token request.
func TestTraceClientCredentials(t *testing.T) {
	c := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{ClientCredentials: true, AccessTokenTTL: time.Hour, Now: c.now},
		server: config.Server{Auth: config.AuthClientCredentials}})
	e.b = e.brokerWithClock(c)
	ctx, r := traced(t, t.Context())
	if _, err := e.b.Credential(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	r.took("first grant", "discovery ok", "registration ok", "token ok")
	c.advance(time.Hour + time.Minute)
	if _, err := e.b.Credential(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	r.took("renewal", "token ok")
	if _, err := e.b.Login(ctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	r.took("login", "discovery ok", "token ok")
}

// TestTraceWorkload: the workload grant reports its discovery and its token request, a renewal
// the token request alone, and a refused JWT a failed token request.
func TestTraceWorkload(t *testing.T) {
	w := newWorkloadEnv(t, authserver.Options{JWTBearer: true, AccessTokenTTL: time.Hour})
	w.issue("ci-runner", w.as.Issuer(), 3*time.Hour)
	ctx, r := traced(t, t.Context())
	if _, err := w.b.Credential(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	r.took("first grant", "discovery ok", "token ok")
	w.clock.advance(time.Hour + time.Minute)
	if _, err := w.b.Credential(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	r.took("renewal", "token ok")
	w.issue("ci-runner", "https://elsewhere.example", time.Hour) // for another audience: refused
	w.clock.advance(time.Hour + time.Minute)
	if _, err := w.b.Credential(ctx, "demo"); err == nil {
		t.Fatal("a JWT for another audience was taken")
	}
	r.took("refused JWT", "token failed")
}

// TestTraceEnterprise: the enterprise grant reports its discovery, the exchange at the
// identity provider and the token request; a renewal the exchange and the token request; and
// once the ID token is due, its refresh at the identity provider first.
func TestTraceEnterprise(t *testing.T) {
	e := newEnterpriseEnv(t, authserver.Options{IDTokenTTL: 2 * time.Hour, AccessTokenTTL: 8 * time.Hour})
	ctx, r := traced(t, t.Context())
	if _, err := e.idpLogin(broker.IdPLoginOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Login(ctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	r.took("first grant", "discovery ok", "exchange ok", "token ok")
	e.clock.advance(time.Hour + time.Minute)
	if _, err := e.b.Credential(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	r.took("renewal", "exchange ok", "token ok")
	e.clock.advance(time.Hour + time.Minute)
	if _, err := e.b.Credential(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	r.took("renewal with a due ID token", "refresh ok", "exchange ok", "token ok")
}

// TestTraceDevice: the device sign-in reports its discovery, registration, the authorization
// (the code issued and approved) and the token; a refused one, its failed authorization.
func TestTraceDevice(t *testing.T) {
	d := newDeviceEnv(t, authserver.DeviceOptions{Interval: 3 * time.Second})
	ctx, r := traced(t, t.Context())
	if _, err := d.b.Login(ctx, "demo", broker.LoginOptions{Device: true, OnDeviceCode: decide(t, true)}); err != nil {
		t.Fatal(err)
	}
	r.took("approved", "discovery ok", "registration ok", "authorization ok", "token ok")
	if _, err := d.b.Login(ctx, "demo", broker.LoginOptions{Device: true, OnDeviceCode: decide(t, false)}); err == nil {
		t.Fatal("a refused device sign-in succeeded")
	}
	r.took("refused", "discovery ok", "authorization failed")
}
