package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/bridge/upstream"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// Defaults for Options.
const (
	// DefaultInitializeWait is how long the client's initialize waits for the server's own
	// answer before the bridge answers it from the cache (Claude Code's `-p` mode gives a
	// server about two seconds; a second is the promise).
	DefaultInitializeWait = 700 * time.Millisecond
	// DefaultToolsListWait is how long tools/list waits for a session before it gets the
	// placeholder tool.
	DefaultToolsListWait = 2 * time.Second
	// closeWait bounds ending the upstream session on exit.
	closeWait = 300 * time.Millisecond
	// drainWait bounds waiting for the bridge's goroutines on exit.
	drainWait = 400 * time.Millisecond
	// flushWait bounds, at stdin EOF, the delivery of the notifications and answers the client
	// sent last (its requests are abandoned: no one is left to read their answers).
	flushWait = 250 * time.Millisecond
)

// Broker is what the bridge needs of *broker.Broker: credentials, and sign-in when there is
// none.
type Broker interface {
	Credential(ctx context.Context, name string) (*broker.Credential, error)
	Refresh(ctx context.Context, name, rejected string) (*broker.Credential, error)
	StepUp(ctx context.Context, name, operation, scope string, opts broker.LoginOptions) (*broker.LoginResult, error)
	StepUpSucceeded(name, operation string)
	Login(ctx context.Context, name string, opts broker.LoginOptions) (*broker.LoginResult, error)
	// Server reads the server's configuration as it is now (the bridge compares its URL with
	// the one it relays to: see URLChangedError).
	Server(name string) (config.Server, error)
}

// Options configure Run.
type Options struct {
	// Server is the remote server (its name, URL and transport). Required.
	Server config.Server
	// Broker hands out credentials and signs in. Required.
	Broker Broker
	// In and Out are the client's side: stdin and stdout. Out must carry nothing else.
	In  io.Reader
	Out io.Writer
	// MaxMessage bounds one message either way; default jsonrpc.DefaultMaxMessage.
	MaxMessage int
	// HTTP is the client for the MCP server; default httpclient.New().
	HTTP *http.Client
	// UserAgent is sent to the server.
	UserAgent string
	// Log receives diagnostics (never stdout); default discards.
	Log *slog.Logger
	// StatusDir is the folder of bridge status files (status.BridgesDir); "" publishes none.
	StatusDir string
	// RuntimeDir is where the tray announces itself (status.RuntimeDir()); "" means no tray.
	RuntimeDir string
	// CacheDir keeps the last answer to initialize per server; "" keeps none.
	CacheDir string
	// ToolsDir keeps what the last answer to tools/list said of the server's tools
	// (toolpolicy.Seen); "" keeps nothing.
	ToolsDir string
	// ConfigPath is the configuration file, watched for changes of the server's tool
	// settings (Server.HiddenTools and ReadOnly); "" applies those of Server until exit.
	ConfigPath string
	// NoBrowser: never sign in from the bridge; wait for another process (the tray or
	// `mcp-broker login`) to do it.
	NoBrowser bool
	// Headless says why a browser opened here would not be in front of the person
	// (opener.Unavailable: an SSH session, no display), or "" when it would be. The bridge's
	// own sign-ins then use the device authorization grant when the authorization server
	// offers it: the broker prints the address and the code on its Prompt (stderr, which
	// Claude Code keeps in its MCP log), and the placeholder tool's answer repeats them.
	Headless string
	// InitializeWait and ToolsListWait override DefaultInitializeWait and DefaultToolsListWait.
	InitializeWait, ToolsListWait time.Duration
	// Advise words the next step after an error (its hint: see package hint) for the person
	// behind the client, such as "Run `mcp-broker login studio`."; the bridge's error answers
	// end with it. Nil gives none: the broker's errors hold no advice of their own.
	Advise func(error) string
	// TrafficDir is the folder of the traffic timeline (traffic.Dir); "" records none. The
	// bridge writes its events there only while someone watches (see package traffic).
	TrafficDir string
	// TrafficBodies reports whether the timeline includes the messages' bodies (redacted);
	// it is asked at most once a second while someone watches. Nil means never.
	TrafficBodies func() bool
}

