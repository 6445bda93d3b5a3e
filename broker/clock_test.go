package broker_test

import (
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// clock is a settable clock shared by a Broker (Options.Now) and an authorization server
// (authserver.Options.Now), so that tests make tokens expire without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// authOptionsWithClock returns authorization server options on clock c.
func authOptionsWithClock(c *clock) authserver.Options {
	return authserver.Options{Now: c.now}
}

// brokerWithClock returns a broker on the env's configuration, store and browser whose clock
// is c.
func (e *env) brokerWithClock(c *clock) *broker.Broker {
	e.t.Helper()
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: e.store, Opener: e.browser, Prompt: e.prompt, SignInTimeout: 20 * time.Second, Now: c.now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}
