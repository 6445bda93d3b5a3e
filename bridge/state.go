package bridge

import (
	"github.com/mcp-broker/mcp-broker/bridge/paramheaders"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/upstream"
	"github.com/mcp-broker/mcp-broker/broker"
)

// The bridge's state, in named parts. Each part that moves through states has an explicit
// state value, changed only at the transitions listed with it (by the methods named there,
// always with bridge.mu held); the state the status file shows (stateLocked) and what a
// request does while it waits (waitConn) are read from those values. All parts live under
// bridge.mu because a transition often spans two: a session that opens also ends a sign-in
// and answers the client's initialize.

// handshakeState is where the client's initialize stands.
//
//	new           nothing from the client yet; the session manager has not started
//	stateless     the client began with stateless (2026-07-28) requests: no initialize to answer
//	initializing  init is the client's initialize, and it is still to be answered
//	answered      the client's initialize has its answer
//
// Transitions:
//
//	new → stateless                 a message other than initialize came first (begin)
//	new → initializing              initialize came first (begin)
//	stateless → initializing        initialize came after stateless requests: it turns the
//	                                connection into a session (upgrade)
//	initializing → answered         the server's answer, its refusal, or the bridge's own
//	                                (cached or minimal) went to the client (answer)
type handshakeState int

const (
	handshakeNew handshakeState = iota
	handshakeStateless
	handshakeInitializing
	handshakeAnswered
)

// handshake is the client's initialize, which the bridge keeps to open new sessions by itself.
type handshake struct {
	state handshakeState
	init  []byte        // the client's initialize; nil while new or stateless
	id    []byte        // its id
	done  chan struct{} // closed when the state leaves initializing (at once for a stateless client)
	// dropInitialized: the client's notifications/initialized is still to be dropped (the
	// bridge sends its own with every session it opens).
	dropInitialized bool
}

// begin records the client's first message: its initialize, or (init nil) a stateless request.
func (h *handshake) begin(init, id []byte) {
	if init == nil {
		h.state = handshakeStateless
		close(h.done)
		return
	}
	h.state, h.init, h.id = handshakeInitializing, init, id
}

// upgrade records an initialize that comes after stateless requests.
func (h *handshake) upgrade(init, id []byte) {
	h.state, h.init, h.id = handshakeInitializing, init, id
	h.done = make(chan struct{}) // the stateless one is closed
}

// answer moves an initialize that waits for its answer to answered, and reports whether it
// did: the caller then writes the answer and calls bridge.closeInitDone.
func (h *handshake) answer() bool {
	if h.state != handshakeInitializing {
		return false
	}
	h.state = handshakeAnswered
	return true
}

// sessionState is where the upstream session stands.
//
//	state    conn  err                        reported (unless a sign-in is under way or failed)
//	opening  nil   nil                        starting
//	open     set   nil                        connected
//	down     nil   why it is down             reconnecting
//	refused  nil   *upstream.InitializeError  error, whatever the sign-in
//	stopped  nil   *URLChangedError           error, whatever the sign-in
//
// Transitions:
//
//	any but stopped → open      a session opened (open)
//	open → down                 a request found the connection dead, or a legacy stream
//	                            ended (lose)
//	opening, down → down        an attempt to open a session failed (fail); while refused,
//	                            the refusal stays the error until a session opens
//	any but stopped → refused   the server answered initialize with an error (refuse)
//	any but stopped → opening   the client sent initialize after stateless requests: a
//	                            session is opened with it (restart)
//	any → stopped               the server's URL changed (stop); nothing leaves stopped
//
// The session manager (manage) opens, fails and refuses only while there is no session.
//
// broken is made when the state enters open and closed when it leaves it: the session manager
// waits on it to close the connection and open another.
type sessionState int

const (
	sessionOpening sessionState = iota
	sessionOpen
	sessionDown
	sessionRefused
	sessionStopped
)

// session is the upstream session, as the session manager (manage) opens and reopens it.
type session struct {
	state  sessionState
	conn   upstream.Conn // the session while open
	broken chan struct{} // closed when the state leaves open
	err    error         // why it is down, refused or stopped
}

// set moves to state, keeping conn and broken in step with it.
func (s *session) set(state sessionState, conn upstream.Conn, err error) {
	if s.state == sessionOpen {
		close(s.broken)
	}
	s.state, s.conn, s.err, s.broken = state, conn, err, nil
	if state == sessionOpen {
		s.broken = make(chan struct{})
	}
}

// open makes conn the session and returns the channel that closes when it stops being so. It
// returns nil once stopped: conn must not be used.
func (s *session) open(conn upstream.Conn) <-chan struct{} {
	if s.state == sessionStopped {
		return nil
	}
	s.set(sessionOpen, conn, nil)
	return s.broken
}

// lose records that conn, if it is the session, is dead (err says why), and reports whether
// it was the session.
func (s *session) lose(conn upstream.Conn, err error) bool {
	if s.state != sessionOpen || s.conn != conn {
		return false
	}
	s.set(sessionDown, nil, err)
	return true
}

// fail records a failure to open a session.
func (s *session) fail(err error) {
	if s.state == sessionOpening || s.state == sessionDown {
		s.set(sessionDown, nil, err)
	}
}

// refuse records that the server answered initialize with an error.
func (s *session) refuse(err *upstream.InitializeError) {
	if s.state != sessionStopped {
		s.set(sessionRefused, nil, err)
	}
}

// restart drops the session (or the reason there is none) to open one with the client's new
// initialize.
func (s *session) restart() {
	if s.state != sessionStopped {
		s.set(sessionOpening, nil, nil)
	}
}

