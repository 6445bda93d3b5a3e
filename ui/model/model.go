// Package model is what the tray shows, without any Fyne: a Snapshot of every configured
// server (from the config and state files, never the keychain) joined with the live bridges
// (from their status files) and the tools they last listed (from the bridges' cache), with the
// derived facts the menu needs (sessions per server, a bridge waiting for sign-in, the worst
// state), and a Watcher that polls for changes.
//
// Keeping it free of Fyne lets its logic be table-tested with plain structs and keeps the
// question "what should the tray say" apart from "how does Fyne say it".
package model

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// State is how well a server, or everything together, is doing. The tray icon shows the
// overall State; the values are ordered so that the worse of two is the larger. It is not a
// server's broker.SignInState (Server.ServerStatus.State, where its credential stands), which
// is one of the things a State weighs.
type State int

// The states, from nothing to show to worst.
const (
	// Empty: no server is configured (the tray offers the demo).
	Empty State = iota
	// OK: every server can be used without a person.
	OK
	// SignInNeeded: a server has no usable credential, or a bridge waits for a sign-in.
	SignInNeeded
	// Error: a bridge cannot reach its server or cannot work, or the configuration is unreadable.
	Error
)

// String names the state, for logs and test failures.
func (s State) String() string {
	switch s {
	case Empty:
		return "empty"
	case OK:
		return "ok"
	case SignInNeeded:
		return "sign-in needed"
	case Error:
		return "error"
	}
	return "unknown"
}

// Server is one configured server as the tray shows it.
type Server struct {
	// Status is what the config and state files say about the server.
	broker.ServerStatus
	// Bridges are the live bridges for this server (one per MCP client session), oldest first.
	Bridges []status.Bridge
	// State is the worst of the sign-in state and the bridges' states.
	State State
	// Waiting is true when at least one bridge waits for a person to sign in: an MCP client
	// (Claude Code) is held up, so the tray makes the sign-in stand out.
	Waiting bool
	// Problem is a bridge's last error while the server is in the Error state.
	Problem string
	// Tools are the names of the tools the bridges last listed, sorted; nil while no bridge
	// is live or none has listed them yet (filled in by a Watcher with Paths.Tools).
	Tools []string
	// Hidden are the names among Tools that the server's tool settings keep from Claude Code
	// (hidden by name, or not annotated readOnlyHint in read-only mode), sorted.
	Hidden []string
}

// Sessions is the number of live bridges, each an MCP client session.
func (s Server) Sessions() int { return len(s.Bridges) }

// Connected is the number of bridges whose requests flow to the server.
func (s Server) Connected() int {
	n := 0
	for _, b := range s.Bridges {
		if b.State == status.StateConnected {
			n++
		}
	}
	return n
}

// WaitingClient names, for people, the MCP client of the first bridge waiting for sign-in
// ("Claude Code"), or "" when no bridge waits.
func (s Server) WaitingClient() string {
	for _, b := range s.Bridges {
		if b.State == status.StateNeedsSignIn {
			return ClientName(b.Client)
		}
	}
	return ""
}

// knownClients are the display names of MCP clients, by the name they send in initialize.
var knownClients = map[string]string{
	"claude-code": "Claude Code",
	"claude-ai":   "Claude",
}

// ClientName turns the client a bridge reports ("claude-code 2.0.0": name and version from
// initialize) into a name for people: "Claude Code". An unknown client keeps its own name; an
// empty one (the client has not introduced itself yet) is "an MCP client", lower case because
// it usually sits mid-sentence; capitalise it at the start of one.
func ClientName(raw string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(raw), " ")
	if name == "" {
		return "an MCP client"
	}
	if known, ok := knownClients[strings.ToLower(name)]; ok {
		return known
	}
	return name
}

// Snapshot is everything the tray shows at one moment.
type Snapshot struct {
	// Servers are the configured servers, sorted by name.
	Servers []Server
	// Bridges are every live bridge, including those of servers that are not configured (a
	// client set up with a wrong name), for the status window.
	Bridges []status.Bridge
	// IdPs are the configured identity providers (enterprise-managed authorization), for the
	// tray's "Sign in with your company account".
	IdPs []broker.IdPStatus
	// ConfigError is why the configuration could not be read; empty when it was.
	ConfigError string
	// State is the worst state of all servers; Empty when none is configured, Error when the
	// configuration is unreadable.
	State State
	// At is when the snapshot was taken. Equal ignores it.
	At time.Time
}