// Run relays between the client (opts.In, opts.Out) and the server until the client closes
// its side (nil) or ctx ends (ctx's error). Either way it returns within about a second.
func Run(ctx context.Context, opts Options) error {
	b, err := newBridge(opts)
	if err != nil {
		return err
	}
	return b.run(ctx)
}

// bridge is one relay. The fields below mu are its state, in named parts (state.go);
// everything else is set up once.
type bridge struct {
	opts Options
	// watchingTools starts watchTools once, at the client's first tools/list.
	watchingTools sync.Once
	name          string
	log           *slog.Logger
	out           *jsonrpc.Writer
	http          *http.Client
	creds         *credentials
	status        *status.Publisher // nil without a status folder
	ctx           context.Context   // ends at exit
	cancel        context.CancelFunc
	wg            sync.WaitGroup // every goroutine but the stdin reader
	notes         sync.WaitGroup // the sends of notifications and answers, flushed at EOF
	kick          chan struct{}  // wakes the session manager early (sign-in done, retry now)
	mem           reclaimer      // collections after big messages (memory.go)
	work          chan func()    // hands a message's work to an idle worker (spawn)
	// traffic is the timeline (nil without a traffic folder); the relay asks it Watched
	// (an atomic load) before describing a message.
	traffic *traffic.Recorder

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever the session or the sign-in changes

	client      handshake        // the client's initialize
	session     session          // the upstream session
	signIn      signIn           // the sign-in
	placeholder placeholderState // the placeholder tool
	requests    requests         // the client's requests in flight
	tools       toolTable        // the server's tools' parameter headers (stateless era)
	toolSet     toolSettings     // the tool settings, and the tools last seen (toolsettings.go)
	process     process          // the process's tuning
}

// pending is a client request waiting for its answer.
type pending struct {
	id        []byte
	conn      upstream.Conn // where it was sent; nil while it waits for a session
	cancelled bool          // the client cancelled it before it was sent
	list      bool          // it is tools/list: its answer goes through the tool settings
}

