package keychaintest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// goKeyring is the session's real keychain, as a secrets.Backend, so that a Keychain can use
// it with another platform's caps.
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, pass string) error     { return keyring.Set(service, user, pass) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// TestSessionKeychainBigValues stores 16 KiB tokens (an enterprise access token with its
// groups) in the session's keychain: as they are (the Secret Service has no cap), and with
// the caps of the macOS and Windows keychains, which split them into parts behind a manifest
// item. It replaces them with other big values and with a small one, deletes them, and checks
// that no item of theirs is left.
func TestSessionKeychainBigValues(t *testing.T) {
	testenv.RequireKeychain(t)
	conn := testenv.RequireSessionBus(t)
	ctx := t.Context()
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			k := secrets.NewKeychain(20 * time.Second)
			if goos != "linux" {
				k = secrets.NewKeychain(20*time.Second, secrets.WithBackend(goKeyring{}, goos))
			}
			key := fmt.Sprintf("keychaintest/%d-%d/%s/oauth-token", os.Getpid(), time.Now().UnixNano(), goos)
			t.Cleanup(func() { _ = k.Delete(t.Context(), key) })
			for i, v := range []string{big('a', 16<<10), big('b', 16<<10), big('c', 9000), "small"} {
				if err := k.Set(ctx, key, v); err != nil {
					t.Fatalf("Set #%d (%d bytes): %v", i, len(v), err)
				}
				got, err := k.Get(ctx, key)
				if err != nil || got != v {
					t.Fatalf("Get #%d = %d bytes, %v; want the %d bytes stored", i, len(got), err, len(v))
				}
				items := itemsOf(t, conn, key)
				if want := len(v)/2000 + 2; goos != "linux" && len(v) > 3000 && (len(items) < 3 || len(items) > want) {
					t.Errorf("%d bytes kept in %d items with the %s caps: %v", len(v), len(items), goos, items)
				}
				if (goos == "linux" || len(v) < 2000) && len(items) != 1 {
					t.Errorf("%d bytes kept in %d items, want 1: %v", len(v), len(items), items)
				}
			}
			if err := k.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := k.Get(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
			}
			if left := itemsOf(t, conn, key); len(left) != 0 {
				t.Errorf("items left after Delete: %v", left)
			}
		})
	}
}

// big returns n bytes of text that start with c and change along the way.
func big(c byte, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%c%07d.", c, i)
	}
	return b.String()[:n]
}

// itemsOf lists the accounts of mcp-broker's keychain items that are key or its parts.
func itemsOf(t *testing.T, conn *dbus.Conn, key string) []string {
	t.Helper()
	var unlocked, locked []dbus.ObjectPath
	err := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").CallWithContext(t.Context(),
		"org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{"service": secrets.Service}).Store(&unlocked, &locked)
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
		if user := attrs["username"]; user == key || strings.HasPrefix(user, key+"#") {
			out = append(out, user)
		}
	}
	return out
}
