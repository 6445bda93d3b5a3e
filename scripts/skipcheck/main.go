// Command skipcheck keeps `make test` honest about skipped tests.
//
// A test that skips proves nothing, and in CI a skip usually means a missing tool or service
// that the test needs: the run looks green while the test never ran. scripts/test.sh runs
// `go test -json` through this program, which prints what plain `go test` (or `go test -v`)
// would print and records every skipped test with its reason; at the end it lists them in the
// summary, and under CI=true fails the run when a skip is not on the allow-list
// (.ci/allowed-skips.txt), where each allowed skip says why it is fine.
//
// Usage:
//
//	go test -json ./... 2>&1 | skipcheck filter [-v] [-label NAME] [-record FILE]
//	skipcheck check -allow FILE [-strict] [-module PATH] RECORDS...
//
// filter reads go test's JSON events (and passes any other line through), writes the human
// output to stdout and appends one JSON line per skipped test to FILE. It exits 1 when a test
// or package failed, so that a pipeline fails even without pipefail.
//
// check prints the skipped tests of the record files, each marked allowed or not. It exits 1
// when -strict (default: CI is true) and a skip is not allowed, and 2 when the allow-list is
// malformed (an entry without a reason, a bad regular expression), whatever -strict says.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: skipcheck filter [-v] [-label NAME] [-record FILE] | skipcheck check -allow FILE [-strict] RECORDS...")
		return 2
	}
	switch args[0] {
	case "filter":
		return runFilter(args[1:], stdin, stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "skipcheck: unknown command %q (filter or check)\n", args[0])
		return 2
	}
}
