package opener

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/browser"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://auth.example.com/authorize?client_id=x&state=y", true},
		{"http://127.0.0.1:8080/authorize", true},
		{"HTTPS://Auth.Example.com/", true},
		{"https://[::1]:9000/a", true},
		{"https://bücher.example/auth", true},
		{"https://auth.example.com/a?x=$(id);y='q'&z=`w`", true},
		{"", false},
		{"/authorize", false},
		{"auth.example.com/authorize", false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"file:///etc/passwd", false},
		{"vbscript:msgbox", false},
		{"ftp://example.com/", false},
		{"ms-settings:", false},
		{"mailto:a@example.com", false},
		{"http:example.com", false},
		{"https://", false},
		{"https:///path", false},
		{"https://:443/", false},
		{"https://user:pass@evil.example/", false},
		{"https://trusted.example@evil.example/", false},
		{"https://example.com/a b", false},
		{"https://example.com/\n", false},
		{"https://example.com/\x00", false},
		{" https://example.com/", false},
		{"https://example.com/\u202e", false},
		{"-https://example.com/", false},
		{"https://exa mple.com/", false},
	}
	for _, tt := range tests {
		err := CheckURL(tt.url)
		if tt.ok && err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", tt.url, err)
		}
		if !tt.ok {
			if err == nil {
				t.Errorf("CheckURL(%q) = nil, want an error", tt.url)
			} else if !errors.Is(err, ErrBadURL) {
				t.Errorf("CheckURL(%q) = %v, does not wrap ErrBadURL", tt.url, err)
			}
		}
	}
}

func TestRecorder(t *testing.T) {
	var hooked []string
	r := &Recorder{OnOpen: func(ctx context.Context, url string) error {
		hooked = append(hooked, url)
		if strings.Contains(url, "fail") {
			return errors.New("hook failed")
		}
		return nil
	}}
	ctx := t.Context()
	if err := r.Open(ctx, "https://a.example/1"); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := r.Open(ctx, "javascript:alert(1)"); !errors.Is(err, ErrBadURL) {
		t.Fatalf("Open(javascript:) = %v, want ErrBadURL", err)
	}
	if err := r.Open(ctx, "https://a.example/fail"); err == nil || err.Error() != "hook failed" {
		t.Fatalf("Open(fail) = %v, want the hook's error", err)
	}
	want := []string{"https://a.example/1", "https://a.example/fail"}
	if got := r.URLs(); !slices.Equal(got, want) {
		t.Errorf("URLs() = %q, want %q", got, want)
	}
	if !slices.Equal(hooked, want) {
		t.Errorf("OnOpen saw %q, want %q (rejected URLs must not reach it)", hooked, want)
	}

	var zero Recorder
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { _ = zero.Open(ctx, fmt.Sprintf("https://a.example/%d", i)) })
	}
	wg.Wait()
	if n := len(zero.URLs()); n != 20 {
		t.Errorf("zero Recorder recorded %d URLs, want 20", n)
	}
}

func TestBrowserFollowsRedirects(t *testing.T) {
	// The "loopback server" answers only when released, like a callback that is served only once
	// the broker starts waiting: Open must not block on it.
	release := make(chan struct{})
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprintf(w, "got code=%s", r.URL.Query().Get("code"))
	}))
	defer final.Close()
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.URL+"/callback?code=abc", http.StatusFound)
	}))
	defer as.Close()

	b := &Browser{}
	if err := b.Open(t.Context(), as.URL+"/authorize"); err != nil {
		t.Fatalf("Open: %v", err)
	}
	close(release)
	visits := b.Wait()
	if len(visits) != 1 {
		t.Fatalf("Wait() returned %d visits, want 1", len(visits))
	}
	v := visits[0]
	if v.Err != nil || v.Status != http.StatusOK || v.Body != "got code=abc" || v.Final != final.URL+"/callback?code=abc" {
		t.Errorf("visit = %+v", v)
	}
	if err := b.Open(t.Context(), "file:///etc/passwd"); !errors.Is(err, ErrBadURL) {
		t.Errorf("Open(file:) = %v, want ErrBadURL", err)
	}
	if got := b.URLs(); len(got) != 1 {
		t.Errorf("URLs() = %q, want only the accepted one", got)
	}
}

