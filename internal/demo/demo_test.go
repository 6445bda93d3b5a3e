package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

func start(t *testing.T, opts demo.Options) *demo.Demo {
	t.Helper()
	if opts.MCPAddr == "" {
		opts.MCPAddr = "127.0.0.1:0"
	}
	if opts.AuthAddr == "" {
		opts.AuthAddr = "127.0.0.1:0"
	}
	d, err := demo.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("closing the demo: %v", err)
		}
	})
	return d
}

// allowClicker is an opener.Opener that plays a person in a browser: it
// loads the authorization URL, finds the consent form and submits it with
// Allow, following the redirect back to the broker's loopback server. Its
// goroutines end with their request chain; wait collects their errors.
type allowClicker struct {
	t  *testing.T
	wg sync.WaitGroup
	mu sync.Mutex
	// pages holds the consent pages seen, for checks on what they show.
	pages []string
}

func (c *allowClicker) Open(ctx context.Context, u string) error {
	c.wg.Go(func() {
		page, err := clickAllow(ctx, u)
		if err != nil {
			c.t.Errorf("clicking Allow: %v", err)
		}
		c.mu.Lock()
		c.pages = append(c.pages, page)
		c.mu.Unlock()
	})
	return nil
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	requestID  = regexp.MustCompile(`name="request_id" value="([^"]+)"`)
)