// stop ends the session for good, and reports whether it was not stopped already.
func (s *session) stop(err error) bool {
	if s.state == sessionStopped {
		return false
	}
	s.set(sessionStopped, nil, err)
	return true
}

// signInState is where the sign-in stands.
//
//	state    err               reported (unless the session is refused or stopped)
//	none     nil               the session's: no sign-in needed, or it is done
//	waiting  nil               needs sign-in: requests wait for a person to sign in
//	failure  why, for people   error: requests get err until a credential appears
//
// Transitions:
//
//	none, failure → waiting   a request or the session manager met "sign-in required"
//	                          (needSignIn), or the placeholder tool was called after a
//	                          failure (callPlaceholder)
//	any → failure             the bridge's own browser sign-in failed (signInFailed)
//	waiting, failure → none   a usable credential appeared (checkSignedIn), or a session
//	                          opened (onConnected)
//	waiting → none            the server's URL changed (stopRelaying)
type signInState int

const (
	signInNone signInState = iota
	signInWaiting
	signInFailure
)

// signIn is the sign-in, and the goroutines that work towards it.
type signIn struct {
	state signInState
	err   error // why it failed (failure)
	// browser: a browser sign-in runs (startLogin); abandon cancels it, nil until it has begun.
	browser bool
	abandon func()
	polling bool // awaitSignIn runs
	// device is what the running sign-in asks the person to enter where, when it signs in with
	// a code (the device grant); nil otherwise.
	device *broker.DeviceCode
}

// set moves to state with err (nil unless failure).
func (s *signIn) set(state signInState, err error) { s.state, s.err = state, err }

// placeholderState is what the client holds as the server's tools list.
//
//	never     tools/list has had only the server's answers: a call of the placeholder's name is
//	          the server's to answer
//	shown     the client's list is the placeholder tool: it must be told to refetch once the
//	          server answers
//	replaced  the placeholder was shown and the client has since been told to refetch
//
// Transitions: never, replaced → shown when tools/list gets the placeholder
// (answerPlaceholder); shown → replaced when a session opens or a sign-in ends with a session
// open (onConnected, checkSignedIn).
type placeholderState int

const (
	placeholderNever placeholderState = iota
	placeholderShown
	placeholderReplaced
)

// toolTable is what the bridge learned of the server's tools from the answers to tools/list
// in the stateless era (2026-07-28): the parameters each designates for Mcp-Param-* headers
// (SEP-2243), and why a tool was left out of the client's list. It is data, not a state: the
// entry of a tool is replaced whenever a list names the tool (learn), and only tools that
// designate something, or were rejected, have one. It is the bridge's and not a
// connection's, because the bridge replaces a stateless connection after the server was
// unreachable while the client lists its tools once. The transport reads it through
// serverTools (tools.go).
type toolTable struct {
	byName map[string]toolEntry
}

// toolEntry is one tool of the table.
type toolEntry struct {
	params   []paramheaders.Param // the designated parameters; nil when rejected
	rejected error                // why the tool was left out of the client's list
}

// lookup returns the tool's designated parameters, or why it was left out.
func (t *toolTable) lookup(name string) ([]paramheaders.Param, error) {
	e := t.byName[name]
	return e.params, e.rejected
}

// learn records the tools of one page of a list. It returns the tools it rejects that it did
// not reject before, or rejected for another reason: those are worth a warning.
func (t *toolTable) learn(tools []paramheaders.Tool) (newlyRejected []paramheaders.Tool) {
	for _, tool := range tools {
		old, had := t.byName[tool.Name]
		if tool.Invalid != nil && (old.rejected == nil || old.rejected.Error() != tool.Invalid.Error()) {
			newlyRejected = append(newlyRejected, tool)
		}
		if tool.Invalid == nil && tool.Params == nil {
			if had {
				delete(t.byName, tool.Name)
			}
			continue
		}
		if t.byName == nil {
			t.byName = map[string]toolEntry{}
		}
		t.byName[tool.Name] = toolEntry{params: tool.Params, rejected: tool.Invalid}
	}
	return newlyRejected
}

// requests are the client's messages on their way: its requests until answered, and what it
// sent that is not yet on the wire (so that a notification does not overtake them).
type requests struct {
	inflight  map[string]*pending
	unwritten map[uint64]chan struct{}
	seq       uint64 // the key of the next unwritten entry
}

// process is how the bridge has tuned its process (stdin_unix.go).
type process struct {
	ownsStdin bool   // opts.In is the process's stdin, read through the poller
	settled   bool   // settle ran
	unsettle  func() // undoes settle; nil when it changed nothing
}

// stateLocked is the state the status file shows, and the error to show with it, read from
// the session and the sign-in:
//
//	session \ sign-in  none          waiting        failure
//	opening            starting      needs sign-in  error (the sign-in's)
//	open               connected     needs sign-in  error (the sign-in's)
//	down               reconnecting  needs sign-in  error (the sign-in's)
//	refused, stopped   error (the session's), whatever the sign-in
//
// Requests follow it (waitConn): connected sends them; starting and needs sign-in make them
// wait; reconnecting and error answer them at once with the error.
func (b *bridge) stateLocked() (status.State, error) {
	s, in := &b.session, &b.signIn
	switch s.state {
	case sessionRefused, sessionStopped:
		return status.StateError, s.err
	}
	switch in.state {
	case signInWaiting:
		return status.StateNeedsSignIn, nil
	case signInFailure:
		return status.StateError, in.err
	}
	switch s.state {
	case sessionOpen:
		return status.StateConnected, nil
	case sessionDown:
		return status.StateReconnecting, s.err
	}
	return status.StateStarting, nil
}
