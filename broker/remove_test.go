package broker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoveServerWithDamagedState damages state.json, the only other record of a server's
// dynamic registrations, and checks that `servers remove` still leaves nothing of the server
// in the secret store: the store's own index of the server's keys names them.
func TestRemoveServerWithDamagedState(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustLogin()
	var registration bool
	for _, k := range e.store.Keys() {
		registration = registration || strings.HasPrefix(k, "oauth-client/demo/")
	}
	if !registration {
		t.Fatalf("no dynamic registration stored: %v", e.store.Keys())
	}
	state := filepath.Join(filepath.Dir(e.config), "state.json")
	if err := os.WriteFile(state, []byte(`{"servers": {"demo": [damaged`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.b.RemoveServer(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if keys := e.store.Keys(); len(keys) != 0 {
		t.Errorf("secrets left after removing the server with a damaged state file: %v", keys)
	}
}
