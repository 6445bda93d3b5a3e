// Package report puts together a bug report for mcp-broker: the versions, how every server
// stands (status), what a diagnosis of each finds (doctor), the live bridges and their last
// errors, the end of their live-traffic timelines (envelopes only, never a body), and the end
// of the log file, as Markdown ready to paste into an issue tracker.
//
// `mcp-broker report` prints it and the tray's "Copy bug report" puts it on the clipboard;
// both call Build, so the two never differ. Build reads the configuration, the state file and
// the bridges' status files, never a token: the secret store is read only through
// Options.ClientKey, for the algorithm of a private_key_jwt key. Whatever it gathers still
// passes through package redact (every configured URL's query and user information) and then
// Scrub, which takes out anything shaped like a credential, because a report is made to be
// published.
package report

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// Defaults for Options.
const (
	// DefaultDoctorTimeout bounds each server's diagnosis: a report about a server that does not
	// answer must still come, and say so.
	DefaultDoctorTimeout = 20 * time.Second
	// DefaultParallel is how many diagnoses run at once: enough that ten servers take seconds,
	// few enough not to hammer one authorization server that several of them share.
	DefaultParallel = 4
	// EnvLogFile names the environment variable with which bridges (and the other commands)
	// also log to a file: the only log mcp-broker keeps, since a bridge's standard error goes
	// to its MCP client.
	EnvLogFile = "MCP_BROKER_LOG_FILE"
	// LogLines is how many of the log file's last lines the report carries.
	LogLines = 40
	// TrafficEvents is how many of each server's last live-traffic events the report carries.
	TrafficEvents = 30
	// maxLogTail is how much of the log file's end is read to find them.
	maxLogTail = 64 << 10
)

// Options says what to report on and where things are.
type Options struct {
	// ConfigPath is the configuration file (config.PathFrom).
	ConfigPath string
	// RuntimeDir is the runtime folder whose bridges/ holds the live bridges' status files
	// (status.RuntimeDirFrom); "" leaves the bridges out.
	RuntimeDir string
	// Server names the one server to report on; "" reports on every server.
	Server string
	// Version is mcp-broker's version.
	Version string
	// Getenv reads the environment (the session type, MCP_BROKER_LOG_FILE, proxy settings);
	// nil is os.Getenv.
	Getenv func(string) string
	// LogFile is a log file whose end the report shows; "" is the one EnvLogFile names, if any.
	LogFile string
	// ClientKey returns the algorithm of the private key stored for a private_key_jwt server,
	// for its diagnosis; nil leaves the key unchecked (the diagnosis says so).
	ClientKey func(ctx context.Context, server string) (algorithm string, err error)
	// DoctorTimeout bounds each server's diagnosis; 0 is DefaultDoctorTimeout.
	DoctorTimeout time.Duration
	// Parallel is how many diagnoses run at once; 0 is DefaultParallel.
	Parallel int
	// Now is the report's time; the zero time is time.Now().
	Now time.Time
}

