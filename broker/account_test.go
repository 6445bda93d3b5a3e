package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// loginAs signs the server in while user is the one signed in at the authorization server.
func (e *env) loginAs(name, user string) *broker.LoginResult {
	e.t.Helper()
	e.as.SignInAs(user)
	ctx, cancel := context.WithTimeout(e.t.Context(), 30*time.Second)
	defer cancel()
	res, err := e.b.Login(ctx, name, broker.LoginOptions{})
	e.browser.Wait()
	if err != nil {
		e.t.Fatalf("login %s as %s: %v\nprompt:\n%s", name, user, err, e.prompt)
	}
	return res
}

// statusOf returns the status of the named server.
func (e *env) statusOf(name string) broker.ServerStatus {
	e.t.Helper()
	st, err := e.b.Status()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range st {
		if s.Name == name {
			return s
		}
	}
	e.t.Fatalf("no server %s in status", name)
	return broker.ServerStatus{}
}

// subjectOf is whose the server's stored access token is, at the authorization server.
func (e *env) subjectOf(name string) string {
	e.t.Helper()
	access, _, err := e.b.GrantForTest(e.t.Context(), name)
	if err != nil || access == "" {
		e.t.Fatalf("no grant stored for %s (%v)", name, err)
	}
	info, ok := e.as.Verify(access)
	if !ok {
		return "(revoked)"
	}
	return info.Subject
}

