package traffic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/status"
)

// Defaults of Options.
const (
	// DefaultCapacity is how many events the ring keeps.
	DefaultCapacity = 1024
	// DefaultMaxFile is the size from which an events file is rotated: the bridge keeps it
	// and one previous file (".1"), so at most twice this on disk per bridge.
	DefaultMaxFile = 1 << 20
	// MaxBody is the largest message whose body is kept: a bigger one is described only.
	MaxBody = 64 << 10
)

// poll is how often a bridge looks at the watcher's file, and fresh how recent the file's
// modification must be for someone to be watching (a watcher touches it every poll).
const (
	poll  = time.Second
	fresh = 3 * poll
)

// watchingFile is the name of the watcher's file in the traffic folder.
const watchingFile = "watching"

// Dir returns the traffic folder in the runtime folder runtimeDir (status.RuntimeDir()).
func Dir(runtimeDir string) string { return filepath.Join(runtimeDir, "traffic") }

// Options configure a Recorder.
type Options struct {
	// Dir is the traffic folder (see Dir). Required.
	Dir string
	// Server is the server's name; URL its address, whose secrets never reach the file.
	Server, URL string
	// Bodies reports whether the user wants bodies (config.json's traffic_bodies). It is
	// called when watching starts and at most once a second while watched; nil means never.
	Bodies func() bool
	// Secrets returns the secrets the bridge holds (its current credential), which are
	// removed from whatever is written wherever they appear. Called at most once a second
	// while watched, and only when bodies are on.
	Secrets func() []string
	// Capacity is the ring's size; default DefaultCapacity.
	Capacity int
	// MaxFile is the rotation size; default DefaultMaxFile.
	MaxFile int64
	// Log receives what goes wrong writing; default discards.
	Log *slog.Logger
}

// Recorder is one bridge's timeline: a ring of recent events, written to the bridge's events
// file while someone watches. Its methods are safe for concurrent use; Message and Step
// return at once (the file is written by the Recorder's own goroutine).
type Recorder struct {
	opts Options
	path string
	pid  int
	ring *Ring

	watched atomic.Bool // someone watches: record messages
	bodies  atomic.Bool // and their bodies

	mu       sync.Mutex
	asked    map[string]asked // client requests in flight, while watched
	secrets  []string
	file     *os.File
	size     int64
	written  uint64 // the ring number of the next event to write
	kick     chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
	closeErr error
	once     sync.Once
}

// asked is a client request waiting for its answer.
type asked struct {
	method string
	at     time.Time
}

// maxAsked bounds the requests remembered for their time to answer.
const maxAsked = 4096

