package secrets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// EnvStore names the environment variable that picks the store, overriding
// the config file: "keychain" or "file".
const EnvStore = "MCP_BROKER_SECRET_STORE"

// Store kinds for Options.Kind and EnvStore.
const (
	KindKeychain = "keychain"
	KindFile     = "file"
)

// Options say which Store Open returns.
type Options struct {
	// Kind is KindKeychain (the default when empty) or KindFile, normally
	// the config file's secret_store. EnvStore overrides it.
	Kind string
	// FileDir is the file store's folder; empty means <config dir>/secrets.
	FileDir string
	// Timeout bounds each keychain call; 0 means DefaultTimeout.
	Timeout time.Duration
	// UnlockPrompt allows the OS unlock prompt (see WithUnlockPrompt).
	UnlockPrompt bool
	// Getenv reads EnvStore and, for the file store's default folder, the config folder's
	// variables (see config.DirFrom); nil means os.Getenv. A caller that runs mcp-broker in
	// an environment other than its process's, as the command line's tests do, passes its own.
	Getenv func(string) string
}

// Open returns the Store the user chose. The file store is used only when
// chosen explicitly; a keychain that does not work is reported by its calls,
// never replaced by the file store behind the user's back. It does not touch
// the keychain; ctx is for stores whose set-up may block.
func Open(ctx context.Context, opts Options) (Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	kind, source := opts.Kind, "secret_store in the config file"
	if env := getenv(EnvStore); env != "" {
		kind, source = env, EnvStore
	}
	switch kind {
	case "", KindKeychain:
		var kopts []KeychainOption
		if opts.UnlockPrompt {
			kopts = append(kopts, WithUnlockPrompt())
		}
		return NewKeychain(opts.Timeout, kopts...), nil
	case KindFile:
		dir := opts.FileDir
		if dir == "" {
			cdir, err := config.DirFrom(getenv)
			if err != nil {
				return nil, fmt.Errorf("finding the file secret store: %w", err)
			}
			dir = filepath.Join(cdir, "secrets")
		}
		return NewFileStore(dir)
	default:
		return nil, fmt.Errorf("unknown secret store %q (from %s): use %q or %q", kind, source, KindKeychain, KindFile)
	}
}
