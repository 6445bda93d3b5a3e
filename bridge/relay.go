package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/bridge/upstream"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// orderWait bounds how long a notification waits for the messages before it to be written,
// so that a stuck connection cannot hold notifications forever.
const orderWait = 2 * time.Second

// fromClient routes one message from the client.
func (b *bridge) fromClient(msg []byte) {
	if b.status != nil {
		b.status.CountFromClient()
	}
	env, err := jsonrpc.Parse(msg)
	if err != nil {
		b.log.Warn("the client sent a line that is not JSON", "err", err)
		b.writeClient(jsonrpc.ErrorResponse(nil, jsonrpc.CodeParseError, "Parse error: the line is not JSON", nil))
		return
	}
	if b.traffic != nil && b.traffic.Watched() {
		b.traffic.Message(traffic.ToServer, msg, env)
	}
	switch env.Kind {
	case jsonrpc.KindInvalid:
		b.writeClient(jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message", nil))
		return
	case jsonrpc.KindBatch:
		if invalidBatch(env) {
			// JSON-RPC 2.0 section 6: one error per element. A server would only say the same.
			out := []byte{'['}
			for i := range env.Batch {
				if i > 0 {
					out = append(out, ',')
				}
				out = append(out, jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message", nil)...)
			}
			b.writeClient(append(out, ']'))
			return
		}
	case jsonrpc.KindRequest:
		if env.Method == "initialize" && b.opensSession() {
			b.onInitialize(msg, env)
			return
		}
	case jsonrpc.KindNotification:
		if env.Method == "notifications/initialized" && b.takeInitialized() {
			// The bridge sends its own with every session it opens (it opens several).
			return
		}
		if env.Method == "notifications/cancelled" && b.cancelQueued(msg) {
			return
		}
	}
	b.startSession(nil, nil)
	if env.Kind == jsonrpc.KindRequest && b.local(msg, env) {
		return
	}
	b.dispatch(msg, env)
}

// cancelQueued handles notifications/cancelled for a request that still waits for a session:
// the request is never sent (and, as for any cancelled request, never answered), and neither
// is the notification. It reports whether that was the case.
func (b *bridge) cancelQueued(msg []byte) bool {
	var n struct {
		Params struct {
			RequestID json.RawMessage `json:"requestId"`
		} `json:"params"`
	}
	if json.Unmarshal(msg, &n) != nil || len(n.Params.RequestID) == 0 {
		return false
	}
	key := jsonrpc.Envelope{ID: n.Params.RequestID}.IDKey()
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.requests.inflight[key]
	if p == nil || p.conn != nil {
		return false
	}
	p.cancelled = true
	delete(b.requests.inflight, key)
	return true
}

// invalidBatch reports whether no element of a batch is a JSON-RPC message.
func invalidBatch(env jsonrpc.Envelope) bool {
	for _, e := range env.Batch {
		if e.Kind != jsonrpc.KindInvalid {
			return false
		}
	}
	return true
}

// opensSession reports whether an initialize opens the session: none has started yet, or the
// client has so far sent only stateless requests.
func (b *bridge) opensSession() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.client.state == handshakeNew || b.client.state == handshakeStateless
}

// takeInitialized reports whether the client's notifications/initialized is to be dropped.
func (b *bridge) takeInitialized() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	drop := b.client.dropInitialized
	b.client.dropInitialized = false
	return drop
}