// Start returns a Recorder for the bridge of opts.Server and starts watching for watchers.
// Close stops it and removes its files.
func Start(opts Options) (*Recorder, error) {
	if opts.Dir == "" || opts.Server == "" {
		return nil, errors.New("traffic: Dir and Server are required")
	}
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.MaxFile <= 0 {
		opts.MaxFile = DefaultMaxFile
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	pid := os.Getpid()
	r := &Recorder{
		opts: opts, pid: pid, ring: NewRing(opts.Capacity), asked: map[string]asked{},
		path: filepath.Join(opts.Dir, opts.Server+"."+strconv.Itoa(pid)+".jsonl"),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	go r.run()
	return r, nil
}

// Path is the events file (it exists only once someone has watched).
func (r *Recorder) Path() string { return r.path }

// Watched reports whether someone watches: the relay calls it before describing a message,
// so that without a watcher a message costs one atomic load.
func (r *Recorder) Watched() bool { return r.watched.Load() }

// Events returns the ring's events, oldest first.
func (r *Recorder) Events() []Event { return r.ring.Events() }

// Message records a message (env is its envelope) relayed in direction dir, if someone
// watches.
func (r *Recorder) Message(dir Direction, msg []byte, env jsonrpc.Envelope) {
	if !r.watched.Load() {
		return
	}
	now := time.Now()
	e := Event{Time: now, Server: r.opts.Server, PID: r.pid, Kind: KindMessage, Dir: dir,
		Type: env.Kind.String(), Method: env.Method, ID: string(env.ID), Size: len(msg)}
	key := env.IDKey()
	r.mu.Lock()
	switch {
	case env.Kind == jsonrpc.KindRequest && dir == ToServer:
		if len(r.asked) >= maxAsked {
			clear(r.asked) // answers that never came; forget them
		}
		r.asked[key] = asked{method: env.Method, at: now}
	case env.Kind == jsonrpc.KindResponse && dir == ToClient:
		if a, ok := r.asked[key]; ok {
			delete(r.asked, key)
			e.Method = a.method
			e.ElapsedMS = float64(now.Sub(a.at).Microseconds()) / 1000
		}
	}
	secrets := r.secrets
	r.mu.Unlock()
	if env.IsError {
		var m struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(msg, &m) == nil {
			e.ErrorCode, e.ErrorMessage = m.Error.Code, Text(m.Error.Message, r.opts.URL, secrets)
		}
	}
	if r.bodies.Load() {
		if len(msg) > MaxBody {
			e.Omitted = "larger than " + strconv.Itoa(MaxBody) + " bytes"
		} else if e.Body = Body(msg, r.opts.URL, secrets); e.Body == nil {
			e.Omitted = "not JSON"
		}
	}
	r.add(e)
}

// Step records a step of a sign-in or renewal (a broker.StepName) and its outcome, watched or
// not: they are few, and a watcher that arrives later sees the ring's.
func (r *Recorder) Step(name string, err error) {
	e := Event{Time: time.Now(), Server: r.opts.Server, PID: r.pid, Kind: KindStep, Step: name, Outcome: OutcomeOK}
	if err != nil {
		r.mu.Lock()
		secrets := r.secrets
		r.mu.Unlock()
		e.Outcome, e.Error = OutcomeFailed, Text(err.Error(), r.opts.URL, secrets)
	}
	r.add(e)
}

func (r *Recorder) add(e Event) {
	r.ring.Add(e)
	if r.watched.Load() {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// run checks for a watcher every poll and writes new events while there is one.
func (r *Recorder) run() {
	defer close(r.stopped)
	t := time.NewTicker(poll)
	defer t.Stop()
	r.check()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.check()
		case <-r.kick:
		}
		if r.watched.Load() {
			if err := r.flush(); err != nil {
				r.opts.Log.Warn("writing the traffic timeline", "err", err)
			}
		}
	}
}

// check looks at the watcher's file (one stat) and, while watched, at the settings.
func (r *Recorder) check() {
	watched := Watched(r.opts.Dir, time.Now())
	if watched {
		bodies := r.opts.Bodies != nil && r.opts.Bodies()
		var secrets []string
		if bodies && r.opts.Secrets != nil {
			secrets = r.opts.Secrets()
		}
		r.mu.Lock()
		r.secrets = secrets
		r.mu.Unlock()
		r.bodies.Store(bodies)
	}
	if r.watched.Swap(watched) && !watched {
		r.mu.Lock()
		clear(r.asked)
		r.mu.Unlock()
	}
}

// flush appends the events not yet written to the file, creating it (0600) and rotating it.
func (r *Recorder) flush() error {
	events, next := r.ring.Since(r.written)
	if r.file == nil {
		if err := status.Ensure(r.opts.Dir); err != nil {
			return err
		}
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("opening the events file: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("opening the events file: %w", err)
		}
		r.file, r.size = f, fi.Size()
	}
	var buf bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			continue
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	r.written = next
	if buf.Len() == 0 {
		return nil
	}
	if r.size > 0 && r.size+int64(buf.Len()) > r.opts.MaxFile {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.file.Write(buf.Bytes())
	r.size += int64(n)
	if err != nil {
		return fmt.Errorf("writing the events file: %w", err)
	}
	return nil
}

// rotate keeps the current file as ".1" and starts a new one.
func (r *Recorder) rotate() error {
	r.file.Close()
	r.file = nil
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("rotating the events file: %w", err)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rotating the events file: %w", err)
	}
	r.file, r.size = f, 0
	return nil
}

// Close stops the recorder, writing what is left if someone watches, and removes its files:
// like a status file, a timeline lasts as long as its bridge. Safe to call more than once.
func (r *Recorder) Close() error {
	r.once.Do(func() {
		close(r.stop)
		<-r.stopped
		if r.file != nil {
			r.file.Close()
		}
		for _, p := range []string{r.path, r.path + ".1"} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				r.closeErr = fmt.Errorf("removing the events file: %w", err)
			}
		}
	})
	return r.closeErr
}
