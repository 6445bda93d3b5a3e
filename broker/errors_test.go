package broker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestPublicMethodsWrapTheirErrorsOnce calls every public method of the Broker (and ReadStatus)
// so that it fails, and checks the error: an *OpError at the top (wrapped once, at the
// method's boundary) with the method's operation and server, whose text names the server
// exactly once, with the package's typed errors and the hints still found through it.
func TestPublicMethodsWrapTheirErrorsOnce(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config.json")
	store := secrets.NewMemory()
	b, err := broker.New(broker.Options{ConfigPath: good, Secrets: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const url = "https://mcp.example.com/mcp"
	for _, srv := range []config.Server{
		{Name: "studio", URL: url, Auth: config.AuthOAuth},
		{Name: "plain", URL: url, Auth: config.AuthNone},
		{Name: "keyed", URL: url, Auth: config.AuthBearer},
	} {
		secret := ""
		if srv.Auth == config.AuthBearer {
			secret = "the-key"
		}
		if err := b.AddServer(ctx, srv, secret); err != nil {
			t.Fatal(err)
		}
	}
	// The bearer server's token goes missing (another process forgot it).
	if err := store.Delete(ctx, "static-token/keyed"); err != nil {
		t.Fatal(err)
	}
	// A server added for a URL of its own (bridge --url) whose name another URL has taken.
	const loneURL = "https://lone.example.com/mcp"
	taken := config.Server{Name: broker.URLServerName(loneURL), URL: "https://other.example.com/mcp", Auth: config.AuthOAuth}
	if err := b.AddServer(ctx, taken, ""); err != nil {
		t.Fatal(err)
	}

	damaged := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(damaged, []byte(`{"servers": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad, err := broker.New(broker.Options{ConfigPath: damaged, Secrets: secrets.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}

	var unknown *broker.UnknownServerError
	var signIn *broker.SignInRequiredError
	var invalid *config.InvalidServerError
	var unknownIdP *config.UnknownIdPError
	tests := []struct {
		name   string
		call   func() error
		op     broker.Op
		server string
		as     any       // a typed error errors.As must find through the OpError, or nil
		hint   hint.Hint // the next step attached
	}{
		{"Server, unknown", func() error { _, err := b.Server("nope"); return err }, broker.OpConfig, "nope", &unknown, hint.AddServer},
		{"Servers, damaged config", func() error { _, err := bad.Servers(); return err }, broker.OpConfig, "", nil, hint.None},
		{"Status, damaged config", func() error { _, err := bad.Status(); return err }, broker.OpStatus, "", nil, hint.None},
		{"ReadStatus, damaged config", func() error { _, err := broker.ReadStatus(damaged, time.Now()); return err }, broker.OpStatus, "", nil, hint.None},
		{"Login, unknown", func() error { _, err := b.Login(ctx, "nope", broker.LoginOptions{}); return err }, broker.OpSignIn, "nope", &unknown, hint.AddServer},
		{"Login, no authorization", func() error { _, err := b.Login(ctx, "plain", broker.LoginOptions{}); return err }, broker.OpSignIn, "plain", nil, hint.None},
		{"Login, static token", func() error { _, err := b.Login(ctx, "keyed", broker.LoginOptions{}); return err }, broker.OpSignIn, "keyed", nil, hint.StoreToken},
		{"StepUp, no authorization", func() error {
			_, err := b.StepUp(ctx, "plain", "tools/call x", "admin", broker.LoginOptions{})
			return err
		}, broker.OpSignIn, "plain", nil, hint.None},
		{"Logout, unknown", func() error { _, err := b.Logout(ctx, "nope"); return err }, broker.OpSignOut, "nope", &unknown, hint.AddServer},
		{"Credential, not signed in", func() error { _, err := b.Credential(ctx, "studio"); return err }, broker.OpCredential, "studio", &signIn, hint.SignIn},
		{"Credential, static token gone", func() error { _, err := b.Credential(ctx, "keyed"); return err }, broker.OpCredential, "keyed", &signIn, hint.StoreToken},
		{"Refresh, not signed in", func() error { _, err := b.Refresh(ctx, "studio", "Bearer old"); return err }, broker.OpCredential, "studio", &signIn, hint.SignIn},
		{"Refresh, static token rejected", func() error { _, err := b.Refresh(ctx, "keyed", "Bearer old"); return err }, broker.OpCredential, "keyed", &signIn, hint.StoreToken},
		{"AddServer, invalid setting", func() error {
			return b.AddServer(ctx, config.Server{Name: "studio", URL: url, Auth: "magic"}, "")
		}, broker.OpAdd, "studio", &invalid, hint.None},
		{"AddServer, bearer without its token", func() error {
			return b.AddServer(ctx, config.Server{Name: "fresh", URL: url, Auth: config.AuthBearer}, "")
		}, broker.OpAdd, "fresh", nil, hint.StoreToken},
		{"AddServer, invalid name", func() error {
			return b.AddServer(ctx, config.Server{Name: "-x", URL: url, Auth: config.AuthOAuth}, "")
		}, broker.OpAdd, "", nil, hint.None},
		{"RemoveServer, unknown", func() error { return b.RemoveServer(ctx, "nope") }, broker.OpRemove, "nope", &unknown, hint.AddServer},
		{"EnsureURLServer, name taken", func() error { _, err := b.EnsureURLServer(ctx, loneURL); return err }, broker.OpAdd, taken.Name, nil, hint.None},
		{"AddIdP, invalid issuer", func() error {
			return b.AddIdP(ctx, config.IdP{Name: "corp", Issuer: "http://idp.example.com", ClientID: "c"}, "")
		}, broker.OpIdP, "corp", nil, hint.None},
		{"AddIdP, invalid name", func() error { return b.AddIdP(ctx, config.IdP{Name: "-x"}, "") }, broker.OpIdP, "", nil, hint.None},
		{"IdPLogin, unknown", func() error { _, err := b.IdPLogin(ctx, "nope", broker.IdPLoginOptions{}); return err }, broker.OpIdP, "nope", &unknownIdP, hint.None},
		{"IdPLogout, unknown", func() error { return b.IdPLogout(ctx, "nope") }, broker.OpIdP, "nope", &unknownIdP, hint.None},
		{"RemoveIdP, unknown", func() error { return b.RemoveIdP(ctx, "nope") }, broker.OpIdP, "nope", &unknownIdP, hint.None},
		{"IdPs, damaged config", func() error { _, err := bad.IdPs(); return err }, broker.OpStatus, "", nil, hint.None},
		{"ReadIdPStatus, damaged config", func() error { _, err := broker.ReadIdPStatus(damaged, time.Now()); return err }, broker.OpStatus, "", nil, hint.None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			op, ok := err.(*broker.OpError)
			if !ok {
				t.Fatalf("error %v (%T) is not an *OpError", err, err)
			}
			if op.Op != tt.op || op.Server != tt.server {
				t.Errorf("Op %q, Server %q; want %q, %q", op.Op, op.Server, tt.op, tt.server)
			}
			var inner *broker.OpError
			if errors.As(op.Err, &inner) {
				t.Errorf("wrapped twice: %v", err)
			}
			if errors.Unwrap(err) != op.Err {
				t.Error("Unwrap does not give the cause")
			}
			if tt.server != "" {
				if n := strings.Count(err.Error(), tt.server); n != 1 {
					t.Errorf("error %q names %q %d times, want once", err, tt.server, n)
				}
				if strings.Contains(op.Err.Error(), tt.server+": ") {
					t.Errorf("the cause %q starts again with the server's name", op.Err)
				}
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %v: errors.As(%T) finds nothing", err, tt.as)
			}
			if h := hint.Of(err); h != tt.hint {
				t.Errorf("hint %v, want %v", h, tt.hint)
			}
			if strings.Contains(err.Error(), "mcp-broker ") || strings.Contains(err.Error(), "--") {
				t.Errorf("error %q gives command-line advice in its text", err)
			}
		})
	}
}

// TestOpErrorText: "NAME: cause", the cause alone without a server or when it names the server.
func TestOpErrorText(t *testing.T) {
	cause := errors.New("reading the access token: the keychain is locked")
	tests := []struct {
		err  *broker.OpError
		want string
	}{
		{&broker.OpError{Op: broker.OpCredential, Server: "studio", Err: cause}, "studio: reading the access token: the keychain is locked"},
		{&broker.OpError{Op: broker.OpStatus, Err: cause}, "reading the access token: the keychain is locked"},
		{&broker.OpError{Op: broker.OpSignIn, Server: "nope", Err: &broker.UnknownServerError{Name: "nope"}}, `no server named "nope" is configured`},
		{&broker.OpError{Op: broker.OpSignIn, Server: "s", Err: &broker.SignInRequiredError{Server: "s", Reason: "not signed in"}}, "s: sign-in required (not signed in)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestSignInHints: where an error used to end with a command to run, it carries the hint for
// that step instead, for the edges to put in their words.
func TestSignInHints(t *testing.T) {
	tests := []struct {
		name string
		o    envOptions
		want hint.Hint
	}{
		{"no dynamic registration", envOptions{as: authserver.Options{DisableDCR: true}}, hint.ClientID},
		{"no dynamic registration, metadata documents", envOptions{as: authserver.Options{DisableDCR: true, CIMD: true}}, hint.ClientIDOrMetadataURL},
		{"client credentials without a secret", envOptions{
			as:     authserver.Options{ClientCredentials: true},
			server: config.Server{Auth: config.AuthClientCredentials, ClientID: "pre"},
		}, hint.ClientSecret},
		{"no authorization asked", envOptions{mcp: mcpserver.Options{NoAuth: true}}, hint.NoAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.o)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			_, err := e.b.Login(ctx, "demo", broker.LoginOptions{})
			if err == nil {
				t.Fatal("sign-in succeeded")
			}
			if h := hint.Of(err); h != tt.want {
				t.Errorf("Login = %v with hint %v, want %v", err, h, tt.want)
			}
			if strings.Contains(err.Error(), "mcp-broker ") || strings.Contains(err.Error(), "--") {
				t.Errorf("error %q gives command-line advice in its text", err)
			}
		})
	}
}
