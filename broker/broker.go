package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/lock"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// Defaults for Options.
const (
	// DefaultSignInTimeout bounds a browser sign-in.
	DefaultSignInTimeout = 5 * time.Minute
	// callbackPath is the loopback redirect URI's path.
	callbackPath = "/callback"
	// lockWait bounds how long a token request waits for another process's refresh.
	lockWait = 30 * time.Second
)

// Options configures a Broker. Only Secrets is required; the rest have working defaults.
type Options struct {
	// ConfigPath is the config file; default config.Path().
	ConfigPath string
	// Secrets is where every secret lives.
	Secrets secrets.Store
	// HTTP is used for every request to servers; default httpclient.New with a 30 s timeout
	// and Network. Whatever client it is, the Broker uses a copy guarded by httpclient.Guard.
	HTTP *http.Client
	// Network is how to reach servers (proxy, certificate authorities): the default HTTP
	// client's, and what Network returns for the program's other clients; nil means the
	// environment's proxy, else the system's (see httpclient.Settings). Open sets it from
	// the configuration.
	Network *httpclient.Network
	// Opener opens the user's browser; default opener.System(os.Stderr) set by the caller.
	Opener opener.Opener
	// Prompt receives the lines a person must read during sign-in (the URL to open). Never stdout
	// in the bridge. Default io.Discard.
	Prompt io.Writer
	// SignInTimeout bounds a browser sign-in; default 5 minutes.
	SignInTimeout time.Duration
	// Version is reported to authorization servers on registration.
	Version string
	// Log receives diagnostics; default discards.
	Log *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Broker signs in to configured servers and hands out their credentials. It is safe for use by
// several goroutines, and by several processes sharing the same config folder and secret store.
type Broker struct {
	configPath    string
	secrets       secrets.Store // index, as a Store
	index         *secrets.Indexed
	http          *http.Client
	network       *httpclient.Network
	opener        opener.Opener
	prompt        io.Writer
	signInTimeout time.Duration
	version       string
	log           *slog.Logger
	now           func() time.Time
	stepUps       stepUps
	refusedJWTs   refusedJWTs
	dpop          dpopKeys
	// devicePoll is the clock of device sign-ins' polling: now, and real waits (tests wait
	// on a fake clock).
	devicePoll oauth.DevicePoll
}

// New returns a Broker.
func New(opts Options) (*Broker, error) {
	if opts.Secrets == nil {
		return nil, errors.New("broker: no secret store")
	}
	// Every secret goes through the index, so that a server's registrations can be found
	// without state.json (see secretGroup).
	index := secrets.NewIndexed(opts.Secrets, secretGroup)
	b := &Broker{
		configPath: opts.ConfigPath, secrets: index, index: index, http: opts.HTTP, network: opts.Network, opener: opts.Opener,
		prompt: opts.Prompt, signInTimeout: opts.SignInTimeout, version: opts.Version, log: opts.Log, now: opts.Now,
	}
	if b.configPath == "" {
		p, err := config.Path()
		if err != nil {
			return nil, err
		}
		b.configPath = p
	}
	if b.network == nil {
		n, err := httpclient.NewNetwork(httpclient.Settings{})
		if err != nil {
			return nil, err
		}
		b.network = n
	}
	if b.http == nil {
		b.http = httpclient.New(httpclient.WithTimeout(30*time.Second), httpclient.WithNetwork(b.network))
	} else {
		b.http = httpclient.Guard(b.http)
	}
	if b.prompt == nil {
		b.prompt = io.Discard
	}
	if b.signInTimeout <= 0 {
		b.signInTimeout = DefaultSignInTimeout
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.devicePoll = oauth.DevicePoll{Now: b.now}
	return b, nil
}

// ConfigPath returns the config file this Broker uses.
func (b *Broker) ConfigPath() string { return b.configPath }

// SecretStore describes where secrets are kept, for people.
func (b *Broker) SecretStore() string { return b.secrets.Describe() }

// Server returns the configured server of that name.
func (b *Broker) Server(name string) (config.Server, error) {
	srv, err := b.server(name)
	return srv, wrap(OpConfig, name, err)
}

// server is Server, with errors that do not name the server: see OpError.
func (b *Broker) server(name string) (config.Server, error) {
	f, err := config.Load(b.configPath)
	if err != nil {
		return config.Server{}, err
	}
	s, ok := f.Server(name)
	if !ok {
		return config.Server{}, &UnknownServerError{Name: name}
	}
	return *s, nil
}

// Servers returns every configured server, sorted by name.
func (b *Broker) Servers() ([]config.Server, error) {
	f, err := config.Load(b.configPath)
	if err != nil {
		return nil, wrap(OpConfig, "", err)
	}
	return f.Servers, nil
}

// fetcher returns the discovery client, sharing our HTTP client.
func (b *Broker) fetcher() *discovery.Fetcher {
	return &discovery.Fetcher{HTTP: b.http}
}

// withServerLock runs fn under the server's cross-process lock.
func (b *Broker) withServerLock(ctx context.Context, name string, wait time.Duration, fn func() error) error {
	path, err := b.lockPath(name)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	release, err := lock.Acquire(lctx, path)
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			return hint.With(fmt.Errorf("another mcp-broker process is signing in or refreshing and did not finish within %s", wait), hint.TryAgain)
		}
		return err
	}
	defer release()
	return fn()
}

func (b *Broker) lockPath(name string) (string, error) {
	if err := config.ValidateName(name); err != nil {
		return "", err
	}
	return lockFile(b.configPath, name), nil
}

// UnknownServerError says no server of that name is configured. Its text names the server.
type UnknownServerError struct{ Name string }

func (e *UnknownServerError) Error() string {
	return fmt.Sprintf("no server named %q is configured", e.Name)
}

// Hint is the next step: look at the servers, or add this one.
func (e *UnknownServerError) Hint() hint.Hint { return hint.AddServer }

// ErrSignInRequired matches (errors.Is) every SignInRequiredError.
var ErrSignInRequired = errors.New("sign-in required")

// SignInRequiredError says a server has no usable credential and a person must sign in. Its
// text does not name the server: the OpError around it does.
type SignInRequiredError struct {
	Server string
	Reason string // why, e.g. "the sign-in has expired or was revoked"
}

func (e *SignInRequiredError) Error() string {
	msg := "sign-in required"
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg
}

// Hint is the next step: sign in. (A bearer server without its token has hint.StoreToken
// attached around it.)
func (e *SignInRequiredError) Hint() hint.Hint { return hint.SignIn }

// Is makes errors.Is(err, ErrSignInRequired) true.
func (e *SignInRequiredError) Is(target error) bool { return target == ErrSignInRequired }