// Server returns the named server and whether it is configured.
func (s Snapshot) Server(name string) (Server, bool) {
	for _, srv := range s.Servers {
		if srv.Name == name {
			return srv, true
		}
	}
	return Server{}, false
}

// Waiting returns the names of the servers a bridge is waiting to be signed in to, sorted.
func (s Snapshot) Waiting() []string {
	var names []string
	for _, srv := range s.Servers {
		if srv.Waiting {
			names = append(names, srv.Name)
		}
	}
	return names
}

// Equal reports whether two snapshots show the same thing (At aside), so that a Watcher emits
// only changes.
func (s Snapshot) Equal(o Snapshot) bool {
	return s.ConfigError == o.ConfigError && s.State == o.State &&
		reflect.DeepEqual(s.Servers, o.Servers) && reflect.DeepEqual(s.Bridges, o.Bridges) && reflect.DeepEqual(s.IdPs, o.IdPs)
}

// NewlyWaiting returns the servers that a bridge waits to be signed in to in next but not in
// prev: the tray notifies the user once per such change, not on every poll.
func NewlyWaiting(prev, next Snapshot) []string {
	var names []string
	for _, name := range next.Waiting() {
		if srv, ok := prev.Server(name); !ok || !srv.Waiting {
			names = append(names, name)
		}
	}
	return names
}

// Build joins the servers' sign-in states with the live bridges and derives what the tray
// shows. Bridges are matched to servers by name; bridges of unknown servers stay in
// Snapshot.Bridges only.
func Build(servers []broker.ServerStatus, bridges []status.Bridge, at time.Time) Snapshot {
	snap := Snapshot{Bridges: slices.Clone(bridges), At: at}
	if snap.Bridges == nil {
		snap.Bridges = []status.Bridge{}
	}
	byServer := map[string][]status.Bridge{}
	for _, b := range bridges {
		byServer[b.Server] = append(byServer[b.Server], b)
	}
	for _, ss := range servers {
		srv := Server{ServerStatus: ss, Bridges: byServer[ss.Name]}
		derive(&srv)
		snap.Servers = append(snap.Servers, srv)
		snap.State = max(snap.State, srv.State)
	}
	slices.SortStableFunc(snap.Servers, func(a, b Server) int { return cmp.Compare(a.Name, b.Name) })
	return snap
}

// derive fills in a server's State, Waiting and Problem.
func derive(srv *Server) {
	srv.State = OK
	if !srv.SignedIn {
		srv.State = SignInNeeded
	}
	for _, b := range srv.Bridges {
		switch b.State {
		case status.StateNeedsSignIn:
			srv.Waiting = true
			srv.State = max(srv.State, SignInNeeded)
		case status.StateReconnecting, status.StateError:
			if srv.State < Error || srv.Problem == "" {
				srv.Problem = b.LastError
			}
			srv.State = Error
		}
	}
	if srv.State == Error && srv.Problem == "" {
		srv.Problem = "the server cannot be reached"
	}
	if srv.State != Error {
		srv.Problem = ""
	}
}

// Read takes a snapshot from the configuration at configPath and the bridge status files in
// bridgesDir. It never touches the secret store. An unreadable configuration is reported in
// the snapshot (the tray shows it) rather than as an error; an unreadable bridges folder
// counts as no bridges, as in `mcp-broker status`.
func Read(configPath, bridgesDir string, now time.Time) Snapshot {
	servers, idps, err := broker.ReadAllStatus(configPath, now)
	bridges, berr := status.List(bridgesDir)
	if berr != nil {
		bridges = nil
	}
	snap := Build(servers, bridges, now)
	if len(idps) > 0 {
		snap.IdPs = idps
	}
	if err != nil {
		snap.ConfigError = err.Error()
		snap.State = Error
	}
	return snap
}

// Paths are the files a Watcher reads.
type Paths struct {
	// Config is the config file (config.Path()).
	Config string
	// Bridges is the folder of bridge status files (status.BridgesDir).
	Bridges string
	// Tools is the folder of the tools the bridges last listed (toolpolicy.Dir); "" reads
	// none.
	Tools string
}

