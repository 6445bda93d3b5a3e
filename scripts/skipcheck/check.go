package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// allowEntry is one line of the allow-list: a package and a test, each a regular expression
// that must match the whole name.
type allowEntry struct {
	line      int
	text      string
	pkg, test *regexp.Regexp
	used      bool
}

// parseAllowList reads the allow-list. Each entry is `PACKAGE TEST`: PACKAGE matches the import
// path, or the path inside the module (broker/secrets); TEST the test's name (Parent/sub for a
// subtest). Both are Go regular expressions matched against the whole name. Every entry must
// say why its skip is fine: in a comment at its end, or on the line right above it. `#` starts
// a comment. All the problems found are returned together.
func parseAllowList(r io.Reader) ([]*allowEntry, error) {
	var entries []*allowEntry
	var problems []string
	sc := bufio.NewScanner(r)
	prevComment := false
	for n := 1; sc.Scan(); n++ {
		raw := strings.TrimSpace(sc.Text())
		body, comment, hasComment := strings.Cut(raw, "#")
		body = strings.TrimSpace(body)
		if body == "" {
			prevComment = hasComment && strings.TrimSpace(comment) != ""
			continue
		}
		why := prevComment || (hasComment && strings.TrimSpace(comment) != "")
		prevComment = false
		fields := strings.Fields(body)
		if len(fields) != 2 {
			problems = append(problems, fmt.Sprintf("line %d: want `PACKAGE TEST`, got %q", n, body))
			continue
		}
		if !why {
			problems = append(problems, fmt.Sprintf("line %d: %q says not why the skip is allowed: add a comment on the line above", n, body))
			continue
		}
		e := &allowEntry{line: n, text: body}
		var err error
		if e.pkg, err = regexp.Compile(`^(?:` + fields[0] + `)$`); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: package: %v", n, err))
			continue
		}
		if e.test, err = regexp.Compile(`^(?:` + fields[1] + `)$`); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: test: %v", n, err))
			continue
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the allow-list: %w", err)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return entries, nil
}

// allowed reports whether an entry allows the skip, marking the first entry that does as used.
func allowed(entries []*allowEntry, s Skip, module string) bool {
	rel := s.Package
	if module != "" {
		if s.Package == module {
			rel = "."
		} else {
			rel = strings.TrimPrefix(s.Package, module+"/")
		}
	}
	for _, e := range entries {
		if (e.pkg.MatchString(rel) || e.pkg.MatchString(s.Package)) && e.test.MatchString(s.Test) {
			e.used = true
			return true
		}
	}
	return false
}

// readSkips reads record files written by filter; a file that does not exist holds no skip
// (no test step ran). The same test recorded twice counts once.
func readSkips(paths []string) ([]Skip, error) {
	var skips []Skip
	seen := map[Skip]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the skip record: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var s Skip
			if err := dec.Decode(&s); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("reading the skip record %s: %w", p, err)
			}
			if !seen[s] {
				seen[s] = true
				skips = append(skips, s)
			}
		}
	}
	slices.SortStableFunc(skips, func(a, b Skip) int {
		return strings.Compare(a.Package+"\x00"+a.Test, b.Package+"\x00"+b.Test)
	})
	return skips, nil
}

// moduleOf reads the module path from a go.mod file; "" when there is none.
func moduleOf(goMod string) string {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// inCI reports whether CI is set to a true value, as internal/testenv.InCI does.
func inCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// runCheck is `skipcheck check`.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skipcheck check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowPath := fs.String("allow", ".ci/allowed-skips.txt", "the allow-list")
	strict := fs.Bool("strict", inCI(), "fail on a skip not on the allow-list (default: CI is true)")
	module := fs.String("module", moduleOf("go.mod"), "the module path, so that entries can name packages inside it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := os.Open(*allowPath)
	if err != nil {
		fmt.Fprintf(stderr, "skipcheck: opening the allow-list: %v\n", err)
		return 2
	}
	entries, err := parseAllowList(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "skipcheck: %s is malformed:\n%v\n", *allowPath, err)
		return 2
	}
	skips, err := readSkips(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "skipcheck: %v\n", err)
		return 2
	}
	return report(stdout, skips, entries, *module, *allowPath, *strict)
}

// report prints the skipped tests and returns the exit status: 1 when strict and a skip is not
// allowed.
func report(w io.Writer, skips []Skip, entries []*allowEntry, module, allowPath string, strict bool) int {
	if len(skips) == 0 {
		fmt.Fprintln(w, "no test skipped")
		return 0
	}
	var lines []string
	bad := 0
	for _, s := range skips {
		mark := "allowed    "
		if !allowed(entries, s, module) {
			mark = "NOT ALLOWED"
			bad++
		}
		name := strings.TrimPrefix(s.Package, module+"/") + " " + s.Test
		if s.Label != "" {
			name += " [" + s.Label + "]"
		}
		reason := s.Reason
		if reason == "" {
			reason = "(no reason given)"
		}
		if s.Where != "" {
			reason += " (" + s.Where + ")"
		}
		lines = append(lines, fmt.Sprintf("  %s  %s: %s", mark, name, reason))
	}
	fmt.Fprintf(w, "%d test(s) skipped, %d of them not on the allow-list %s:\n", len(skips), bad, allowPath)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	for _, e := range entries {
		if !e.used {
			fmt.Fprintf(w, "  (allow-list line %d, %q, allowed no skip in this run: drop it once a full CI run shows it unused)\n", e.line, e.text)
		}
	}
	switch {
	case bad == 0:
		return 0
	case strict:
		fmt.Fprintf(w, "CI=true: a skip not on %s fails the run: make the test run here (install what it needs, see scripts/install-deps.sh), or add it to the list with the reason\n", allowPath)
		return 1
	default:
		fmt.Fprintf(w, "(under CI=true, a skip not on %s fails the run)\n", allowPath)
		return 0
	}
}
