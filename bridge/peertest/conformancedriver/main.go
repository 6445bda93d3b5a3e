// Command conformancedriver is the client the official MCP conformance suite
// (npm @modelcontextprotocol/conformance) launches to test mcp-broker's bridge:
//
//	conformance client --command "conformancedriver [-host inspector]" --scenario NAME
//
// The suite starts the scenario's servers and runs `conformancedriver <serverUrl>`, with
// MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION (the spec version of the run;
// 0.1.x suites do not set it) and, for scenarios that hand the client material,
// MCP_CONFORMANCE_CONTEXT in the environment. The driver configures the broker as a user
// would for that material (configure.go) and then lets a host drive `mcp-broker bridge --url
// <serverUrl>` (the binary named by $MCP_BROKER_BIN), as Claude Code drives a `.mcp.json`
// entry for the bridge. Two hosts, chosen with -host:
//
//   - driver (the default): the driver itself, a host that does everything the suite asks of
//     one (host.go): both protocol eras, the −32022 version retry, the multi round-trip
//     requests of SEP-2322, elicitation, roots, sampling, the tool calls the scenario names,
//     JSON Schema handed back verbatim, and the skills extension (SEP-2640). Scenarios that
//     test the host rather than the bridge pass through the bridge only when every byte
//     arrives intact, which is what they show here.
//   - inspector: the MCP Inspector CLI, an ordinary host ($CONFORMANCE_DRIVER_INSPECTOR names
//     its launcher script, run with the node first on PATH), one invocation per request
//     (inspector.go).
//
// Each run is private: a fresh config folder, the unencrypted file secret store, and private
// runtime and cache folders, so no tray is seen and nothing leaks between scenarios. The
// browser sign-in completes headlessly: a fake `xdg-open` first on PATH (this same program,
// reached through a symlink) follows the authorization URL's redirects back to the bridge's
// loopback callback, as the suite's authorization servers approve at once (browser.go).
//
// The exit status is 0 when every request got a result, 1 otherwise, 2 on a usage error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// envBinary names the mcp-broker binary under test.
	envBinary = "MCP_BROKER_BIN"
	// envInspector names the Inspector CLI's launcher script, for -host inspector.
	envInspector = "CONFORMANCE_DRIVER_INSPECTOR"
	// envFollow marks the detached child of the fake xdg-open that visits the URL.
	envFollow = "CONFORMANCE_DRIVER_FOLLOW"
	// envBrowserLog is where that child writes what it did (it must not hold the suite's pipes).
	envBrowserLog = "CONFORMANCE_DRIVER_BROWSER_LOG"

	// What the suite tells the client about the run.
	envScenario        = "MCP_CONFORMANCE_SCENARIO"
	envProtocolVersion = "MCP_CONFORMANCE_PROTOCOL_VERSION"
	envContext         = "MCP_CONFORMANCE_CONTEXT"

	// defaultProtocolVersion is what the driver speaks when the suite names no version (0.1.x
	// suites): what Claude Code asks for.
	defaultProtocolVersion = "2025-11-25"
	// statelessVersion is the first protocol version without sessions: no initialize, every
	// request carries the protocol version and the client's capabilities in _meta.
	statelessVersion = "2026-07-28"

	// runLimit bounds the whole run. The suite's default budget per scenario is 30 s, and a
	// driver that ends first reports its own error rather than a timeout; bridge/peertest
	// gives the suite 60 s, for a loaded machine.
	runLimit = 45 * time.Second
	// exitWait bounds the bridge's exit after stdin closes (it promises 1 s).
	exitWait = 5 * time.Second
)

// Hosts -host selects.
const (
	hostDriver    = "driver"
	hostInspector = "inspector"
)

func main() {
	switch {
	case os.Getenv(envFollow) == "1":
		os.Exit(follow(os.Args[1:]))
	case filepath.Base(os.Args[0]) == "xdg-open":
		os.Exit(fakeXDGOpen(os.Args[1:]))
	}
	host := flag.String("host", hostDriver, "who drives the bridge: driver (this program) or inspector (the MCP Inspector CLI)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: conformancedriver [-host driver|inspector] SERVER_URL (the conformance suite adds the URL)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || (*host != hostDriver && *host != hostInspector) {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	if err := run(ctx, *host, flag.Arg(flag.NArg()-1)); err != nil {
		logf("FAILED: %v", err)
		cancel()
		os.Exit(1)
	}
	logf("done")
}

// logf writes a progress line to stderr, which the suite keeps per scenario.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "driver: "+format+"\n", args...)
}

// scenario is what the suite tells the client about the run.
type scenario struct {
	name      string // MCP_CONFORMANCE_SCENARIO
	version   string // MCP_CONFORMANCE_PROTOCOL_VERSION, or defaultProtocolVersion
	context   scenarioContext
	serverURL string
}

