package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/retry"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/upstream"
	"github.com/mcp-broker/mcp-broker/broker"
)

// connectTimeout bounds one attempt to open a session (a server that accepts the connection
// and never answers initialize must not stall reconnection forever).
const connectTimeout = 60 * time.Second

// errWaitTimeout is waitConn's error when its limit passes.
var errWaitTimeout = errors.New("no session yet")

// onInitialize handles the client's initialize: it starts the session manager with it, and
// makes sure the client has an answer within InitializeWait.
func (b *bridge) onInitialize(msg []byte, env jsonrpc.Envelope) {
	b.mu.Lock()
	b.client.dropInitialized = true
	b.mu.Unlock()
	// The session first: the client waits for it. Decoding the client's name for the status
	// (and its protocol version, used only when an answer has to be made up) comes after.
	b.startSession(msg, env.ID)
	b.mu.Lock()
	initDone := b.client.done
	b.mu.Unlock()
	b.goWait(func() {
		t := time.NewTimer(b.opts.InitializeWait)
		defer t.Stop()
		select {
		case <-t.C:
			b.answerInitialize(nil)
		case <-initDone:
		case <-b.ctx.Done():
		}
	})
	if b.status != nil {
		_, client, version := initializeParams(msg)
		if client != "" && version != "" {
			client += " " + version
		}
		b.status.Update(func(s *status.Bridge) { s.Client = client })
	}
}

// startSession starts the session manager once: with the client's initialize, or (init nil,
// a client that sent something else first) for stateless 2026-07-28 requests. An initialize
// after stateless requests turns the connection into a session (see upgradeSession).
func (b *bridge) startSession(init, id []byte) {
	b.mu.Lock()
	switch {
	case b.client.state == handshakeNew:
		b.client.begin(init, bytes.Clone(id))
		b.mu.Unlock()
		b.goWait(b.manage)
	case b.client.state == handshakeStateless && init != nil:
		b.upgradeSessionLocked(init, id)
	default:
		b.mu.Unlock()
	}
}

// upgradeSessionLocked handles an initialize from a client that began with stateless requests:
// Claude Code, for one, probes with a 2026-07-28 server/discover and falls back to initialize
// when the server answers as one of the older era. The probe must not fix the era: the
// stateless connection gives way to a session opened with this initialize. Called with b.mu
// held; it unlocks.
func (b *bridge) upgradeSessionLocked(init, id []byte) {
	b.client.upgrade(init, bytes.Clone(id))
	b.session.restart()
	b.broadcast()
	b.mu.Unlock()
	b.log.Info("the client sent initialize after stateless requests: opening a session")
	b.publish()
	b.wake()
}

// manage opens the session and keeps it open: it reconnects with backoff when the server is
// down or the connection is lost, and waits while a sign-in is pending.
func (b *bridge) manage() {
	failures := 0
	for b.ctx.Err() == nil {
		b.mu.Lock()
		init, stopped := b.client.init, b.session.state == sessionStopped
		b.mu.Unlock()
		if stopped {
			return // the server's URL changed: no new connection to the old one
		}
		ctx, cancel := context.WithTimeout(b.ctx, connectTimeout)
		conn, answer, err := upstream.Connect(ctx, b.upstreamOptions(), init)
		cancel()
		if b.ctx.Err() != nil {
			if err == nil {
				b.closeConn(conn)
			}
			return
		}
		if err == nil {
			failures = 0
			broken := b.onConnected(conn, answer, init)
			select {
			case <-conn.Lost():
				b.onLost(conn, conn.LostErr())
			case <-broken:
				b.log.Info("the connection broke; reconnecting")
			case <-b.ctx.Done():
				return
			}
			b.closeConn(conn)
			// The first attempt after a loss comes quickly: the server may be fine.
			if !b.pause(250 * time.Millisecond) {
				return
			}
			continue
		}
		var ie *upstream.InitializeError
		var moved *URLChangedError
		switch {
		case errors.As(err, &moved):
			return // stopRelaying has answered everyone
		case errors.Is(err, broker.ErrSignInRequired):
			b.needSignIn(err)
			if !b.pause(time.Hour) {
				return
			}
		case errors.As(err, &ie):
			b.initRefused(ie)
			if !b.pause(time.Minute) {
				return
			}
		default:
			failures++
			wait := retry.Backoff(failures)
			b.log.Warn("cannot open a session with the server", "err", err, "retry_in", wait)
			b.setDown(err)
			if !b.pause(wait) {
				return
			}
		}
	}
}

