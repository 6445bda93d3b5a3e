package main

import (
	"testing"
	"time"
)

// TestExpiryColumn: the EXPIRES column of `status` says how long a token has left, and says
// "expired" only for a token whose expiry has passed: a token with seconds left is still good.
func TestExpiryColumn(t *testing.T) {
	now := time.Date(2026, 3, 14, 13, 50, 0, 0, time.Local)
	at := func(d time.Duration) *time.Time { e := now.Add(d); return &e }
	tests := []struct {
		name string
		at   *time.Time
		want string
	}{
		{"none", nil, "-"},
		{"25 s left", at(25 * time.Second), "13:50 (in 25s)"},
		{"1 s left", at(time.Second), "13:50 (in 1s)"},
		{"half a second left", at(500 * time.Millisecond), "13:50 (in <1s)"},
		{"59.6 s left", at(59600 * time.Millisecond), "13:50 (in 59s)"},
		{"90 s left", at(90 * time.Second), "13:51 (in 1m)"},
		{"42 min left", at(42*time.Minute + 10*time.Second), "14:32 (in 42m)"},
		{"2 h left", at(2*time.Hour + 5*time.Minute), "15:55 (in 2h5m)"},
		{"just expired", at(0), "13:50 (expired)"},
		{"expired long ago", at(-5 * time.Minute), "13:45 (expired)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expiry(tt.at, now); got != tt.want {
				t.Errorf("expiry = %q, want %q", got, tt.want)
			}
		})
	}
}
