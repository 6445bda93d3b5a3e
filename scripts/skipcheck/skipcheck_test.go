package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mixed is testdata/mixed.jsonl: the go test -json output (times dropped) of a module with a
// package that fails to build, one with no tests, and one with a passing, a skipped, a failing
// test and a subtest that skips, after a line of the go command's own.
func mixed(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mixed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var mixedSkips = []Skip{
	{Label: "test", Package: "example.com/sk/a", Test: "TestSkip", Reason: "no gio here second line", Where: "a_test.go:4"},
	{Label: "test", Package: "example.com/sk/a", Test: "TestSub/x", Reason: "sub skip 1", Where: "a_test.go:5"},
}

// TestFilterQuiet: without -v the output is what plain go test prints: the go command's lines,
// build errors, a failed test's log, the ok/FAIL/? line of each package, and a final FAIL; the
// skips are recorded with the message given to t.Skip.
func TestFilterQuiet(t *testing.T) {
	var out bytes.Buffer
	f := newFilter(&out, false, "test")
	if err := f.read(bytes.NewReader(mixed(t))); err != nil {
		t.Fatal(err)
	}
	want := "go: downloading example.com/x v1.0.0\n" +
		"# example.com/sk/b [example.com/sk/b.test]\n" +
		"b/b_test.go:3:28: undefined: undefined\n" +
		"FAIL\texample.com/sk/b [build failed]\n" +
		"?   \texample.com/sk/c\t[no test files]\n" +
		"=== RUN   TestFail\n" +
		"    a_test.go:6: boom\n" +
		"--- FAIL: TestFail (0.00s)\n" +
		"FAIL\n" +
		"FAIL\texample.com/sk/a\t0.003s\n" +
		"FAIL\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if !reflect.DeepEqual(f.skips, mixedSkips) {
		t.Errorf("skips = %+v\nwant %+v", f.skips, mixedSkips)
	}
	if !f.failed {
		t.Error("the failures went unnoticed")
	}
}

// TestFilterVerbose: with -v every line of the tests is printed, as go test -v does.
func TestFilterVerbose(t *testing.T) {
	var out bytes.Buffer
	f := newFilter(&out, true, "test")
	if err := f.read(bytes.NewReader(mixed(t))); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"=== RUN   TestOK\n    a_test.go:3: fine\n--- PASS: TestOK (0.00s)\n",
		"    a_test.go:4: no gio here\n        second line\n--- SKIP: TestSkip (0.00s)\n",
		"--- SKIP: TestSub/x (0.00s)\n", "FAIL\texample.com/sk/a\t0.003s\n", "?   \texample.com/sk/c\t[no test files]\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
	if !reflect.DeepEqual(f.skips, mixedSkips) {
		t.Errorf("skips = %+v\nwant %+v", f.skips, mixedSkips)
	}
}

func TestSkipReason(t *testing.T) {
	tests := []struct{ out, reason, where string }{
		{"=== RUN   TestX\n--- SKIP: TestX (0.00s)\n", "", ""},
		{"=== RUN   TestX\n    x_test.go:9: \n--- SKIP: TestX (0.00s)\n", "", "x_test.go:9"},
		{"=== RUN   A/b\n        x_test.go:1: logged\n        x_test.go:2: gone: see\n            the rest\n--- SKIP: A/b (0.00s)\n", "gone: see the rest", "x_test.go:2"},
		{"=== RUN   TestX\nprinted by the test\n--- SKIP: TestX (0.00s)\n", "printed by the test", ""},
	}
	for _, tt := range tests {
		reason, where := skipReason(tt.out)
		if reason != tt.reason || where != tt.where {
			t.Errorf("skipReason(%q) = %q, %q; want %q, %q", tt.out, reason, where, tt.reason, tt.where)
		}
	}
}

