package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/model"
)

// TestLifetimeNotifications: the app warns once, ahead of the moment, that a sign-in without
// a refresh token lapses, and says when a sign-in that renewed by itself has ended; its own
// sign-out is no such news.
func TestLifetimeNotifications(t *testing.T) {
	ta, _, _ := newTestApp(t)
	now := time.Now()
	soon, later := now.Add(5*time.Minute), now.Add(2*time.Hour)
	srv := func(name string, st broker.SignInState, exp *time.Time) broker.ServerStatus {
		return broker.ServerStatus{Name: name, URL: "https://" + name + ".example/mcp", Auth: config.AuthOAuth,
			SignedIn: st != broker.StateSignInRequired, State: st, Expiry: exp}
	}
	snap := func(servers ...broker.ServerStatus) model.Snapshot { return model.Build(servers, nil, now) }

	ta.apply(snap(srv("linear", broker.StateSignedInNoRefresh, &soon), srv("later", broker.StateSignedInNoRefresh, &later),
		srv("studio", broker.StateSignedIn, &later), srv("own", broker.StateSignedIn, &later)))
	got := notes(ta)
	if len(got) != 1 || !strings.HasPrefix(got[0], "Sign in to linear again soon | Its access token expires at "+soon.Local().Format("15:04")) {
		t.Errorf("lapse notifications = %q", got)
	}
	if ta.lapseTimer == nil {
		t.Error("no timer for the later sign-in's warning")
	}

	// The same state again (a poll, a rebuild): no second warning. studio's renewal fails;
	// "own" is signed out by the app itself.
	ta.signingOut["own"] = true
	ta.apply(snap(srv("linear", broker.StateSignedInNoRefresh, &soon), srv("later", broker.StateSignedInNoRefresh, &later),
		srv("studio", broker.StateSignInRequired, nil), srv("own", broker.StateSignInRequired, nil)))
	got = notes(ta)
	if len(got) != 1 || !strings.HasPrefix(got[0], "Signed out of studio | Its access token could not be renewed") {
		t.Errorf("after the renewal failed: notifications %q", got)
	}
	if ta.signingOut["own"] {
		t.Error("the app's own sign-out is still pending after the snapshot showed it")
	}
	ta.lapseTimer.Stop()
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
