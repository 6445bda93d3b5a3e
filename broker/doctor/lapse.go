package doctor

import (
	"fmt"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// What the broker recorded of a configured server's sign-ins (Setup.Status) is said too: the
// last background renewal that failed, which the server may refuse for reasons no probe
// shows (a client secret rotated, a session limit), and the moment the person must sign in
// again when it is near.

// Item names of the recorded facts.
const (
	itemRenewal     = "last renewal"
	itemSignInAgain = "sign in again"
)

// signInSoon is how near the moment to sign in again must be for doctor to say it: within a
// day, a sign-in the person may want to do before they need the server.
const signInSoon = 24 * time.Hour

// lapse adds what the broker recorded of the server's sign-ins: the last background renewal
// that failed (a warning, so that a refused renewal never reads "No problems found"), and when
// the person must sign in again, when that is within signInSoon.
func (d *diagnosis) lapse() {
	if d.setup == nil || d.setup.Status == nil {
		return
	}
	s, now := d.setup.Status, d.setup.Now
	if now.IsZero() {
		now = time.Now()
	}
	if f := s.RenewalFailure; f != nil {
		detail := fmt.Sprintf("%s at %s: %s", f.Kind, when(f.At, now), f.Reason)
		h := hint.TryAgain
		if f.Kind == broker.RenewalRefused {
			h = refusedHint(d.setup.Server)
		} else {
			detail += "\nthe next request tries again; it matters if it keeps failing"
		}
		d.report.Findings = append(d.report.Findings, Finding{Item: itemRenewal, Severity: Warn, Detail: detail, Hint: h})
	}
	if s.SignedIn && s.SignInBy != nil {
		by, why := *s.SignInBy, s.SignInByReason.Why(s.SessionLimit())
		switch {
		case !by.After(now):
			d.report.Findings = append(d.report.Findings, Finding{Item: itemSignInAgain, Severity: Warn,
				Detail: fmt.Sprintf("due since %s: %s", when(by, now), why), Hint: hint.SignIn})
		case by.Sub(now) <= signInSoon:
			d.add(itemSignInAgain, Info, fmt.Sprintf("by %s (in %s): %s", when(by, now), broker.Span(by.Sub(now)), why))
		}
	}
}

// refusedHint is the next step after the authorization server refused a renewal of a server
// configured as srv: a person's sign-in again, or, for a grant without a person, the setup it
// refused (the client's secret or key, the workload's JWT, the identity provider's sign-in).
func refusedHint(srv config.Server) hint.Hint {
	switch srv.Auth {
	case config.AuthClientCredentials:
		if srv.ClientAuth == config.ClientAuthPrivateKeyJWT {
			return hint.PrivateKey
		}
		return hint.ClientSecret
	case config.AuthWorkload:
		return hint.WorkloadAssertion
	case config.AuthEnterprise:
		return hint.SignInIdP
	}
	return hint.SignIn
}

// when shows t in the local time zone: 15:04 on now's day, with the date on another.
func when(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, dd := t.Date(); y == now.Year() && m == now.Month() && dd == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}
