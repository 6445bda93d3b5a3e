package retry

import (
	"context"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second},
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{5, 16 * time.Second},
		{6, MaxBackoff},
		{7, MaxBackoff},
		{1 << 30, MaxBackoff},
	}
	for _, tt := range tests {
		if got := Backoff(tt.n); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(t.Context(), time.Millisecond) {
		t.Error("Sleep with a live context reported it was cut short")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep with an ended context reported the full wait")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Sleep with an ended context took %s", d)
	}
}