// TestSystemFakeXDGOpen runs the real System opener against a fake xdg-open on PATH. It checks
// that the URL arrives as exactly one argv element, untouched by any shell, and that what the
// helper prints reaches the given stderr writer and so not our stdout.
func TestSystemFakeXDGOpen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser uses xdg-open only on linux")
	}
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	pwned := filepath.Join(dir, "pwned")
	script := "#!/bin/sh\n" +
		"printf '%s\\n' \"$#\" > '" + argsFile + "'\n" +
		"printf '%s' \"$1\" >> '" + argsFile + "'\n" +
		"echo FAKE-XDG-STDOUT\n" +
		"echo FAKE-XDG-STDERR >&2\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)

	url := "https://auth.example.com/authorize?a=1&b=$(touch%20" + pwned + ");c='x'&d=`touch%20" + pwned + "`"
	var errOut bytes.Buffer
	if err := System(&errOut).Open(t.Context(), url); err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatalf("fake xdg-open did not run: %v", err)
	}
	if want := "1\n" + url; string(got) != want {
		t.Errorf("xdg-open got argv %q, want %q", got, want)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("the URL was interpreted by a shell")
	}
	// The helper's stdout went to our writer; a process's output has one destination, so it did
	// not reach os.Stdout.
	if s := errOut.String(); !strings.Contains(s, "FAKE-XDG-STDOUT") || !strings.Contains(s, "FAKE-XDG-STDERR") {
		t.Errorf("stderr writer got %q, want both of the helper's streams", s)
	}
	if browser.Stdout == os.Stdout {
		t.Error("pkg/browser's Stdout still points at os.Stdout")
	}

	// A bad URL never reaches the helper.
	if err := os.Remove(argsFile); err != nil {
		t.Fatal(err)
	}
	if err := System(&errOut).Open(t.Context(), "file:///etc/passwd"); !errors.Is(err, ErrBadURL) {
		t.Errorf("Open(file:) = %v, want ErrBadURL", err)
	}
	if _, err := os.Stat(argsFile); err == nil {
		t.Error("xdg-open ran for a rejected URL")
	}
}

func TestSystemHelperFails(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser uses xdg-open only on linux")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte("#!/bin/sh\necho 'no method available' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	var errOut bytes.Buffer
	err := System(&errOut).Open(t.Context(), "https://auth.example.com/authorize")
	if !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("Open = %v, want an error wrapping ErrNoBrowser", err)
	}
	if !strings.Contains(errOut.String(), "no method available") {
		t.Errorf("helper's stderr %q not forwarded", errOut.String())
	}
}

func TestSystemNoBrowser(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("ShellExecute does not use PATH: this would open a real browser")
	}
	t.Setenv("PATH", "")
	err := System(io.Discard).Open(t.Context(), "https://auth.example.com/authorize?state=s3cr3t")
	if !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("Open with empty PATH = %v, want an error wrapping ErrNoBrowser", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %q contains the URL", err)
	}
}

func TestSystemContextEnds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser uses xdg-open only on linux")
	}
	dir := t.TempDir()
	// A helper that hangs until the test lets it go, like xdg-open waiting on a text browser.
	started, release := filepath.Join(dir, "started"), filepath.Join(dir, "release")
	script := "#!/bin/sh\n: > '" + started + "'\nwhile [ ! -e '" + release + "' ]; do sleep 0.05; done\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- System(io.Discard).Open(ctx, "https://auth.example.com/") }()
	waitForFile(t, started)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Open = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Open did not return after its context was cancelled")
	}
	// Let the helper exit and make sure the slot is released for the next caller.
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "xdg-open")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel2()
	if err := System(io.Discard).Open(ctx2, "https://auth.example.com/"); err != nil {
		t.Errorf("Open after a cancelled one = %v, want nil", err)
	}
}

// waitForFile waits, boundedly, until path exists.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		goos string
		want string // a word of the reason; "" for none
	}{
		{"linux desktop (X11)", map[string]string{"DISPLAY": ":0"}, "linux", ""},
		{"linux desktop (Wayland)", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "linux", ""},
		{"linux without a display", nil, "linux", "DISPLAY"},
		{"freebsd without a display", nil, "freebsd", "DISPLAY"},
		{"linux over SSH with X forwarding", map[string]string{"DISPLAY": "localhost:10.0", "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}, "linux", "SSH"},
		{"macOS", nil, "darwin", ""},
		{"macOS over SSH", map[string]string{"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}, "darwin", "SSH"},
		{"windows", nil, "windows", ""},
		{"windows over SSH", map[string]string{"SSH_CONNECTION": "x"}, "windows", "SSH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unavailable(func(k string) string { return tt.env[k] }, tt.goos)
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Unavailable = %q, want a reason naming %q", got, tt.want)
			}
		})
	}
}
