package bridge

import (
	"context"
	"errors"
	"testing"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/upstream"
)

// fakeConn is an upstream.Conn that is only compared, never used.
type fakeConn struct{ upstream.Conn }

// sessionIn returns a session in state, as its transitions leave it.
func sessionIn(t *testing.T, state sessionState) *session {
	t.Helper()
	s := &session{}
	switch state {
	case sessionOpen:
		s.open(&fakeConn{})
	case sessionDown:
		s.fail(errors.New("connection refused"))
	case sessionRefused:
		s.refuse(&upstream.InitializeError{})
	case sessionStopped:
		s.stop(errors.New("url changed"))
	}
	if s.state != state {
		t.Fatalf("set up %v, got %v", state, s.state)
	}
	return s
}

// The reported state is read from the session's and the sign-in's states, as the table in
// stateLocked's comment says, for every pair; and requests follow it.
func TestReportedState(t *testing.T) {
	signInErr := errors.New("signing in failed")
	want := map[sessionState][3]status.State{ // by sign-in state: none, waiting, failure
		sessionOpening: {status.StateStarting, status.StateNeedsSignIn, status.StateError},
		sessionOpen:    {status.StateConnected, status.StateNeedsSignIn, status.StateError},
		sessionDown:    {status.StateReconnecting, status.StateNeedsSignIn, status.StateError},
		sessionRefused: {status.StateError, status.StateError, status.StateError},
		sessionStopped: {status.StateError, status.StateError, status.StateError},
	}
	for ss, byIn := range want {
		for in, wantState := range byIn {
			b := &bridge{changed: make(chan struct{})}
			b.session = *sessionIn(t, ss)
			if in == int(signInFailure) {
				b.signIn.set(signInFailure, signInErr)
			} else {
				b.signIn.set(signInState(in), nil)
			}
			got, err := b.stateLocked()
			if got != wantState {
				t.Errorf("session %v, sign-in %v: %q, want %q", ss, in, got, wantState)
			}
			// The error shown is the part's that decides the state.
			var wantErr error
			switch {
			case ss == sessionRefused || ss == sessionStopped || ss == sessionDown && got == status.StateReconnecting:
				wantErr = b.session.err
			case got == status.StateError:
				wantErr = signInErr
			}
			if err != wantErr {
				t.Errorf("session %v, sign-in %v: error %v, want %v", ss, in, err, wantErr)
			}

			// A request sent now gets the session, fails with the error, or waits.
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			conn, werr := b.waitConn(ctx, 0)
			switch got {
			case status.StateConnected:
				if conn == nil || werr != nil {
					t.Errorf("session %v, sign-in %v: waitConn = %v, %v, want the session", ss, in, conn, werr)
				}
			case status.StateStarting, status.StateNeedsSignIn:
				if !errors.Is(werr, context.Canceled) {
					t.Errorf("session %v, sign-in %v: waitConn = %v, %v, want it to wait", ss, in, conn, werr)
				}
			default:
				if werr != wantErr {
					t.Errorf("session %v, sign-in %v: waitConn = %v, %v, want the error", ss, in, conn, werr)
				}
			}
		}
	}
}

