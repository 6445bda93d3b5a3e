package broker_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// deviceEnv is an env whose authorization server offers the device grant, on a clock shared
// with the broker: each wait of the broker's polling advances it, and is recorded.
type deviceEnv struct {
	*env
	clock *clock
	mu    sync.Mutex
	waits []time.Duration
}

func newDeviceEnv(t *testing.T, dev authserver.DeviceOptions) *deviceEnv {
	t.Helper()
	return newDeviceEnvFor(t, dev, config.Server{})
}

// newDeviceEnvFor is newDeviceEnv with the server configured as srv (its name, URL and auth
// mode filled in).
func newDeviceEnvFor(t *testing.T, dev authserver.DeviceOptions, srv config.Server) *deviceEnv {
	t.Helper()
	dev.Enabled = true
	c := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{Now: c.now, Device: dev}, mcp: mcpserver.Options{Scopes: []string{"mcp:read", "mcp:write"}}, server: srv})
	d := &deviceEnv{env: e, clock: c}
	e.b = e.brokerWithClock(c)
	e.b.SetDeviceWaitForTest(func(ctx context.Context, w time.Duration) error {
		d.mu.Lock()
		d.waits = append(d.waits, w)
		d.mu.Unlock()
		c.advance(w)
		return ctx.Err()
	})
	return d
}

func (d *deviceEnv) recordedWaits() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.waits)
}

// deviceLogin signs in with the device grant; person does, with the code shown, what the
// person on the other device does.
func (d *deviceEnv) deviceLogin(person func(broker.DeviceCode)) (*broker.LoginResult, error) {
	d.t.Helper()
	return d.login(broker.LoginOptions{Device: true, OnDeviceCode: person})
}

// decide answers the sign-in on the verification page, over HTTP.
func decide(t *testing.T, allow bool) func(broker.DeviceCode) {
	return func(c broker.DeviceCode) {
		if err := authserver.DecideDevice(t.Context(), nil, c.VerificationURI, c.UserCode, allow); err != nil {
			t.Errorf("on the verification page: %v", err)
		}
	}
}

func TestDeviceLogin(t *testing.T) {
	d := newDeviceEnv(t, authserver.DeviceOptions{Interval: 3 * time.Second})
	var shown broker.DeviceCode
	res, err := d.deviceLogin(func(c broker.DeviceCode) {
		shown = c
		decide(t, true)(c)
	})
	if err != nil {
		t.Fatalf("device login: %v\nprompt:\n%s", err, d.prompt)
	}
	issuer := d.as.Issuer()
	if shown.Server != "demo" || shown.VerificationURI != issuer+"/device" || !strings.HasPrefix(shown.VerificationURIComplete, issuer+"/device?user_code=") {
		t.Errorf("shown %+v", shown)
	}
	prompt := d.prompt.String()
	for _, want := range []string{shown.VerificationURI, shown.UserCode, shown.VerificationURIComplete, "expires in 10m0s"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, prompt)
		}
	}
	if res.Issuer != issuer || !slices.Contains(res.Scopes, "offline_access") {
		t.Errorf("result = %+v", res)
	}
	if w := d.recordedWaits(); !slices.Equal(w, []time.Duration{3 * time.Second}) {
		t.Errorf("waits = %v, want one interval", w)
	}
	if d.callTool("echo") != http.StatusOK {
		t.Error("the device sign-in's token does not work at the MCP server")
	}

	// Registered for the device grant alone, without a redirect URI; both requests carry the
	// resource, neither PKCE.
	reg := d.requests(authserver.EndpointRegister)
	if len(reg) != 1 || !slices.Equal(reg[0].Form["grant_types"], []string{authserver.GrantDeviceCode, "refresh_token"}) || reg[0].Form.Has("redirect_uris") {
		t.Fatalf("registrations = %v", reg)
	}
	resource := d.mcp.URL()
	for _, r := range append(d.requests(authserver.EndpointDeviceAuthorization), d.requests(authserver.EndpointToken)...) {
		if r.Form.Get("resource") != resource || r.Form.Has("code_challenge") || r.Form.Has("code_verifier") {
			t.Errorf("%s request = %v", r.Endpoint, r.Form)
		}
	}
	if got := d.requests(authserver.EndpointDeviceAuthorization)[0].Form.Get("scope"); got != "mcp:read mcp:write offline_access" {
		t.Errorf("scope = %q", got)
	}
	if len(tokensIn(d.env)) == 0 {
		t.Error("no token stored")
	}
	for _, secret := range tokensIn(d.env) {
		if strings.Contains(prompt, secret) {
			t.Error("a token reached the prompt")
		}
	}

	// The device registration has no redirect URI: a browser sign-in registers again, and a
	// device sign-in after it again.
	d.mustLogin()
	if _, err := d.deviceLogin(decide(t, true)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.deviceLogin(decide(t, true)); err != nil {
		t.Fatal(err)
	}
	if n := d.as.Stats().Registrations; n != 3 {
		t.Errorf("%d registrations, want 3 (device, browser, device again, then reused)", n)
	}
}

