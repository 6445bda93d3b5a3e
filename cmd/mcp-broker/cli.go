package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/opener"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitProblem = 3 // doctor found a blocking problem
)

// app is what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            osEnv
	exitCode       int
	// log, when set (by the bridge), replaces the default stderr logger.
	log *slog.Logger
}

// osEnv is what a run of mcp-broker takes from the process around it besides its arguments and
// standard streams: its environment, working folder, the user's folders, and the path of this
// program. main passes the process's own (processEnv); the tests pass their own, so that they
// run commands in process, many at once, without os.Setenv or os.Chdir.
//
// Some things stay the process's by nature: its pid and uid, the keychain (go-keyring holds one
// D-Bus connection per process), the browser pkg/browser starts, the exec that hands `demo` or
// the tray over to the other build, the tray app itself, and the OS's default config folder
// when no variable names one (see config.DirFrom). The tests that need those run the binary.
type osEnv struct {
	Getenv       func(string) string
	Getwd        func() (string, error)
	UserHomeDir  func() (string, error)
	UserCacheDir func() (string, error)
	// Executable returns the path of this program: Claude Code's entries run it, and the two
	// builds (see tray.go) look for each other beside it.
	Executable func() (string, error)
}

// processEnv is the osEnv of this process.
func processEnv() osEnv {
	return osEnv{
		Getenv:       os.Getenv,
		Getwd:        os.Getwd,
		UserHomeDir:  os.UserHomeDir,
		UserCacheDir: os.UserCacheDir,
		Executable:   os.Executable,
	}
}

// errSilent marks an error whose message was already printed.
var errSilent = errors.New("")

// usageError marks a mistake in the command line (exit 2), like the GitHub CLI's FlagError:
// the commands return it, and so do cobra's checks of arguments (usageArgs) and flags
// (SetFlagErrorFunc), so that run tells a usage mistake by its type, not by cobra's wording.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is mcp-broker short of its process: it runs the command that args name, with env for
// what it needs from the process around it, and returns the exit code. Each run builds its own
// commands and state, so that runs in one process (the tests') share nothing.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env osEnv) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return a.exitCode
	case errors.Is(err, errSilent):
		return exitError
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "mcp-broker: %v\nRun `mcp-broker --help` for usage.\n", err)
		return exitUsage
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "mcp-broker: cancelled")
		return 130
	}
	fmt.Fprintf(stderr, "mcp-broker: %v\n", err)
	if next := advice(err); next != "" {
		fmt.Fprintln(stderr, next)
	}
	return exitError
}

func (a *app) rootCmd() *cobra.Command {
	tray := &trayFlags{}
	root := &cobra.Command{
		Use:   "mcp-broker",
		Short: "Sign in to remote MCP servers and keep their tokens in the OS keychain",
		Long: `mcp-broker signs in to remote, OAuth-protected MCP servers (OAuth 2.1 with PKCE,
client credentials, or a static token) and keeps every secret in the OS keychain.
Without a command it starts the tray app (mcp-broker-tray, installed beside it) and
opens its main window; with --show timeline, its live traffic too (in the app already
running, if one is).

Add a server, sign in, check:
  mcp-broker servers add studio https://mcp.example.com/mcp
  mcp-broker login studio
  mcp-broker status

Signing in through your company's identity provider, once for all its servers:
  mcp-broker idp --help

Let Claude Code use it (the entry starts ` + "`mcp-broker bridge`" + ` and holds no secret):
  mcp-broker claude add studio

When a server misbehaves, ask what its discovery documents say:
  mcp-broker doctor https://mcp.example.com/mcp

New here? mcp-broker demo runs a demo server to sign in to.`,
		Version: buildVersion(),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tray.check(); err != nil {
				return err
			}
			return a.runTray(cmd, tray)
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	tray.add(root)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.AddCommand(a.serversCmd(), a.loginCmd(), a.logoutCmd(), a.statusCmd(), a.doctorCmd(), a.bridgeCmd())
	root.AddCommand(a.idpCmd())
	root.AddCommand(a.claudeCmd(), a.configCmd())
	root.AddCommand(a.demoCmd(), a.toolsCmd())
	root.AddCommand(a.reportCmd())
	root.AddCommand(a.trafficCmd())
	usageArgs(root)
	return root
}

// usageArgs makes the argument check of cmd and of every command below it return a
// usageError. A command without one takes any arguments, as cobra's own default does.
func usageArgs(cmd *cobra.Command) {
	check := cmd.Args
	if check == nil {
		check = cobra.ArbitraryArgs
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{err.Error()}
		}
		return nil
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// logger writes diagnostics to stderr at the level named by MCP_BROKER_LOG (debug, info, warn,
// error; default warn).
func (a *app) logger() *slog.Logger {
	if a.log != nil {
		return a.log
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: a.logLevel()}))
}

