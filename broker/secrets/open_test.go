package secrets

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	cfgDir := t.TempDir()
	explicit := filepath.Join(t.TempDir(), "explicit")
	tests := []struct {
		name     string
		env      string
		opts     Options
		wantType string // "keychain", "file", or "" for an error
		wantDir  string
		wantErr  string
	}{
		{name: "default is the keychain", wantType: "keychain"},
		{name: "config keychain", opts: Options{Kind: "keychain"}, wantType: "keychain"},
		{name: "config file", opts: Options{Kind: "file"}, wantType: "file", wantDir: filepath.Join(cfgDir, "secrets")},
		{name: "config file with folder", opts: Options{Kind: "file", FileDir: explicit}, wantType: "file", wantDir: explicit},
		{name: "env overrides config", env: "keychain", opts: Options{Kind: "file"}, wantType: "keychain"},
		{name: "env opts in to file", env: "file", opts: Options{Kind: "keychain"}, wantType: "file", wantDir: filepath.Join(cfgDir, "secrets")},
		{name: "unknown in env", env: "plaintext", wantErr: `unknown secret store "plaintext" (from MCP_BROKER_SECRET_STORE)`},
		{name: "unknown in config", opts: Options{Kind: "vault"}, wantErr: `unknown secret store "vault" (from secret_store in the config file)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MCP_BROKER_CONFIG_DIR", cfgDir)
			t.Setenv(EnvStore, tt.env)
			s, err := Open(t.Context(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open = %v, %v; want error %q", s, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch s := s.(type) {
			case *Keychain:
				if tt.wantType != "keychain" {
					t.Fatalf("Open returned the keychain, want %s", tt.wantType)
				}
			case *FileStore:
				if tt.wantType != "file" || s.dir != tt.wantDir {
					t.Fatalf("Open returned a file store in %s, want %s in %s", s.dir, tt.wantType, tt.wantDir)
				}
			default:
				t.Fatalf("Open returned %T", s)
			}
		})
	}
}

func TestOpenKeychainOptions(t *testing.T) {
	t.Setenv(EnvStore, "")
	s, err := Open(t.Context(), Options{Timeout: 42 * time.Second, UnlockPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	k := s.(*Keychain)
	if k.timeout != 42*time.Second || !k.allowPrompt {
		t.Fatalf("keychain timeout %v, allowPrompt %v; want 42s, true", k.timeout, k.allowPrompt)
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, Options{}); err == nil {
		t.Fatal("Open with a cancelled context succeeded")
	}
}

// TestOpenGetenv: with Options.Getenv, Open reads the store and the file store's folder from
// the environment it is given, not from the process's.
func TestOpenGetenv(t *testing.T) {
	t.Setenv(EnvStore, "plaintext") // the process's: would fail Open if read
	t.Setenv("MCP_BROKER_CONFIG_DIR", t.TempDir())
	cfgDir := t.TempDir()
	vars := map[string]string{EnvStore: "file", "MCP_BROKER_CONFIG_DIR": cfgDir}
	s, err := Open(t.Context(), Options{Kind: "keychain", Getenv: func(k string) string { return vars[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if fs, ok := s.(*FileStore); !ok || fs.dir != filepath.Join(cfgDir, "secrets") {
		t.Fatalf("Open = %#v, want the file store in %s", s, filepath.Join(cfgDir, "secrets"))
	}
}
