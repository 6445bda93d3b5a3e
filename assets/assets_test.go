package assets

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestCallbackPageGolden(t *testing.T) {
	tests := []struct {
		name, golden   string
		ok             bool
		title, message string
	}{
		{"success", "callback_success.golden.html", true, "You're signed in", "MCP Broker received the sign-in for studio."},
		{"failure", "callback_failure.golden.html", false, "Sign-in failed", "The authorization server refused: access_denied: the user said no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CallbackPage(tt.ok, tt.title, tt.message)
			if err != nil {
				t.Fatalf("CallbackPage: %v", err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("page differs from %s (run go test ./assets -update if the change is intended)\n got:\n%s", path, got)
			}
		})
	}
}

func TestCallbackPageEscapes(t *testing.T) {
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>&`
	for _, ok := range []bool{true, false} {
		page, err := CallbackPage(ok, evil, evil)
		if err != nil {
			t.Fatalf("CallbackPage(%v): %v", ok, err)
		}
		s := string(page)
		for _, bad := range []string{"<script", "<img", `"x"`} {
			if strings.Contains(s, bad) {
				t.Errorf("CallbackPage(ok=%v) contains unescaped %q", ok, bad)
			}
		}
		if !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("CallbackPage(ok=%v) does not show the escaped text", ok)
		}
	}
}

func TestCallbackPageContent(t *testing.T) {
	tests := []struct {
		ok   bool
		want []string
	}{
		{true, []string{"<title>Done title · MCP Broker</title>", "<h1>Done title</h1>", "the message", "close this tab"}},
		{false, []string{"<title>Done title · MCP Broker</title>", "<h1>Done title</h1>", "the message", "close this tab and return to MCP Broker or your terminal"}},
	}
	for _, tt := range tests {
		page, err := CallbackPage(tt.ok, "Done title", "the message")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !bytes.Contains(page, []byte(w)) {
				t.Errorf("CallbackPage(ok=%v) lacks %q", tt.ok, w)
			}
		}
	}
	okPage, _ := CallbackPage(true, "t", "m")
	failPage, _ := CallbackPage(false, "t", "m")
	if bytes.Equal(okPage, failPage) {
		t.Error("success and failure pages are identical")
	}
}

// TestPagesSelfContained guards the promises the loopback server's Content-Security-Policy
// (default-src 'none'; style-src 'unsafe-inline') relies on: no script, nothing fetched.
func TestPagesSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=|url\(|@import|<script|<link|<iframe|<object|<form|\son[a-z]+\s*=`)
	err := fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := fs.ReadFile(Files, path)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s: %q would be blocked by the CSP or fetch something", path, m)
		}
		for _, want := range []string{"prefers-color-scheme: dark", `<meta charset="utf-8">`, `name="color-scheme"`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
