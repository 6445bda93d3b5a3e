package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment variables that turn the test binary into an Update worker for
// TestUpdateAcrossProcesses.
const (
	envWorkerPath = "MCP_BROKER_CONFIG_TEST_PATH"
	envWorkerID   = "MCP_BROKER_CONFIG_TEST_ID"
)

const workerServers = 5

func TestMain(m *testing.M) {
	if path := os.Getenv(envWorkerPath); path != "" {
		if err := runWorker(path, os.Getenv(envWorkerID)); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWorker adds workerServers servers, one Update each, so updates from
// several processes interleave.
func runWorker(path, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range workerServers {
		name := fmt.Sprintf("w%s-%d", id, i)
		err := Update(ctx, path, func(f *File) error {
			f.Put(Server{Name: name, URL: "https://" + name + ".example.com/mcp", Auth: AuthOAuth})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func TestUpdateAcrossProcesses(t *testing.T) {
	const workers = 8
	path := filepath.Join(t.TempDir(), "cfg", "config.json")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	for i := range workers {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envWorkerPath+"="+path, envWorkerID+"="+strconv.Itoa(i))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(f.Servers), workers*workerServers; got != want {
		t.Fatalf("%d servers after concurrent updates, want %d: an update was lost", got, want)
	}
}

func TestUpdateCallbackErrorWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	seed := &File{Servers: []Server{{Name: "a", URL: "https://a.example.com", Auth: AuthNone}}}
	if err := Save(path, seed); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	errStop := errors.New("stop")
	err := Update(t.Context(), path, func(f *File) error {
		f.Remove("a")
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Update = %v, want the callback's error", err)
	}
	if after := readFile(t, path); after != before {
		t.Fatalf("file changed after a failed update:\n%s", after)
	}
}

func TestUpdateRefusesInvalidResult(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	err := Update(t.Context(), path, func(f *File) error {
		f.Put(Server{Name: "bad", URL: "http://example.com/mcp", Auth: AuthOAuth})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("Update with a non-loopback http URL = %v, want a plain-http error", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("config written despite invalid content (stat: %v)", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	f, err := Load(filepath.Join(t.TempDir(), "nope", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != Version || len(f.Servers) != 0 || f.SecretStore != "" {
		t.Fatalf("Load of a missing file = %+v, want an empty version %d config", f, Version)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error
	}{
		{"syntax", "{\n  \"version\": 1,\n  \"servers\": [,]\n}\n", []string{"line 3, column 15", "invalid character"}},
		{"truncated", "{\"version\": 1", []string{"unexpected end of JSON input"}},
		{"wrong type", "{\n\"version\": 1,\n\"servers\": \"studio\"\n}", []string{"line 3, column 19", "cannot unmarshal"}},
		{"newer version", `{"version": 2, "servers": []}`, []string{"version 2", "upgrade mcp-broker"}},
		{"negative version", `{"version": -1}`, []string{"invalid version -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			writeFile(t, path, tt.content)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if got := readFile(t, path); got != tt.content {
				t.Errorf("Load changed the file to %q", got)
			}
			// Update must not rewrite a file it could not read either.
			err = Update(t.Context(), path, func(*File) error { return nil })
			if err == nil {
				t.Error("Update on an unreadable file succeeded")
			}
			if got := readFile(t, path); got != tt.content {
				t.Errorf("Update changed the file to %q", got)
			}
		})
	}
}

func TestLoadVersionZeroMeansOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	writeFile(t, path, `{"servers":[{"name":"x","url":"https://x.example.com","auth":"none","unknown_field":true}]}`)
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 1 || len(f.Servers) != 1 || f.Servers[0].Name != "x" {
		t.Fatalf("Load = %+v", f)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "mcp-broker")
	path := filepath.Join(dir, "config.json")
	in := &File{
		SecretStore: "file",
		Proxy:       "http://proxy.example.com:3128",
		CAFile:      "/etc/ssl/corp-ca.pem",
		Servers: []Server{
			{Name: "zeta", URL: "https://z.example.com/mcp", Auth: AuthBearer, Header: "X-API-Key", Transport: TransportSSE},
			{Name: "alpha", URL: "http://127.0.0.1:8080/mcp", Auth: AuthOAuth, ClientID: "cid",
				Scopes: []string{"read", "write"}, ClientMetadataURL: "https://app.example.com/client.json",
				NoResourceOnRefresh: true, Transport: TransportStreamableHTTP},
			{Name: "m", URL: "https://[::1]/mcp", Auth: AuthClientCredentials, ClientID: "machine"},
			{Name: "k", URL: "https://k.example.com/mcp", Auth: AuthClientCredentials, ClientID: "machine",
				ClientAuth: ClientAuthPrivateKeyJWT, SigningAlg: "RS256"},
		},
	}
	original := append([]Server(nil), in.Servers...)
	if err := Save(path, in); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Servers, original) {
		t.Error("Save reordered the caller's servers")
	}
	out, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Servers {
		names = append(names, s.Name)
	}
	if want := []string{"alpha", "k", "m", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("saved order %v, want %v", names, want)
	}
	for _, s := range original {
		got, ok := out.Server(s.Name)
		if !ok || !reflect.DeepEqual(*got, s) {
			t.Errorf("server %q round-tripped to %+v, want %+v", s.Name, got, s)
		}
	}
	if out.Version != Version || out.SecretStore != "file" || out.Proxy != in.Proxy || out.CAFile != in.CAFile {
		t.Errorf("round trip = version %d, secret_store %q, proxy %q, ca_file %q", out.Version, out.SecretStore, out.Proxy, out.CAFile)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, path, 0o600)
		assertMode(t, dir, 0o700)
	}
	if !strings.HasSuffix(readFile(t, path), "}\n") {
		t.Error("saved file does not end with a newline")
	}
}

func TestSaveEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := Save(path, &File{}); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), "{\n  \"version\": 1,\n  \"servers\": []\n}\n"; got != want {
		t.Fatalf("empty config saved as %q, want %q", got, want)
	}
}

func TestSaveRefusesDuplicatesAndBadStore(t *testing.T) {
	s := Server{Name: "a", URL: "https://a.example.com", Auth: AuthNone}
	for name, f := range map[string]*File{
		"duplicate": {Servers: []Server{s, s}},
		"store":     {SecretStore: "plaintext"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := Save(path, f); err == nil {
				t.Fatal("Save succeeded")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("Save wrote a file despite the error")
			}
		})
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func TestFileServerPutRemove(t *testing.T) {
	var f File
	f.Put(Server{Name: "a", URL: "https://a.example.com"})
	f.Put(Server{Name: "b", URL: "https://b.example.com"})
	f.Put(Server{Name: "a", URL: "https://a2.example.com"})
	if len(f.Servers) != 2 {
		t.Fatalf("Put of an existing name appended: %+v", f.Servers)
	}
	s, ok := f.Server("a")
	if !ok || s.URL != "https://a2.example.com" {
		t.Fatalf("Server(a) = %+v, %v", s, ok)
	}
	s.Scopes = []string{"x"} // the pointer edits the file in place
	if f.Servers[0].Scopes == nil {
		t.Error("Server returned a copy, not a pointer into the file")
	}
	if !f.Remove("a") || f.Remove("a") {
		t.Error("Remove should report true once, then false")
	}
	if _, ok := f.Server("a"); ok || len(f.Servers) != 1 {
		t.Errorf("after Remove: %+v", f.Servers)
	}
}

func TestDir(t *testing.T) {
	abs := t.TempDir()
	tests := []struct {
		name, override, xdg string
		want                string
		wantErr             bool
	}{
		{name: "override", override: abs, xdg: "/ignored", want: abs},
		{name: "override cleaned", override: abs + string(filepath.Separator) + ".", want: abs},
		{name: "relative override", override: "rel/dir", wantErr: true},
		{name: "xdg", xdg: abs, want: filepath.Join(abs, "mcp-broker")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvConfigDir, tt.override)
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			got, err := Dir()
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Dir() = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Dir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	t.Run("relative xdg is ignored", func(t *testing.T) {
		t.Setenv(EnvConfigDir, "")
		t.Setenv("XDG_CONFIG_HOME", "relative")
		got, err := Dir()
		if err != nil {
			t.Fatalf("Dir() = %v, want the default folder", err)
		}
		if !filepath.IsAbs(got) || filepath.Base(got) != "mcp-broker" {
			t.Fatalf("Dir() = %q, want an absolute .../mcp-broker", got)
		}
		if runtime.GOOS == "linux" {
			// As if XDG_CONFIG_HOME were unset: $HOME/.config.
			home := t.TempDir()
			t.Setenv("HOME", home)
			if got, err := Dir(); err != nil || got != filepath.Join(home, ".config", "mcp-broker") {
				t.Errorf("Dir() = %q, %v; want %s", got, err, filepath.Join(home, ".config", "mcp-broker"))
			}
		}
	})
}

func TestPathsUnderDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvConfigDir, dir)
	if p, err := Path(); err != nil || p != filepath.Join(dir, "config.json") {
		t.Errorf("Path() = %q, %v", p, err)
	}
	if p, err := LockDir(); err != nil || p != filepath.Join(dir, "locks") {
		t.Errorf("LockDir() = %q, %v", p, err)
	}
}

// TestDirFrom: the ...From functions read the environment they are given, never the process's,
// so that the command line's tests can run it in process, each with its own folders.
func TestDirFrom(t *testing.T) {
	t.Setenv(EnvConfigDir, t.TempDir()) // the process's: must be ignored
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	mine, xdg := t.TempDir(), t.TempDir()
	getenv := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"override", map[string]string{EnvConfigDir: mine, "XDG_CONFIG_HOME": xdg}, mine},
		{"xdg", map[string]string{"XDG_CONFIG_HOME": xdg}, filepath.Join(xdg, "mcp-broker")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := getenv(tt.vars)
			if got, err := DirFrom(get); err != nil || got != tt.want {
				t.Errorf("DirFrom = %q, %v; want %q", got, err, tt.want)
			}
			if got, err := PathFrom(get); err != nil || got != filepath.Join(tt.want, "config.json") {
				t.Errorf("PathFrom = %q, %v", got, err)
			}
			if got, err := LockDirFrom(get); err != nil || got != filepath.Join(tt.want, "locks") {
				t.Errorf("LockDirFrom = %q, %v", got, err)
			}
		})
	}
	if _, err := DirFrom(getenv(map[string]string{EnvConfigDir: "rel/dir"})); err == nil {
		t.Error("DirFrom accepted a relative MCP_BROKER_CONFIG_DIR")
	}
}
