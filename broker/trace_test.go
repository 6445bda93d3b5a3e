package broker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
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
