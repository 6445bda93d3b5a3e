package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// Skip is one skipped test: what filter records, one JSON line each, and check reads.
type Skip struct {
	Label   string `json:"label,omitempty"` // the make test step that ran it (test, peers)
	Package string `json:"package"`         // import path
	Test    string `json:"test"`            // Name, or Parent/sub for a subtest
	Reason  string `json:"reason"`          // the message given to t.Skip, on one line
	Where   string `json:"where,omitempty"` // file:line of that message
}

// event is a test2json event (`go doc cmd/test2json`); ImportPath is set on build output.
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

type testKey struct{ pkg, test string }

// filter turns go test's JSON events back into its human output and collects the skips.
type filter struct {
	out     io.Writer
	verbose bool // print everything, as go test -v does; else only failures and package lines
	label   string

	running map[testKey]*strings.Builder // output of each test that has not ended
	order   map[string][]string          // the tests of each package in the order they ran
	pkgOut  map[string]*strings.Builder  // output of each package outside its tests
	skips   []Skip
	failed  bool // a test or package failed
}

func newFilter(out io.Writer, verbose bool, label string) *filter {
	return &filter{
		out: out, verbose: verbose, label: label,
		running: map[testKey]*strings.Builder{},
		order:   map[string][]string{},
		pkgOut:  map[string]*strings.Builder{},
	}
}

// read processes go test -json output until EOF. A line that is not a test2json event (the go
// command's own messages, merged from stderr) is printed as it is.
func (f *filter) read(in io.Reader) error {
	r := bufio.NewReader(in)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			var e event
			if line[0] == '{' && json.Unmarshal(line, &e) == nil && e.Action != "" {
				f.event(e)
			} else {
				f.out.Write(line)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading go test's output: %w", err)
		}
	}
	if f.failed {
		// go test ends with this line when a package failed; -json leaves it out.
		fmt.Fprintln(f.out, "FAIL")
	}
	return nil
}

// event handles one test2json event.
func (f *filter) event(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		io.WriteString(f.out, e.Output)
	case "run":
		f.test(k)
	case "output":
		if f.verbose {
			io.WriteString(f.out, e.Output)
		}
		if e.Test != "" {
			f.test(k).WriteString(e.Output)
		} else if !f.verbose {
			f.pkg(e.Package).WriteString(e.Output)
		}
	case "skip", "pass", "fail", "bench":
		if e.Action == "fail" {
			f.failed = true
		}
		if e.Test == "" {
			f.packageDone(e.Package, e.Action == "fail")
			return
		}
		out := f.test(k).String()
		delete(f.running, k)
		switch {
		case e.Action == "skip":
			reason, where := skipReason(out)
			f.skips = append(f.skips, Skip{Label: f.label, Package: e.Package, Test: e.Test, Reason: reason, Where: where})
		case e.Action == "fail" && !f.verbose:
			io.WriteString(f.out, out)
		}
	}
}

// test returns the output so far of a running test, starting it if need be.
func (f *filter) test(k testKey) *strings.Builder {
	b := f.running[k]
	if b == nil {
		b = &strings.Builder{}
		f.running[k] = b
		f.order[k.pkg] = append(f.order[k.pkg], k.test)
	}
	return b
}

func (f *filter) pkg(name string) *strings.Builder {
	b := f.pkgOut[name]
	if b == nil {
		b = &strings.Builder{}
		f.pkgOut[name] = b
	}
	return b
}

// packageDone prints what go test prints at a package's end: for a package that passed, its
// "ok" (or "?" for no tests) line; for one that failed, the output of the tests that never
// ended (a panic, a timeout) and everything the package printed outside its tests.
func (f *filter) packageDone(pkg string, failed bool) {
	if !f.verbose {
		out := f.pkg(pkg).String()
		if failed {
			for _, name := range f.order[pkg] {
				if b := f.running[testKey{pkg, name}]; b != nil {
					io.WriteString(f.out, b.String())
				}
			}
			io.WriteString(f.out, out)
		} else {
			for _, line := range strings.SplitAfter(out, "\n") {
				if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "ok\t") || strings.HasPrefix(line, "?") {
					io.WriteString(f.out, line)
				}
			}
		}
	}
	for _, name := range f.order[pkg] {
		delete(f.running, testKey{pkg, name})
	}
	delete(f.order, pkg)
	delete(f.pkgOut, pkg)
}

// logLine starts a t.Log entry in go test -v output: four spaces per level, file:line, colon.
var logLine = regexp.MustCompile(`^\s+([\w.+-]+\.go:\d+): ?`)

// skipReason finds the message a skipped test gave t.Skip in its output: the last log entry
// (t.Skip logs its arguments, then ends the test), its continuation lines joined to it.
func skipReason(out string) (reason, where string) {
	var entries, places []string
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(line)
		switch m := logLine.FindStringSubmatch(line); {
		case trimmed == "", strings.HasPrefix(trimmed, "=== "), strings.HasPrefix(trimmed, "--- "):
		case m != nil:
			entries = append(entries, strings.TrimSpace(line[len(m[0]):]))
			places = append(places, m[1])
		case len(entries) > 0 && strings.HasPrefix(line, "    "):
			entries[len(entries)-1] += " " + trimmed
		default: // printed by the test itself, not logged
			entries = append(entries, trimmed)
			places = append(places, "")
		}
	}
	if len(entries) == 0 {
		return "", ""
	}
	return entries[len(entries)-1], places[len(places)-1]
}

// runFilter is `skipcheck filter`.
func runFilter(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skipcheck filter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every test's output, as go test -v does")
	label := fs.String("label", "", "the step name recorded with each skip")
	record := fs.String("record", "", "append the skipped tests to this file, one JSON object a line")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f := newFilter(stdout, *verbose, *label)
	err := f.read(stdin)
	if err == nil && *record != "" {
		err = appendSkips(*record, f.skips)
	}
	if err != nil {
		fmt.Fprintf(stderr, "skipcheck: %v\n", err)
		return 1
	}
	if f.failed {
		return 1
	}
	return 0
}

// appendSkips appends skips to the record file, creating it.
func appendSkips(path string, skips []Skip) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening the skip record: %w", err)
	}
	enc := json.NewEncoder(file)
	for _, s := range skips {
		if err := enc.Encode(s); err != nil {
			file.Close()
			return fmt.Errorf("writing the skip record: %w", err)
		}
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("writing the skip record: %w", err)
	}
	return nil
}
