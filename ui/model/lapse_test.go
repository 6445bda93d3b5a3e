package model

import (
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
)

// noRefresh is a server signed in until exp, with no refresh token: as ReadStatus says it.
func noRefresh(name string, exp time.Time) broker.ServerStatus {
	s := signedIn(name)
	s.State, s.Expiry = broker.StateSignedInNoRefresh, &exp
	s.SignInBy, s.SignInByReason = &exp, broker.SignInByNoRefreshToken
	return s
}

// until is a server whose token renews by itself, yet whose sign-in ends at by, for why.
func until(name string, by time.Time, why broker.SignInByReason) broker.ServerStatus {
	s := signedIn(name)
	s.SignInBy, s.SignInByReason = &by, why
	return s
}

// TestLapseDue: a sign-in that ends at a known moment (no refresh token, a refresh token that
// expires, a session limit learnt) is warned about once, ahead of that moment; a new moment
// (a new sign-in, a refresh token renewed with a later end) is warned about again; a sign-in
// that renews without end, or that has ended, never.
func TestLapseDue(t *testing.T) {
	const ahead = 10 * time.Minute
	snap := Build([]broker.ServerStatus{
		noRefresh("soon", t0.Add(5*time.Minute)),
		noRefresh("later", t0.Add(time.Hour)),
		noRefresh("gone", t0.Add(-time.Minute)),
		until("keycloak", t0.Add(8*time.Minute), broker.SignInByRefreshExpiry),
		until("corp", t0.Add(2*time.Hour), broker.SignInBySessionLimit),
		signedIn("renews"),
	}, nil, t0)
	warned := map[string]time.Time{}

	due, next := LapseDue(snap, t0, ahead, warned)
	if !slices.Equal(due, []string{"keycloak", "soon"}) {
		t.Errorf("due %q, want [keycloak soon]", due)
	}
	if want := t0.Add(50 * time.Minute); !next.Equal(want) {
		t.Errorf("next warning at %v, want %v (later's expiry less %v)", next, want, ahead)
	}

	warned["soon"], warned["keycloak"] = t0.Add(5*time.Minute), t0.Add(8*time.Minute)
	if due, _ := LapseDue(snap, t0.Add(time.Minute), ahead, warned); len(due) != 0 {
		t.Errorf("warned twice: %q", due)
	}
	due, next = LapseDue(snap, t0.Add(50*time.Minute), ahead, warned)
	if !slices.Equal(due, []string{"later"}) || !next.Equal(t0.Add(110*time.Minute)) {
		t.Errorf("at later's moment: due %q, next %v", due, next)
	}
	warned["later"] = t0.Add(time.Hour)
	if due, next := LapseDue(snap, t0.Add(110*time.Minute), ahead, warned); !slices.Equal(due, []string{"corp"}) || !next.IsZero() {
		t.Errorf("at corp's moment: due %q, next %v", due, next)
	}

	// Signed in again, or the refresh token renewed with a later end: a new moment, a new warning.
	again := Build([]broker.ServerStatus{noRefresh("soon", t0.Add(65*time.Minute)), until("keycloak", t0.Add(62*time.Minute), broker.SignInByRefreshExpiry)}, nil, t0)
	if due, _ := LapseDue(again, t0.Add(time.Hour), ahead, warned); !slices.Equal(due, []string{"keycloak", "soon"}) {
		t.Errorf("a new moment is not warned about: %q", due)
	}
	// Signed out: no warning, whatever the moment said.
	out := signedOut("corp")
	out.SignInBy = snap.Servers[0].SignInBy
	if due, _ := LapseDue(Build([]broker.ServerStatus{out}, nil, t0), t0, ahead, map[string]time.Time{}); len(due) != 0 {
		t.Errorf("a signed-out server is warned about: %q", due)
	}
}

// failed is a server with a renewal failure of kind at at.
func failed(s broker.ServerStatus, kind broker.RenewalFailureKind, at time.Time) broker.ServerStatus {
	s.RenewalFailure = &broker.RenewalFailure{At: at, Kind: kind, Reason: "the sign-in server answered HTTP 503"}
	return s
}

// TestRenewalFailed: a renewal failure the broker recorded since the last snapshot is
// reported once, refused or failed; the same record again, a sign-out without one (the
// command line's, say), and a record that was there when the app first looked are not; a
// failure of another moment or kind is news again.
func TestRenewalFailed(t *testing.T) {
	prev := Build([]broker.ServerStatus{signedIn("studio"), signedIn("notion"), signedIn("linear"), failed(signedIn("old"), broker.RenewalFailed, t0)}, nil, t0)
	next := Build([]broker.ServerStatus{
		failed(signedOut("studio"), broker.RenewalRefused, t0.Add(time.Minute)),
		failed(signedIn("notion"), broker.RenewalFailed, t0.Add(time.Minute)),
		signedOut("linear"),
		failed(signedIn("old"), broker.RenewalFailed, t0),
		failed(signedOut("new"), broker.RenewalRefused, t0),
	}, nil, t0)
	if got := RenewalFailed(prev, next); !slices.Equal(got, []string{"notion", "studio"}) {
		t.Errorf("RenewalFailed = %q, want [notion studio]", got)
	}
	if got := RenewalFailed(next, next); len(got) != 0 {
		t.Errorf("no change, yet %q", got)
	}
	if got := RenewalFailed(Snapshot{}, next); len(got) != 0 {
		t.Errorf("the first snapshot's records are news: %q", got)
	}
	refused := Build([]broker.ServerStatus{failed(signedOut("notion"), broker.RenewalRefused, t0.Add(2*time.Minute))}, nil, t0)
	if got := RenewalFailed(next, refused); !slices.Equal(got, []string{"notion"}) {
		t.Errorf("a refusal after failures: %q", got)
	}
}
