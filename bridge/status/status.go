package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// State is what a bridge is doing, as the tray and `status` show it.
type State string

// The states of a bridge.
const (
	// StateStarting: the bridge is opening its first upstream session.
	StateStarting State = "starting"
	// StateConnected: requests flow to the server.
	StateConnected State = "connected"
	// StateNeedsSignIn: there is no usable credential; a person must sign in (the tray
	// notifies, or the bridge has opened the browser). Requests wait.
	StateNeedsSignIn State = "needs sign-in"
	// StateReconnecting: the server is unreachable or the connection dropped; the bridge
	// retries with backoff and answers requests with errors meanwhile.
	StateReconnecting State = "reconnecting"
	// StateError: the bridge cannot work (for example, an unknown server name).
	StateError State = "error"
)

// Counts are the messages a bridge has relayed.
type Counts struct {
	// FromClient counts messages read from the MCP client (stdin).
	FromClient int64 `json:"from_client"`
	// ToClient counts messages written to the MCP client (stdout).
	ToClient int64 `json:"to_client"`
}

// Bridge is the status file of one bridge process. It never holds a secret.
type Bridge struct {
	Server  string    `json:"server"`
	URL     string    `json:"url,omitempty"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Updated is when the file was last written.
	Updated time.Time `json:"updated"`
	// Transport is the upstream transport in use ("streamable-http", "sse") or configured
	// ("auto") before the first session.
	Transport string `json:"transport,omitempty"`
	// ProtocolVersion is the MCP revision negotiated with the server.
	ProtocolVersion string `json:"protocol_version,omitempty"`
	State           State  `json:"state"`
	// Since is when State last changed.
	Since    time.Time `json:"since"`
	Messages Counts    `json:"messages"`
	// LastError is the most recent failure, as a sentence without secrets.
	LastError string `json:"last_error,omitempty"`
	// Client is the MCP client's name (and version) from its initialize request.
	Client string `json:"client,omitempty"`
	// ChallengeScope is, while the bridge waits for a sign-in (or its own failed), the scope
	// the server's refusals named (the scope of their challenges, RFC 6750 §3): what that
	// sign-in must ask for, wherever it runs (see SignInScope).
	ChallengeScope string `json:"challenge_scope,omitempty"`
}

// SignInScope returns the scope a sign-in to server should ask for on behalf of its live
// bridges: the union of their ChallengeScope, space-separated, "" for none. The tray and
// `mcp-broker login` pass it on (broker.LoginOptions.ChallengeScope), so that a sign-in made
// there asks for what the bridges' server asked for.
func SignInScope(bridges []Bridge, server string) string {
	var scopes []string
	for _, b := range bridges {
		if b.Server != server {
			continue
		}
		for _, s := range strings.Fields(b.ChallengeScope) {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return strings.Join(scopes, " ")
}

// fileName returns the status file name of a bridge: server and pid, so that two bridges for
// one server (two Claude Code windows) each have their own.
func fileName(server string, pid int) string {
	return server + "." + strconv.Itoa(pid) + ".json"
}

// coalesce is how long counter changes wait before being written, so a busy bridge rewrites
// its file at most about twice a second however many messages it relays.
const coalesce = 500 * time.Millisecond

// Publisher keeps one bridge's status file up to date. Its methods are safe for concurrent
// use; the counters are lock-free so that the relay's hot path pays one atomic add.
type Publisher struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	info Bridge

	fromClient, toClient atomic.Int64
	pending              atomic.Bool // a counter write is scheduled
	kick                 chan struct{}
	stop                 chan struct{}
	stopped              chan struct{}
	closeOnce            sync.Once
}

// Publish starts publishing info (PID and Started are filled in when zero) as a file in dir,
// which it creates (see Ensure). The first write happens in the background so that a bridge's
// start is not held up by the disk. Close stops it and removes the file.
func Publish(dir string, info Bridge, log *slog.Logger) (*Publisher, error) {
	if err := config.ValidateName(info.Server); err != nil {
		return nil, err
	}
	if err := Ensure(dir); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now()
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if info.Started.IsZero() {
		info.Started = now
	}
	if info.Since.IsZero() {
		info.Since = now
	}
	p := &Publisher{
		path: filepath.Join(dir, fileName(info.Server, info.PID)),
		log:  log, info: info,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	go p.run()
	p.poke()
	return p, nil
}

// Path is the status file.
func (p *Publisher) Path() string { return p.path }

// Update changes the published status; the file is rewritten at once (in the background).
// A change of State also sets Since.
func (p *Publisher) Update(fn func(*Bridge)) {
	p.mu.Lock()
	old := p.info.State
	fn(&p.info)
	if p.info.State != old {
		p.info.Since = time.Now()
	}
	p.mu.Unlock()
	p.poke()
}

// Snapshot returns the status as published: with its counters, and with the server's URL and
// the last error stripped of the URL's secrets (people put API keys in the query), since the
// file is read by other processes and shown by `mcp-broker status`.
func (p *Publisher) Snapshot() Bridge {
	p.mu.Lock()
	b := p.info
	p.mu.Unlock()
	b.Messages = Counts{FromClient: p.fromClient.Load(), ToClient: p.toClient.Load()}
	if b.LastError != "" {
		b.LastError = redact.Text(b.LastError, b.URL)
	}
	b.URL = redact.URL(b.URL)
	return b
}

// CountFromClient counts a message read from the client.
func (p *Publisher) CountFromClient() {
	p.fromClient.Add(1)
	p.later()
}

// CountToClient counts a message written to the client.
func (p *Publisher) CountToClient() {
	p.toClient.Add(1)
	p.later()
}

// later schedules a write after coalesce unless one is already scheduled.
func (p *Publisher) later() {
	if p.pending.CompareAndSwap(false, true) {
		time.AfterFunc(coalesce, p.poke)
	}
}

func (p *Publisher) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Publisher) run() {
	defer close(p.stopped)
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
			p.pending.Store(false)
			if err := p.write(); err != nil {
				p.log.Warn("writing the bridge status file", "err", err)
			}
		}
	}
}

func (p *Publisher) write() error {
	b := p.Snapshot()
	b.Updated = time.Now()
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the status: %w", err)
	}
	return config.WriteFileAtomic(p.path, append(data, '\n'), 0o600)
}

// Close stops publishing and removes the file. It is safe to call more than once.
func (p *Publisher) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		<-p.stopped
		if rerr := os.Remove(p.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("removing the bridge status file: %w", rerr)
		}
	})
	return err
}

// List returns the status of every live bridge in dir, sorted by server and start time.
// Files of processes that are gone are removed (best effort) and left out; damaged files are
// skipped. A missing dir means no bridges.
func List(dir string) ([]Bridge, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing live bridges: %w", err)
	}
	var out []Bridge
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			continue // removed while we listed
		}
		var b Bridge
		if err := json.Unmarshal(data, &b); err != nil || b.PID <= 0 || name != fileName(b.Server, b.PID) {
			continue
		}
		if !alive(b.PID) {
			_ = os.Remove(path)
			continue
		}
		// A bridge of an older version may have written its URL whole.
		b.LastError = redact.Text(b.LastError, b.URL)
		b.URL = redact.URL(b.URL)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Bridge) int {
		if c := strings.Compare(a.Server, b.Server); c != 0 {
			return c
		}
		return a.Started.Compare(b.Started)
	})
	return out, nil
}
