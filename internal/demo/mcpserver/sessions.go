package mcpserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
)

// sessionManager tracks Streamable HTTP sessions (mcp-go's
// server.SessionIdManager) so that unknown or expired session ids get 404,
// as the transport spec requires, and tests can expire them all at once.
type sessionManager struct {
	mu         sync.Mutex
	live       map[string]struct{}
	terminated map[string]struct{}
}

func newSessionManager() *sessionManager {
	return &sessionManager{live: map[string]struct{}{}, terminated: map[string]struct{}{}}
}

// Generate creates a session id for an initialize request.
func (m *sessionManager) Generate() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand docs)
	id := "demo-" + hex.EncodeToString(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live[id] = struct{}{}
	return id
}

// Validate reports whether id was terminated, or an error if it is unknown.
func (m *sessionManager) Validate(id string) (isTerminated bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.terminated[id]; ok {
		return true, nil
	}
	if _, ok := m.live[id]; !ok {
		return false, errors.New("unknown session")
	}
	return false, nil
}

// Terminate ends session id (a client's DELETE).
func (m *sessionManager) Terminate(id string) (isNotAllowed bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live[id]; ok {
		delete(m.live, id)
		m.terminated[id] = struct{}{}
	}
	return false, nil
}

// expireAll forgets every live session.
func (m *sessionManager) expireAll() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.live)
	m.live = map[string]struct{}{}
	return n
}
