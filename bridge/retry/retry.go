// Package retry paces the bridge's repeated attempts: the wait before the next try to reach a
// server that failed (Backoff), and a wait that ends early when its context does (Sleep).
//
// The session manager (reconnecting a session) and the HTTP transports (resuming a response
// stream, reopening the GET stream) back off by the same rule, so a server that is down sees
// the same pace from every part of the bridge.
package retry

import (
	"context"
	"time"
)

// MaxBackoff is the longest wait Backoff returns: a server that is down for long is still
// tried twice a minute, so the bridge notices soon after it is back.
const MaxBackoff = 30 * time.Second

// Backoff returns the wait before attempt n (1-based) after n failures in a row: 1 s, doubling
// up to MaxBackoff. An n below 1 is taken as 1.
func Backoff(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Sleep waits d or until ctx ends; it reports whether the full d passed, so that a loop
// stops when its owner has gone.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
