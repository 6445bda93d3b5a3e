//go:build peers

package peertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// knownSuiteBugs are scenarios that fail because of a bug in the conformance suite itself,
// each with the checks it is allowed to fail and where the bug is recorded. Any other failing
// check in them still fails the test; when one passes, the test says the entry can go.
var knownSuiteBugs = map[string]struct {
	checks []string
	why    string
}{
	// The 0.1.16 mock serves its authorization server metadata at the root well-known path
	// with issuer "<origin>/oauth" (routePrefix "/oauth"), which RFC 8414 §3.3 forbids; the
	// broker, like every strict client, refuses that metadata, so the flow stops before
	// registration. Fixed upstream after 0.1.16: modelcontextprotocol/conformance PR #359
	// ("make 2025-03-26 backcompat mock RFC 8414 §3.3-compliant"; also issue #140, PR #203).
	"auth/2025-03-26-oauth-metadata-backcompat": {
		checks: []string{"client-registration", "authorization-request", "token-request"},
		why:    "suite bug: the mock's AS metadata issuer breaks RFC 8414 §3.3 (modelcontextprotocol/conformance#359)",
	},
}

// check is one entry of a scenario's checks.json.
type check struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
}

// TestConformance runs the official MCP conformance suite's client scenarios with the bridge
// under test: the suite starts each scenario's servers and launches our driver, which runs
// `mcp-broker bridge --url` and speaks to it on stdio like Claude Code. Every scenario of the
// core, backcompat and draft suites must pass, and auth/client-credentials-basic.
func TestConformance(t *testing.T) {
	p := requirePeers(t)
	runs := []struct{ name, flag, value string }{
		{"core", "--suite", "core"},
		{"backcompat", "--suite", "backcompat"},
		{"draft", "--suite", "draft"},
		{"client-credentials-basic", "--scenario", "auth/client-credentials-basic"},
	}
	var total struct{ scenarios, passed, failed, warnings int }
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			sum := p.conformance(t, r.flag, r.value)
			total.scenarios += sum.scenarios
			total.passed += sum.passed
			total.failed += sum.failed
			total.warnings += sum.warnings
		})
	}
	t.Logf("conformance 0.1.16, all runs: %d scenarios; checks: %d passed, %d failed, %d warnings",
		total.scenarios, total.passed, total.failed, total.warnings)
}

type summary struct{ scenarios, passed, failed, warnings int }

// timingChecks are checks that measure wall-clock delays against a narrow window
// (sse-retry: the reconnection must come 450-700 ms after the stream closes; up to 1000 ms is
// a warning). A suite runs its scenarios in parallel, and on a loaded two-core machine a process
// can be late for reasons that are not the bridge's: a scenario whose only failures and
// warnings are these is run once more alone, and that run decides.
var timingChecks = []string{"client-sse-retry-timing"}

// conformance runs one suite or scenario and checks every scenario's results.
func (p *peers) conformance(t *testing.T, flag, value string) summary {
	results, took := p.runSuite(t, flag, value)
	var sum summary
	names := make([]string, 0, len(results))
	for name := range results {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		res := results[name]
		passed, failed, warned := res.count()
		if bad := slices.Concat(failed, warned); len(bad) > 0 && subset(bad, timingChecks) && flag == "--suite" {
			t.Logf("%s failed only on timing in the parallel run (%s): running it again alone", name, describe(res.checks))
			again, _ := p.runSuite(t, "--scenario", name)
			if r, ok := again[name]; ok {
				res = r
				passed, failed, warned = res.count()
			}
		}
		sum.scenarios++
		sum.passed += len(passed)
		sum.failed += len(failed)
		sum.warnings += len(warned)
		verdict := "ok"
		bug, known := knownSuiteBugs[name]
		switch {
		case len(failed) == 0 && len(warned) == 0 && known:
			verdict = "ok (a known suite bug no longer shows: drop it from knownSuiteBugs)"
		case len(failed) == 0 && len(warned) == 0:
		case known && len(warned) == 0 && subset(failed, bug.checks):
			verdict = "expected failure: " + bug.why
		default:
			verdict = "FAILED"
		}
		t.Logf("%-45s %3d passed, %d failed, %d warnings  %s", name, len(passed), len(failed), len(warned), verdict)
		if verdict == "FAILED" {
			t.Errorf("scenario %s: %d checks failed, %d warnings:\n%sdriver and bridge stderr:\n%s",
				name, len(failed), len(warned), describe(res.checks), lastLines(res.stderr, 80))
		}
	}
	t.Logf("conformance %s %s: %d scenarios in %s; checks: %d passed, %d failed, %d warnings",
		flag, value, sum.scenarios, took, sum.passed, sum.failed, sum.warnings)
	return sum
}

