package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// settableClock is the authorization server's clock, which a test moves forward to make the
// server refuse tokens the broker still thinks fresh.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// storedGrant reads the server's grant from the CLI's file secret store: its access and
// refresh tokens, "" for none.
func storedGrant(t *testing.T, c *cli, name string) (access, refresh string) {
	t.Helper()
	fs, err := secrets.NewFileStore(filepath.Join(c.dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := fs.Get(t.Context(), "oauth-token/"+name)
	if err != nil {
		return "", ""
	}
	var g struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatal(err)
	}
	return g.AccessToken, g.RefreshToken
}

// accountsDoc is what `status --json` says of each server's account.
type accountsDoc struct {
	Servers []struct {
		Name     string `json:"name"`
		SignedIn bool   `json:"signed_in"`
		Account  *struct {
			Sub    string `json:"sub"`
			Email  string `json:"email"`
			Source string `json:"source"`
		} `json:"account"`
		SameURLAs []string `json:"same_url_as"`
	} `json:"servers"`
}

// TestCLITwoAccountsOnOneServer is a person with a work and a personal account on one server,
// on the real binary over HTTP: two entries with one URL (servers add warns), signed in as two
// users (login says who), shown in status, status --json and doctor; a refresh of one (by its
// bridge) and its sign-out leave the other's grant as it was, and a sign-in that gets the other
// entry's account again is told.
func TestCLITwoAccountsOnOneServer(t *testing.T) {
	clock := &settableClock{t: time.Now()}
	as, m := servers(t, authserver.Options{AutoApprove: true, OpenID: true, Now: clock.now, Scopes: []string{"openid", "mcp:read", "offline_access"}},
		mcpserver.Options{Scopes: []string{"openid", "mcp:read"}})
	c := bridgeCLI(t)

	if add := c.ok("", "servers", "add", "work", m.URL()); strings.Contains(add.stderr, "same URL") {
		t.Errorf("servers add of the first entry warns: %s", add.stderr)
	}
	add := c.ok("", "servers", "add", "personal", m.URL())
	if !strings.Contains(add.stderr, "warning: personal has the same URL as work") {
		t.Errorf("servers add of the second entry does not warn: %s", add.stderr)
	}

	for _, who := range []struct{ server, user string }{{"work", "alice"}, {"personal", "bob"}} {
		as.SignInAs(who.user)
		r := c.login(who.server, follow(t))
		if want := "Signed in to " + who.server + " as " + who.user + "@example.com"; r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stderr, "warning") {
			t.Fatalf("login %s: exit %d, want %q\nstdout: %s\nstderr: %s", who.server, r.code, want, r.stdout, r.stderr)
		}
	}
	if n := as.Stats().Registrations; n != 2 {
		t.Errorf("%d client registrations, want one for each entry", n)
	}

	var doc accountsDoc
	if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"personal": "bob", "work": "alice"}
	for _, s := range doc.Servers {
		if s.Account == nil || s.Account.Sub != want[s.Name] || s.Account.Email != want[s.Name]+"@example.com" || s.Account.Source != "id_token" || len(s.SameURLAs) != 1 {
			t.Errorf("status --json of %s: account %+v, same_url_as %v", s.Name, s.Account, s.SameURLAs)
		}
	}
	st := c.ok("", "status")
	for _, want := range []string{"ACCOUNT", "alice@example.com", "bob@example.com"} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, st.stdout)
		}
	}
	if !strings.Contains(st.stderr, "warning: personal and work have the same URL") {
		t.Errorf("status does not warn of the shared URL: %q", st.stderr)
	}
	if doctor := c.ok("", "doctor", "work").stdout; !strings.Contains(doctor, "same URL") || !strings.Contains(doctor, "personal is configured with this URL too") {
		t.Errorf("doctor work does not warn of the shared URL:\n%s", doctor)
	}

	for server, user := range want {
		if who, stderr := callWhoami(c, server); !strings.Contains(who, "subject="+user) {
			t.Errorf("whoami through %s = %s, want %s's\nstderr: %s", server, who, user, stderr)
		}
	}

	// The authorization server's clock moves past the tokens' expiry: work's bridge gets a 401,
	// and refreshes work's grant alone.
	workAT, workRT := storedGrant(t, c, "work")
	personalAT, personalRT := storedGrant(t, c, "personal")
	clock.advance(2 * time.Hour)
	if who, stderr := callWhoami(c, "work"); !strings.Contains(who, "subject=alice") {
		t.Fatalf("whoami through work after expiry = %s\nstderr: %s", who, stderr)
	}
	if at, rt := storedGrant(t, c, "work"); at == workAT || rt == workRT || as.Stats().Refreshes != 1 {
		t.Errorf("work's grant was not refreshed once (%d refreshes)", as.Stats().Refreshes)
	}
	if at, rt := storedGrant(t, c, "personal"); at != personalAT || rt != personalRT {
		t.Error("work's refresh changed personal's grant")
	}

	// Signing work out revokes work's grant, and personal's still works.
	if out := c.ok("", "logout", "work"); !strings.Contains(out.stdout, "revoked") {
		t.Errorf("logout work: %s%s", out.stdout, out.stderr)
	}
	if at, rt := storedGrant(t, c, "personal"); at != personalAT || rt != personalRT {
		t.Error("work's sign-out changed personal's grant")
	}
	if who, stderr := callWhoami(c, "personal"); !strings.Contains(who, "subject=bob") {
		t.Errorf("whoami through personal after work's sign-out = %s\nstderr: %s", who, stderr)
	}
	doc = accountsDoc{}
	if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Servers {
		if s.Name == "work" && (s.SignedIn || s.Account != nil) || s.Name == "personal" && (!s.SignedIn || s.Account == nil || s.Account.Sub != "bob") {
			t.Errorf("status --json after work's sign-out: %s signed in %v as %+v", s.Name, s.SignedIn, s.Account)
		}
	}

	// bob is still signed in at the authorization server: signing work in again gets bob, and
	// login says so.
	r := c.login("work", follow(t))
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to work as bob@example.com") ||
		!strings.Contains(r.stderr, "warning: work is signed in as the same account as personal") {
		t.Errorf("login work with bob signed in at the server:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}

// TestWarnSameURL: status warns once for each URL that several servers share, naming them all.
func TestWarnSameURL(t *testing.T) {
	st := []broker.ServerStatus{
		{Name: "a-home", URL: "https://x.example/mcp", SameURLAs: []string{"b-work", "c-test"}},
		{Name: "b-work", URL: "https://x.example/mcp", SameURLAs: []string{"a-home", "c-test"}},
		{Name: "c-test", URL: "https://x.example/mcp", SameURLAs: []string{"a-home", "b-work"}},
		{Name: "solo", URL: "https://y.example/mcp"},
		{Name: "y1", URL: "https://z.example/mcp", SameURLAs: []string{"y2"}},
		{Name: "y2", URL: "https://z.example/mcp", SameURLAs: []string{"y1"}},
	}
	var out strings.Builder
	warnSameURL(&out, st)
	want := "warning: a-home, b-work and c-test have the same URL (https://x.example/mcp): each keeps its own sign-in; ACCOUNT shows whose each is.\n" +
		"warning: y1 and y2 have the same URL (https://z.example/mcp): each keeps its own sign-in; ACCOUNT shows whose each is.\n"
	if out.String() != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", out.String(), want)
	}
}
