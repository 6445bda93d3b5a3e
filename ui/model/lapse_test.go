package model

import (
	"slices"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
)

// noRefresh is a server signed in until exp, with no refresh token.
func noRefresh(name string, exp time.Time) broker.ServerStatus {
	s := signedIn(name)
	s.State, s.Expiry = broker.StateSignedInNoRefresh, &exp
	return s
}

// TestLapseDue: a sign-in without a refresh token is warned about once, ahead of its expiry;
// a new sign-in (a new expiry) is warned about again; a renewing one never.
func TestLapseDue(t *testing.T) {
	const ahead = 10 * time.Minute
	snap := Build([]broker.ServerStatus{
		noRefresh("soon", t0.Add(5*time.Minute)),
		noRefresh("later", t0.Add(time.Hour)),
		noRefresh("gone", t0.Add(-time.Minute)),
		signedIn("renews"),
	}, nil, t0)
	warned := map[string]time.Time{}

	due, next := LapseDue(snap, t0, ahead, warned)
	if !slices.Equal(due, []string{"soon"}) {
		t.Errorf("due %q, want [soon]", due)
	}
	if want := t0.Add(50 * time.Minute); !next.Equal(want) {
		t.Errorf("next warning at %v, want %v (later's expiry less %v)", next, want, ahead)
	}

	warned["soon"] = t0.Add(5 * time.Minute)
	if due, _ := LapseDue(snap, t0.Add(time.Minute), ahead, warned); len(due) != 0 {
		t.Errorf("warned twice: %q", due)
	}
	due, next = LapseDue(snap, t0.Add(50*time.Minute), ahead, warned)
	if !slices.Equal(due, []string{"later"}) || !next.IsZero() {
		t.Errorf("at later's moment: due %q, next %v", due, next)
	}

	// Signed in again: a new expiry, a new warning.
	again := Build([]broker.ServerStatus{noRefresh("soon", t0.Add(65*time.Minute))}, nil, t0)
	if due, _ := LapseDue(again, t0.Add(time.Hour), ahead, warned); !slices.Equal(due, []string{"soon"}) {
		t.Errorf("a new sign-in is not warned about: %q", due)
	}
}

// TestRenewalFailed: a sign-in that renewed by itself and is gone is reported; one that was
// never signed in, a sign-in without refresh token that ran out, and a new server are not.
func TestRenewalFailed(t *testing.T) {
	expired := signedIn("expired")
	expired.State = broker.StateExpired
	prev := Build([]broker.ServerStatus{signedIn("studio"), expired, signedOut("notion"), noRefresh("linear", t0)}, nil, t0)
	next := Build([]broker.ServerStatus{signedOut("studio"), signedOut("expired"), signedOut("notion"), signedOut("linear"), signedOut("new")}, nil, t0)
	if got := RenewalFailed(prev, next); !slices.Equal(got, []string{"expired", "studio"}) {
		t.Errorf("RenewalFailed = %q, want [expired studio]", got)
	}
	if got := RenewalFailed(next, next); len(got) != 0 {
		t.Errorf("no change, yet %q", got)
	}
}