// TestTwoAccountsOnOneServer: two servers at one URL (work and personal) signed in as two
// users over HTTP keep two registrations and two grants, each named by its account. A refresh
// of one rotates its refresh token alone; signing one out revokes its grant alone; and signing
// one in with the account the other already holds is told.
func TestTwoAccountsOnOneServer(t *testing.T) {
	e := newEnv(t, envOptions{
		as:     authserver.Options{OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"}},
		mcp:    mcpserver.Options{Scopes: []string{"openid", "mcp:read"}},
		server: config.Server{Name: "work"},
	})
	if err := e.b.AddServer(t.Context(), config.Server{Name: "personal", URL: e.mcp.URL() + "/"}, ""); err != nil {
		t.Fatal(err)
	}
	work, personal := e.loginAs("work", "alice"), e.loginAs("personal", "bob")
	if work.Account.String() != "alice@example.com" || work.Account.Source != broker.AccountFromIDToken ||
		personal.Account.String() != "bob@example.com" || len(work.SameAccountAs)+len(personal.SameAccountAs) != 0 {
		t.Errorf("sign-ins: work %+v %v, personal %+v %v", work.Account, work.SameAccountAs, personal.Account, personal.SameAccountAs)
	}
	if n := e.as.Stats().Registrations; n != 2 || work.ClientID == personal.ClientID {
		t.Errorf("%d registrations, clients %q and %q: want one of its own for each", n, work.ClientID, personal.ClientID)
	}
	if w, p := e.subjectOf("work"), e.subjectOf("personal"); w != "alice" || p != "bob" {
		t.Errorf("the grants are %s's and %s's, want alice's and bob's", w, p)
	}
	for name, want := range map[string]string{"work": "alice@example.com", "personal": "bob@example.com"} {
		s := e.statusOf(name)
		other := map[string]string{"work": "personal", "personal": "work"}[name]
		if s.Account.String() != want || s.Account.Subject == "" || !slices.Equal(s.SameURLAs, []string{other}) {
			t.Errorf("status of %s: account %+v, same URL as %v", name, s.Account, s.SameURLAs)
		}
	}

	// A refresh of work rotates work's refresh token, and leaves personal's grant as it was.
	_, personalRT, _ := e.b.GrantForTest(t.Context(), "personal")
	_, workRT, _ := e.b.GrantForTest(t.Context(), "work")
	cred, err := e.b.Credential(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Refresh(t.Context(), "work", cred.Value); err != nil {
		t.Fatal(err)
	}
	_, rt, _ := e.b.GrantForTest(t.Context(), "work")
	_, rt2, _ := e.b.GrantForTest(t.Context(), "personal")
	if rt == workRT || rt2 != personalRT || e.as.Stats().Refreshes != 1 {
		t.Errorf("after work's refresh: work's refresh token rotated %v, personal's kept %v, %d refreshes",
			rt != workRT, rt2 == personalRT, e.as.Stats().Refreshes)
	}
	if s := e.statusOf("work"); s.Account.String() != "alice@example.com" || e.subjectOf("work") != "alice" || e.subjectOf("personal") != "bob" {
		t.Errorf("after work's refresh: work is %+v (%s), personal %s", s.Account, e.subjectOf("work"), e.subjectOf("personal"))
	}

	// Signing work out revokes work's grant, and personal's still works.
	out, err := e.b.Logout(t.Context(), "work")
	if err != nil || !out.Revoked {
		t.Fatalf("logout: %+v, %v", out, err)
	}
	if s := e.statusOf("work"); s.SignedIn || s.Account != nil {
		t.Errorf("work after its sign-out: %+v", s)
	}
	if e.subjectOf("personal") != "bob" {
		t.Error("signing work out revoked personal's grant")
	}
	if got := e.callToolOn("personal"); got != 200 {
		t.Errorf("personal after work's sign-out: HTTP %d", got)
	}
	if s := e.statusOf("personal"); !s.SignedIn || s.Account.String() != "bob@example.com" {
		t.Errorf("personal after work's sign-out: %+v", s)
	}

	// bob is still signed in at the authorization server: work gets bob's account, and is told.
	again := e.loginAs("work", "bob")
	if !slices.Equal(again.SameAccountAs, []string{"personal"}) || e.as.Stats().Registrations != 2 {
		t.Errorf("work signed in as bob: same account as %v, %d registrations", again.SameAccountAs, e.as.Stats().Registrations)
	}
}

// callToolOn calls the echo tool of the env's MCP server with the named server's credential.
func (e *env) callToolOn(name string) int {
	e.t.Helper()
	cred, err := e.b.Credential(e.t.Context(), name)
	if err != nil {
		e.t.Fatalf("credential of %s: %v", name, err)
	}
	return mcpPost(e.t, e.mcp.URL(), cred, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`)
}

// TestAccountSources: a sign-in learns whose it is from the ID token when openid is granted,
// else from the UserInfo endpoint (only with openid), else from token introspection, else not
// at all; each is asked only when the ones before it did not tell.
func TestAccountSources(t *testing.T) {
	withOpenID := []string{"openid", "mcp:read"}
	tests := []struct {
		name   string
		as     authserver.Options
		scopes []string
		want   *broker.Account
		asked  []string // the identity endpoints the broker called
	}{
		{name: "ID token", as: authserver.Options{OpenID: true, UserInfo: true, Introspection: true}, scopes: withOpenID,
			want: &broker.Account{Subject: "alice", Email: "alice@example.com", Source: broker.AccountFromIDToken}},
		{name: "UserInfo", as: authserver.Options{UserInfo: true, Introspection: true}, scopes: withOpenID,
			want:  &broker.Account{Subject: "alice", Email: "alice@example.com", Username: "alice", Source: broker.AccountFromUserInfo},
			asked: []string{authserver.EndpointUserInfo}},
		{name: "introspection, without openid", as: authserver.Options{UserInfo: true, Introspection: true}, scopes: []string{"mcp:read"},
			want:  &broker.Account{Subject: "alice", Username: "alice", Source: broker.AccountFromIntrospection},
			asked: []string{authserver.EndpointIntrospect}},
		{name: "nothing offered", scopes: withOpenID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.as.Scopes = []string{"openid", "mcp:read", "offline_access"}
			e := newEnv(t, envOptions{as: tt.as, mcp: mcpserver.Options{Scopes: tt.scopes}})
			res := e.loginAs("demo", "alice")
			if !sameAccount(res.Account, tt.want) || !sameAccount(e.statusOf("demo").Account, tt.want) {
				t.Errorf("account = %+v, status %+v; want %+v", res.Account, e.statusOf("demo").Account, tt.want)
			}
			var asked []string
			for _, r := range e.as.Requests() {
				if r.Endpoint == authserver.EndpointUserInfo || r.Endpoint == authserver.EndpointIntrospect {
					asked = append(asked, r.Endpoint)
				}
			}
			if !slices.Equal(asked, tt.asked) {
				t.Errorf("asked %v, want %v", asked, tt.asked)
			}
			// A refresh without an ID token keeps the account, and asks no one again.
			cred, err := e.b.Credential(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.b.Refresh(t.Context(), "demo", cred.Value); err != nil {
				t.Fatal(err)
			}
			if got := e.statusOf("demo").Account; !sameAccount(got, tt.want) || len(e.requests(authserver.EndpointUserInfo))+len(e.requests(authserver.EndpointIntrospect)) != len(tt.asked) {
				t.Errorf("after a refresh: account %+v, identity requests %d", got, len(e.requests(authserver.EndpointUserInfo))+len(e.requests(authserver.EndpointIntrospect)))
			}
		})
	}
}

func sameAccount(a, b *broker.Account) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// TestAccountFromARefreshedIDToken: a refresh that brings a new ID token says whose the grant
// is anew, even when the stored grant had forgotten.
func TestAccountFromARefreshedIDToken(t *testing.T) {
	e := newEnv(t, envOptions{
		as:  authserver.Options{OpenID: true, Scopes: []string{"openid", "mcp:read", "offline_access"}},
		mcp: mcpserver.Options{Scopes: []string{"openid", "mcp:read"}},
	})
	e.loginAs("demo", "alice")
	access, refresh, err := e.b.GrantForTest(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	// The same grant, stored without its account and due for renewal.
	if err := e.b.SaveGrantForTest(t.Context(), "demo", access, refresh, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if s := e.statusOf("demo"); s.Account != nil {
		t.Fatalf("the grant stored again still has its account: %+v", s.Account)
	}
	if _, err := e.b.Credential(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if s := e.statusOf("demo"); e.as.Stats().Refreshes != 1 || s.Account.String() != "alice@example.com" || s.Account.Source != broker.AccountFromIDToken {
		t.Errorf("after a refresh with an ID token: %d refreshes, account %+v", e.as.Stats().Refreshes, s.Account)
	}
}

// TestSameURLServers: servers at one URL, by the URL's canonical form, name each other.
func TestSameURLServers(t *testing.T) {
	servers := []config.Server{
		{Name: "personal", URL: "https://MCP.example.com/mcp/"},
		{Name: "solo", URL: "https://mcp.example.com/other"},
		{Name: "work", URL: "https://mcp.example.com:443/mcp"},
		{Name: "z-third", URL: "https://mcp.example.com/mcp"},
	}
	for _, c := range []struct {
		srv  config.Server
		want []string
	}{
		{servers[2], []string{"personal", "z-third"}},
		{servers[0], []string{"work", "z-third"}},
		{servers[1], nil},
	} {
		if got := broker.SameURLServers(servers, c.srv); !slices.Equal(got, c.want) {
			t.Errorf("SameURLServers(%s) = %v, want %v", c.srv.Name, got, c.want)
		}
	}
}
