package broker

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// MaxStepUpAttempts bounds re-authorizations for one server and operation (MCP: a client should
// give up rather than loop when the server keeps answering insufficient_scope).
const MaxStepUpAttempts = 3

// stepUps counts step-up attempts per server and operation within this process.
type stepUps struct {
	mu       sync.Mutex
	attempts map[string]int
}

func (s *stepUps) next(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attempts == nil {
		s.attempts = map[string]int{}
	}
	s.attempts[key]++
	return s.attempts[key]
}

func (s *stepUps) reset(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attempts, key)
}

// StepUpLimitError says the server kept answering insufficient_scope.
type StepUpLimitError struct {
	Server, Operation, Scope string
}

func (e *StepUpLimitError) Error() string {
	return fmt.Sprintf("%s still refuses %s after %d sign-ins asking for more access (it wants scope %q): giving up", e.Server, e.Operation, MaxStepUpAttempts, e.Scope)
}

// StepUp answers a 403 insufficient_scope challenge for an operation (for example
// "tools/call admin_action"): it signs in again asking for the scopes held plus the challenged
// ones. After MaxStepUpAttempts for the same server and operation it returns a
// *StepUpLimitError instead; StepUpSucceeded resets the count once the operation went through.
func (b *Broker) StepUp(ctx context.Context, name, operation, challengeScope string, opts LoginOptions) (*LoginResult, error) {
	key := name + "\x00" + operation
	if n := b.stepUps.next(key); n > MaxStepUpAttempts {
		return nil, &StepUpLimitError{Server: name, Operation: operation, Scope: challengeScope}
	}
	opts.Scopes = append(opts.Scopes, strings.Fields(challengeScope)...)
	return b.Login(ctx, name, opts)
}

// StepUpSucceeded resets the step-up count of an operation that went through.
func (b *Broker) StepUpSucceeded(name, operation string) {
	b.stepUps.reset(name + "\x00" + operation)
}
