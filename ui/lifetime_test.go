package ui

import (
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/model"
)

// TestLifetimeNotifications: the app warns once, ahead of the moment, that a sign-in lapses
// (no refresh token, a refresh token that expires, a session limit), and says once when a
// background renewal failed, in words that tell a refusal (sign in again) from a failure
// (tried again); its own sign-out is no such news.
func TestLifetimeNotifications(t *testing.T) {
	ta, _, _ := newTestApp(t)
	now := time.Now()
	soon, later := now.Add(5*time.Minute), now.Add(2*time.Hour)
	srv := func(name string, st broker.SignInState, exp *time.Time) broker.ServerStatus {
		s := broker.ServerStatus{Name: name, URL: "https://" + name + ".example/mcp", Auth: config.AuthOAuth,
			SignedIn: st != broker.StateSignInRequired, State: st, Expiry: exp}
		if st == broker.StateSignedInNoRefresh {
			s.SignInBy, s.SignInByReason = exp, broker.SignInByNoRefreshToken
		}
		return s
	}
	limited := srv("corp", broker.StateSignedIn, &later)
	limited.SignInBy, limited.SignInByReason, limited.SessionLimitSeconds = &soon, broker.SignInBySessionLimit, 8*3600
	snap := func(servers ...broker.ServerStatus) model.Snapshot { return model.Build(servers, nil, now) }

	ta.apply(snap(srv("linear", broker.StateSignedInNoRefresh, &soon), srv("later", broker.StateSignedInNoRefresh, &later),
		srv("studio", broker.StateSignedIn, &later), srv("own", broker.StateSignedIn, &later), srv("docs", broker.StateSignedIn, &later), limited))
	got := notes(ta)
	want := []string{
		"Sign in to corp again soon | Its sign-in ends at about " + soon.Local().Format("15:04") + ": the server ended the last sign-in after 8 hours: choose Sign in then, or now.",
		"Sign in to linear again soon | Its access token expires at " + soon.Local().Format("15:04") + " and the server gave no refresh token: choose Sign in then, or now.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lapse notifications = %q, want %q", got, want)
	}
	if ta.lapseTimer == nil {
		t.Error("no timer for the later sign-in's warning")
	}

	// The same state again (a poll, a rebuild): no second warning. studio's refresh token is
	// refused, docs' renewal fails for now; "own" is signed out by the app itself.
	ta.signingOut["own"] = true
	failedAt := now.Add(-time.Minute)
	refused, down, own := srv("studio", broker.StateSignInRequired, nil), srv("docs", broker.StateExpired, &soon), srv("own", broker.StateSignInRequired, nil)
	refused.RenewalFailure = &broker.RenewalFailure{At: failedAt, Kind: broker.RenewalRefused, Reason: "the sign-in server refused the refresh token"}
	down.RenewalFailure = &broker.RenewalFailure{At: failedAt, Kind: broker.RenewalFailed, Reason: "the sign-in server answered HTTP 503"}
	own.RenewalFailure = refused.RenewalFailure
	ta.apply(snap(srv("linear", broker.StateSignedInNoRefresh, &soon), srv("later", broker.StateSignedInNoRefresh, &later),
		refused, down, own, limited))
	got = notes(ta)
	want = []string{
		"Could not renew the sign-in to docs | The sign-in server answered HTTP 503 at " + failedAt.Local().Format("15:04") + ". It is tried again at the next request; nothing to do unless it keeps failing.",
		"Signed out of studio: sign in again | The sign-in server refused to renew its access token. Choose Sign in for studio in the MCP Broker menu or window.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the renewals failed: notifications %q, want %q", got, want)
	}
	if ta.signingOut["own"] {
		t.Error("the app's own sign-out is still pending after the snapshot showed it")
	}
	ta.apply(snap(srv("linear", broker.StateSignedInNoRefresh, &soon), srv("later", broker.StateSignedInNoRefresh, &later),
		refused, down, own, limited))
	if got := notes(ta); len(got) != 0 {
		t.Errorf("the same failures told again: %q", got)
	}
	ta.lapseTimer.Stop()
}

