package secrets

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// pattern returns n bytes of printable text that differ from any other
// call's with another seed, so a value put together from the wrong parts
// cannot pass for the right one.
func pattern(seed byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'A' + (seed+byte(i%251)+byte(i/251))%26
	}
	return string(b)
}

// cappedKeychain is a Keychain on a fake backend that holds no more per item
// than goos's keychain does.
func cappedKeychain(goos string) (*Keychain, *fakeBackend) {
	b := newFakeBackend()
	b.goos = goos
	return newKeychain(time.Minute, goos, b, noProbe), b
}

// TestKeychainBigValues stores values far beyond one item's cap, such as an
// enterprise access token with its groups (16 KiB), on keychains capped like
// macOS's and Windows's, and reads them back whole.
func TestKeychainBigValues(t *testing.T) {
	const key = "oauth-token/studio"
	for _, goos := range []string{"darwin", "windows", "linux"} {
		for _, n := range []int{0, 100, 2500, 2560, 2561, 2980, 3000, 8000, 16 << 10, 60 << 10} {
			t.Run(fmt.Sprintf("%s/%d", goos, n), func(t *testing.T) {
				k, b := cappedKeychain(goos)
				v := pattern(byte(n), n)
				if err := k.Set(t.Context(), key, v); err != nil {
					t.Fatalf("Set of %d bytes: %v", n, err)
				}
				if got, err := k.Get(t.Context(), key); err != nil || got != v {
					t.Fatalf("Get = %d bytes, %v; want the %d bytes stored", len(got), err, n)
				}
				if err := k.Delete(t.Context(), key); err != nil {
					t.Fatalf("Delete: %v", err)
				}
				if left := b.users(); len(left) != 0 {
					t.Fatalf("items left after Delete: %v", left)
				}
			})
		}
	}
}

// TestKeychainSmallValueIsOneItem checks that a value that fits stays one
// item, read in one call: what the bridge reads at every start.
func TestKeychainSmallValueIsOneItem(t *testing.T) {
	for _, goos := range []string{"darwin", "windows", "linux"} {
		k, b := cappedKeychain(goos)
		v := pattern(1, 2000)
		if err := k.Set(t.Context(), "oauth-token/s", v); err != nil {
			t.Fatal(err)
		}
		if got := b.users(); len(got) != 1 || got[0] != "oauth-token/s" {
			t.Errorf("%s: a small value is stored as %v, want the one item oauth-token/s", goos, got)
		}
		before := b.callCount()
		if got, err := k.Get(t.Context(), "oauth-token/s"); err != nil || got != v {
			t.Fatalf("%s: Get = %v", goos, err)
		}
		if n := b.callCount() - before; n != 1 {
			t.Errorf("%s: Get of a small value took %d keychain calls, want 1", goos, n)
		}
	}
}

