package autostart

import (
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// commandLineToArgv splits a command line as Windows' CommandLineToArgvW
// does (the rules of the Microsoft C runtime since 2008), written from its
// documentation rather than from windowsCommandLine: the program name ends at
// the next quote if it starts with one, else at whitespace; in arguments,
// 2n backslashes before a quote give n backslashes and toggle quoting, 2n+1
// give n backslashes and a literal quote, other backslashes are literal.
func commandLineToArgv(s string) []string {
	var argv []string
	i := 0
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return []string{s[1:]}
		}
		argv = append(argv, s[1:1+end])
		i = end + 2
	} else {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return []string{s}
		}
		argv = append(argv, s[:end])
		i = end
	}
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return argv
		}
		var cur strings.Builder
		in := false
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' {
				n := 0
				for i < len(s) && s[i] == '\\' {
					n++
					i++
				}
				if i < len(s) && s[i] == '"' {
					cur.WriteString(strings.Repeat(`\`, n/2))
					if n%2 == 1 {
						cur.WriteByte('"')
						continue
					}
					in = !in
					continue
				}
				cur.WriteString(strings.Repeat(`\`, n))
				i--
				continue
			}
			if c == '"' {
				if in && i+1 < len(s) && s[i+1] == '"' {
					cur.WriteByte('"')
					i++
					continue
				}
				in = !in
				continue
			}
			if !in && (c == ' ' || c == '\t') {
				break
			}
			cur.WriteByte(c)
		}
		argv = append(argv, cur.String())
	}
}

func TestWindowsCommandLine(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{`C:\Users\ana\AppData\Local\Programs\MCP Broker\mcp-broker.exe`}, `"C:\Users\ana\AppData\Local\Programs\MCP Broker\mcp-broker.exe"`},
		{[]string{`C:\tools\mcp-broker.exe`}, `"C:\tools\mcp-broker.exe"`},
		{[]string{`C:\tools\mcp-broker.exe`, "--flag"}, `"C:\tools\mcp-broker.exe" --flag`},
		{[]string{`C:\tools\mcp-broker.exe`, "two words", ""}, `"C:\tools\mcp-broker.exe" "two words" ""`},
		{[]string{`C:\x.exe`, `a"b`}, `"C:\x.exe" a\"b`},
		{[]string{`C:\x.exe`, `C:\dir with space\`}, `"C:\x.exe" "C:\dir with space\\"`},
		{[]string{`C:\x.exe`, `C:\dir\`}, `"C:\x.exe" C:\dir\`},
		{[]string{`C:\x.exe`, `a\\"b c`}, `"C:\x.exe" "a\\\\\"b c"`},
	}
	for _, tt := range tests {
		got, err := windowsCommandLine(tt.argv)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("windowsCommandLine(%q) = %s, want %s", tt.argv, got, tt.want)
		}
		if back := commandLineToArgv(got); !reflect.DeepEqual(back, tt.argv) {
			t.Errorf("%s splits back into %q, want %q", got, back, tt.argv)
		}
	}
	for _, bad := range [][]string{nil, {""}, {`C:\a"b.exe`}, {`C:\x.exe`, "a\x00b"}} {
		if got, err := windowsCommandLine(bad); err == nil {
			t.Errorf("windowsCommandLine(%q) = %s, want an error", bad, got)
		}
	}
}

func TestStartupApprovedDisabled(t *testing.T) {
	for _, tt := range []struct {
		data     []byte
		disabled bool
	}{
		{nil, false},
		{[]byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{[]byte{0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{[]byte{0x03, 0, 0, 0, 0x9b, 0x2c, 0x1e, 0x6f, 0x5d, 0x3a, 0xd9, 0x01}, true},
		{[]byte{0x07, 0, 0, 0}, true},
	} {
		if got := startupApprovedDisabled(tt.data); got != tt.disabled {
			t.Errorf("startupApprovedDisabled(% x) = %v", tt.data, got)
		}
	}
}

// TestCrossBuild keeps the package building, without cgo, for every platform
// it has code for: the darwin and windows files cannot run here.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiling takes a few seconds")
	}
	for _, goos := range []string{"linux", "darwin", "windows", "freebsd"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), "go", "vet", ".")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH=amd64")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go vet: %v\n%s", goos, err, out)
			}
		})
	}
}