// DefaultPaths returns the paths of the current user's configuration and runtime folder,
// honouring MCP_BROKER_CONFIG_DIR and MCP_BROKER_RUNTIME_DIR.
func DefaultPaths() (Paths, error) {
	cfg, err := config.Path()
	if err != nil {
		return Paths{}, err
	}
	run, err := status.RuntimeDir()
	if err != nil {
		return Paths{}, err
	}
	return Paths{Config: cfg, Bridges: status.BridgesDir(run)}, nil
}

// LapseDue returns the servers whose sign-in lapses within ahead of now and that have not been
// warned about that moment yet (warned maps a server to the moment it was warned about), and
// the next moment another warning falls due (zero when none is known). A sign-in lapses at
// broker.ServerStatus.SignInBy: the access token's expiry when the server gave no refresh
// token, the refresh token's own expiry, or the end of a session limit the server showed
// before. Keying warned by the moment makes the warning come at most once per moment.
func LapseDue(s Snapshot, now time.Time, ahead time.Duration, warned map[string]time.Time) (due []string, next time.Time) {
	for _, srv := range s.Servers {
		if !srv.SignedIn || srv.SignInBy == nil || !srv.SignInBy.After(now) {
			continue
		}
		by := *srv.SignInBy
		if w, ok := warned[srv.Name]; ok && w.Equal(by) {
			continue
		}
		if at := by.Add(-ahead); at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		due = append(due, srv.Name)
	}
	return due, next
}

// RenewalFailed returns the servers whose last background renewal failed since prev: next
// has a broker.RenewalFailure that prev did not (a record of another moment is another
// failure). The broker records a refresh token refused (the sign-in has ended) and a renewal
// that did not get through (it tries again), once per episode, so each is told once. A
// server prev did not know of, such as every server of the first snapshot, is no news: its
// record is from before the app looked.
func RenewalFailed(prev, next Snapshot) []string {
	var names []string
	for _, srv := range next.Servers {
		f := srv.RenewalFailure
		if f == nil {
			continue
		}
		p, ok := prev.Server(srv.Name)
		if ok && (p.RenewalFailure == nil || !p.RenewalFailure.At.Equal(f.At) || p.RenewalFailure.Kind != f.Kind) {
			names = append(names, srv.Name)
		}
	}
	return names
}

// Unreachable returns the server's bridge that has been unable to reach it the longest
// (status.StateReconnecting: the server is unreachable or the connection dropped, and the
// bridge keeps retrying), and false when every live bridge reaches it or none is live. A
// bridge in status.StateError cannot work for another reason (an unknown server name) that
// waiting or diagnosing the server does not change.
func (s Server) Unreachable() (status.Bridge, bool) {
	var first status.Bridge
	found := false
	for _, b := range s.Bridges {
		if b.State == status.StateReconnecting && (!found || b.Since.Before(first.Since)) {
			first, found = b, true
		}
	}
	return first, found
}

// Unreachable returns the servers a bridge has been unable to reach for at least after at now
// (Server.Unreachable) and that are not in told, the servers the person was already told of
// in this episode; and the next moment another falls due (zero when none is known). A bridge
// retries by itself, so a short outage is no news; the caller forgets a server in told once
// it is reachable again, so the next outage is news again.
func Unreachable(s Snapshot, now time.Time, after time.Duration, told map[string]bool) (due []string, next time.Time) {
	for _, srv := range s.Servers {
		b, ok := srv.Unreachable()
		if !ok || told[srv.Name] {
			continue
		}
		if at := b.Since.Add(after); at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		due = append(due, srv.Name)
	}
	return due, next
}

// Added is the tools a server lists that were not there before.
type Added struct {
	Server string
	// Tools are the new tools' names, sorted.
	Tools []string
}

// NewTools returns, for each server whose tool names are known in s (Server.Tools), the names
// that known[server] (what the app saw of it before) lacks. A server missing from known is the
// app's first look at it and has nothing new: the person chose its tools when adding it. A
// tool its settings hide (Server.Hidden) is no news either: Claude Code does not see it, and
// the person chose to keep it away (by name, or every tool that may change things).
func NewTools(known map[string][]string, s Snapshot) []Added {
	var added []Added
	for _, srv := range s.Servers {
		before, ok := known[srv.Name]
		if srv.Tools == nil || !ok {
			continue
		}
		var names []string
		for _, name := range srv.Tools {
			if !slices.Contains(before, name) && !slices.Contains(srv.Hidden, name) {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			slices.Sort(names)
			added = append(added, Added{Server: srv.Name, Tools: names})
		}
	}
	return added
}