// TestKeychainCrashAtEveryStep fails each call of a write (and of a delete)
// in turn, once before the keychain carries it out and once after, as a
// process that dies at that step would, and checks that the key then reads
// as the old value or the new one, whole, never a mix or an error; and that
// the next write and delete leave no item behind.
func TestKeychainCrashAtEveryStep(t *testing.T) {
	const key = "oauth-token/studio"
	small, small2 := pattern(1, 300), pattern(2, 200)
	big, big2, mid := pattern(3, 16<<10), pattern(4, 12<<10), pattern(5, 6000)
	const deleted = "\x00deleted"
	steps := []struct {
		name     string
		old, new string // new == deleted: the step is a Delete
		hasOld   bool
	}{
		{"none to big", "", big, false},
		{"small to big", small, big, true},
		{"big to big", big, big2, true},
		{"big to smaller big", big, mid, true},
		{"big to small", big, small2, true},
		{"small to small", small, small2, true},
		{"delete big", big, deleted, true},
		{"delete small", small, deleted, true},
	}
	for _, goos := range []string{"darwin", "windows"} {
		for _, st := range steps {
			t.Run(goos+"/"+st.name, func(t *testing.T) {
				setup := func() (*Keychain, *fakeBackend) {
					k, b := cappedKeychain(goos)
					if st.hasOld {
						if err := k.Set(t.Context(), key, st.old); err != nil {
							t.Fatal(err)
						}
					}
					return k, b
				}
				do := func(k *Keychain) error {
					if st.new == deleted {
						return k.Delete(t.Context(), key)
					}
					return k.Set(t.Context(), key, st.new)
				}
				k, b := setup()
				before := b.callCount()
				if err := do(k); err != nil {
					t.Fatal(err)
				}
				total := b.callCount() - before
				for n := 1; n <= total; n++ {
					for _, applied := range []bool{false, true} {
						k, b := setup()
						b.failAt, b.failApplied = b.callCount()+n, applied
						err := do(k)
						b.mu.Lock()
						op := b.ops[len(b.ops)-1]
						if len(b.ops) >= b.failAt {
							op = b.ops[b.failAt-1]
						}
						b.failAt = 0
						b.mu.Unlock()
						where := fmt.Sprintf("call %d of %d (%s) failing, carried out %v", n, total, op, applied)

						got, gerr := k.Get(t.Context(), key)
						isOld := st.hasOld && gerr == nil && got == st.old
						isNew := (st.new == deleted && errors.Is(gerr, ErrNotFound)) || (gerr == nil && got == st.new)
						noneYet := !st.hasOld && errors.Is(gerr, ErrNotFound)
						switch {
						case err == nil && !isNew:
							t.Errorf("%s: the call succeeded, then Get = %d bytes, %v; want the new value", where, len(got), gerr)
						case !isOld && !isNew && !noneYet:
							t.Errorf("%s: Get = %d bytes, %v; want the old or the new value, whole", where, len(got), gerr)
						}

						// The next write and delete clean up whatever the crash left.
						if err := k.Set(t.Context(), key, big2); err != nil {
							t.Fatalf("%s: the next Set: %v", where, err)
						}
						if got, err := k.Get(t.Context(), key); err != nil || got != big2 {
							t.Fatalf("%s: the next Get = %d bytes, %v", where, len(got), err)
						}
						if err := k.Delete(t.Context(), key); err != nil {
							t.Fatalf("%s: the next Delete: %v", where, err)
						}
						if left := b.users(); len(left) != 0 {
							t.Errorf("%s: items left after the next write and delete: %v", where, left)
						}
					}
				}
			})
		}
	}
}

// TestKeychainPartsThatDoNotAddUp checks that a value whose parts were
// damaged or lost outside our control reads as not found, never as a wrong
// value.
func TestKeychainPartsThatDoNotAddUp(t *testing.T) {
	const key = "oauth-token/studio"
	for _, damage := range []string{"changed", "missing", "manifest"} {
		t.Run(damage, func(t *testing.T) {
			k, b := cappedKeychain("windows")
			v := pattern(7, 9000)
			if err := k.Set(t.Context(), key, v); err != nil {
				t.Fatal(err)
			}
			b.mu.Lock()
			for name := range b.items {
				_, user, _ := strings.Cut(name, "\x00")
				switch {
				case damage == "changed" && strings.HasSuffix(user, "/1"):
					b.items[name] = strings.Repeat("x", len(b.items[name]))
				case damage == "missing" && strings.HasSuffix(user, "/1"):
					delete(b.items, name)
				case damage == "manifest" && user == key:
					b.items[name] = b.items[name][:len(b.items[name])/2]
				}
			}
			b.mu.Unlock()
			if got, err := k.Get(t.Context(), key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of a damaged value = %d bytes, %v; want ErrNotFound", len(got), err)
			}
			if err := k.Delete(t.Context(), key); err != nil {
				t.Fatal(err)
			}
			if left := b.users(); len(left) != 0 {
				t.Errorf("items left after Delete: %v", left)
			}
		})
	}
}

// TestKeychainValueThatLooksLikeAManifest checks that a small value that
// begins like a manifest is kept so that it reads back as itself.
func TestKeychainValueThatLooksLikeAManifest(t *testing.T) {
	for _, goos := range []string{"darwin", "windows", "linux"} {
		k, b := cappedKeychain(goos)
		v := manifestMark + `{"slot":"a","parts":1,"len":3,"sha256":"x"}`
		if err := k.Set(t.Context(), "static-token/s", v); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Get(t.Context(), "static-token/s"); err != nil || got != v {
			t.Errorf("%s: Get = %q, %v; want %q", goos, got, err, v)
		}
		if err := k.Delete(t.Context(), "static-token/s"); err != nil {
			t.Fatal(err)
		}
		if left := b.users(); len(left) != 0 {
			t.Errorf("%s: items left after Delete: %v", goos, left)
		}
	}
}
