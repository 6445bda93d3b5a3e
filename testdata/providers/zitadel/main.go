// Command zitadel-op runs the OpenID provider example of github.com/zitadel/oidc/v3
// (example/server: its exampleop handlers and in-memory storage) for mcp-broker's tests with
// real authorization servers (internal/providers).
//
// It differs from the library's example/server/main.go only where a test needs it to:
//
//   - it listens on a loopback address (-listen, default 127.0.0.1:0, a free port) rather
//     than on every interface, and its issuer is http://<that address> (no trailing slash);
//     it prints "issuer <URL>" on standard output once it serves;
//   - one pre-registered client, "native": a public client (PKCE, no secret) with the
//     loopback redirect URI http://127.0.0.1/callback, which matches any port (RFC 8252
//     §7.3), and the authorization-code and refresh-token grants (and the device grant,
//     below). The library has no dynamic client registration (RFC 7591), so this is how a
//     client gets in;
//   - that client gets JWT access tokens (a property every zitadel client has; the
//     example's client type only has no setter for it), so that a resource server checks
//     them with the provider's JWKS;
//   - access tokens live -access-token-ttl (default 20s) instead of the example's fixed
//     5 minutes, so that a test sees them expire. Everything else, refresh-token rotation
//     included, is the example's own;
//   - the native client may also use the device authorization grant (RFC 8628), which the
//     example serves (device_authorization_endpoint, its user-code pages under /device) but
//     gives only to its DeviceClient, a confidential one; with offline_access it gets a
//     refresh token there too. Two slips of the example's storage in that grant are mended,
//     each where it shows: it keeps the refresh token of a device sign-in without its client
//     (so the library refuses every refresh of it: "invalid_grant"), and it takes the login
//     page's username for the subject, where the browser sign-in has the user's ID.
//
// The example's users sign in on its login page; test-user2 / verysecure is one of them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientID is the pre-registered public client.
const ClientID = "native"

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "the loopback address to serve on")
	ttl := flag.Duration("access-token-ttl", 20*time.Second, "how long an access token lives")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()
	if err := run(*listen, *ttl, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "zitadel-op:", err)
		os.Exit(1)
	}
}

func run(listen string, ttl time.Duration, verbose bool) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("reading -listen: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %s: only a loopback IP address is allowed", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String()

	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	storage.RegisterClients(storage.NativeClient(ClientID, "http://127.0.0.1/callback"))
	users := storage.NewUserStore(issuer)
	store := &shortLived{Storage: storage.NewStorage(users), users: users, ttl: ttl}
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, store, logger, false), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Println("issuer", issuer)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shortLived is the example's storage with shorter-lived access tokens and JWT access tokens
// for the native client, which may use the device grant too.
type shortLived struct {
	*storage.Storage
	users storage.UserStore // the example's accounts, which Storage keeps to itself
	ttl   time.Duration
}

// CreateAccessToken implements op.Storage: the example's token, with an expiry ttl from now
// (what the JWT's exp and the token response's expires_in say).
func (s *shortLived) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, _, err := s.Storage.CreateAccessToken(ctx, req)
	return id, time.Now().Add(s.ttl), err
}

// CreateAccessAndRefreshTokens implements op.Storage, like CreateAccessToken; the example
// rotates the refresh token on every refresh and forgets the old one. It learns the client of
// a new refresh token only from its own authorization requests, so a device sign-in is handed
// over as one: else the refresh token would belong to no client, and every refresh fail.
func (s *shortLived) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	if d, ok := req.(*op.DeviceAuthorizationState); ok && current == "" {
		req = &storage.AuthRequest{ApplicationID: d.ClientID, UserID: d.Subject, Scopes: d.Scopes, ResponseType: oidc.ResponseTypeCode}
	}
	id, refresh, _, err := s.Storage.CreateAccessAndRefreshTokens(ctx, req, current)
	return id, refresh, time.Now().Add(s.ttl), err
}

// GetClientByClientID implements op.Storage: the native client issues JWT access tokens.
func (s *shortLived) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || id != ClientID {
		return c, err
	}
	return jwtClient{c}, nil
}

// CompleteDeviceAuthorization is the example's, with the subject the user's ID (as in the
// browser sign-in) rather than the username the device login page hands it.
func (s *shortLived) CompleteDeviceAuthorization(ctx context.Context, userCode, username string) error {
	u := s.users.GetUserByUsername(username)
	if u == nil {
		return fmt.Errorf("no user %q", username)
	}
	return s.Storage.CompleteDeviceAuthorization(ctx, userCode, u.ID)
}

// jwtClient is the native client: JWT access tokens, and the device grant besides its own.
type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (c jwtClient) GrantTypes() []oidc.GrantType {
	return append(slices.Clip(c.Client.GrantTypes()), oidc.GrantTypeDeviceCode)
}