// clickAllow loads the consent page at authURL and submits it with Allow. It
// returns the consent page.
func clickAllow(ctx context.Context, authURL string) (string, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	a, id := formAction.FindStringSubmatch(page), requestID.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || a == nil || id == nil {
		return page, fmt.Errorf("no consent form (HTTP %d): %.300s", resp.StatusCode, page)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(a[1]))
	if err != nil {
		return page, err
	}
	form := url.Values{"request_id": {html.UnescapeString(id[1])}, "decision": {"allow"}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return page, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return page, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !strings.Contains(resp.Request.URL.Path, "/callback") || resp.StatusCode != http.StatusOK {
		return page, fmt.Errorf("ended at %s with HTTP %d, not at the loopback callback", resp.Request.URL.Redacted(), resp.StatusCode)
	}
	return page, nil
}

// newBroker returns a broker with its own config folder and an in-memory
// secret store, signing in through opener.
func newBroker(t *testing.T, store secrets.Store, o *allowClicker) *broker.Broker {
	t.Helper()
	b, err := broker.New(broker.Options{
		ConfigPath:    filepath.Join(t.TempDir(), "config.json"),
		Secrets:       store,
		Opener:        o,
		SignInTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// whoami calls the demo's whoami tool with the broker's credential.
func whoami(t *testing.T, ctx context.Context, b *broker.Broker, mcpURL string) mcpserver.WhoAmI {
	t.Helper()
	cred, err := b.Credential(ctx, demo.ServerName)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transport.NewStreamableHTTP(mcpURL, transport.WithHTTPHeaders(map[string]string{cred.Header: cred.Value}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "demo-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize with the broker's token: %v", err)
	}
	call := mcp.CallToolRequest{}
	call.Params.Name = "whoami"
	res, err := c.CallTool(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	var who mcpserver.WhoAmI
	raw, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(raw, &who); err != nil || who.ClientID == "" {
		t.Fatalf("whoami result %s (%v)", raw, err)
	}
	return who
}

// TestSignInThroughConsentPage is the demo as a newcomer meets it: start it,
// add it to the broker, sign in by clicking Allow, call a tool.
func TestSignInThroughConsentPage(t *testing.T) {
	d := start(t, demo.Options{})
	for name, u := range map[string]string{"MCP": d.MCPURL(), "SSE": d.SSEURL(), "AS": d.AuthURL()} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("%s URL %q is not on 127.0.0.1", name, u)
		}
	}
	if notes := d.Notes(); len(notes) != 0 {
		t.Errorf("notes for explicit addresses: %q", notes)
	}
	o := &allowClicker{t: t}
	b := newBroker(t, secrets.NewMemory(), o)
	srv, err := d.AddTo(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Server(demo.ServerName); got.URL != d.MCPURL() || got.ClientID != demo.ClientID || !reflect.DeepEqual(got, srv) {
		t.Errorf("configured %+v, AddTo returned %+v", got, srv)
	}

	res, err := b.Login(t.Context(), demo.ServerName, broker.LoginOptions{})
	o.wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Issuer != d.AuthURL() || res.ClientID != demo.ClientID {
		t.Errorf("signed in with %+v", res)
	}
	if len(o.pages) != 1 || !strings.Contains(o.pages[0], demo.ClientName) || !strings.Contains(o.pages[0], d.MCPURL()) {
		t.Errorf("the consent page must name the client and the resource: %q", o.pages)
	}
	who := whoami(t, t.Context(), b, d.MCPURL())
	if who.ClientID != demo.ClientID || who.Resource != d.MCPURL() || !strings.Contains(strings.Join(who.Scopes, " "), "mcp:read") {
		t.Errorf("whoami = %+v", who)
	}
}

// TestRestartKeepsTheEntryWorking restarts the demo on the same ports, as
// `mcp-broker demo` does on its default ports: the entry still points at it,
// the stale tokens are gone, and signing in again works without a dynamic
// registration (which the new in-memory server would not know).
func TestRestartKeepsTheEntryWorking(t *testing.T) {
	free := testenv.FreeAddrs(t, 2)
	opts := demo.Options{MCPAddr: free[0], AuthAddr: free[1]}
	store := secrets.NewMemory()
	o := &allowClicker{t: t}
	b := newBroker(t, store, o)

	d1, err := demo.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d1.AddTo(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Login(t.Context(), demo.ServerName, broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	o.wg.Wait()
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}

	d2 := start(t, opts)
	if d2.MCPURL() != d1.MCPURL() || d2.AuthURL() != d1.AuthURL() {
		t.Fatalf("the restarted demo moved: %s %s, was %s %s", d2.MCPURL(), d2.AuthURL(), d1.MCPURL(), d1.AuthURL())
	}
	if _, err := d2.AddTo(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Credential(t.Context(), demo.ServerName); !errors.Is(err, broker.ErrSignInRequired) {
		t.Errorf("after a restart the old token must be gone: %v", err)
	}
	if _, err := b.Login(t.Context(), demo.ServerName, broker.LoginOptions{}); err != nil {
		t.Fatalf("signing in to the restarted demo: %v", err)
	}
	o.wg.Wait()
	whoami(t, t.Context(), b, d2.MCPURL())
}

// TestDynamicRegistration checks that clients other than the broker (Claude
// Code, the MCP Inspector) can register themselves with a loopback redirect
// URI.
func TestDynamicRegistration(t *testing.T) {
	d := start(t, demo.Options{})
	var meta struct {
		RegistrationEndpoint string `json:"registration_endpoint"`
	}
	resp, err := http.Get(d.AuthURL() + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta.RegistrationEndpoint == "" {
		t.Fatal("no registration endpoint in the metadata")
	}
	for _, tt := range []struct {
		redirect string
		want     int
	}{
		{"http://127.0.0.1:33418/callback", http.StatusCreated},
		{"http://localhost:6274/oauth/callback", http.StatusCreated},
		{"http://192.0.2.1/callback", http.StatusBadRequest},
	} {
		body := fmt.Sprintf(`{"client_name":"test","redirect_uris":[%q],"token_endpoint_auth_method":"none"}`, tt.redirect)
		resp, err := http.Post(meta.RegistrationEndpoint, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("registering %s: HTTP %d, want %d", tt.redirect, resp.StatusCode, tt.want)
		}
	}
	// The MCP server names the authorization server in its metadata.
	resp, err = http.Get(strings.Replace(d.MCPURL(), "/mcp", "/.well-known/oauth-protected-resource/mcp", 1))
	if err != nil {
		t.Fatal(err)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	json.NewDecoder(resp.Body).Decode(&prm)
	resp.Body.Close()
	if prm.Resource != d.MCPURL() || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != d.AuthURL() {
		t.Errorf("protected resource metadata %+v", prm)
	}
}

// fakeRegistry is a Registry over a plain list, to check what AddTo changes.
type fakeRegistry struct {
	servers []config.Server
	added   []config.Server
	logouts []string
}

func (r *fakeRegistry) Servers() ([]config.Server, error) { return r.servers, nil }
func (r *fakeRegistry) AddServer(_ context.Context, s config.Server, secret string) error {
	if secret != "" {
		return errors.New("the demo entry has no secret")
	}
	r.added = append(r.added, s)
	return nil
}
func (r *fakeRegistry) Logout(_ context.Context, name string) (*broker.LogoutResult, error) {
	r.logouts = append(r.logouts, name)
	return &broker.LogoutResult{Server: name}, nil
}

func TestAddToExistingEntries(t *testing.T) {
	d := start(t, demo.Options{})
	tests := []struct {
		name       string
		existing   []config.Server
		wantAdded  bool
		wantLogout bool
	}{
		{name: "none", wantAdded: true},
		{name: "other servers only", existing: []config.Server{{Name: "studio", URL: "https://mcp.example.com/mcp"}}, wantAdded: true},
		{name: "an earlier demo on other ports", existing: []config.Server{{Name: "demo", URL: "http://127.0.0.1:40000/mcp", ClientID: demo.ClientID}}, wantAdded: true, wantLogout: true},
		{name: "added by hand at this URL", existing: []config.Server{{Name: "demo", URL: d.MCPURL()}}, wantAdded: true, wantLogout: true},
		{name: "someone's real server", existing: []config.Server{{Name: "demo", URL: "https://demo.example.com/mcp"}}},
		{name: "someone's local server", existing: []config.Server{{Name: "demo", URL: "http://localhost:3000/mcp"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRegistry{servers: tt.existing}
			srv, err := d.AddTo(t.Context(), r)
			if !tt.wantAdded {
				var nt *demo.NameTakenError
				if !errors.As(err, &nt) || nt.URL != tt.existing[0].URL || !strings.Contains(err.Error(), "mcp-broker servers remove demo") {
					t.Errorf("AddTo = %v, want a NameTakenError saying what to do", err)
				}
				if len(r.added) != 0 || len(r.logouts) != 0 {
					t.Errorf("AddTo changed the configuration: added %v, logged out %v", r.added, r.logouts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.added) != 1 || !reflect.DeepEqual(r.added[0], srv) || srv.URL != d.MCPURL() || srv.ClientID != demo.ClientID || srv.Auth != config.AuthOAuth {
				t.Errorf("added %+v, returned %+v", r.added, srv)
			}
			if got := len(r.logouts) == 1; got != tt.wantLogout {
				t.Errorf("logouts %v, want a logout: %v", r.logouts, tt.wantLogout)
			}
		})
	}
}

// TestContextStopsTheDemo checks the tray's way of stopping the demo:
// cancelling the context given to Start.
func TestContextStopsTheDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	d, err := demo.Start(ctx, demo.Options{MCPAddr: "127.0.0.1:0", AuthAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-d.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop when its context was cancelled")
	}
	if err := d.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close after stop = %v", err)
	}
	for _, u := range []string{d.MCPURL(), d.AuthURL()} {
		pu, _ := url.Parse(u)
		if c, err := net.Dial("tcp", pu.Host); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", u)
		}
	}

	done, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if _, err := demo.Start(done, demo.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled context = %v", err)
	}
}

func TestStartRefusesNonLoopbackAndBusyExplicitPorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, opts := range []demo.Options{
		{MCPAddr: "0.0.0.0:0", AuthAddr: "127.0.0.1:0"},
		{MCPAddr: "127.0.0.1:0", AuthAddr: "0.0.0.0:0"},
		{MCPAddr: busy.Addr().String(), AuthAddr: "127.0.0.1:0"},
	} {
		if d, err := demo.Start(t.Context(), opts); err == nil {
			d.Close()
			t.Errorf("Start(%+v) succeeded", opts)
		}
	}
}
