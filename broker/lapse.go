package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// This file holds how long a person's sign-in lasts: the moment they will have to sign in
// again (SignInBy), what a refused refresh teaches about the server (a session limit), and
// the record of the last background renewal that failed (RenewalFailure). All of it is in the
// state file, none of it secret, so that status, the tray and its notifications read it
// without the keychain.

// SignInByReason says why a person must sign in again at ServerStatus.SignInBy. Its values
// are stable: `status --json` writes them.
type SignInByReason string

// The reasons, each a moment the broker knows of.
const (
	// SignInByNoRefreshToken: the authorization server gave no refresh token, so the sign-in
	// ends when the access token expires.
	SignInByNoRefreshToken SignInByReason = "no-refresh-token"
	// SignInByRefreshExpiry: the server said when the refresh token itself expires
	// (refresh_expires_in, refresh_token_expires_in).
	SignInByRefreshExpiry SignInByReason = "refresh-token-expires"
	// SignInBySessionLimit: the server said nothing, but refused a refresh before, once the
	// sign-in was ServerStatus.SessionLimit old: the sign-in is taken to end as old as that.
	SignInBySessionLimit SignInByReason = "session-limit"
)

// Why words the reason for a sentence ("sign in again by 14:02 (…)"); limit is the learnt
// session limit (ServerStatus.SessionLimit), which the session-limit reason names.
func (r SignInByReason) Why(limit time.Duration) string {
	switch r {
	case SignInByNoRefreshToken:
		return "the server gave no refresh token"
	case SignInByRefreshExpiry:
		return "the refresh token expires"
	case SignInBySessionLimit:
		return "the server ended the last sign-in after " + Span(limit)
	}
	return string(r)
}

// Span words a duration for people, rounded down to what matters: "45 minutes", "8 hours",
// "3 days".
func Span(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 48*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64(d/time.Minute), "minute")
}

// RenewalFailureKind is how a background renewal failed. Its values are stable: `status
// --json` writes them.
type RenewalFailureKind string

// The kinds.
const (
	// RenewalRefused: the authorization server refused the refresh token (invalid_grant): the
	// sign-in has ended and a person must sign in again. For a grant without a person (client
	// credentials, workload, enterprise), the server refused the grant itself (invalid_client,
	// invalid_grant, unauthorized_client, …): its client or setup needs a person's look.
	RenewalRefused RenewalFailureKind = "refused"
	// RenewalFailed: the renewal did not get through (the server unreachable, an answer of
	// HTTP 5xx, an error other than invalid_grant): the grant is kept and the next request
	// tries again.
	RenewalFailed RenewalFailureKind = "failed"
)

// RenewalFailure is the last background renewal of a sign-in that failed, kept until a
// renewal or a sign-in succeeds, or the person signs out. It never holds a secret.
type RenewalFailure struct {
	// At is when it failed: the first failure of an episode of failures of one kind.
	At   time.Time          `json:"at"`
	Kind RenewalFailureKind `json:"kind"`
	// Reason words what went wrong, in the broker's words: at most the server's OAuth error
	// code or HTTP status, never its description.
	Reason string `json:"reason"`
}

// minSessionLimit is the youngest a refused sign-in may be for its age to be taken as the
// server's session limit: a refresh refused minutes after the sign-in is a revocation (a
// sign-out elsewhere, a password change), not a limit.
const minSessionLimit = time.Hour

// refusedReason is RenewalFailure.Reason for a refused refresh token.
const refusedReason = "the sign-in server refused the refresh token"

// failureReason words a renewal that did not get through, without a secret: the
// TokenError's code or status, or what kind of network error it was.
func failureReason(err error) string {
	var te *oauth.TokenError
	var ne net.Error
	switch {
	case errors.As(err, &te) && errorCode(te.Code):
		return "the sign-in server answered " + te.Code
	case errors.As(err, &te) && te.Status != 0:
		return fmt.Sprintf("the sign-in server answered HTTP %d", te.Status)
	case errors.As(err, &ne) && ne.Timeout():
		return "the sign-in server did not answer in time"
	case errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return "the sign-in server could not be reached"
	}
	return "the sign-in server's answer could not be used"
}

