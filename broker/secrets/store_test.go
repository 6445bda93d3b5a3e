package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// testStore checks the Store contract that every implementation keeps.
func testStore(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	const key = "oauth-token/studio"

	if _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
	for _, v := range []string{"first", "second\nline\x00with NUL and ünïcode", ""} {
		if err := s.Set(ctx, key, v); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if got, err := s.Get(ctx, key); err != nil || got != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}

	// Keys that differ only in case or by escaping stay apart.
	keys := []string{"a/b", "A/b", "a%2Fb", "a_b", "a.b", "con", "..", ".", "-x", "k\u00e9y", strings.Repeat("K/", 128)}
	for i, k := range keys {
		if err := s.Set(ctx, k, fmt.Sprint("v", i)); err != nil {
			t.Fatalf("Set(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		if got, err := s.Get(ctx, k); err != nil || got != fmt.Sprint("v", i) {
			t.Errorf("Get(%q) = %q, %v; want v%d", k, got, err, i)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
	}

	for _, bad := range []string{"", "a\nb", strings.Repeat("k", maxKeyLen+1), "\xff"} {
		if err := s.Set(ctx, bad, "v"); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Set(%q) = %v, want an invalid key error", bad, err)
		}
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Set(cancelled, key, "v"); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context = %v, want context.Canceled", err)
	}
}

// testStoreConcurrent has goroutines write and read their own and a shared
// key at once; run with -race.
func testStoreConcurrent(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			own := fmt.Sprintf("k/%d", i)
			for j := range 20 {
				v := fmt.Sprintf("%d-%d", i, j)
				if err := s.Set(ctx, own, v); err != nil {
					errs <- err
					return
				}
				if got, err := s.Get(ctx, own); err != nil || got != v {
					errs <- fmt.Errorf("Get(%s) = %q, %v; want %q", own, got, err, v)
					return
				}
				if err := s.Set(ctx, "shared", v); err != nil {
					errs <- err
					return
				}
				if got, err := s.Get(ctx, "shared"); err != nil || !strings.Contains(got, "-") {
					errs <- fmt.Errorf("Get(shared) = %q, %v: a torn or missing value", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
