package secrets

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestMemoryContract(t *testing.T) {
	testStore(t, NewMemory())
}

func TestMemoryConcurrent(t *testing.T) {
	testStoreConcurrent(t, NewMemory())
}

func TestMemoryRecordsAndFails(t *testing.T) {
	m := NewMemory()
	ctx := t.Context()
	if err := m.Set(ctx, "b", "secret-b"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "a", "secret-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	locked := fmt.Errorf("fake: %w", ErrLocked)
	m.FailWith(locked)
	if _, err := m.Get(ctx, "a"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Get after FailWith = %v, want ErrLocked", err)
	}
	if err := m.Delete(ctx, "a"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Delete after FailWith = %v, want ErrLocked", err)
	}
	m.FailWith(nil)
	if err := m.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}

	want := []Call{{"set", "b"}, {"set", "a"}, {"get", "a"}, {"get", "a"}, {"delete", "a"}, {"delete", "b"}}
	if got := m.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("Calls() = %v, want %v", got, want)
	}
	if got := m.Keys(); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("Keys() = %v, want [a] (the failed Delete must not delete)", got)
	}
	if got := fmt.Sprint(m.Calls()); strings.Contains(got, "secret-") {
		t.Errorf("Calls() records values: %s", got)
	}
}
