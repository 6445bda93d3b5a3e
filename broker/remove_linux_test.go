package broker_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// TestRemoveServerWithDamagedStateInTheKeychain is TestRemoveServerWithDamagedState on the
// real Secret Service (under scripts/with-desktop.sh): after the removal, no item of
// mcp-broker's in the keyring names the server.
func TestRemoveServerWithDamagedStateInTheKeychain(t *testing.T) {
	testenv.RequireKeychain(t)
	conn := testenv.RequireSessionBus(t)
	e := newEnv(t, envOptions{})
	// A server name of this run's own, so that runs sharing the keyring never meet.
	name := fmt.Sprintf("rm-%d-%d", os.Getpid(), time.Now().UnixNano())
	cfg := filepath.Join(t.TempDir(), "config.json")
	browser := &opener.Browser{}
	b, err := broker.New(broker.Options{ConfigPath: cfg, Secrets: secrets.NewKeychain(20 * time.Second), Opener: browser, SignInTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddServer(t.Context(), config.Server{Name: name, URL: e.mcp.URL()}, ""); err != nil {
		t.Fatal(err)
	}
	_, err = b.Login(t.Context(), name, broker.LoginOptions{})
	browser.Wait()
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { _ = b.RemoveServer(t.Context(), name) })
	if got := keyringItems(t, conn, name); !strings.Contains(strings.Join(got, " "), "oauth-client/"+name+"/") {
		t.Fatalf("no registration in the keyring after sign-in: %v", got)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "state.json"), []byte("{damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.RemoveServer(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	if got := keyringItems(t, conn, name); len(got) != 0 {
		t.Errorf("keyring items of %s left after removing it with a damaged state file: %v", name, got)
	}
}

// keyringItems lists the accounts of mcp-broker's Secret Service items that mention server.
func keyringItems(t *testing.T, conn *dbus.Conn, server string) []string {
	t.Helper()
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var unlocked, locked []dbus.ObjectPath
	err := svc.CallWithContext(t.Context(), "org.freedesktop.Secret.Service.SearchItems", 0,
		map[string]string{"service": secrets.Service}).Store(&unlocked, &locked)
	if err != nil {
		t.Fatalf("listing the keyring: %v", err)
	}
	var out []string
	for _, p := range append(unlocked, locked...) {
		v, err := conn.Object("org.freedesktop.secrets", p).GetProperty("org.freedesktop.Secret.Item.Attributes")
		if err != nil {
			t.Fatalf("reading the attributes of %s: %v", p, err)
		}
		attrs, _ := v.Value().(map[string]string)
		if user := attrs["username"]; strings.Contains(user, "/"+server) {
			out = append(out, user)
		}
	}
	return out
}