// Build gathers the report. It fails only when the configuration cannot be read or names no
// server Options.Server; what fails inside (a diagnosis, the bridges' folder, the log file)
// becomes a line of the report, since that is what the report is for.
func Build(ctx context.Context, opts Options) (string, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.LogFile == "" {
		opts.LogFile = opts.Getenv(EnvLogFile)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	f, err := config.Load(opts.ConfigPath)
	if err != nil {
		return "", fmt.Errorf("reading the configuration: %w", err)
	}
	st, err := broker.ReadStatus(opts.ConfigPath, opts.Now)
	if err != nil {
		return "", err
	}
	if opts.Server != "" {
		if _, ok := f.Server(opts.Server); !ok {
			return "", &broker.UnknownServerError{Name: opts.Server}
		}
		st = slices.DeleteFunc(st, func(s broker.ServerStatus) bool { return s.Name != opts.Server })
	}
	network, netErr := broker.NetworkFrom(opts.ConfigPath, opts.Getenv)

	var b bytes.Buffer
	fmt.Fprintf(&b, "## mcp-broker bug report\n\n")
	fmt.Fprintf(&b, "Made by `mcp-broker report` at %s. Tokens, keys and URL queries are taken out; read it before you post it.\n\n",
		opts.Now.UTC().Format(time.RFC3339))
	writeVersions(&b, opts)
	writeServers(&b, st, opts.Now)
	writeNetwork(&b, network, netErr)
	writeBridges(&b, bridges(opts), opts.Now)
	writeTraffic(&b, opts)
	writeDoctor(ctx, &b, f, st, network, opts)
	writeLog(&b, opts.LogFile)

	text := b.String()
	for _, raw := range knownURLs(f) {
		text = redact.Text(text, raw)
	}
	return Scrub(text), nil
}

// knownURLs are the URLs the configuration holds, whose queries and user information
// redact.Text takes out wherever they appear.
func knownURLs(f *config.File) []string {
	var urls []string
	for _, s := range f.Servers {
		urls = append(urls, s.URL)
	}
	for _, p := range f.IdPs {
		urls = append(urls, p.Issuer)
	}
	return urls
}

func writeVersions(w io.Writer, opts Options) {
	fmt.Fprintf(w, "### Versions\n\n")
	fmt.Fprintf(w, "- mcp-broker: %s\n", opts.Version)
	fmt.Fprintf(w, "- Go: %s\n", runtime.Version())
	fmt.Fprintf(w, "- OS/arch: %s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "- Desktop session: %s\n\n", Session(runtime.GOOS, opts.Getenv))
}

// Session names the desktop session the report was made in: on Linux the tray's and the
// keychain's behaviour depend on it (Wayland or X11, and whether there is one at all).
func Session(goos string, getenv func(string) string) string {
	switch goos {
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	}
	desktop := getenv("XDG_CURRENT_DESKTOP")
	kind := getenv("XDG_SESSION_TYPE")
	switch {
	case kind != "":
	case getenv("WAYLAND_DISPLAY") != "":
		kind = "wayland"
	case getenv("DISPLAY") != "":
		kind = "x11"
	default:
		kind = "none (no display)"
	}
	if desktop != "" {
		kind += " (" + desktop + ")"
	}
	return kind
}

// writeServers is `status` for the report: one line per server with what status shows, but
// times in UTC (the reader is elsewhere) and without the account, which names a person.
func writeServers(w io.Writer, st []broker.ServerStatus, now time.Time) {
	fmt.Fprintf(w, "### Status\n\n")
	if len(st) == 0 {
		fmt.Fprintf(w, "No servers are configured.\n\n")
		return
	}
	fmt.Fprintln(w, "```text")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tAUTH\tTRANSPORT\tSTATE\tEXPIRES (UTC)\tSCOPES\tCLIENT")
	for _, s := range st {
		auth := string(s.Auth)
		if s.ClientAuth != "" {
			auth += " (" + strings.TrimSpace(s.ClientAuth+" "+s.SigningAlg) + ")"
		}
		state := s.State.String()
		if s.IdP != "" {
			state += " (" + s.IdP + ")"
		}
		if s.DPoP {
			state += " (DPoP-bound)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, redact.URL(s.URL), auth, s.Transport, state,
			expires(s.Expiry, s.ExpiryAssumed, now), dash(strings.Join(s.Scopes, " ")), client(s))
	}
	tw.Flush()
	var notes []string
	for _, s := range st {
		if len(s.SameURLAs) > 0 {
			notes = append(notes, fmt.Sprintf("%s: same URL as %s", s.Name, strings.Join(s.SameURLAs, ", ")))
		}
		for _, d := range s.Deviations {
			notes = append(notes, fmt.Sprintf("%s: %s", s.Name, d.Describe()))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nServers that bend the rules, and shared URLs:")
		for _, n := range notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	fmt.Fprint(w, "```\n\n")
}

// expires is the expiry in UTC and what was left of it when the report was made.
func expires(t *time.Time, assumed bool, now time.Time) string {
	if t == nil {
		return "-"
	}
	s := t.UTC().Format("2006-01-02 15:04:05")
	if d := t.Sub(now); d > 0 {
		s += " (in " + d.Truncate(time.Second).String() + ")"
	} else {
		s += " (expired)"
	}
	if assumed {
		s += " (assumed)"
	}
	return s
}

func client(s broker.ServerStatus) string {
	if s.Client == nil {
		return "-"
	}
	how := s.Client.Kind
	if m := s.Client.AuthMethod; m != "" {
		how += ", " + m
	}
	return fmt.Sprintf("%s (%s) at %s", s.Client.ID, how, redact.URL(s.Issuer))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeNetwork(w io.Writer, n *httpclient.Network, err error) {
	fmt.Fprintf(w, "### Network\n\n")
	var lines []string
	if err != nil {
		lines = []string{"not usable: " + err.Error()}
	} else {
		lines = n.Summary().Lines()
	}
	if len(lines) == 0 {
		lines = []string{"direct: no proxy and no CA file set"}
	}
	for _, l := range lines {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintln(w)
}

// bridges lists the live bridges of the reported servers, or says why it could not.
func bridges(opts Options) bridgeList {
	if opts.RuntimeDir == "" {
		return bridgeList{problem: "no runtime folder"}
	}
	list, err := status.List(status.BridgesDir(opts.RuntimeDir))
	if err != nil {
		return bridgeList{problem: err.Error()}
	}
	if opts.Server != "" {
		list = slices.DeleteFunc(list, func(b status.Bridge) bool { return b.Server != opts.Server })
	}
	return bridgeList{bridges: list}
}

type bridgeList struct {
	bridges []status.Bridge
	problem string
}

func writeBridges(w io.Writer, l bridgeList, now time.Time) {
	fmt.Fprintf(w, "### Live bridges\n\n")
	switch {
	case l.problem != "":
		fmt.Fprintf(w, "Could not list them: %s\n\n", l.problem)
		return
	case len(l.bridges) == 0:
		fmt.Fprintf(w, "None running.\n\n")
		return
	}
	fmt.Fprintln(w, "```text")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPID\tCLIENT\tTRANSPORT\tSTATE\tUP\tSINCE\tMESSAGES IN/OUT\tLAST ERROR")
	for _, b := range l.bridges {
		transport := b.Transport
		if b.ProtocolVersion != "" {
			transport += " " + b.ProtocolVersion
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", b.Server, b.PID, dash(b.Client), dash(transport), b.State,
			now.Sub(b.Started).Truncate(time.Second), b.Since.UTC().Format(time.TimeOnly), b.Messages.FromClient, b.Messages.ToClient,
			dash(oneLine(b.LastError)))
	}
	tw.Flush()
	fmt.Fprint(w, "```\n\n")
}

// writeTraffic writes the last TrafficEvents events of each reported server's timeline, from
// the events files in the runtime folder: they exist only while someone watches (`mcp-broker
// traffic`, the tray's Timeline window) and their bridge runs. A message is shown by its
// envelope alone, never its body, even when the user turned bodies on.
func writeTraffic(w io.Writer, opts Options) {
	if opts.RuntimeDir == "" {
		return // writeBridges says why
	}
	fmt.Fprintf(w, "### Traffic (last %d events per server)\n\n", TrafficEvents)
	events, err := traffic.NewReader(traffic.Dir(opts.RuntimeDir)).Next()
	if err != nil {
		fmt.Fprintf(w, "Could not read them: %v\n\n", err)
		return
	}
	byServer := map[string][]traffic.Event{}
	var names []string
	for _, e := range events {
		if opts.Server != "" && e.Server != opts.Server {
			continue
		}
		if _, ok := byServer[e.Server]; !ok {
			names = append(names, e.Server)
		}
		byServer[e.Server] = append(byServer[e.Server], e)
	}
	if len(names) == 0 {
		fmt.Fprintf(w, "None recorded: a timeline is kept while `mcp-broker traffic` or the tray's Timeline window watches.\n\n")
		return
	}
	slices.Sort(names)
	for _, name := range names {
		list := byServer[name]
		list = list[max(0, len(list)-TrafficEvents):]
		fmt.Fprintf(w, "#### %s\n\n```text\n", name)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME (UTC)\tPID\tDIRECTION\tKIND\tMETHOD/STEP\tID\tSIZE\tELAPSED\tOUTCOME")
		for _, e := range list {
			fmt.Fprintln(tw, trafficRow(e))
		}
		tw.Flush()
		fmt.Fprint(w, "```\n\n")
	}
}

// trafficRow is one event as a row of writeTraffic's table: its envelope, without the body.
func trafficRow(e traffic.Event) string {
	kind, what, outcome := e.Type, e.Method, "ok"
	if e.Kind == traffic.KindStep {
		kind, what = "step", e.Step
		if e.Outcome != "" {
			outcome = e.Outcome
		}
		if e.Error != "" {
			outcome += ": " + e.Error
		}
	} else if e.ErrorCode != 0 || e.ErrorMessage != "" {
		outcome = fmt.Sprintf("error %d: %s", e.ErrorCode, e.ErrorMessage)
	}
	size, elapsed := "-", "-"
	if e.Size > 0 {
		size = fmt.Sprint(e.Size)
	}
	if e.ElapsedMS > 0 {
		elapsed = fmt.Sprintf("%.1fms", e.ElapsedMS)
	}
	return fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", e.Time.UTC().Format("15:04:05.000"), e.PID, dash(string(e.Dir)),
		dash(kind), dash(what), dash(e.ID), size, elapsed, oneLine(outcome))
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeDoctor runs the diagnosis of every reported server, Parallel at a time and each
// within DoctorTimeout, and writes them in the order of the configuration.
func writeDoctor(ctx context.Context, w io.Writer, f *config.File, st []broker.ServerStatus, network *httpclient.Network, opts Options) {
	fmt.Fprintf(w, "### Diagnosis (doctor)\n\n")
	if len(st) == 0 {
		fmt.Fprintf(w, "No servers to diagnose.\n\n")
		return
	}
	timeout, parallel := opts.DoctorTimeout, opts.Parallel
	if timeout <= 0 {
		timeout = DefaultDoctorTimeout
	}
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	out := make([]string, len(st))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, s := range st {
		srv, ok := f.Server(s.Name)
		if !ok { // removed between the two reads of the configuration
			out[i] = "(removed while the report was made)\n"
			continue
		}
		setup := doctor.Setup{Server: *srv, SameURLAs: s.SameURLAs, Deviations: s.Deviations, Status: &s, Now: opts.Now}
		if p, ok := f.IdP(srv.IdP); ok && srv.IdP != "" {
			setup.IdP = p
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = diagnose(ctx, setup, network, timeout, opts.ClientKey)
		})
	}
	wg.Wait()
	for i, s := range st {
		fmt.Fprintf(w, "#### %s\n\n```text\n%s```\n\n", s.Name, out[i])
	}
}

// diagnose is `mcp-broker doctor NAME`'s text for one server, cut short at timeout.
func diagnose(ctx context.Context, setup doctor.Setup, network *httpclient.Network, timeout time.Duration,
	clientKey func(context.Context, string) (string, error)) string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if setup.Server.ClientAuth == config.ClientAuthPrivateKeyJWT {
		if clientKey == nil {
			setup.KeyProblem = "the report did not read the secret store"
		} else if alg, err := clientKey(ctx, setup.Server.Name); err != nil {
			setup.KeyProblem = err.Error()
		} else {
			setup.KeyAlgorithm = alg
		}
	}
	opts := []httpclient.Option{httpclient.WithTimeout(discovery.DefaultTimeout)}
	if network != nil {
		opts = append(opts, httpclient.WithNetwork(network))
	}
	r := doctor.RunFor(ctx, &discovery.Fetcher{HTTP: httpclient.New(opts...)}, setup)
	if network != nil {
		r.Network = doctor.NetworkLines(network, setup.Server.URL)
	}
	var b strings.Builder
	r.WriteText(&b)
	if ctx.Err() != nil {
		fmt.Fprintf(&b, "(stopped after %s: the findings above are those made by then)\n", timeout)
	}
	return b.String()
}

// writeLog writes the last LogLines lines of the log file, when there is one.
func writeLog(w io.Writer, path string) {
	if path == "" {
		return
	}
	fmt.Fprintf(w, "### Log (last lines of %s)\n\n", path)
	lines, err := tail(path, LogLines)
	switch {
	case err != nil:
		fmt.Fprintf(w, "Could not read it: %v\n", err)
		return
	case len(lines) == 0:
		fmt.Fprintf(w, "It is empty.\n")
		return
	}
	fmt.Fprintf(w, "```text\n%s\n```\n", strings.Join(lines, "\n"))
}

// tail returns the last n lines of the file at path, reading at most its last maxLogTail bytes.
func tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if off := fi.Size() - maxLogTail; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
	}
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, maxLogTail))
	sc.Buffer(make([]byte, 0, 4096), maxLogTail)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if fi.Size() > maxLogTail && len(lines) > 0 {
		lines = lines[1:] // the first is cut at its start
	}
	return lines[max(0, len(lines)-n):], nil
}

// KeyAlgorithm returns an Options.ClientKey that reads the algorithm of a private_key_jwt
// server's stored key through a Broker, which open opens on first use only (most reports
// need none) and once for all the diagnoses that run at once.
func KeyAlgorithm(open func(context.Context) (*broker.Broker, error)) func(context.Context, string) (string, error) {
	var once sync.Once
	var b *broker.Broker
	var openErr error
	return func(ctx context.Context, name string) (string, error) {
		once.Do(func() { b, openErr = open(ctx) })
		if openErr != nil {
			return "", openErr
		}
		ck, err := b.ClientKey(ctx, name)
		if err != nil {
			if op, ok := errors.AsType[*broker.OpError](err); ok {
				err = op.Err // the report names the server already
			}
			return "", err
		}
		return ck.Algorithm, nil
	}
}