// errorCode reports whether code looks like an OAuth error code (RFC 6749 §5.2: invalid_client,
// temporarily_unavailable, …), as opposed to free text a server put in its place, which the
// state file does not repeat.
func errorCode(code string) bool {
	if code == "" || len(code) > 40 {
		return false
	}
	for _, r := range code {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// renewalRefused records that the authorization server refused the refresh token of old:
// a RenewalFailure, and, when the refresh token had no expiry of its own and the sign-in it
// came from is old enough (minSessionLimit), that sign-in's age as the server's session
// limit. Best effort: the refusal is reported to the caller whatever happens here.
func (b *Broker) renewalRefused(ctx context.Context, name string, old *storedToken) {
	now := b.now().Round(0)
	err := b.updateState(ctx, func(st *state) {
		s := st.server(name)
		s.RenewalFailure = &RenewalFailure{At: now, Kind: RenewalRefused, Reason: refusedReason}
		if age := now.Sub(old.SignedInAt); old.RefreshExpiry.IsZero() && !old.SignedInAt.IsZero() && age >= minSessionLimit {
			s.SessionLimit = age.Round(time.Second)
		}
	})
	if err != nil {
		b.log.Warn("updating the state file", "err", err)
	}
}

// renewalFailed records that a refresh did not get through (RenewalFailed), once per
// episode: see recordFailure.
func (b *Broker) renewalFailed(ctx context.Context, name string, err error) {
	b.recordFailure(ctx, name, RenewalFailed, failureReason(err))
}

// grantRenewalFailed records, when err is not nil, that a background renewal by a grant
// without a person (client credentials, a workload's JWT, an enterprise exchange) failed at
// the authorization server or on the way to it: RenewalRefused when the server refused the
// grant (refusedGrant), RenewalFailed when it could not be reached or failed itself. An error
// of this machine's (the keychain, the workload's JWT file, no sign-in at the identity
// provider) is no renewal of the server's that failed, and is left to the caller's error. It
// returns err, for the caller to return. Login makes the same grants and records nothing: a
// person who asked sees the error.
func (b *Broker) grantRenewalFailed(ctx context.Context, name string, err error) error {
	if err == nil {
		return nil
	}
	var te *oauth.TokenError
	var ne net.Error
	switch {
	case errors.As(err, &te) && refusedGrant(te):
		b.recordFailure(ctx, name, RenewalRefused, failureReason(err))
	case errors.As(err, &te), errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		b.recordFailure(ctx, name, RenewalFailed, failureReason(err))
	}
	return err
}

// refusedGrant reports whether the token endpoint's error te refuses the grant itself (RFC
// 6749 §5.2: the client, its credentials or the assertion are not accepted), so that asking
// again changes nothing until a person acts; an error of the server's (HTTP 5xx, 429,
// server_error, temporarily_unavailable) is a failure that may pass.
func refusedGrant(te *oauth.TokenError) bool {
	switch te.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "invalid_scope",
		"invalid_target", "unsupported_grant_type", "invalid_request":
		return true
	case "":
		return te.Status == 400 || te.Status == 401 || te.Status == 403
	}
	return false
}

// recordFailure records a RenewalFailure of kind, once per episode: a bridge asks again at
// every request, and the state file is written only when no failure is recorded yet or the
// last one was of another kind. A request cancelled by its caller is no failure of the
// server's.
func (b *Broker) recordFailure(ctx context.Context, name string, kind RenewalFailureKind, reason string) {
	if ctx.Err() != nil {
		return
	}
	if st, lerr := loadState(statePath(b.configPath)); lerr == nil {
		if s := st.Servers[name]; s != nil && s.RenewalFailure != nil && s.RenewalFailure.Kind == kind {
			return
		}
	}
	f := &RenewalFailure{At: b.now().Round(0), Kind: kind, Reason: reason}
	uerr := b.updateState(ctx, func(st *state) {
		s := st.server(name)
		if s.RenewalFailure == nil || s.RenewalFailure.Kind != kind {
			s.RenewalFailure = f
		}
	})
	if uerr != nil {
		b.log.Warn("updating the state file", "err", uerr)
	}
}

// signInBy is the earliest moment the person must sign in again to keep the OAuth sign-in t
// of s, and why; nil when none is known (a refresh token without known end).
func signInBy(t *tokenInfo, s *serverState) (*time.Time, SignInByReason) {
	var at time.Time
	var why SignInByReason
	consider := func(m time.Time, r SignInByReason) {
		if !m.IsZero() && (at.IsZero() || m.Before(at)) {
			at, why = m, r
		}
	}
	if !t.Refreshable {
		consider(t.Expiry, SignInByNoRefreshToken)
	} else {
		consider(t.RefreshExpiry, SignInByRefreshExpiry)
		if s.SessionLimit > 0 && !t.SignedInAt.IsZero() {
			consider(t.SignedInAt.Add(s.SessionLimit), SignInBySessionLimit)
		}
	}
	if at.IsZero() {
		return nil, ""
	}
	return &at, why
}
