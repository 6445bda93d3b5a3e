package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MaxStepUpAttempts bounds the authorization requests made for one server and operation,
// counting the sign-in that came before the first insufficient_scope: MCP asks a client to give
// up rather than loop when the server keeps answering insufficient_scope, and a user should not
// see more than three consent pages for one tool call.
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
	// AlreadyHeld says the stored token already holds every challenged scope, so the server
	// would refuse a new token just the same.
	AlreadyHeld bool
}

func (e *StepUpLimitError) Error() string {
	if e.AlreadyHeld {
		return fmt.Sprintf("the server refuses %s for want of scope %q, which the current sign-in already holds: signing in again cannot help; ask the server's administrator", e.Operation, e.Scope)
	}
	return fmt.Sprintf("the server still refuses %s after %d sign-ins asking for more access (it wants scope %q): giving up", e.Operation, MaxStepUpAttempts, e.Scope)
}

// StepUp answers a 403 insufficient_scope challenge for an operation (for example
// "tools/call admin_action"): it signs in again asking for the scopes held plus the challenged
// ones, and no others (SEP-2350; see chooseScope); challengeScope replaces opts.ChallengeScope.
// It returns a *StepUpLimitError instead when the stored token already holds every challenged
// scope, or when the operation has had MaxStepUpAttempts authorization requests (the first
// sign-in included); StepUpSucceeded resets the count once the operation went through.
func (b *Broker) StepUp(ctx context.Context, name, operation, challengeScope string, opts LoginOptions) (*LoginResult, error) {
	res, err := b.stepUp(ctx, name, operation, challengeScope, opts)
	return res, wrap(OpSignIn, name, err)
}

// stepUp is StepUp, with errors that do not name the server: see OpError.
func (b *Broker) stepUp(ctx context.Context, name, operation, challengeScope string, opts LoginOptions) (*LoginResult, error) {
	if b.holdsScopes(name, strings.Fields(challengeScope)) {
		return nil, &StepUpLimitError{Server: name, Operation: operation, Scope: challengeScope, AlreadyHeld: true}
	}
	key := name + "\x00" + operation
	if n := b.stepUps.next(key); n >= MaxStepUpAttempts {
		return nil, &StepUpLimitError{Server: name, Operation: operation, Scope: challengeScope}
	}
	opts.ChallengeScope, opts.stepUp = challengeScope, true
	return b.login(ctx, name, opts)
}

// StepUpSucceeded resets the step-up count of an operation that went through.
func (b *Broker) StepUpSucceeded(name, operation string) {
	b.stepUps.reset(name + "\x00" + operation)
}

// holdsScopes reports whether the stored token of server name was granted every one of scopes
// (none counts as not held: a challenge without a scope leaves the decision to the count).
func (b *Broker) holdsScopes(name string, scopes []string) bool {
	if len(scopes) == 0 {
		return false
	}
	st, err := loadState(statePath(b.configPath))
	if err != nil {
		return false
	}
	srv, ok := st.Servers[name]
	if !ok || srv.Token == nil {
		return false
	}
	held := strings.Fields(srv.Token.Scope)
	for _, s := range scopes {
		if !slices.Contains(held, s) {
			return false
		}
	}
	return true
}
