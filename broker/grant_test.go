package broker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/lock"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// capBackend is a keychain (secrets.Backend) that holds no more per item than the keychain of
// goos, and can fail its Nth call, before or after carrying it out, or hold writes.
type capBackend struct {
	mu          sync.Mutex
	goos        string
	items       map[string]string
	calls       int
	failAt      int  // the call to fail (1 is the first); 0 for none
	failApplied bool // carry that call out before failing it
	failHit     bool
	holdSets    chan struct{} // when set, Set waits until it is closed
	setsHeld    int           // Sets waiting on holdSets
}

var errCrash = errors.New("the process died here")

func newCapBackend(goos string) *capBackend {
	return &capBackend{goos: goos, items: map[string]string{}}
}

func (c *capBackend) do(apply func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.failAt == 0 || c.calls != c.failAt {
		return apply()
	}
	c.failHit = true
	if c.failApplied {
		_ = apply()
	}
	return errCrash
}

func (c *capBackend) Get(service, user string) (string, error) {
	var v string
	err := c.do(func() error {
		var ok bool
		if v, ok = c.items[user]; !ok {
			return fmt.Errorf("no item %q: %w", user, secrets.ErrNotFound)
		}
		return nil
	})
	return v, err
}

func (c *capBackend) Set(service, user, pass string) error {
	c.mu.Lock()
	hold := c.holdSets
	if hold != nil {
		c.setsHeld++
	}
	c.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return c.do(func() error {
		if (c.goos == "windows" && len(pass) > 2560) || (c.goos == "darwin" && len(service)+len(user)+len(pass) > 3000) {
			return fmt.Errorf("item %q of %d bytes: %w", user, len(pass), secrets.ErrTooBig)
		}
		c.items[user] = pass
		return nil
	})
}

func (c *capBackend) Delete(service, user string) error {
	return c.do(func() error {
		if _, ok := c.items[user]; !ok {
			return fmt.Errorf("no item %q: %w", user, secrets.ErrNotFound)
		}
		delete(c.items, user)
		return nil
	})
}

func (c *capBackend) set(f func(c *capBackend)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// padTransport makes every token response's tokens big, like an enterprise token carrying
// its groups, and numbers the responses: each token gets "|seqN|" and pad bytes appended. It
// takes the padding off refresh tokens on their way back, so the authorization server sees
// its own. tokenPath is the token endpoint's path.
type padTransport struct {
	pad int
	mu  sync.Mutex
	seq int
	// onRefresh, when set, runs as a refresh request passes, before it is sent.
	onRefresh func()
}

var seqTag = regexp.MustCompile(`\|seq(\d+)\|`)

func (p *padTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/token") || req.Method != http.MethodPost {
		return http.DefaultTransport.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	if rt := form.Get("refresh_token"); rt != "" {
		if i := strings.Index(rt, "|seq"); i >= 0 {
			form.Set("refresh_token", rt[:i])
		}
		if p.onRefresh != nil {
			p.onRefresh()
		}
	}
	enc := form.Encode()
	req = req.Clone(req.Context())
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader(enc)), int64(len(enc))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	defer resp.Body.Close()
	var fields map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&fields); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.seq++
	tag := "|seq" + strconv.Itoa(p.seq) + "|"
	p.mu.Unlock()
	for _, f := range []string{"access_token", "refresh_token"} {
		if s, ok := fields[f].(string); ok {
			fields[f] = s + tag + strings.Repeat("p", p.pad)
		}
	}
	data, _ := json.Marshal(fields)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// seqOf is the response number a padded token carries; "" when it carries none.
func seqOf(token string) string {
	if m := seqTag.FindStringSubmatch(token); m != nil {
		return m[1]
	}
	return ""
}

// grantEnv is an env whose broker keeps its secrets in a capped keychain and gets its tokens
// through a padTransport, on a clock the test moves.
type grantEnv struct {
	*env
	clock   *clock
	backend *capBackend
	pad     *padTransport
	b       *broker.Broker
}

