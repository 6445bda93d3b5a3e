package secrets

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// regGroup indexes "reg/<group>/..." keys under <group> and nothing else, as the broker
// indexes registrations but not the tokens whose names it can rebuild.
func regGroup(key string) string {
	if rest, ok := strings.CutPrefix(key, "reg/"); ok {
		g, _, _ := strings.Cut(rest, "/")
		return g
	}
	return ""
}

func TestIndexedContract(t *testing.T) {
	testStore(t, NewIndexed(NewMemory(), regGroup))
}

func TestIndexedConcurrent(t *testing.T) {
	testStoreConcurrent(t, NewIndexed(NewMemory(), func(key string) string {
		return map[bool]string{true: "g"}[strings.HasPrefix(key, "k/")]
	}))
}

// TestIndexedListsAndDeletesAGroup checks that the index follows Set and Delete, and that
// DeleteGroup leaves nothing of the group, index included, and nothing else touched.
func TestIndexedListsAndDeletesAGroup(t *testing.T) {
	m := NewMemory()
	x := NewIndexed(m, regGroup)
	ctx := t.Context()
	for _, k := range []string{"reg/s1/b", "reg/s1/a", "reg/s2/a", "tok/s1", "reg/s1/a"} {
		if err := x.Set(ctx, k, "v-"+k); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(g string) []string {
		t.Helper()
		ks, err := x.Keys(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if got := keys("s1"); !reflect.DeepEqual(got, []string{"reg/s1/a", "reg/s1/b"}) {
		t.Fatalf("Keys(s1) = %v", got)
	}
	if err := x.Delete(ctx, "reg/s1/b"); err != nil {
		t.Fatal(err)
	}
	if got := keys("s1"); !reflect.DeepEqual(got, []string{"reg/s1/a"}) {
		t.Fatalf("Keys(s1) after Delete = %v", got)
	}
	if err := x.DeleteGroup(ctx, "s1", "tok/s1"); err != nil {
		t.Fatal(err)
	}
	if got := m.Keys(); !reflect.DeepEqual(got, []string{"index/s2", "reg/s2/a"}) {
		t.Fatalf("store after DeleteGroup(s1) = %v, want only s2's", got)
	}
	if err := x.Delete(ctx, "reg/s2/a"); err != nil {
		t.Fatal(err)
	}
	if got := m.Keys(); len(got) != 0 {
		t.Fatalf("store after deleting the last key = %v, want empty (no empty index)", got)
	}
}

// TestIndexedCosts checks what the index adds in keychain calls: nothing on reads or on keys
// outside any group, one read on a Set of a key already indexed.
func TestIndexedCosts(t *testing.T) {
	m := NewMemory()
	x := NewIndexed(m, regGroup)
	ctx := t.Context()
	count := func(f func() error) int {
		t.Helper()
		before := len(m.Calls())
		if err := f(); err != nil {
			t.Fatal(err)
		}
		return len(m.Calls()) - before
	}
	if n := count(func() error { return x.Set(ctx, "tok/s", "v") }); n != 1 {
		t.Errorf("Set of an unindexed key: %d calls, want 1", n)
	}
	if n := count(func() error { return x.Set(ctx, "reg/s/a", "v") }); n != 3 {
		t.Errorf("Set of a new indexed key: %d calls, want 3 (read and write the index, write the key)", n)
	}
	if n := count(func() error { return x.Set(ctx, "reg/s/a", "w") }); n != 2 {
		t.Errorf("Set of an indexed key again: %d calls, want 2", n)
	}
	if n := count(func() error { _, err := x.Get(ctx, "reg/s/a"); return err }); n != 1 {
		t.Errorf("Get: %d calls, want 1", n)
	}
}

// TestIndexedOrder checks that a failure never leaves a key the index does not name: the
// index is written before the key, and a key's entry goes only once the key is gone.
func TestIndexedOrder(t *testing.T) {
	m := &failingStore{Memory: NewMemory()}
	x := NewIndexed(m, regGroup)
	ctx := t.Context()
	m.failKey = "reg/s/a"
	if err := x.Set(ctx, "reg/s/a", "v"); err == nil {
		t.Fatal("Set did not fail")
	}
	if got, _ := x.Keys(ctx, "s"); !reflect.DeepEqual(got, []string{"reg/s/a"}) {
		t.Fatalf("Keys after a failed Set = %v, want the key named all the same", got)
	}
	m.failKey = ""
	if err := x.Set(ctx, "reg/s/a", "v"); err != nil {
		t.Fatal(err)
	}
	m.failKey = "reg/s/a"
	if err := x.Delete(ctx, "reg/s/a"); err == nil {
		t.Fatal("Delete did not fail")
	}
	if got, _ := x.Keys(ctx, "s"); !reflect.DeepEqual(got, []string{"reg/s/a"}) {
		t.Fatalf("Keys after a failed Delete = %v, want the key still named", got)
	}
	m.failKey = IndexKey("s")
	if err := x.DeleteGroup(ctx, "s"); err == nil {
		t.Fatal("DeleteGroup did not fail")
	}
	m.failKey = ""
	if err := x.DeleteGroup(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if got := m.Keys(); len(got) != 0 {
		t.Fatalf("store after DeleteGroup = %v", got)
	}
}

// failingStore fails every Set and Delete of one key.
type failingStore struct {
	*Memory
	failKey string
}

var errFailKey = errors.New("failing on purpose")

func (f *failingStore) Set(ctx context.Context, key, value string) error {
	if key == f.failKey {
		return fmt.Errorf("storing %q: %w", key, errFailKey)
	}
	return f.Memory.Set(ctx, key, value)
}

func (f *failingStore) Delete(ctx context.Context, key string) error {
	if key == f.failKey {
		return fmt.Errorf("deleting %q: %w", key, errFailKey)
	}
	return f.Memory.Delete(ctx, key)
}