// dispatch forwards msg in its own goroutine: requests may wait for a session, and Send waits
// for the answer. A request whose id is already in flight, or a batch that holds one (or the
// same id twice), is refused instead (see refuseDuplicate).
func (b *bridge) dispatch(msg []byte, env jsonrpc.Envelope) {
	ids := requestIDs(env)
	dup := twiceInBatch(env, ids)
	var ps []*pending
	b.mu.Lock()
	if dup == nil {
		for key, id := range ids {
			if _, busy := b.requests.inflight[key]; busy {
				dup = id
				break
			}
		}
	}
	if dup != nil {
		b.mu.Unlock()
		b.refuseDuplicate(env, dup)
		return
	}
	for key, id := range ids {
		p := &pending{id: id, list: env.Method == "tools/list"}
		b.requests.inflight[key] = p
		ps = append(ps, p)
	}
	// A notification or an answer must not overtake the messages the client sent before it
	// (notifications/cancelled for a request still being written, for one): it waits until
	// they are on the wire.
	var before []chan struct{}
	if env.Kind != jsonrpc.KindRequest {
		for _, ch := range b.requests.unwritten {
			before = append(before, ch)
		}
	}
	b.requests.seq++
	seq := b.requests.seq
	wrote := make(chan struct{})
	b.requests.unwritten[seq] = wrote
	b.mu.Unlock()

	written := func() {
		b.mu.Lock()
		if _, ok := b.requests.unwritten[seq]; ok {
			delete(b.requests.unwritten, seq)
			close(wrote)
		}
		b.mu.Unlock()
	}
	note := env.Kind != jsonrpc.KindRequest && len(ids) == 0
	if note {
		b.notes.Add(1)
	}
	b.spawn(func() {
		defer written()
		if note {
			defer b.notes.Done()
		}
		if len(before) > 0 {
			waitAll(b.ctx, before, orderWait)
		}
		b.forward(msg, env, ids, ps, written)
	})
}

// waitAll waits for every channel to close, for at most d in all.
func waitAll(ctx context.Context, chans []chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// refuseDuplicate answers a request whose id dup is already in flight with -32600 (JSON-RPC
// 2.0 section 4: an id identifies one request), and sends nothing: the server would mix up the
// two, and the bridge could route only one answer. A batch is refused whole, one error per
// element, because the relay forwards the client's bytes as they are, never a batch of its own
// making; the errors name the duplicate id.
func (b *bridge) refuseDuplicate(env jsonrpc.Envelope, dup []byte) {
	b.log.Warn("the client reused the id of a request in flight; refused", "id", string(dup))
	if env.Kind != jsonrpc.KindBatch {
		b.writeClient(jsonrpc.ErrorResponse(env.ID, jsonrpc.CodeInvalidRequest,
			fmt.Sprintf("Invalid Request: a request with id %s is already in flight", dup), nil))
		return
	}
	key := jsonrpc.Envelope{ID: dup}.IDKey()
	b.mu.Lock()
	_, busy := b.requests.inflight[key]
	b.mu.Unlock()
	why := fmt.Sprintf("id %s appears more than once in this batch", dup)
	if busy {
		why = fmt.Sprintf("a request with id %s is already in flight", dup)
	}
	out := []byte{'['}
	for _, e := range env.Batch {
		var answer []byte
		switch e.Kind {
		case jsonrpc.KindRequest:
			text := "Invalid Request: not sent, because " + why
			if e.IDKey() == key {
				text = "Invalid Request: " + why
			}
			answer = jsonrpc.ErrorResponse(e.ID, jsonrpc.CodeInvalidRequest, text, nil)
		case jsonrpc.KindInvalid:
			answer = jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message", nil)
		default:
			continue // notifications and answers get no answer, and are not sent either
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, answer...)
	}
	b.writeClient(append(out, ']'))
}

// forward sends one client message upstream, waiting for a session first, and answers the
// client's requests with an error when that fails.
func (b *bridge) forward(msg []byte, env jsonrpc.Envelope, ids map[string][]byte, ps []*pending, written func()) {
	var limit time.Duration
	if env.Kind == jsonrpc.KindRequest && env.Method == "tools/list" {
		limit = b.opts.ToolsListWait
		if b.opts.ConfigPath != "" {
			b.watchingTools.Do(func() { b.goWait(b.watchTools) })
		}
	}
	for {
		conn, err := b.waitConn(b.ctx, limit)
		if errors.Is(err, errWaitTimeout) {
			b.answerPlaceholder(env)
			return
		}
		if err != nil {
			if b.ctx.Err() == nil {
				b.fail(env, ids, err)
			}
			return
		}
		if !b.assign(ps, conn) {
			b.log.Debug("not sending a request the client cancelled while it waited", "method", env.Method)
			return
		}
		ctx := upstream.WithWrote(b.ctx, written)
		err = conn.Send(ctx, msg, env)
		b.relayedBig(len(msg))
		if err == nil || b.ctx.Err() != nil {
			return
		}
		if errors.Is(err, broker.ErrSignInRequired) {
			// Nothing reached the server: wait for the sign-in, then send again.
			b.needSignIn(err)
			continue
		}
		var ue *upstream.UnreachableError
		if errors.As(err, &ue) || errors.Is(err, upstream.ErrLost) {
			b.connBroken(conn, err)
		}
		b.fail(env, ids, err)
		return
	}
}

// requestIDs maps the id keys of the requests in env to their ids (copied: the envelope
// aliases the message).
func requestIDs(env jsonrpc.Envelope) map[string][]byte {
	var ids map[string][]byte
	add := func(e jsonrpc.Envelope) {
		if e.Kind == jsonrpc.KindRequest {
			if ids == nil {
				ids = map[string][]byte{}
			}
			ids[e.IDKey()] = bytes.Clone(e.ID)
		}
	}
	add(env)
	for _, e := range env.Batch {
		add(e)
	}
	return ids
}

// twiceInBatch returns an id that the requests of a batch hold more than once (ids, from
// requestIDs, then has fewer entries than the batch has requests), or nil.
func twiceInBatch(env jsonrpc.Envelope, ids map[string][]byte) []byte {
	if env.Kind != jsonrpc.KindBatch {
		return nil
	}
	n := 0
	for _, e := range env.Batch {
		if e.Kind == jsonrpc.KindRequest {
			n++
		}
	}
	if n == len(ids) {
		return nil
	}
	seen := make(map[string]bool, n)
	for _, e := range env.Batch {
		if e.Kind != jsonrpc.KindRequest {
			continue
		}
		if key := e.IDKey(); seen[key] {
			return ids[key]
		} else {
			seen[key] = true
		}
	}
	return nil
}

// assign records which connection the requests went out on. It reports false when the
// client cancelled the (single) request while it waited: it is not to be sent.
func (b *bridge) assign(ps []*pending, conn upstream.Conn) bool {
	if len(ps) == 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(ps) == 1 && ps[0].cancelled {
		return false
	}
	for _, p := range ps {
		p.conn = conn
	}
	return true
}

// finish marks the request with id key answered; it reports whether it was in flight.
func (b *bridge) finish(key string) bool { return b.take(key) != nil }

// take marks the request with id key answered and returns it; nil when it was not in flight.
func (b *bridge) take(key string) *pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.requests.inflight[key]
	if p != nil {
		delete(b.requests.inflight, key)
	}
	return p
}