// TestFilterRealGoTest runs this Go's go test on a small module, plain and through the filter:
// the filter prints the same lines, and finds the skips, so a change in go test's JSON shows
// here rather than as a silently empty skip list.
func TestFilterRealGoTest(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.22\n",
		"p/p_test.go": `package p

import "testing"

func TestPass(t *testing.T) { t.Log("quiet") }

func TestSkipped(t *testing.T) { t.Skip("needs a thing this machine lacks") }

func TestParallel(t *testing.T) {
	for _, n := range []string{"one", "two"} {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			if n == "two" {
				t.Skipf("skipping %s", n)
			}
		})
	}
}
`,
		"q/q_test.go": "package q\n\nimport \"testing\"\n\nfunc TestFails(t *testing.T) { t.Fatal(\"broken on purpose\") }\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goTest := func(args ...string) string {
		cmd := exec.CommandContext(t.Context(), goBin, append([]string{"test", "-count=1"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("go test: %v\n%s", err, out)
		}
		return string(out)
	}
	plain := goTest("./...")
	var out bytes.Buffer
	f := newFilter(&out, false, "")
	if err := f.read(strings.NewReader(goTest("-json", "./..."))); err != nil {
		t.Fatal(err)
	}
	// The timings differ from run to run: compare the lines without them.
	strip := func(s string) []string {
		var lines []string
		for _, l := range strings.Split(s, "\n") {
			if i := strings.LastIndex(l, "\t"); i > 0 && strings.HasSuffix(l, "s") {
				l = l[:i]
			}
			if i := strings.Index(l, " ("); i > 0 && strings.HasPrefix(l, "--- ") {
				l = l[:i]
			}
			lines = append(lines, l)
		}
		return lines
	}
	for _, line := range strip(plain) {
		if !strings.Contains(strings.Join(strip(out.String()), "\n"), line) {
			t.Errorf("plain go test printed %q, the filter did not:\n%s\nplain:\n%s", line, out.String(), plain)
		}
	}
	want := []Skip{
		{Package: "example.com/m/p", Test: "TestParallel/two", Reason: "skipping two", Where: "p_test.go:14"},
		{Package: "example.com/m/p", Test: "TestSkipped", Reason: "needs a thing this machine lacks", Where: "p_test.go:7"},
	}
	got := f.skips
	if len(got) == 2 && got[0].Test == "TestSkipped" {
		got[0], got[1] = got[1], got[0]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("skips = %+v\nwant %+v", f.skips, want)
	}
	if !f.failed {
		t.Error("the failing package went unnoticed")
	}
}

const allowList = `# Tests allowed to skip under CI.

# Runs only as the child of TestScenarios.
broker/secrets/keychaintest TestInScenario
example\.com/sk/a TestSub/.*   # the subtests skip on purpose
`

func TestAllowList(t *testing.T) {
	entries, err := parseAllowList(strings.NewReader(allowList))
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/mcp-broker/mcp-broker"
	tests := []struct {
		s    Skip
		want bool
	}{
		{Skip{Package: module + "/broker/secrets/keychaintest", Test: "TestInScenario"}, true},
		{Skip{Package: module + "/broker/secrets/keychaintest", Test: "TestInScenarioX"}, false},
		{Skip{Package: module + "/broker/secrets", Test: "TestInScenario"}, false},
		{Skip{Package: "example.com/sk/a", Test: "TestSub/x"}, true},
		{Skip{Package: "example.com/sk/a", Test: "TestSkip"}, false},
	}
	for _, tt := range tests {
		if got := allowed(entries, tt.s, module); got != tt.want {
			t.Errorf("allowed(%s %s) = %v, want %v", tt.s.Package, tt.s.Test, got, tt.want)
		}
	}
}

func TestAllowListMalformed(t *testing.T) {
	for _, list := range []string{
		"pkg TestNoReason\n",
		"# a reason, but a blank line between\n\npkg TestX\n",
		"# first\npkg TestA\npkg TestB\n",
		"# why\npkg Test(\n",
		"# why\npkg\n",
		"# why\npkg TestA extra\n",
	} {
		if _, err := parseAllowList(strings.NewReader(list)); err == nil {
			t.Errorf("parseAllowList(%q) accepted it", list)
		}
	}
}

// TestCheck runs `skipcheck check` on a record with one allowed and one unknown skip: it lists
// both, and fails only when strict (CI=true).
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	allow := filepath.Join(dir, "allowed-skips.txt")
	if err := os.WriteFile(allow, []byte(allowList), 0o644); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "skips.jsonl")
	if err := appendSkips(record, mixedSkips); err != nil {
		t.Fatal(err)
	}
	// A second step records the same skip again: it is listed once.
	if err := appendSkips(record, mixedSkips[1:]); err != nil {
		t.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		var out, errOut bytes.Buffer
		args := []string{"check", "-allow", allow, "-module", "example.com/sk", "-strict=" + map[bool]string{false: "false", true: "true"}[strict], record, filepath.Join(dir, "absent.jsonl")}
		code := run(args, nil, &out, &errOut)
		if want := map[bool]int{false: 0, true: 1}[strict]; code != want {
			t.Errorf("strict=%v: exit %d, want %d\n%s%s", strict, code, want, out.String(), errOut.String())
		}
		for _, want := range []string{
			"2 test(s) skipped, 1 of them not on the allow-list",
			"NOT ALLOWED  a TestSkip [test]: no gio here second line (a_test.go:4)",
			"allowed      a TestSub/x [test]: sub skip 1 (a_test.go:5)",
			`line 4, "broker/secrets/keychaintest TestInScenario", allowed no skip`,
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("strict=%v: output lacks %q:\n%s", strict, want, out.String())
			}
		}
	}

	// No skips at all.
	var out bytes.Buffer
	if code := run([]string{"check", "-allow", allow, "-strict", filepath.Join(dir, "none.jsonl")}, nil, &out, &out); code != 0 || !strings.Contains(out.String(), "no test skipped") {
		t.Errorf("no skips: exit %d\n%s", code, out.String())
	}
	// A malformed list fails even when not strict.
	if err := os.WriteFile(allow, []byte("pkg TestWithoutReason\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"check", "-allow", allow, "-strict=false", record}, nil, &out, &out); code != 2 || !strings.Contains(out.String(), "line 1") {
		t.Errorf("malformed list: exit %d\n%s", code, out.String())
	}
}

// TestRunFilter drives `skipcheck filter` as test.sh does: it exits 1 on a failure and
// appends the skips to the record.
func TestRunFilter(t *testing.T) {
	record := filepath.Join(t.TempDir(), "skips.jsonl")
	var out, errOut bytes.Buffer
	if code := run([]string{"filter", "-label", "test", "-record", record}, bytes.NewReader(mixed(t)), &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1 (a test failed)\n%s", code, errOut.String())
	}
	got, err := readSkips([]string{record})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, mixedSkips) {
		t.Errorf("recorded %+v\nwant %+v", got, mixedSkips)
	}
	pass := `{"Action":"start","Package":"x"}` + "\n" + `{"Action":"output","Package":"x","Output":"ok  \tx\t0.1s\n"}` + "\n" + `{"Action":"pass","Package":"x"}` + "\n"
	out.Reset()
	if code := run([]string{"filter"}, strings.NewReader(pass), &out, &errOut); code != 0 || out.String() != "ok  \tx\t0.1s\n" {
		t.Errorf("passing run: exit %d, output %q", code, out.String())
	}
}
