package broker

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// Keychain timeouts that Open uses when OpenOptions.KeychainTimeout is 0.
const (
	// commandKeychainTimeout bounds each keychain call of the command line and the bridge. No
	// unlock prompt is shown there, so a keychain that has not answered by then is wedged; a
	// locked keyring could otherwise block forever.
	commandKeychainTimeout = 15 * time.Second
	// interactiveKeychainTimeout bounds each keychain call of the tray, where the OS may show
	// its unlock prompt and a person needs time to type a password.
	interactiveKeychainTimeout = 2 * time.Minute
)

// OpenOptions says how Open opens a Broker. Its fields are what differs between the command
// line and the bridge on one side and the tray on the other; the zero value is the command
// line's.
type OpenOptions struct {
	// ConfigPath is the config file; "" means config.Path() (which honours
	// MCP_BROKER_CONFIG_DIR and XDG_CONFIG_HOME).
	ConfigPath string
	// Getenv reads the variables that choose the config folder and the secret store
	// (MCP_BROKER_CONFIG_DIR, XDG_CONFIG_HOME, MCP_BROKER_SECRET_STORE), and the proxy and CA
	// file ones (see NetworkFrom); nil means os.Getenv.
	// The command line passes the environment it was run with, so that its tests can run it
	// in process, each with its own folders.
	Getenv func(string) string
	// Interactive says a person is watching, as in the tray: the OS may show its keychain
	// unlock prompt, and each keychain call waits long enough for a password to be typed.
	// Without it (the command line, the bridge) a locked keychain fails at once with
	// secrets.ErrLocked: a bridge started by Claude Code must never wait on a prompt.
	Interactive bool
	// KeychainTimeout bounds each keychain call; 0 means 15 seconds, or 2 minutes when
	// Interactive.
	KeychainTimeout time.Duration
	// Opener opens the browser for a sign-in; nil means none: the sign-in URL is written to
	// Prompt for a person to open.
	Opener opener.Opener
	// Prompt receives the lines a person must read during sign-in; nil discards them. Never
	// stdout in the bridge.
	Prompt io.Writer
	// Version is reported to authorization servers on registration.
	Version string
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// Open opens the Broker the user configured: it reads the config file, opens the secret store
// that the file's secret_store names (MCP_BROKER_SECRET_STORE overrides it) and builds the
// Broker on both, with the network settings (proxy, CA file) of the file and the environment.
// The command line, the bridge and the tray all open theirs here, so that they agree on which
// file and which store hold a server's settings and secrets, and reach servers the same way.
//
// Open does not touch the keychain: a locked or missing one is reported by the first call that
// needs a secret. Errors reading the config file are returned as config.Load words them (they
// name the file and, for a typo, its line and column).
func Open(ctx context.Context, opts OpenOptions) (*Broker, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	f, path, err := loadConfig(opts.ConfigPath, getenv)
	if err != nil {
		return nil, err
	}
	network, err := networkOf(f, getenv)
	if err != nil {
		return nil, err
	}
	sopts := storeOptions(f.SecretStore, opts)
	sopts.Getenv = getenv
	store, err := secrets.Open(ctx, sopts)
	if err != nil {
		return nil, err
	}
	return New(Options{
		ConfigPath: path,
		Secrets:    store,
		Network:    network,
		Opener:     opts.Opener,
		Prompt:     opts.Prompt,
		Version:    opts.Version,
		Log:        opts.Log,
	})
}

// storeOptions are the secret store options for a config file whose secret_store is kind.
func storeOptions(kind string, opts OpenOptions) secrets.Options {
	timeout := opts.KeychainTimeout
	if timeout <= 0 {
		timeout = commandKeychainTimeout
		if opts.Interactive {
			timeout = interactiveKeychainTimeout
		}
	}
	return secrets.Options{Kind: kind, Timeout: timeout, UnlockPrompt: opts.Interactive}
}

// SecretsInFile reports whether this Broker keeps secrets in the file store (secret_store
// "file", or MCP_BROKER_SECRET_STORE=file) rather than in the OS keychain: the command line
// warns about it on every run.
func (b *Broker) SecretsInFile() bool {
	_, ok := b.index.Store.(*secrets.FileStore)
	return ok
}