// TestDeviceLoginServerSettings: the device request is shaped by the server's sign-in
// settings as the browser's is: configured scopes as given, and no resource indicator on any
// request when the server is configured without one.
func TestDeviceLoginServerSettings(t *testing.T) {
	d := newDeviceEnvFor(t, authserver.DeviceOptions{Interval: time.Second}, config.Server{NoResource: true, Scopes: []string{"mcp:read"}})
	if _, err := d.deviceLogin(decide(t, true)); err != nil {
		t.Fatalf("device login: %v", err)
	}
	da := d.requests(authserver.EndpointDeviceAuthorization)
	if len(da) != 1 || da[0].Form.Get("scope") != "mcp:read offline_access" {
		t.Fatalf("device authorization requests = %v, want one with scope %q", da, "mcp:read offline_access")
	}
	for _, r := range append(da, d.requests(authserver.EndpointToken)...) {
		if r.Form.Has("resource") {
			t.Errorf("%s request with a resource indicator: %v", r.Endpoint, r.Form)
		}
	}
}

func TestDeviceLoginRefusedOrExpired(t *testing.T) {
	t.Run("denied", func(t *testing.T) {
		d := newDeviceEnv(t, authserver.DeviceOptions{})
		_, err := d.deviceLogin(decide(t, false))
		if !errors.Is(err, oauth.ErrDeviceDenied) || hint.Of(err) != hint.TryAgain {
			t.Errorf("error = %v (hint %v), want ErrDeviceDenied, TryAgain", err, hint.Of(err))
		}
		d.assertNothingStored()
	})
	t.Run("nobody came", func(t *testing.T) {
		d := newDeviceEnv(t, authserver.DeviceOptions{Interval: 10 * time.Second, CodeTTL: time.Minute})
		_, err := d.deviceLogin(nil)
		if !errors.Is(err, oauth.ErrDeviceExpired) || hint.Of(err) != hint.TryAgain {
			t.Errorf("error = %v, want ErrDeviceExpired", err)
		}
		// Polled every 10 s while the minute lasted (the poll at 60 s finds it expired), and
		// not once after.
		if w := d.recordedWaits(); len(w) != 6 {
			t.Errorf("waits = %v, want six of 10 s", w)
		}
		d.assertNothingStored()
	})
	t.Run("expired at the server", func(t *testing.T) {
		d := newDeviceEnv(t, authserver.DeviceOptions{CodeTTL: time.Minute})
		// The person's device was slow: the code died at the server before the first poll.
		_, err := d.deviceLogin(func(broker.DeviceCode) { d.clock.advance(time.Minute) })
		if !errors.Is(err, oauth.ErrDeviceExpired) {
			t.Errorf("error = %v, want ErrDeviceExpired", err)
		}
	})
}

// TestDeviceLoginSlowDown: after slow_down the broker waits five seconds more for good. The
// authorization server answers slow_down to any poll that comes sooner than its interval, so
// one slow_down in all proves the broker kept to the longer interval.
func TestDeviceLoginSlowDown(t *testing.T) {
	d := newDeviceEnv(t, authserver.DeviceOptions{Interval: 2 * time.Second, SlowDown: 2})
	if _, err := d.deviceLogin(decide(t, true)); err != nil {
		t.Fatal(err)
	}
	if w, want := d.recordedWaits(), []time.Duration{2 * time.Second, 7 * time.Second, 12 * time.Second}; !slices.Equal(w, want) {
		t.Errorf("waits = %v, want %v", w, want)
	}
	if n := d.as.Stats().SlowDowns; n != 2 {
		t.Errorf("%d slow_downs, want the 2 forced ones", n)
	}
}

func TestDeviceLoginNotOffered(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, err := e.login(broker.LoginOptions{Device: true})
	if !errors.Is(err, discovery.ErrNoDeviceGrant) || hint.Of(err) != hint.Diagnose {
		t.Errorf("error = %v (hint %v), want ErrNoDeviceGrant, Diagnose", err, hint.Of(err))
	}
	// Where it is only allowed, the browser takes over.
	if _, err := e.login(broker.LoginOptions{DeviceIfOffered: true}); err != nil {
		t.Fatal(err)
	}
	if len(e.browser.URLs()) != 1 || len(e.requests(authserver.EndpointDeviceAuthorization)) != 0 {
		t.Errorf("browser URLs %v", e.browser.URLs())
	}
}

func TestDeviceIfOfferedUsesIt(t *testing.T) {
	d := newDeviceEnv(t, authserver.DeviceOptions{})
	if _, err := d.login(broker.LoginOptions{DeviceIfOffered: true, OnDeviceCode: decide(t, true)}); err != nil {
		t.Fatal(err)
	}
	if len(d.browser.URLs()) != 0 || d.as.Stats().DeviceCodeGrants != 1 {
		t.Errorf("browser URLs %v, stats %+v", d.browser.URLs(), d.as.Stats())
	}
}

