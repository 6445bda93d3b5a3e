package ui

import (
	"strings"
	"testing"
	"time"

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
