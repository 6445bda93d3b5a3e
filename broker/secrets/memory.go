package secrets

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Memory is an in-memory Store for unit tests. It is safe for concurrent use,
// records every call (operation and key, never the value) and can be told to
// fail, so tests can check both what their code stored and how it copes with
// a broken keychain.
type Memory struct {
	mu    sync.Mutex
	data  map[string]string
	calls []Call
	err   error
}

// Call is one recorded Memory call.
type Call struct {
	// Op is "get", "set" or "delete".
	Op string
	// Key is the key passed in.
	Key string
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{data: map[string]string{}}
}

// FailWith makes every later call return err (still recorded); nil restores
// normal behaviour. Pass a wrapped sentinel such as ErrLocked to simulate a
// keychain failure.
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Calls returns a copy of the calls made so far, in order.
func (m *Memory) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// Keys returns the stored keys, sorted.
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.data))
	for k := range m.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// begin records a call and returns the error it should fail with, if any.
// The caller holds m.mu.
func (m *Memory) begin(ctx context.Context, op, key string) error {
	m.calls = append(m.calls, Call{Op: op, Key: key})
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.err != nil {
		return m.err
	}
	return validateKey(key)
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "get", key); err != nil {
		return "", err
	}
	v, ok := m.data[key]
	if !ok {
		return "", fmt.Errorf("reading %q from memory: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set implements Store.
func (m *Memory) Set(ctx context.Context, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "set", key); err != nil {
		return err
	}
	m.data[key] = value
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "delete", key); err != nil {
		return err
	}
	delete(m.data, key)
	return nil
}

// Describe implements Store.
func (m *Memory) Describe() string { return "in-memory store (tests only)" }