// pasteBrowser is a browser on another machine: it follows the authorization URL to the
// authorization server, which redirects it to the loopback server it cannot reach; instead
// the person pastes the address it ended on. bad are pasted first.
type pasteBrowser struct {
	t     *testing.T
	paste chan<- string
	bad   []func(final *url.URL) string
	code  string // the code of the final address, to check it was never shown
}

func (p *pasteBrowser) Open(ctx context.Context, u string) error {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	final, err := resp.Location()
	if err != nil {
		return err
	}
	p.code = final.Query().Get("code")
	for _, bad := range p.bad {
		p.paste <- bad(final)
	}
	p.paste <- final.String()
	return nil
}

func TestPasteBack(t *testing.T) {
	e := newEnv(t, envOptions{as: authserver.Options{ISSParameter: true}})
	paste := make(chan string, 5)
	pb := &pasteBrowser{t: t, paste: paste, bad: []func(*url.URL) string{
		func(f *url.URL) string { return "" },
		func(f *url.URL) string { return "not an address" },
		func(f *url.URL) string { // an earlier attempt's answer
			q := f.Query()
			q.Set("state", "earlier")
			g := *f
			g.RawQuery = q.Encode()
			return g.String()
		},
		func(f *url.URL) string { g := *f; g.Host = "127.0.0.1:1"; return g.String() },
	}}
	b, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: e.store, Opener: pb, Prompt: e.prompt, SignInTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := b.Login(ctx, "demo", broker.LoginOptions{Paste: paste}); err != nil {
		t.Fatalf("login: %v\nprompt:\n%s", err, e.prompt)
	}
	if e.as.Stats().CodeExchanges != 1 || e.callTool("echo") != http.StatusOK {
		t.Errorf("stats = %+v", e.as.Stats())
	}
	prompt := e.prompt.String()
	if pb.code == "" || strings.Contains(prompt, pb.code) {
		t.Errorf("the prompt shows the code (or there was none):\n%s", prompt)
	}
	for want, n := range map[string]int{"answers another sign-in": 1, "it does not start with http://127.0.0.1:": 2} {
		if strings.Count(prompt, want) != n {
			t.Errorf("the prompt does not say %q %d times:\n%s", want, n, prompt)
		}
	}

	t.Run("a mix-up is refused", func(t *testing.T) {
		paste := make(chan string, 2)
		wrongISS := func(f *url.URL) string {
			q := f.Query()
			q.Set("iss", "https://attacker.example")
			g := *f
			g.RawQuery = q.Encode()
			return g.String()
		}
		// The wrong iss decides (the response is this sign-in's, by its state): the real
		// address pasted after it is not waited for.
		pb := &pasteBrowser{t: t, paste: paste, bad: []func(*url.URL) string{wrongISS}}
		b, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: e.store, Opener: pb, Prompt: e.prompt, SignInTimeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Login(ctx, "demo", broker.LoginOptions{Paste: paste})
		if !errors.Is(err, oauth.ErrISSMismatch) {
			t.Errorf("error = %v, want ErrISSMismatch", err)
		}
	})
}

// TestDeviceLoginDPoPAndAccount: the device sign-in does what the browser's does after the
// code: DPoP, when the server binds tokens (the token endpoint's nonce included), and whose
// the sign-in is, from the ID token.
func TestDeviceLoginDPoPAndAccount(t *testing.T) {
	c := newClock()
	e := newEnv(t, envOptions{
		as: authserver.Options{Now: c.now, Device: authserver.DeviceOptions{Enabled: true}, DPoP: true, DPoPNonce: true,
			OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"}},
		mcp: mcpserver.Options{DPoPOnly: true, Scopes: []string{"openid", "mcp:read"}},
	})
	e.b = e.brokerWithClock(c)
	e.b.SetDeviceWaitForTest(func(ctx context.Context, d time.Duration) error { c.advance(d); return ctx.Err() })
	e.as.SignInAs("carol")
	res, err := e.login(broker.LoginOptions{Device: true, OnDeviceCode: decide(t, true)})
	if err != nil {
		t.Fatalf("device login: %v\nprompt:\n%s", err, e.prompt)
	}
	if !res.DPoP || res.Account.String() != "carol@example.com" {
		t.Errorf("result: DPoP %v, account %+v", res.DPoP, res.Account)
	}
	if s := e.as.Stats(); s.DPoPBound != 1 || s.DPoPNonceChallenges == 0 {
		t.Errorf("authorization server: %+v", s)
	}
	if got := e.callTool("whoami"); got != http.StatusOK {
		t.Errorf("tools/call with the device sign-in's DPoP token: HTTP %d", got)
	}
}
