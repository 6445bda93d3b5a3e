package runtimedir

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// shortTemp is a private temp folder with a short path: a unix socket's path must fit in
// about 100 bytes, more than t.TempDir() leaves.
func shortTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// listen creates a real unix socket at path, listening until the test ends.
func listen(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// dial connects to a "unix:path=..." address, as a D-Bus client would.
func dial(t *testing.T, addr string) {
	t.Helper()
	path, ok := strings.CutPrefix(addr, "unix:path=")
	if !ok {
		t.Fatalf("address %q is not unix:path=", addr)
	}
	path, err := unescape(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dialling %s: %v", addr, err)
	}
	c.Close()
}

func TestSessionBus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /run/user on Windows")
	}
	uid := os.Getuid()
	root := shortTemp(t)
	runUser := filepath.Join(root, "run", "user")
	xdg := filepath.Join(root, "x dir,%") // needs escaping in a D-Bus address
	listen(t, filepath.Join(xdg, "bus"))
	listen(t, filepath.Join(runUser, strconv.Itoa(uid), "bus"))
	notSocket := filepath.Join(root, "plain")
	if err := os.MkdirAll(notSocket, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notSocket, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(root, "linked")
	if err := os.MkdirAll(linked, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(xdg, "bus"), filepath.Join(linked, "bus")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		vars    map[string]string
		uid     int
		want    string // the socket path, or "" for none found
		wantEnv string // an address taken from the environment as is
	}{
		{name: "XDG_RUNTIME_DIR first", vars: map[string]string{"XDG_RUNTIME_DIR": xdg}, uid: uid, want: filepath.Join(xdg, "bus")},
		{name: "no XDG_RUNTIME_DIR: /run/user/<uid>", uid: uid, want: filepath.Join(runUser, strconv.Itoa(uid), "bus")},
		{name: "XDG_RUNTIME_DIR without a bus: /run/user/<uid>", vars: map[string]string{"XDG_RUNTIME_DIR": root}, uid: uid, want: filepath.Join(runUser, strconv.Itoa(uid), "bus")},
		{name: "relative XDG_RUNTIME_DIR ignored", vars: map[string]string{"XDG_RUNTIME_DIR": "x dir,%"}, uid: uid, want: filepath.Join(runUser, strconv.Itoa(uid), "bus")},
		{name: "a file that is not a socket", vars: map[string]string{"XDG_RUNTIME_DIR": notSocket}, uid: uid, want: filepath.Join(runUser, strconv.Itoa(uid), "bus")},
		{name: "nothing of this user's", vars: map[string]string{"XDG_RUNTIME_DIR": notSocket}, uid: uid + 1, want: ""},
		{name: "a socket of another user's", vars: map[string]string{"XDG_RUNTIME_DIR": xdg}, uid: uid + 1, want: ""},
		{name: "a link to a socket", vars: map[string]string{"XDG_RUNTIME_DIR": linked}, uid: uid, want: filepath.Join(linked, "bus")},
		{name: "the environment's address", vars: map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/elsewhere", "XDG_RUNTIME_DIR": xdg}, uid: uid, wantEnv: "unix:path=/elsewhere"},
		{name: "autolaunch is no address", vars: map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:", "XDG_RUNTIME_DIR": xdg}, uid: uid, want: filepath.Join(xdg, "bus")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Finder{Getenv: env(tt.vars), RunUser: runUser, UID: tt.uid}
			addr, err := f.SessionBus()
			switch {
			case tt.wantEnv != "":
				if err != nil || addr != tt.wantEnv {
					t.Fatalf("SessionBus = %q, %v; want %q", addr, err, tt.wantEnv)
				}
			case tt.want == "":
				if err == nil {
					t.Fatalf("SessionBus = %q, want an error", addr)
				}
				if !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS") {
					t.Errorf("error %q does not say what was looked for", err)
				}
			default:
				if err != nil || addr != "unix:path="+escape(tt.want) {
					t.Fatalf("SessionBus = %q, %v; want the socket %s", addr, err, tt.want)
				}
				dial(t, addr)
			}
		})
	}
}

func TestUseSessionBus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /run/user on Windows")
	}
	root := shortTemp(t)
	listen(t, filepath.Join(root, "bus"))
	vars := map[string]string{"XDG_RUNTIME_DIR": root}
	set := func(k, v string) error { vars[k] = v; return nil }
	f := Finder{Getenv: env(vars), RunUser: filepath.Join(root, "none"), UID: os.Getuid()}
	addr, err := f.Use(set)
	if err != nil || vars["DBUS_SESSION_BUS_ADDRESS"] != addr || addr != "unix:path="+escape(filepath.Join(root, "bus")) {
		t.Fatalf("Use = %q, %v; environment now %v", addr, err, vars)
	}
	vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/mine"
	if addr, err := f.Use(func(string, string) error { t.Fatal("Use changed an address the environment set"); return nil }); err != nil || addr != "unix:path=/mine" {
		t.Fatalf("Use with an address set = %q, %v", addr, err)
	}
	delete(vars, "DBUS_SESSION_BUS_ADDRESS")
	delete(vars, "XDG_RUNTIME_DIR")
	if _, err := f.Use(func(string, string) error { t.Fatal("Use set an address it did not find"); return nil }); err == nil {
		t.Fatal("Use found a bus where there is none")
	}
}

func TestDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /run/user on Windows")
	}
	uid := os.Getuid()
	root := shortTemp(t)
	runUser := filepath.Join(root, "run", "user")
	if err := os.MkdirAll(filepath.Join(runUser, strconv.Itoa(uid)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runUser, strconv.Itoa(uid+2)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		uid  int
		want string
	}{
		{"XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": "/x/y"}, uid, "/x/y"},
		{"relative XDG_RUNTIME_DIR ignored", map[string]string{"XDG_RUNTIME_DIR": "x"}, uid, filepath.Join(runUser, strconv.Itoa(uid))},
		{"/run/user/<uid>", nil, uid, filepath.Join(runUser, strconv.Itoa(uid))},
		{"none for this uid", nil, uid + 1, ""},
		{"not a folder", nil, uid + 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Finder{Getenv: env(tt.vars), RunUser: runUser, UID: tt.uid}.Dir()
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("Dir = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
	// Another user's folder (made ours by chown only as root) is never taken.
	if uid == 0 {
		other := filepath.Join(runUser, "4242")
		if err := os.Mkdir(other, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(other, 4243, 4243); err != nil {
			t.Fatal(err)
		}
		if got, ok := (Finder{Getenv: env(nil), RunUser: runUser, UID: 4242}).Dir(); ok {
			t.Fatalf("Dir took %s, owned by another user", got)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/run/user/1000/bus": "/run/user/1000/bus",
		"/tmp/a b,c%;=":      "/tmp/a%20b%2cc%25%3b%3d",
		"/tmp/ü":             "/tmp/%c3%bc",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
		if back, err := unescape(want); err != nil || back != in {
			t.Errorf("unescape(%q) = %q, %v", want, back, err)
		}
	}
}

// unescape undoes escape, as a D-Bus client reads an address.
func unescape(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", strconv.ErrSyntax
		}
		n, err := strconv.ParseUint(v[i+1:i+3], 16, 8)
		if err != nil {
			return "", err
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}