// finishBatch marks the answers in a batch from the server answered. It reports whether the
// batch is for the client: it holds something other than answers, or an awaited answer.
func (b *bridge) finishBatch(env jsonrpc.Envelope) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	deliver := false
	for _, e := range env.Batch {
		if e.Kind != jsonrpc.KindResponse {
			deliver = true
			continue
		}
		key := e.IDKey()
		if _, ok := b.requests.inflight[key]; ok {
			delete(b.requests.inflight, key)
			deliver = true
		}
	}
	return deliver
}

// fail answers the requests in ids that are still in flight with an error that names the
// server and the cause. Notifications and answers cannot be answered: they are logged.
func (b *bridge) fail(env jsonrpc.Envelope, ids map[string][]byte, err error) {
	if len(ids) == 0 {
		b.log.Warn("could not forward a message", "method", env.Method, "kind", env.Kind.String(), "err", err)
		return
	}
	text, data := b.describe(err), b.errorData()
	for key, id := range ids {
		if b.finish(key) {
			b.writeClient(jsonrpc.ErrorResponse(id, jsonrpc.CodeUpstream, text, data))
		}
	}
}

// failConn answers every request in flight on conn, which is gone.
func (b *bridge) failConn(conn upstream.Conn, err error) {
	b.mu.Lock()
	var ids [][]byte
	for key, p := range b.requests.inflight {
		if p.conn == conn {
			ids = append(ids, p.id)
			delete(b.requests.inflight, key)
		}
	}
	b.mu.Unlock()
	text, data := b.describe(fmt.Errorf("%w; the request may or may not have been carried out", err)), b.errorData()
	for _, id := range ids {
		b.writeClient(jsonrpc.ErrorResponse(id, jsonrpc.CodeUpstream, text, data))
	}
}

