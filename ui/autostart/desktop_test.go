package autostart

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// splitExec reads an Exec value (after escapeValue was undone) back into
// argv the way the Desktop Entry spec describes, independently of execLine:
// arguments split on spaces, double quotes group, and inside them a
// backslash escapes ", `, $ and \; %% is a literal %.
func splitExec(t *testing.T, v string) []string {
	t.Helper()
	var argv []string
	var cur strings.Builder
	in, started := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%':
			if i+1 >= len(v) || v[i+1] != '%' {
				t.Fatalf("field code in %q", v)
			}
			i++
			cur.WriteByte('%')
			started = true
		case in && c == '\\':
			i++
			if i >= len(v) || !strings.ContainsRune("\"`$\\", rune(v[i])) {
				t.Fatalf("bad escape in %q", v)
			}
			cur.WriteByte(v[i])
		case c == '"':
			in = !in
			started = true
		case !in && c == ' ':
			if started {
				argv = append(argv, cur.String())
				cur.Reset()
				started = false
			}
		case !in && strings.IndexByte(execReserved, c) >= 0:
			t.Fatalf("unquoted reserved character %q in %q", c, v)
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if in {
		t.Fatalf("unterminated quote in %q", v)
	}
	if started {
		argv = append(argv, cur.String())
	}
	return argv
}

func TestExecLine(t *testing.T) {
	tests := []struct {
		argv []string
		want string // the Exec value before escapeValue
		file string // the Exec value as written in the file
	}{
		{[]string{"/usr/bin/mcp-broker"}, `/usr/bin/mcp-broker`, `/usr/bin/mcp-broker`},
		{[]string{"/opt/MCP Broker/mcp-broker"}, `"/opt/MCP Broker/mcp-broker"`, `"/opt/MCP Broker/mcp-broker"`},
		{[]string{"/home/ana/100%/mcp-broker"}, `/home/ana/100%%/mcp-broker`, `/home/ana/100%%/mcp-broker`},
		{[]string{`/tmp/a"b$c` + "`d\\e/mcp-broker"}, `"/tmp/a\"b\$c\` + "`d\\\\e/mcp-broker\"", `"/tmp/a\\"b\\$c\\` + "`d\\\\\\\\e/mcp-broker\""},
		{[]string{"/tmp/it's/mcp-broker"}, `"/tmp/it's/mcp-broker"`, `"/tmp/it's/mcp-broker"`},
		{[]string{"/tmp/~x/50% (new)/mcp-broker", "--flag", ""}, `"/tmp/~x/50%% (new)/mcp-broker" --flag ""`, `"/tmp/~x/50%% (new)/mcp-broker" --flag ""`},
		{[]string{"/tmp/é ü/mcp-broker"}, `"/tmp/é ü/mcp-broker"`, `"/tmp/é ü/mcp-broker"`},
	}
	for _, tt := range tests {
		t.Run(tt.argv[0], func(t *testing.T) {
			got, err := execLine(tt.argv)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("execLine = %s, want %s", got, tt.want)
			}
			if f := escapeValue(got); f != tt.file {
				t.Errorf("in the file: %s, want %s", f, tt.file)
			}
			if back := splitExec(t, unescapeValue(escapeValue(got))); !reflect.DeepEqual(back, tt.argv) {
				t.Errorf("read back as %q, want %q", back, tt.argv)
			}
		})
	}
	for _, bad := range [][]string{nil, {""}, {"/tmp/a\nb"}, {"/tmp/x", "a\tb"}} {
		if got, err := execLine(bad); err == nil {
			t.Errorf("execLine(%q) = %q, want an error", bad, got)
		}
	}
}

func TestEscapeValueRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", ` leading space`, `back\slash`, "tab\tnew\nline\rcr", `\s is not a space here`} {
		if got := unescapeValue(escapeValue(s)); got != s {
			t.Errorf("round trip of %q gave %q (escaped %q)", s, got, escapeValue(s))
		}
	}
}