// TestMachineGrantRefusedNotification: a refused renewal of a machine's grant (client
// credentials, a workload's JWT) sends the person to the server's setup, not to a sign-in
// that would be refused again; an enterprise server's, to the company account's sign-in.
func TestMachineGrantRefusedNotification(t *testing.T) {
	ta, _, _ := newTestApp(t)
	now := time.Now()
	failedAt := now.Add(-time.Minute)
	srv := func(name string, auth config.AuthMode) broker.ServerStatus {
		return broker.ServerStatus{Name: name, URL: "https://" + name + ".example/mcp", Auth: auth, State: broker.StateExpired, SignedIn: true}
	}
	bot, wl, wiki := srv("bot", config.AuthClientCredentials), srv("ci", config.AuthWorkload), srv("wiki", config.AuthEnterprise)
	ta.apply(model.Build([]broker.ServerStatus{bot, wl, wiki}, nil, now))
	if got := notes(ta); len(got) != 0 {
		t.Fatalf("notifications before any failure: %q", got)
	}
	bot.RenewalFailure = &broker.RenewalFailure{At: failedAt, Kind: broker.RenewalRefused, Reason: "the sign-in server answered invalid_client"}
	wl.RenewalFailure = &broker.RenewalFailure{At: failedAt, Kind: broker.RenewalRefused, Reason: "the sign-in server answered invalid_grant"}
	wiki.RenewalFailure = &broker.RenewalFailure{At: failedAt, Kind: broker.RenewalRefused, Reason: "the sign-in server answered invalid_grant"}
	ta.apply(model.Build([]broker.ServerStatus{bot, wl, wiki}, nil, now))
	hm := failedAt.Local().Format("15:04")
	want := []string{
		"The sign-in server refused bot's credentials | The sign-in server answered invalid_client at " + hm + ". Check its client, secret, key or JWT with Edit server… for bot in the MCP Broker menu or window.",
		"The sign-in server refused ci's credentials | The sign-in server answered invalid_grant at " + hm + ". Check its client, secret, key or JWT with Edit server… for ci in the MCP Broker menu or window.",
		"Could not renew the sign-in to wiki | The sign-in server answered invalid_grant at " + hm + ". Choose “Sign in with your company account” in the MCP Broker menu or window.",
	}
	if got := notes(ta); !slices.Equal(got, want) {
		t.Errorf("notifications:\n%q\nwant:\n%q", got, want)
	}
}

// TestServerNotifications: the app says once per outage that a server has been unreachable for
// a few minutes, naming what to do, and again only after it recovered and fell again; it says
// which tools a server gained, but not on its first look at the server.
func TestServerNotifications(t *testing.T) {
	ta, _, _ := newTestApp(t)
	now := time.Now()
	down := func(since time.Time) []status.Bridge {
		return []status.Bridge{{Server: "studio", PID: 7, Client: "claude-code 2.0.1", State: status.StateReconnecting,
			Since: since, LastError: "dial tcp: connection refused"}}
	}
	up := []status.Bridge{{Server: "studio", PID: 7, Client: "claude-code 2.0.1", State: status.StateConnected, Since: now}}

	ta.apply(snapshot(down(now.Add(-time.Minute)), "studio"))
	if got := notes(ta); len(got) != 0 || ta.unreachableTimer == nil {
		t.Fatalf("after a minute: notifications %q, timer %v", got, ta.unreachableTimer)
	}
	ta.apply(snapshot(down(now.Add(-4*time.Minute)), "studio"))
	want := "studio cannot be reached | Claude Code has been trying to reach it since " + now.Add(-4*time.Minute).Local().Format("15:04") +
		" (dial tcp: connection refused). Choose Diagnose… for studio in the MCP Broker menu or window to find out why."
	if got := notes(ta); !slices.Equal(got, []string{want}) {
		t.Errorf("after four minutes: notifications %q, want %q", got, want)
	}
	ta.apply(snapshot(down(now.Add(-5*time.Minute)), "studio"))
	if got := notes(ta); len(got) != 0 {
		t.Errorf("told twice in one outage: %q", got)
	}
	ta.apply(snapshot(up, "studio"))
	ta.apply(snapshot(down(now.Add(-4*time.Minute)), "studio"))
	if got := notes(ta); len(got) != 1 {
		t.Errorf("a new outage after it recovered: notifications %q, want one", got)
	}

	withTools := func(names ...string) model.Snapshot {
		s := snapshot(up, "studio")
		s.Servers[0].Tools = names
		return s
	}
	ta.apply(withTools("fetch", "search"))
	if got := notes(ta); len(got) != 0 {
		t.Errorf("the first look at studio's tools: %q", got)
	}
	ta.apply(withTools("a", "b", "c", "d", "e", "f", "fetch", "search"))
	ta.apply(withTools("delete", "fetch", "search"))
	got := notes(ta)
	want2 := []string{
		"studio offers 6 new tools: a, b, c, d, e and 1 more | To keep any of them from Claude Code, choose Tools… for studio in the MCP Broker menu or window.",
		"studio offers 1 new tool: delete | To keep any of them from Claude Code, choose Tools… for studio in the MCP Broker menu or window.",
	}
	if !slices.Equal(got, want2) {
		t.Errorf("new tools: notifications %q, want %q", got, want2)
	}
}