// logLevel is the level MCP_BROKER_LOG names, warn by default.
func (a *app) logLevel() slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.env.Getenv("MCP_BROKER_LOG"))); err != nil {
		level = slog.LevelWarn
	}
	return level
}

// broker opens the configuration and the secret store (see broker.Open), warning on stderr when
// secrets are kept in a file. The browser opener writes to stderr: in the bridge, stdout is the
// protocol.
func (a *app) broker(ctx context.Context) (*broker.Broker, error) {
	b, err := broker.Open(ctx, broker.OpenOptions{
		Getenv:  a.env.Getenv,
		Opener:  opener.System(a.stderr),
		Prompt:  a.stderr,
		Version: buildVersion(),
		Log:     a.logger(),
	})
	if err != nil {
		return nil, err
	}
	if b.SecretsInFile() {
		fmt.Fprintf(a.stderr, "WARNING: secrets are kept in an %s, not in the OS keychain.\n", b.SecretStore())
	}
	return b, nil
}

// readSecret reads a secret from standard input: one line typed without echo on a terminal,
// everything (trailing newline trimmed) from a pipe. Secrets never come from argv, where every
// user of the machine can read them.
func (a *app) readSecret(what string) (string, error) {
	if f, ok := a.stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(a.stderr, "%s (input is hidden): ", what)
		b, err := readPassword(f)
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", strings.ToLower(what), err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := io.ReadAll(io.LimitReader(a.stdin, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading the %s from standard input: %w", strings.ToLower(what), err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if strings.ContainsAny(s, "\r\n") || s == "" {
		return "", usageError{fmt.Sprintf("standard input must hold the %s on one line", strings.ToLower(what))}
	}
	return s, nil
}

// maxPrivateKey bounds a PEM private key read from standard input: an RSA key of 8192 bits is
// under 7 KB.
const maxPrivateKey = 64 << 10

// readPrivateKey reads a PEM private key from standard input, which must be a file or a pipe:
// pasted into a terminal, the key would show on the screen and in its scrollback.
func (a *app) readPrivateKey() (string, error) {
	if f, ok := a.stdin.(*os.File); ok && isTerminal(f) {
		return "", usageError{"--private-key-stdin reads the key from a file or a pipe, for example `--private-key-stdin < key.pem`"}
	}
	b, err := io.ReadAll(io.LimitReader(a.stdin, maxPrivateKey+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("reading the private key from standard input: %w", err)
	case len(b) > maxPrivateKey:
		return "", usageError{"standard input holds more than a private key"}
	case strings.TrimSpace(string(b)) == "":
		return "", usageError{"standard input holds no private key"}
	}
	return string(b), nil
}

// groupRunE is the RunE of a command that only groups subcommands: alone it shows its help;
// with an unknown subcommand it is a usage error (exit 2), where cobra would print the help
// and exit 0.
func groupRunE(known string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Sprintf("unknown command %q for %q: use %s", args[0], cmd.CommandPath(), known)}
		}
		return cmd.Help()
	}
}