func newBridge(opts Options) (*bridge, error) {
	if opts.Broker == nil || opts.In == nil || opts.Out == nil {
		return nil, errors.New("bridge: Broker, In and Out are required")
	}
	if err := config.ValidateName(opts.Server.Name); err != nil {
		return nil, err
	}
	if opts.Server.URL == "" {
		return nil, errors.New("bridge: the server has no URL")
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = jsonrpc.DefaultMaxMessage
	}
	if opts.HTTP == nil {
		opts.HTTP = httpclient.New()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.InitializeWait <= 0 {
		opts.InitializeWait = DefaultInitializeWait
	}
	if opts.ToolsListWait <= 0 {
		opts.ToolsListWait = DefaultToolsListWait
	}
	// Whatever the bridge and its transports log, the secrets of the server's URL stay out.
	log := slog.New(redact.Handler(opts.Log.Handler(), opts.Server.URL)).With("server", opts.Server.Name)
	b := &bridge{
		opts: opts, name: opts.Server.Name, log: log, out: jsonrpc.NewWriter(opts.Out), http: opts.HTTP,
		kick: make(chan struct{}, 1), changed: make(chan struct{}), work: make(chan func()),
		client:   handshake{done: make(chan struct{})},
		requests: requests{inflight: map[string]*pending{}, unwritten: map[uint64]chan struct{}{}},
		toolSet:  toolSettings{policy: toolpolicy.FromServer(opts.Server)},
	}
	b.creds = &credentials{broker: opts.Broker, name: opts.Server.Name, url: opts.Server.URL, log: log, now: time.Now, moved: b.stopRelaying,
		device: opts.Headless != ""}
	return b, nil
}

func (b *bridge) run(ctx context.Context) error {
	b.ctx, b.cancel = context.WithCancel(ctx)
	defer b.cancel()
	if b.opts.StatusDir != "" {
		transport := string(b.opts.Server.Transport)
		if transport == "" {
			transport = string(config.TransportAuto)
		}
		p, err := status.Publish(b.opts.StatusDir, status.Bridge{
			Server: b.name, URL: b.opts.Server.URL, Transport: transport, State: status.StateStarting,
		}, b.log)
		if err != nil {
			b.log.Warn("not publishing the bridge status", "err", err)
		} else {
			b.status = p
		}
	}

	if b.opts.TrafficDir != "" {
		rec, err := traffic.Start(traffic.Options{
			Dir: b.opts.TrafficDir, Server: b.name, URL: b.opts.Server.URL,
			Bodies: b.opts.TrafficBodies, Secrets: b.creds.known, Log: b.log,
		})
		if err != nil {
			b.log.Warn("not recording the traffic", "err", err)
		} else {
			b.traffic = rec
			// The sign-ins and renewals the bridge runs report their steps to the timeline: its
			// own sign-ins run under b.ctx, the credentials' renewals also under the transports'.
			b.creds.trace = func(s broker.Step) { rec.Step(string(s.Name), s.Err) }
			b.ctx = broker.WithTrace(b.ctx, b.creds.trace)
		}
	}

	// Read the credential (a keychain round trip) while the client is still starting, so the
	// first request finds it ready.
	b.goWait(func() {
		if _, err := b.creds.current(b.ctx); err != nil && b.ctx.Err() == nil {
			b.log.Debug("reading the credential ahead", "err", err)
		}
	})
	b.goWait(b.watchURL)
	// The tool settings are watched from the client's first tools/list on (see forward): a
	// change matters only to a client that listed the tools, and the watch stays off the
	// path to the first answer.
	growPipes(b.opts.In, b.opts.Out)
	in := b.opts.In
	if r, undo := ownStdin(in); r != nil {
		in = r
		b.mu.Lock()
		b.process.ownsStdin = true
		b.mu.Unlock()
		defer undo() // also ends the reader's read, if it is in one
		defer b.unsettleProcess()
	}
	read := make(chan error, 1)
	// The reader is the one goroutine not waited for: a blocking read from stdin cannot be
	// interrupted, and it ends when the process does or stdin closes.
	go func() { read <- b.readClient(in) }()
	var err error
	select {
	case err = <-read:
		if err != nil {
			b.log.Error("reading from the client", "err", err)
		}
		waitGroup(&b.notes, flushWait)
	case <-b.ctx.Done():
		err = ctx.Err()
	}
	b.shutdown()
	return err
}

// readClient reads the client's messages from in (opts.In, or ownStdin's reader for it) until
// EOF.
func (b *bridge) readClient(in io.Reader) error {
	r := jsonrpc.NewReader(in, b.opts.MaxMessage)
	for {
		msg, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, jsonrpc.ErrTooLarge):
			b.log.Warn("the client sent a message larger than the limit; dropped", "limit", b.opts.MaxMessage)
			b.writeClient(jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest,
				fmt.Sprintf("mcp-broker: message larger than %d bytes dropped (see --max-message)", b.opts.MaxMessage), nil))
			continue
		case err != nil:
			return err
		}
		if b.ctx.Err() != nil {
			return nil
		}
		b.fromClient(msg)
	}
}

