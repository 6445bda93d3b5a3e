package keychaintest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestSessionKeychain stores, reads, replaces and deletes items in the
// keychain of the current session.
func TestSessionKeychain(t *testing.T) {
	testenv.RequireKeychain(t)
	k := secrets.NewKeychain(20 * time.Second)
	ctx := t.Context()
	// A key of our own, so that parallel runs never meet.
	prefix := fmt.Sprintf("keychaintest/%d-%d/", os.Getpid(), time.Now().UnixNano())
	key := prefix + "oauth-token"
	t.Cleanup(func() { _ = k.Delete(t.Context(), key) })

	if _, err := k.Get(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get of a new key = %v, want ErrNotFound", err)
	}
	values := []string{"first", "second: with spaces, ünïcode and\nnewlines"}
	// The largest value every platform holds.
	values = append(values, strings.Repeat("x", 2560-len(key)))
	for _, v := range values {
		if err := k.Set(ctx, key, v); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if got, err := k.Get(ctx, key); err != nil || got != v {
			t.Fatalf("Get = %q (%d bytes), %v; want %d bytes", trim(got), len(got), err, len(v))
		}
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