func newGrantEnv(t *testing.T, goos string, pad int, timeout time.Duration) *grantEnv {
	t.Helper()
	c := newClock()
	opts := authOptionsWithClock(c)
	opts.AccessTokenTTL = time.Hour
	e := newEnv(t, envOptions{as: opts})
	g := &grantEnv{env: e, clock: c, backend: newCapBackend(goos), pad: &padTransport{pad: pad}}
	b, err := broker.New(broker.Options{
		ConfigPath: e.config, Secrets: secrets.NewKeychain(timeout, secrets.WithBackend(g.backend, goos)),
		HTTP: &http.Client{Transport: g.pad, Timeout: 30 * time.Second}, Opener: &opener.Browser{},
		SignInTimeout: 20 * time.Second, Now: c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.b = b
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := b.Login(ctx, "demo", broker.LoginOptions{}); err != nil {
		t.Fatalf("login: %v", err)
	}
	return g
}

// grant returns the stored grant's access and refresh token.
func (g *grantEnv) grant(t *testing.T) (access, refresh string) {
	t.Helper()
	access, refresh, err := g.b.GrantForTest(t.Context(), "demo")
	if err != nil {
		t.Fatalf("reading the stored grant: %v", err)
	}
	return access, refresh
}

// TestBigTokensOnCappedKeychains signs in and refreshes with 8 KiB tokens on keychains that
// hold what macOS's and Windows's hold per item.
func TestBigTokensOnCappedKeychains(t *testing.T) {
	for _, goos := range []string{"darwin", "windows"} {
		t.Run(goos, func(t *testing.T) {
			g := newGrantEnv(t, goos, 8<<10, time.Minute)
			access, refresh := g.grant(t)
			if len(access) < 8<<10 || len(refresh) < 8<<10 || seqOf(access) != "1" || seqOf(refresh) != "1" {
				t.Fatalf("stored grant: access %d bytes (seq %q), refresh %d bytes (seq %q)", len(access), seqOf(access), len(refresh), seqOf(refresh))
			}
			g.clock.advance(2 * time.Hour)
			cred, err := g.b.Credential(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			if seqOf(cred.Value) != "2" {
				t.Errorf("credential after expiry is from response %q, want 2 (the refresh)", seqOf(cred.Value))
			}
			g.clock.advance(2 * time.Hour)
			if _, err := g.b.Credential(t.Context(), "demo"); err != nil {
				t.Fatal(err)
			}
			if s := g.as.Stats(); s.Refreshes != 2 || s.RefreshReuse != 0 {
				t.Errorf("stats = %+v, want 2 refreshes and no reuse of a rotated refresh token", s)
			}
		})
	}
}

// TestGrantIsOneUnitAtEveryCrash fails each keychain call of a refresh in turn, before and
// after the keychain carries it out, and checks that the grant stored afterwards is whole:
// its access and refresh token come from the same token response, never one new and one old.
func TestGrantIsOneUnitAtEveryCrash(t *testing.T) {
	for _, goos := range []string{"darwin", "windows"} {
		for _, pad := range []int{0, 8 << 10} {
			t.Run(fmt.Sprintf("%s/pad %d", goos, pad), func(t *testing.T) {
				for n := 1; ; n++ {
					hit := false
					for _, applied := range []bool{false, true} {
						g := newGrantEnv(t, goos, pad, time.Minute)
						g.clock.advance(2 * time.Hour)
						g.backend.set(func(c *capBackend) { c.failAt, c.failApplied = c.calls+n, applied })
						_, cerr := g.b.Credential(t.Context(), "demo")
						g.backend.set(func(c *capBackend) { hit = hit || c.failHit; c.failAt = 0 })
						access, refresh := g.grant(t)
						if access == "" || seqOf(access) != seqOf(refresh) {
							t.Errorf("call %d of the refresh failing (carried out %v; Credential: %v): stored access token from response %q, refresh token from %q",
								n, applied, cerr, seqOf(access), seqOf(refresh))
						}
					}
					if !hit {
						return // n is past the refresh's last call
					}
				}
			})
		}
	}
}

// TestOldTwoItemLayout checks that a sign-in stored before the access and refresh token
// became one item still works, in one read, and is moved to the new layout by its refresh.
func TestOldTwoItemLayout(t *testing.T) {
	c := newClock()
	e := newEnv(t, envOptions{as: authOptionsWithClock(c)})
	b := e.brokerWithClock(c)
	if _, err := b.Login(t.Context(), "demo", broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	e.browser.Wait()
	if err := b.OldLayoutForTest(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	before := len(e.store.Calls())
	if _, err := b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.store.Calls()) - before; n != 1 {
		t.Errorf("a fresh token took %d secret store calls, want 1", n)
	}
	c.advance(2 * time.Hour)
	if _, err := b.Credential(t.Context(), "demo"); err != nil {
		t.Fatalf("refresh of an old-layout grant: %v", err)
	}
	for _, k := range e.store.Keys() {
		if strings.HasPrefix(k, "refresh-token/") {
			t.Errorf("%s still stored after the refresh moved the grant to one item", k)
		}
	}
	c.advance(2 * time.Hour)
	if _, err := b.Credential(t.Context(), "demo"); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	if s := e.as.Stats(); s.Refreshes != 2 || s.RefreshReuse != 0 {
		t.Errorf("stats = %+v, want 2 refreshes, no reuse", s)
	}
}

// TestInvalidGrantKeepsANewerGrant plays the race of issue 8: while a refresh request is on
// its way, a newer grant lands in the store (a write of another process that outlived its
// lock); the authorization server refuses the old refresh token; the newer grant must
// survive, and be used.
func TestInvalidGrantKeepsANewerGrant(t *testing.T) {
	g := newGrantEnv(t, "linux", 0, time.Minute)
	g.clock.advance(2 * time.Hour)
	g.as.RevokeAll()
	landed := false
	g.pad.onRefresh = func() {
		if landed {
			return
		}
		landed = true
		if err := g.b.SaveGrantForTest(context.Background(), "demo", "newer-access", "newer-refresh", g.clock.now().Add(time.Hour)); err != nil {
			t.Errorf("storing the newer grant: %v", err)
		}
	}
	cred, err := g.b.Credential(t.Context(), "demo")
	if !landed {
		t.Fatal("no refresh request was made")
	}
	access, refresh := g.grant(t)
	if access != "newer-access" || refresh != "newer-refresh" {
		t.Fatalf("after invalid_grant the store holds access %q, refresh %q; want the newer grant kept", access, refresh)
	}
	if err != nil || cred.Value != "Bearer newer-access" {
		t.Errorf("Credential = %+v, %v; want the newer grant's token", cred, err)
	}
}

// TestRefreshHoldsTheLockUntilTheWriteLands makes the keychain take far longer than its
// timeout to store a refreshed grant and checks that the server's lock is held until the
// write has landed: released earlier, another process could replay the refresh token being
// replaced.
func TestRefreshHoldsTheLockUntilTheWriteLands(t *testing.T) {
	const timeout = 50 * time.Millisecond
	g := newGrantEnv(t, "linux", 0, timeout)
	g.clock.advance(2 * time.Hour)
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release)
	g.backend.set(func(c *capBackend) { c.holdSets = hold })
	done := make(chan error, 1)
	go func() {
		_, err := g.b.Credential(context.Background(), "demo")
		done <- err
	}()
	for held := 0; held == 0; {
		g.backend.set(func(c *capBackend) { held = c.setsHeld })
		time.Sleep(time.Millisecond)
	}
	lockPath := filepath.Join(filepath.Dir(g.config), "locks", "demo.lock")
	tryLock := func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		unlock, err := lock.Acquire(ctx, lockPath)
		if err != nil {
			return false
		}
		_ = unlock()
		return true
	}
	select {
	case err := <-done:
		if tryLock() {
			t.Fatalf("Credential returned (%v) and released the lock while the keychain was still writing", err)
		}
	case <-time.After(40 * timeout):
	}
	if tryLock() {
		t.Fatal("the lock was released while the keychain was still writing the grant")
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Credential after the write landed: %v", err)
	}
	if !tryLock() {
		t.Error("the lock is still held after the refresh finished")
	}
	if s := g.as.Stats(); s.Refreshes != 1 {
		t.Errorf("refreshes = %d, want 1", s.Refreshes)
	}
}
