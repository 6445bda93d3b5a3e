package assertion

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testJWT looks like a JWT; no server checks it here.
const testJWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl"

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr string
	}{
		{"a JWT with a newline", writeFile(t, testJWT+"\n"), testJWT, ""},
		{"missing", missing, "", "the assertion file " + missing + " does not exist"},
		{"empty", writeFile(t, "\n  \n"), "", "it is empty"},
		{"not a JWT", writeFile(t, "hello world"), "", "not a JWT"},
		{"two JWTs", writeFile(t, testJWT+"\n"+testJWT), "", "not a JWT"},
		{"too big", writeFile(t, strings.Repeat("a", maxJWT+1)), "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Source{File: tt.path}.Read(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Read = %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Read = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestReadFileFresh shows the file is read again on every call: the platform rotates it.
func TestReadFileFresh(t *testing.T) {
	p := writeFile(t, testJWT)
	src := Source{File: p}
	if got, err := src.Read(t.Context()); err != nil || got != testJWT {
		t.Fatalf("first Read = %q, %v", got, err)
	}
	rotated := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyb3RhdGVkIn0.c2ln"
	if err := os.WriteFile(p, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := src.Read(t.Context()); err != nil || got != rotated {
		t.Fatalf("Read after rotation = %q, %v", got, err)
	}
}

func TestReadCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the commands below are POSIX shell")
	}
	tests := []struct {
		name    string
		command string
		want    string
		wantErr string
		// notIn must not appear in the error.
		notIn string
	}{
		{"prints a JWT", "printf '%s\\n' " + testJWT, testJWT, "", ""},
		{"fails, saying why", "echo 'working...' >&2; echo 'error: not logged in, run login' >&2; exit 3", "",
			"the assertion command failed (exit status 3): error: not logged in, run login", ""},
		{"fails, quoting a JWT", "echo 'refusing token " + testJWT + "' >&2; exit 1", "",
			"refusing token [a JWT, not shown]", testJWT},
		{"prints nothing", "true", "", "it is empty", ""},
		{"prints something else", "echo 'no token today'", "", "not a JWT", ""},
		{"unknown program", "/nonexistent/tool print-token", "", "the assertion command failed (exit status 127)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Source{Command: tt.command}.Read(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Read = %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				if tt.notIn != "" && strings.Contains(err.Error(), tt.notIn) {
					t.Fatalf("the error quotes the JWT: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Read = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadCommandTimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX shell")
	}
	start := time.Now()
	_, err := Source{Command: "sleep 30", Timeout: 200 * time.Millisecond}.Read(t.Context())
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
		t.Fatalf("Read = %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the timeout took %s", took)
	}
}

func TestReadNeedsOneSource(t *testing.T) {
	if _, err := (Source{}).Read(t.Context()); err == nil || !strings.Contains(err.Error(), "no source") {
		t.Errorf("no source: %v", err)
	}
	if _, err := (Source{File: "/a", Command: "b"}).Read(t.Context()); err == nil || !strings.Contains(err.Error(), "two sources") {
		t.Errorf("two sources: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	long := strings.Repeat("x", 500)
	if got := summarize([]byte("a\nb\x1b[31m red\n\n")); got != "b[31m red" {
		t.Errorf("summarize = %q", got)
	}
	if got := summarize([]byte(long)); len([]rune(got)) != summaryLen+1 {
		t.Errorf("summarize of a long line is %d runes", len([]rune(got)))
	}
}