// stateless reports whether the run speaks the 2026-07-28 era: no session, _meta on every
// request. A date-shaped version compares as a string.
func (s scenario) stateless() bool { return s.version >= statelessVersion }

// scenarioContext is MCP_CONFORMANCE_CONTEXT: what the suite hands the client. It also
// carries the scenario's name and, for some scenarios, fields the driver has no use for.
type scenarioContext struct {
	// A pre-registered client (auth/pre-registration, the client-credentials extensions, the
	// client at the MCP authorization server in enterprise-managed authorization).
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// auth/client-credentials-jwt: the client's PKCS#8 private key and its algorithm.
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
	// auth/wif-jwt-bearer: the JWT the workload's platform gave it.
	ValidJWT string `json:"valid_jwt"`
	// auth/enterprise-managed-authorization: the company's identity provider, the broker's
	// client there, and the ID token of the user's sign-in to it.
	IDPIssuer        string `json:"idp_issuer"`
	IDPClientID      string `json:"idp_client_id"`
	IDPIDToken       string `json:"idp_id_token"`
	IDPTokenEndpoint string `json:"idp_token_endpoint"`
	// http-custom-headers: the exact tool calls the host must make.
	ToolCalls []toolCall `json:"toolCalls"`
}

// toolCall is one tools/call a host makes: the tool and its arguments, as JSON.
type toolCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// readScenario reads what the suite put in the environment.
func readScenario(serverURL string) (scenario, error) {
	s := scenario{name: os.Getenv(envScenario), version: os.Getenv(envProtocolVersion), serverURL: serverURL}
	if s.version == "" {
		s.version = defaultProtocolVersion
	}
	if raw := os.Getenv(envContext); raw != "" {
		if err := json.Unmarshal([]byte(raw), &s.context); err != nil {
			return s, fmt.Errorf("reading %s: %w", envContext, err)
		}
	}
	return s, nil
}

// run configures the broker for the scenario in a private workspace, then lets host drive the
// bridge.
func run(ctx context.Context, host, serverURL string) error {
	bin := os.Getenv(envBinary)
	if bin == "" {
		return fmt.Errorf("set %s to the mcp-broker binary", envBinary)
	}
	sc, err := readScenario(serverURL)
	if err != nil {
		return err
	}
	logf("scenario %q at protocol %s, server %s, host %s", sc.name, sc.version, serverURL, host)

	dir, err := os.MkdirTemp("", "conformance-driver-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := newWorkspace(dir)
	if err != nil {
		return err
	}
	defer copyLog(w.browserLog)

	if err := configure(ctx, bin, w, sc); err != nil {
		return err
	}
	if host == hostInspector {
		return runInspector(ctx, bin, w, sc)
	}
	return runDriver(ctx, bin, w, sc)
}

// workspace is a run's private folders, and the environment that points mcp-broker at them.
type workspace struct {
	dir        string
	env        []string // the environment of every process the driver starts
	bridgeEnv  []string // the part of env that is the broker's own (what a bare host must pass)
	browserLog string
	bridgeLog  string // the bridge's log file, for hosts that drop its stderr
}

// newWorkspace makes a run's private config, runtime and cache folders, and puts the fake
// xdg-open first on PATH.
func newWorkspace(dir string) (workspace, error) {
	self, err := os.Executable()
	if err != nil {
		return workspace{}, err
	}
	binDir := filepath.Join(dir, "bin")
	for _, d := range []string{"config", "runtime", "cache", "bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return workspace{}, err
		}
	}
	if err := os.Symlink(self, filepath.Join(binDir, "xdg-open")); err != nil {
		return workspace{}, err
	}
	w := workspace{dir: dir, browserLog: filepath.Join(dir, "browser.log"), bridgeLog: filepath.Join(dir, "bridge.log")}
	w.bridgeEnv = []string{
		"MCP_BROKER_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"MCP_BROKER_SECRET_STORE=file",
		"MCP_BROKER_RUNTIME_DIR=" + filepath.Join(dir, "runtime"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"MCP_BROKER_LOG=debug",
		envBrowserLog + "=" + w.browserLog,
	}
	drop := map[string]bool{"PATH": true, "MCP_BROKER_LOG_FILE": true, envFollow: true}
	for _, kv := range w.bridgeEnv {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			w.env = append(w.env, kv)
		}
	}
	w.env = append(append(w.env, "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH")), w.bridgeEnv...)
	return w, nil
}

// copyLog puts a log a helper process wrote into the driver's stderr, which the suite keeps.
func copyLog(path string) {
	// No file: nothing was logged. An empty one: the browser may still be finishing a page.
	for range 10 {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		if len(b) > 0 {
			os.Stderr.Write(b)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
