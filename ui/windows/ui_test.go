package windows

import (
	"testing"
	"time"
)

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "less than a minute"},
		{59 * time.Second, "less than a minute"},
		{42*time.Minute + 59*time.Second, "42 min"}, // rounds down: never overstates
		{time.Hour, "1 h"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{-5 * time.Minute, "5 min"},
		{24 * time.Hour, "1 day"},
		{80 * time.Hour, "3 days"},
	} {
		if got := span(tc.d); got != tc.want {
			t.Errorf("span(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestExpiryAndSince(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 14, 13, 50, 0, 0, paris)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tc := range []struct {
		got, want string
	}{
		{expiry(now, at(42*time.Minute)), "expires in 42 min (14:32)"},
		{expiry(now, at(-5*time.Minute)), "expired 5 min ago (13:45)"},
		{expiry(now, at(12*time.Hour)), "expires in 12 h (15 Mar 01:50)"},
		{expiry(now, at(300*24*time.Hour)), "expires in 300 days (8 Jan 2027 13:50)"},
		{expiry(now, nil), "no expiry given"},
		// An expiry in UTC is shown in now's zone.
		{expiry(now, func() *time.Time { t := time.Date(2026, 3, 14, 13, 32, 0, 0, time.UTC); return &t }()), "expires in 42 min (14:32)"},
		{since(now, now.Add(-95*time.Minute)), "12:15 (1 h 35 min ago)"},
		{since(now, time.Time{}), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestSentence(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"the keychain is locked", "The keychain is locked."},
		{"already a sentence.", "Already a sentence."},
		{"search.example.com did not answer", "search.example.com did not answer."},
		{`url "x" must use https`, `URL "x" must use https.`},
		{"/home/ada/.claude.json: not valid JSON", "/home/ada/.claude.json: not valid JSON."},
		{"  ", ""},
	} {
		if got := sentence(tc.in); got != tc.want {
			t.Errorf("sentence(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