func TestRenderDesktopGolden(t *testing.T) {
	data, err := renderDesktop(Default(), "/opt/MCP Broker/bin/mcp-broker")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "autostart.desktop", data)
	keys, err := parseDesktop(data)
	if err != nil {
		t.Fatal(err)
	}
	if !desktopStarts(keys) || keys["Type"] != "Application" || keys["Name"] != AppName || keys["Terminal"] != "false" {
		t.Errorf("parsed back %v", keys)
	}
	if argv := splitExec(t, keys["Exec"]); !reflect.DeepEqual(argv, []string{"/opt/MCP Broker/bin/mcp-broker", BackgroundFlag}) {
		t.Errorf("Exec reads back as %q", argv)
	}
}

func TestParseDesktop(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		starts  bool
		wantErr bool
	}{
		{name: "ours", in: "[Desktop Entry]\nType=Application\nExec=/bin/x\nX-GNOME-Autostart-enabled=true\n",
			want: map[string]string{"Type": "Application", "Exec": "/bin/x", "X-GNOME-Autostart-enabled": "true"}, starts: true},
		{name: "comments, blanks, other groups, spaces around =", in: "# hello\n\n[Desktop Entry]\nName = MCP Broker\nName[fr]=Courtier\n[Desktop Action x]\nHidden=true\n",
			want: map[string]string{"Name": "MCP Broker", "Name[fr]": "Courtier"}, starts: true},
		{name: "hidden", in: "[Desktop Entry]\nHidden=true\n", want: map[string]string{"Hidden": "true"}, starts: false},
		{name: "switched off in GNOME", in: "[Desktop Entry]\nX-GNOME-Autostart-enabled=false\n", want: map[string]string{"X-GNOME-Autostart-enabled": "false"}, starts: false},
		{name: "switched off, GLib style", in: "[Desktop Entry]\nX-GNOME-Autostart-enabled=0\n", want: map[string]string{"X-GNOME-Autostart-enabled": "0"}, starts: false},
		{name: "hidden false", in: "[Desktop Entry]\nHidden=false\n", want: map[string]string{"Hidden": "false"}, starts: true},
		{name: "CRLF", in: "[Desktop Entry]\r\nExec=/bin/x\r\n", want: map[string]string{"Exec": "/bin/x"}, starts: true},
		{name: "empty", in: "", wantErr: true},
		{name: "no group", in: "Exec=/bin/x\n", wantErr: true},
		{name: "other group only", in: "[Something]\nExec=/bin/x\n", wantErr: true},
		{name: "garbage line", in: "[Desktop Entry]\nthis is not a key\n", wantErr: true},
		{name: "json", in: `{"Exec": "/bin/x"}`, wantErr: true},
		{name: "two desktop groups", in: "[Desktop Entry]\nA=1\n[Desktop Entry]\nA=2\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDesktop([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parsed %q as %v", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if desktopStarts(got) != tt.starts {
				t.Errorf("starts = %v, want %v", !tt.starts, tt.starts)
			}
		})
	}
}

func TestHiddenDesktopParses(t *testing.T) {
	keys, err := parseDesktop(hiddenDesktop(Default()))
	if err != nil || desktopStarts(keys) {
		t.Errorf("hidden entry parses as %v (%v)", keys, err)
	}
}

func TestCheckIDAndBinary(t *testing.T) {
	for _, id := range []string{"", ".", "..", "a/b", `a\b`, "a b"} {
		if checkID(id) == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	if err := checkID(AppID); err != nil {
		t.Error(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mcp-broker")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		bin string
		ok  bool
	}{{bin, true}, {"mcp-broker", false}, {"", false}, {dir, false}, {filepath.Join(dir, "missing"), false}} {
		if err := checkBinary(tt.bin, filepath.IsAbs); (err == nil) != tt.ok {
			t.Errorf("checkBinary(%q) = %v", tt.bin, err)
		}
	}
	var me *MalformedError
	err := error(&MalformedError{Path: "/x", Err: errors.New("boom")})
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "/x") || !strings.Contains(err.Error(), "delete") {
		t.Errorf("MalformedError says %q", err)
	}
}