// Each transition of the session moves only from the states its table allows; broken closes
// when the session stops being open; nothing leaves stopped.
func TestSessionTransitions(t *testing.T) {
	all := []sessionState{sessionOpening, sessionOpen, sessionDown, sessionRefused, sessionStopped}
	events := []struct {
		name string
		do   func(*session)
		// to is the state each state moves to.
		to map[sessionState]sessionState
	}{
		{"open", func(s *session) { s.open(&fakeConn{}) }, map[sessionState]sessionState{
			sessionOpening: sessionOpen, sessionOpen: sessionOpen, sessionDown: sessionOpen, sessionRefused: sessionOpen, sessionStopped: sessionStopped}},
		{"lose", func(s *session) { s.lose(s.conn, errors.New("lost")) }, map[sessionState]sessionState{
			sessionOpening: sessionOpening, sessionOpen: sessionDown, sessionDown: sessionDown, sessionRefused: sessionRefused, sessionStopped: sessionStopped}},
		{"lose another", func(s *session) { s.lose(&fakeConn{}, errors.New("lost")) }, map[sessionState]sessionState{
			sessionOpening: sessionOpening, sessionOpen: sessionOpen, sessionDown: sessionDown, sessionRefused: sessionRefused, sessionStopped: sessionStopped}},
		{"fail", func(s *session) { s.fail(errors.New("refused")) }, map[sessionState]sessionState{
			sessionOpening: sessionDown, sessionOpen: sessionOpen, sessionDown: sessionDown, sessionRefused: sessionRefused, sessionStopped: sessionStopped}},
		{"refuse", func(s *session) { s.refuse(&upstream.InitializeError{}) }, map[sessionState]sessionState{
			sessionOpening: sessionRefused, sessionOpen: sessionRefused, sessionDown: sessionRefused, sessionRefused: sessionRefused, sessionStopped: sessionStopped}},
		{"restart", func(s *session) { s.restart() }, map[sessionState]sessionState{
			sessionOpening: sessionOpening, sessionOpen: sessionOpening, sessionDown: sessionOpening, sessionRefused: sessionOpening, sessionStopped: sessionStopped}},
		{"stop", func(s *session) { s.stop(errors.New("moved")) }, map[sessionState]sessionState{
			sessionOpening: sessionStopped, sessionOpen: sessionStopped, sessionDown: sessionStopped, sessionRefused: sessionStopped, sessionStopped: sessionStopped}},
	}
	for _, e := range events {
		for _, from := range all {
			s := sessionIn(t, from)
			broken, err := s.broken, s.err
			e.do(s)
			if want := e.to[from]; s.state != want {
				t.Errorf("%s from %v: %v, want %v", e.name, from, s.state, want)
			}
			if (s.state == sessionOpen) != (s.conn != nil) || (s.state == sessionOpen) != (s.broken != nil) {
				t.Errorf("%s from %v: state %v with conn %v, broken %v", e.name, from, s.state, s.conn, s.broken)
			}
			if (s.state == sessionOpen || s.state == sessionOpening) != (s.err == nil) {
				t.Errorf("%s from %v: state %v with error %v", e.name, from, s.state, s.err)
			}
			if from == sessionStopped && s.err != err {
				t.Errorf("%s from stopped changed the error to %v", e.name, s.err)
			}
			if broken != nil && s.broken != broken {
				select {
				case <-broken:
				default:
					t.Errorf("%s from open: the session changed and broken is still open", e.name)
				}
			}
		}
	}
}

// The client's initialize: answered once, only while it waits; after stateless requests an
// initialize waits again, with a done channel of its own.
func TestHandshake(t *testing.T) {
	h := handshake{done: make(chan struct{})}
	if h.answer() {
		t.Error("answered before the client sent anything")
	}
	h.begin(nil, nil)
	if h.state != handshakeStateless || h.answer() {
		t.Errorf("stateless: state %v", h.state)
	}
	select {
	case <-h.done:
	default:
		t.Error("stateless: done is open")
	}
	h.upgrade([]byte(`{"method":"initialize"}`), []byte("0"))
	select {
	case <-h.done:
		t.Error("initialize after stateless requests: done is closed")
	default:
	}
	if !h.answer() || h.state != handshakeAnswered || h.answer() {
		t.Errorf("initialize answered twice, or not once: state %v", h.state)
	}

	h = handshake{done: make(chan struct{})}
	h.begin([]byte(`{"method":"initialize"}`), []byte("0"))
	if h.state != handshakeInitializing || !h.answer() || h.answer() {
		t.Errorf("initialize first: state %v", h.state)
	}
}
