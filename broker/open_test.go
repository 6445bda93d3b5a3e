package broker

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// openEnv points the config folder at a fresh one holding a config file with secretStore, and
// clears the variables that would choose another folder or store.
func openEnv(t *testing.T, secretStore string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv(config.EnvConfigDir, dir)
	t.Setenv(secrets.EnvStore, "")
	// A keychain store sets the bus address when it is unset: keep that out of the process.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(dir, "no-bus"))
	if err := config.Save(filepath.Join(dir, "config.json"), &config.File{Version: config.Version, SecretStore: secretStore}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenUsesTheConfiguredFileAndStore(t *testing.T) {
	dir := openEnv(t, secrets.KindFile)
	op, prompt, log := &opener.Browser{}, &bytes.Buffer{}, slog.New(slog.DiscardHandler)
	b, err := Open(t.Context(), OpenOptions{Opener: op, Prompt: prompt, Version: "1.2.3", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "config.json"); b.ConfigPath() != want {
		t.Errorf("ConfigPath = %q, want %q (from %s)", b.ConfigPath(), want, config.EnvConfigDir)
	}
	if b.opener != op || b.prompt != prompt || b.version != "1.2.3" || b.log != log {
		t.Errorf("options not applied: opener %v, prompt %v, version %q, log %v", b.opener, b.prompt, b.version, b.log)
	}
	if !b.SecretsInFile() || !strings.Contains(b.SecretStore(), "file") {
		t.Fatalf("secret store = %s, want the file store the config names", b.SecretStore())
	}
	// The file store lives in the config folder, as before Open existed.
	if err := b.secrets.Set(t.Context(), "probe", "value"); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "secrets")); err != nil || len(entries) == 0 {
		t.Errorf("file store folder %s: %v entries, err %v", filepath.Join(dir, "secrets"), len(entries), err)
	}
}

func TestOpenConfigPathAndStoreOverrides(t *testing.T) {
	openEnv(t, secrets.KindKeychain)
	b, err := Open(t.Context(), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.SecretsInFile() || !strings.Contains(b.SecretStore(), "OS keychain") {
		t.Errorf("secret store = %s, want the keychain the config names", b.SecretStore())
	}

	t.Setenv(secrets.EnvStore, secrets.KindFile)
	other := filepath.Join(t.TempDir(), "elsewhere.json")
	b, err = Open(t.Context(), OpenOptions{ConfigPath: other})
	if err != nil {
		t.Fatal(err)
	}
	if b.ConfigPath() != other {
		t.Errorf("ConfigPath = %q, want the override %q", b.ConfigPath(), other)
	}
	if !b.SecretsInFile() {
		t.Errorf("secret store = %s, want the file store %s names", b.SecretStore(), secrets.EnvStore)
	}
}

func TestOpenStoreOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts OpenOptions
		want secrets.Options
	}{
		{"command line", OpenOptions{}, secrets.Options{Kind: "file", Timeout: 15 * time.Second}},
		{"interactive", OpenOptions{Interactive: true}, secrets.Options{Kind: "file", Timeout: 2 * time.Minute, UnlockPrompt: true}},
		{"command line, own timeout", OpenOptions{KeychainTimeout: time.Second}, secrets.Options{Kind: "file", Timeout: time.Second}},
		{"interactive, own timeout", OpenOptions{Interactive: true, KeychainTimeout: time.Minute}, secrets.Options{Kind: "file", Timeout: time.Minute, UnlockPrompt: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := storeOptions("file", tc.opts); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("storeOptions = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOpenBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string // config.json's content
		env    map[string]string
		wantIn []string
	}{
		{"not JSON", "{\"version\": 1,\n\"servers\": [}", nil, []string{"config.json is not valid: line 2, column"}},
		{"newer version", `{"version": 99}`, nil, []string{"has version 99", "upgrade mcp-broker"}},
		{"unknown store in the file", `{"version": 1, "secret_store": "vault"}`, nil,
			[]string{`unknown secret store "vault" (from secret_store in the config file): use "keychain" or "file"`}},
		{"unknown store in the environment", `{"version": 1}`, map[string]string{secrets.EnvStore: "vault"},
			[]string{`unknown secret store "vault" (from ` + secrets.EnvStore + `)`}},
		{"relative config folder", `{"version": 1}`, map[string]string{config.EnvConfigDir: "relative/dir"},
			[]string{config.EnvConfigDir + ` must be an absolute path, got "relative/dir"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := openEnv(t, "")
			path := filepath.Join(dir, "config.json")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			b, err := Open(t.Context(), OpenOptions{})
			if err == nil {
				t.Fatalf("Open = %s, want an error", b.SecretStore())
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// The error is config.Load's own, not wrapped: the edges print it as before.
			if _, lerr := config.Load(path); lerr != nil && err.Error() != lerr.Error() {
				t.Errorf("error %q, want config.Load's %q", err, lerr)
			}
		})
	}
}

// TestOpenGetenv: with OpenOptions.Getenv, Open takes the config folder and the secret store
// from the environment it is given and ignores the process's, so that the command line can be
// run in process with an environment of its own.
func TestOpenGetenv(t *testing.T) {
	openEnv(t, secrets.KindKeychain) // the process's: a keychain config elsewhere
	t.Setenv(secrets.EnvStore, "vault")
	dir := t.TempDir()
	if err := config.Save(filepath.Join(dir, "config.json"), &config.File{Version: config.Version}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{config.EnvConfigDir: dir, secrets.EnvStore: secrets.KindFile}
	b, err := Open(t.Context(), OpenOptions{Getenv: func(k string) string { return vars[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "config.json"); b.ConfigPath() != want {
		t.Errorf("ConfigPath = %q, want %q", b.ConfigPath(), want)
	}
	if !b.SecretsInFile() || !strings.Contains(b.SecretStore(), filepath.Join(dir, "secrets")) {
		t.Errorf("secret store = %s, want the file store in %s", b.SecretStore(), dir)
	}
}