// errorData is the data of the bridge's error answers: the server's name and its URL without
// the secrets some people put in its query.
func (b *bridge) errorData() map[string]string {
	return map[string]string{"server": b.name, "url": redact.URL(b.opts.Server.URL)}
}

// describe turns an upstream failure into one sentence for the client (and the model). The
// server's URL appears without its secrets, wherever the cause quotes it too (a server's error
// page often echoes the request URL).
func (b *bridge) describe(err error) string {
	var ue *upstream.UnreachableError
	var text string
	u := redact.URL(b.opts.Server.URL)
	switch {
	case errors.As(err, &ue):
		text = fmt.Sprintf("mcp-broker: the MCP server %q (%s) is unreachable: %s. mcp-broker keeps trying to reconnect.", b.name, u, ue.Error())
	case errors.Is(err, broker.ErrSignInRequired):
		text = fmt.Sprintf("mcp-broker: %v", err)
	default:
		text = fmt.Sprintf("mcp-broker: the MCP server %q (%s): %v", b.name, u, err)
	}
	if b.opts.Advise != nil {
		if next := b.opts.Advise(err); next != "" {
			text = strings.TrimSuffix(text, ".") + ". " + next
		}
	}
	return redact.Text(text, b.opts.Server.URL)
}

// fromServer relays one message from the server to the client. Answers to requests the client
// no longer waits for (already answered, by the server or with an error) are dropped, so the
// client never gets two answers to one request: a batch of answers is dropped when none of
// them is awaited (one that mixes awaited and stale answers goes as it is: the relay does not
// take batches apart).
func (b *bridge) fromServer(msg []byte, env jsonrpc.Envelope) {
	switch env.Kind {
	case jsonrpc.KindResponse:
		p := b.take(env.IDKey())
		if p == nil {
			b.log.Debug("dropping an answer to a request not in flight", "id", string(env.ID))
			return
		}
		if p.list {
			msg = b.listedTools(msg)
		}
	case jsonrpc.KindBatch:
		if !b.finishBatch(env) {
			b.log.Debug("dropping a batch of answers to requests not in flight", "answers", len(env.Batch))
			return
		}
	}
	// The envelope still describes msg when the tool settings cut tools out of it: the kind,
	// id and error of an answer stay.
	b.writeClientEnv(msg, &env)
	b.relayedBig(len(msg))
}

// local answers the requests the bridge handles itself: the placeholder tool, and ping while
// there is no session (the bridge is alive; the server's state is in the errors of real
// requests). It reports whether it answered.
func (b *bridge) local(msg []byte, env jsonrpc.Envelope) bool {
	switch env.Method {
	case "ping":
		b.mu.Lock()
		connected := b.session.state == sessionOpen && b.signIn.state != signInWaiting
		_, busy := b.requests.inflight[env.IDKey()]
		b.mu.Unlock()
		if connected || busy {
			return false // relayed, or refused as a duplicate by dispatch
		}
		b.writeClient(result(env.ID, struct{}{}))
		return true
	case "tools/call":
		return b.refuseHidden(env) || b.callPlaceholder(env)
	}
	return false
}

// result builds a JSON-RPC result response.
func result(id json.RawMessage, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		return jsonrpc.ErrorResponse(id, jsonrpc.CodeInternalError, "mcp-broker: encoding a result: "+err.Error(), nil)
	}
	out := make([]byte, 0, len(data)+len(id)+40)
	out = append(out, `{"jsonrpc":"2.0","id":`...)
	out = append(out, id...)
	out = append(out, `,"result":`...)
	out = append(out, data...)
	return append(out, '}')
}