// pause waits d, or until kicked (sign-in done, a retry asked for), or exit; it reports
// whether the bridge is still running.
func (b *bridge) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.kick:
	case <-b.ctx.Done():
		return false
	}
	return true
}

// wake asks the session manager to try now.
func (b *bridge) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *bridge) upstreamOptions() upstream.Options {
	return upstream.Options{
		URL:         b.opts.Server.URL,
		Transport:   b.opts.Server.Transport,
		HTTP:        b.http,
		Credentials: b.creds,
		OnMessage:   b.fromServer,
		OnSession:   b.onReinit,
		Tools:       serverTools{b},
		MaxMessage:  b.opts.MaxMessage,
		UserAgent:   b.opts.UserAgent,
		Log:         b.log,
	}
}

func (b *bridge) closeConn(conn upstream.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	conn.Close(ctx)
}

// onConnected makes conn the session: the client's initialize gets the server's answer if it
// is still waiting; otherwise the answer is swallowed and the client told to refetch its
// lists. It returns the channel that closes when conn stops being the session (a request
// found it dead, or the bridge stopped relaying), at once when it never becomes the session.
func (b *bridge) onConnected(conn upstream.Conn, answer, init []byte) <-chan struct{} {
	b.mu.Lock()
	var broken <-chan struct{}
	// Stateless while the client sent initialize meanwhile (a session is opened instead), or
	// the server's URL changed while connecting: conn is not used.
	if init != nil || b.client.init == nil {
		broken = b.session.open(conn)
	}
	if broken == nil {
		b.mu.Unlock()
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	fresh := b.client.answer()
	notify := (!fresh && b.client.init != nil) || b.placeholder == placeholderShown
	if b.placeholder == placeholderShown {
		b.placeholder = placeholderReplaced
	}
	b.signIn.set(signInNone, nil)
	b.broadcast()
	b.mu.Unlock()
	b.log.Info("session open", "transport", conn.Transport(), "protocol", conn.ProtocolVersion())
	if fresh && answer != nil {
		b.writeClient(answer)
		b.closeInitDone()
	}
	b.settle()
	if answer != nil {
		b.cacheInitialize(answer)
	}
	if notify {
		b.listChanged()
	}
	b.publish()
	return broken
}

// onReinit is told that the transport opened a new session by itself (after a session 404):
// the server may have restarted with other tools.
func (b *bridge) onReinit(string) {
	b.publish()
	b.listChanged()
}

// listChanged tells the client to fetch its lists again.
func (b *bridge) listChanged() {
	for _, m := range []string{"tools", "prompts", "resources"} {
		b.writeClient([]byte(`{"jsonrpc":"2.0","method":"notifications/` + m + `/list_changed"}`))
	}
}

// connBroken is told by a request that conn could not reach the server: the manager opens a
// new connection (with backoff), and requests meanwhile get the error at once.
func (b *bridge) connBroken(conn upstream.Conn, err error) {
	b.mu.Lock()
	if !b.session.lose(conn, err) {
		b.mu.Unlock()
		return
	}
	b.broadcast()
	b.mu.Unlock()
	b.publish()
}

// onLost handles a legacy connection whose stream ended: the requests in flight on it will
// never be answered.
func (b *bridge) onLost(conn upstream.Conn, err error) {
	b.log.Warn("the connection to the server was lost; reconnecting", "err", err)
	b.mu.Lock()
	if b.session.lose(conn, err) {
		b.broadcast()
	}
	b.mu.Unlock()
	b.failConn(conn, err)
	b.publish()
}

// setDown records a failure to connect.
func (b *bridge) setDown(err error) {
	b.mu.Lock()
	b.session.fail(err)
	b.broadcast()
	b.mu.Unlock()
	b.publish()
	// Nothing better will come soon: answer initialize now rather than at the deadline.
	b.answerInitialize(nil)
}

// initRefused handles a server that answered initialize with an error: the client gets that
// answer if it is still waiting, and requests get the error.
func (b *bridge) initRefused(ie *upstream.InitializeError) {
	b.log.Error("the server refused initialize", "err", ie)
	b.mu.Lock()
	fresh := b.client.answer()
	b.session.refuse(ie)
	b.broadcast()
	b.mu.Unlock()
	if fresh {
		b.writeClient(ie.Response)
		b.closeInitDone()
	}
	b.publish()
}

// waitConn returns the session, waiting while it is being opened or a sign-in is pending, for
// at most limit (0: no limit; errWaitTimeout after). While the server is down, or the bridge
// cannot work, it fails at once with the reason. It follows the reported state (stateLocked).
func (b *bridge) waitConn(ctx context.Context, limit time.Duration) (upstream.Conn, error) {
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	for {
		b.mu.Lock()
		state, err := b.stateLocked()
		conn, changed := b.session.conn, b.changed
		b.mu.Unlock()
		switch state {
		case status.StateConnected:
			return conn, nil
		case status.StateReconnecting, status.StateError:
			return nil, err
		}
		select {
		case <-changed:
		case <-timeout:
			return nil, errWaitTimeout
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// answerInitialize answers the client's initialize if it is still waiting: from the cache or
// with a minimal result. The real session's answer, when it comes, is swallowed.
func (b *bridge) answerInitialize([]byte) {
	b.mu.Lock()
	if !b.client.answer() {
		b.mu.Unlock()
		return
	}
	id, init := b.client.id, b.client.init
	b.mu.Unlock()
	res := b.cachedInitialize()
	b.log.Info("answering initialize before the server did", "from_cache", res != nil)
	if res == nil {
		clientVer, _, _ := initializeParams(init)
		res = minimalInitialize(b.name, clientVer)
	}
	b.writeClient(resultRaw(id, res))
	b.closeInitDone()
}

// closeInitDone says the client's initialize has its answer. Only the one whose
// handshake.answer reported true calls it, once per initialize.
func (b *bridge) closeInitDone() {
	b.mu.Lock()
	close(b.client.done)
	b.mu.Unlock()
}

// initializeParams reads what the bridge uses of the client's initialize: the protocol
// version it asks for and its name and version.
func initializeParams(msg []byte) (protocolVersion, name, version string) {
	var p struct {
		Params struct {
			ProtocolVersion string `json:"protocolVersion"`
			ClientInfo      struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"clientInfo"`
		} `json:"params"`
	}
	_ = json.Unmarshal(msg, &p)
	return p.Params.ProtocolVersion, p.Params.ClientInfo.Name, p.Params.ClientInfo.Version
}

// resultRaw builds a result response around an encoded result.
func resultRaw(id, res []byte) []byte {
	out := make([]byte, 0, len(res)+len(id)+40)
	out = append(out, `{"jsonrpc":"2.0","id":`...)
	out = append(out, id...)
	out = append(out, `,"result":`...)
	out = append(out, res...)
	return append(out, '}')
}

// minimalInitialize is the answer when nothing better is known: the client's own protocol
// version, every list with listChanged (so the client refetches when the session is up), and
// the server's name.
func minimalInitialize(server, clientVersion string) []byte {
	if clientVersion == "" {
		clientVersion = "2025-06-18"
	}
	v, _ := json.Marshal(clientVersion)
	n, _ := json.Marshal(server)
	return []byte(`{"protocolVersion":` + string(v) +
		`,"capabilities":{"tools":{"listChanged":true},"prompts":{"listChanged":true},"resources":{"listChanged":true}}` +
		`,"serverInfo":{"name":` + string(n) + `,"version":"unknown"}}`)
}