// shutdown ends everything within about a second: requests are cancelled, the session is
// ended (DELETE, bounded), goroutines are waited for (bounded), the status file removed.
func (b *bridge) shutdown() {
	b.cancel()
	b.mu.Lock()
	conn := b.session.conn
	b.mu.Unlock()
	if conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeWait)
		conn.Close(ctx)
		cancel()
	}
	if !waitGroup(&b.wg, drainWait) {
		b.log.Warn("some work did not stop in time at exit")
	}
	b.http.CloseIdleConnections()
	if b.status != nil {
		if err := b.status.Close(); err != nil {
			b.log.Warn("removing the status file", "err", err)
		}
	}
	if b.traffic != nil {
		if err := b.traffic.Close(); err != nil {
			b.log.Warn("removing the traffic timeline", "err", err)
		}
	}
}

// settle tunes the process for relaying once the session is up, when the bridge owns the
// process's stdin (see oneThread).
func (b *bridge) settle() {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := &b.process
	if !p.ownsStdin || p.settled || b.ctx.Err() != nil {
		return
	}
	p.settled = true
	p.unsettle = oneThread()
}

// unsettleProcess undoes settle, at exit.
func (b *bridge) unsettleProcess() {
	b.mu.Lock()
	undo := b.process.unsettle
	b.process.ownsStdin, b.process.unsettle = false, nil
	b.mu.Unlock()
	if undo != nil {
		undo()
	}
}

// waitGroup waits for wg for at most d and reports whether it finished.
func waitGroup(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// writeClient sends one message to the client. A client that is gone ends the bridge.
func (b *bridge) writeClient(msg []byte) { b.writeClientEnv(msg, nil) }

// writeClientEnv is writeClient for a message whose envelope the caller has parsed already
// (env; nil: the timeline parses msg, and only while someone watches).
func (b *bridge) writeClientEnv(msg []byte, env *jsonrpc.Envelope) {
	if err := b.out.Write(msg); err != nil {
		if b.ctx.Err() == nil {
			b.log.Error("writing to the client; exiting", "err", err)
		}
		b.cancel()
		return
	}
	if b.status != nil {
		b.status.CountToClient()
	}
	if b.traffic != nil && b.traffic.Watched() {
		if env != nil {
			b.traffic.Message(traffic.ToClient, msg, *env)
		} else if env, err := jsonrpc.Parse(msg); err == nil {
			b.traffic.Message(traffic.ToClient, msg, env)
		}
	}
}

// goWait runs fn in a goroutine the bridge waits for at exit.
func (b *bridge) goWait(fn func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
}

// workerIdle is how long a worker waits for another message before it exits.
const workerIdle = 10 * time.Second

// spawn runs fn like goWait, in a worker that stays a while for the next message. A relay runs
// each message in a goroutine of its own (a request may wait for a session, then for its
// answer); a new goroutine starts with a small stack and grows it through net/http's depth on
// every request, which was about 8% of the bridge's CPU time per tools/call. A worker keeps its
// grown stack for the next one.
func (b *bridge) spawn(fn func()) {
	select {
	case b.work <- fn: // an idle worker takes it
		return
	default:
	}
	b.goWait(func() {
		fn()
		t := time.NewTimer(workerIdle)
		defer t.Stop()
		for {
			select {
			case fn := <-b.work:
				fn()
				t.Reset(workerIdle)
			case <-t.C:
				return
			case <-b.ctx.Done():
				return
			}
		}
	})
}

// broadcast wakes everyone waiting on a state change. Called with mu held.
func (b *bridge) broadcast() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// publish mirrors the state into the status file.
func (b *bridge) publish() {
	if b.status == nil {
		return
	}
	b.mu.Lock()
	st, lastErr := b.stateLocked()
	conn := b.session.conn
	signIn := b.signIn.state != signInNone
	b.mu.Unlock()
	scope := ""
	if signIn {
		scope = b.creds.challengeScope() // for the tray's sign-in
	}
	b.status.Update(func(s *status.Bridge) {
		s.State = st
		s.ChallengeScope = scope
		if lastErr != nil {
			s.LastError = lastErr.Error()
		}
		if conn != nil {
			s.Transport = string(conn.Transport())
			s.ProtocolVersion = conn.ProtocolVersion()
		}
	})
}