// runSuite runs the suite's client side for one suite or scenario and reads its results.
func (p *peers) runSuite(t *testing.T, flag, value string) (map[string]scenarioResult, time.Duration) {
	t.Helper()
	out := t.TempDir()
	home := t.TempDir()
	env := append(p.env(t, home, filepath.Join(home, "unused-config"), "file"), "MCP_BROKER_BIN="+p.broker)
	// The suite runs a suite's scenarios in parallel, each with a 30 s default budget for the
	// client; on a loaded two-core machine give them room (the driver stops itself at 45 s).
	args := []string{"--require", p.preload, p.modules("@modelcontextprotocol", "conformance", "dist", "index.js"),
		"client", "--command", p.driver, flag, value, "--timeout", "60000", "-o", out}
	start := time.Now()
	r := run(t, 4*time.Minute, home, env, "", filepath.Join(p.nodeBin, "node"), args...)
	took := time.Since(start).Round(100 * time.Millisecond)
	// The exit status is 1 on any failure or warning, known suite bugs included: the checks
	// are the verdict. A run that wrote no results at all is a failure of its own.
	results, err := readResults(out)
	if err != nil || len(results) == 0 {
		t.Fatalf("conformance %s %s: no results (%v; exit: %v)\nstdout:\n%s\nstderr:\n%s", flag, value, err, r.err,
			lastLines(r.stdout, 60), lastLines(r.stderr, 60))
	}
	return results, took
}

// scenarioResult is what the suite saved for one scenario.
type scenarioResult struct {
	checks []check
	stderr string
}

// count sorts the scenario's check ids by outcome.
func (r scenarioResult) count() (passed, failed, warned []string) {
	for _, c := range r.checks {
		switch c.Status {
		case "SUCCESS":
			passed = append(passed, c.ID)
		case "FAILURE":
			failed = append(failed, c.ID)
		case "WARNING":
			warned = append(warned, c.ID)
		}
	}
	return passed, failed, warned
}

// readResults reads the suite's output folder: one folder per scenario, named after it and a
// timestamp ("auth/" scenarios one level down), each with checks.json and stderr.txt.
func readResults(dir string) (map[string]scenarioResult, error) {
	out := map[string]scenarioResult{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "checks.json" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var checks []check
		if err := json.Unmarshal(b, &checks); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, err := filepath.Rel(dir, filepath.Dir(path))
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		// The scenario name is before "-<timestamp>" (2026-11-27T01-43-11-687Z).
		name = timestamp.ReplaceAllString(name, "")
		stderr, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "stderr.txt"))
		out[name] = scenarioResult{checks: checks, stderr: string(stderr)}
		return nil
	})
	return out, err
}

// timestamp ends the name of each scenario's output folder.
var timestamp = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

func subset(got, allowed []string) bool {
	for _, g := range got {
		found := false
		for _, a := range allowed {
			found = found || g == a
		}
		if !found {
			return false
		}
	}
	return true
}

// describe lists the checks that failed or warned, with the suite's words.
func describe(checks []check) string {
	var b strings.Builder
	for _, c := range checks {
		if c.Status != "FAILURE" && c.Status != "WARNING" {
			continue
		}
		fmt.Fprintf(&b, "  %s %s: %s", c.Status, c.ID, c.Description)
		if c.ErrorMessage != "" {
			fmt.Fprintf(&b, " (%s)", c.ErrorMessage)
		}
		b.WriteString("\n")
	}
	return b.String()
}
