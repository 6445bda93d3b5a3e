//go:build peers

package peertest

import (
	"strings"
	"testing"
)

// backcompat is the known failure of conformance 0.1.16, as conformanceSuites has it.
func backcompat(t *testing.T) *knownFailure {
	t.Helper()
	k, ok := conformanceSuites[0].known["auth/2025-03-26-oauth-metadata-backcompat"]
	if !ok {
		t.Fatal("conformance 0.1.16 lists no auth/2025-03-26-oauth-metadata-backcompat failure")
	}
	return &k
}

// backcompatStderr is what the bridge logs when it refuses the 0.1.16 mock's metadata.
const backcompatStderr = `time=2026-12-05T17:15:46.029Z level=ERROR msg="sign-in failed" err="url-localhost-69787355: ` +
	`the authorization server metadata at http://localhost:36063/.well-known/oauth-authorization-server ` +
	`names issuer \"http://localhost:36063/oauth\", not \"http://localhost:36063\": refusing to use it"` + "\n"

func ok(id string) check { return check{ID: id, Status: "SUCCESS", Description: id + " passed"} }

func missing(id string) check {
	return check{ID: id, Status: "FAILURE", Description: "Expected Check Missing: " + id}
}

// TestConformanceJudge: a scenario passes only with a passing check and no failure or warning;
// a known failure is accepted only exactly as known (the same checks, messages, no warning,
// the documented cause in stderr), and one that no longer fails is reported.
func TestConformanceJudge(t *testing.T) {
	known := backcompat(t)
	all := []check{ok("authorization-server-metadata"), missing("client-registration"), missing("authorization-request"), missing("token-request")}
	tests := []struct {
		name   string
		res    scenarioResult
		known  *knownFailure
		want   verdict
		detail string
	}{
		{"clean", scenarioResult{checks: []check{ok("a"), ok("b"), {ID: "x", Status: "INFO"}}}, nil, verdictPassed, ""},
		{"no checks at all", scenarioResult{}, nil, verdictFailed, "no check passed"},
		{"only info", scenarioResult{checks: []check{{ID: "x", Status: "INFO"}}}, nil, verdictFailed, "no check passed"},
		{"unknown failure", scenarioResult{checks: []check{ok("a"), missing("b")}}, nil, verdictFailed, "1 checks failed"},
		{"unknown warning", scenarioResult{checks: []check{ok("a"), {ID: "w", Status: "WARNING"}}}, nil, verdictFailed, "1 checks failed or warned"},
		{"exactly the known failure", scenarioResult{checks: all, stderr: backcompatStderr}, known, verdictExpected, ""},
		{"exactly the known failure, as the driver prints it", scenarioResult{checks: all, stderr: `driver: FAILED: tools/list: ` +
			`the authorization server metadata at http://localhost:1/.well-known/oauth-authorization-server names issuer "http://localhost:1/oauth", not "http://localhost:1": refusing to use it`},
			known, verdictExpected, ""},
		{"a subset of the known failure", scenarioResult{checks: all[:3], stderr: backcompatStderr}, known, verdictFailed, "not the known failure"},
		{"the known failure and one more", scenarioResult{checks: append(all[:4:4], missing("extra")), stderr: backcompatStderr}, known, verdictFailed, "not the known failure"},
		{"the known checks with another message", scenarioResult{checks: []check{ok("m"), missing("client-registration"), missing("authorization-request"),
			{ID: "token-request", Status: "FAILURE", Description: "Expected Check Missing: token-request", ErrorMessage: "timeout"}}, stderr: backcompatStderr},
			known, verdictFailed, "not the known failure"},
		{"the known failure with a warning", scenarioResult{checks: append(all[:4:4], check{ID: "w", Status: "WARNING"}), stderr: backcompatStderr}, known, verdictFailed, "with warnings"},
		{"the known checks for another cause", scenarioResult{checks: all, stderr: "driver: FAILED: tools/list: connection refused\n"}, known, verdictFailed, "documented cause"},
		{"a known failure that passes", scenarioResult{checks: []check{ok("client-registration"), ok("token-request")}}, known, verdictFixed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, detail := judge(tt.res, tt.known)
			if v != tt.want || !strings.Contains(detail, tt.detail) {
				t.Errorf("judge = %d, %q; want %d, %q", v, detail, tt.want, tt.detail)
			}
		})
	}
}

// TestConformanceCheckRun: a run must report exactly its scenarios, as many as the suite says it
// ran, and exit 1 exactly when a check failed or warned.
func TestConformanceCheckRun(t *testing.T) {
	clean := scenarioResult{checks: []check{ok("a")}}
	bad := scenarioResult{checks: []check{ok("a"), missing("b")}}
	warned := scenarioResult{checks: []check{ok("a"), {ID: "w", Status: "WARNING"}}}
	want := []string{"one", "two"}
	tests := []struct {
		name     string
		run      suiteRun
		problems []string
	}{
		{"all there, clean, exit 0", suiteRun{results: map[string]scenarioResult{"one": clean, "two": clean}, claimed: 2}, nil},
		{"a failure, exit 1", suiteRun{results: map[string]scenarioResult{"one": clean, "two": bad}, exit: 1, claimed: 2}, nil},
		{"a warning, exit 1", suiteRun{results: map[string]scenarioResult{"one": warned, "two": clean}, exit: 1, claimed: -1}, nil},
		{"a scenario missing", suiteRun{results: map[string]scenarioResult{"one": clean}, claimed: 2}, []string{"no results for 1 expected scenario(s): two"}},
		{"a scenario too many", suiteRun{results: map[string]scenarioResult{"one": clean, "two": clean, "three": clean}, claimed: 3},
			[]string{"scenario(s) the test does not know (add them to conformanceSuites): three", "the suite ran 3 scenarios, the test expects 2"}},
		{"fewer run than expected", suiteRun{results: map[string]scenarioResult{"one": clean, "two": clean}, claimed: 1}, []string{"the suite ran 1 scenarios"}},
		{"a failure, exit 0", suiteRun{results: map[string]scenarioResult{"one": clean, "two": bad}, claimed: 2}, []string{"but the suite exited 0"}},
		{"clean, exit 1", suiteRun{results: map[string]scenarioResult{"one": clean, "two": clean}, exit: 1, claimed: 2}, []string{"every check passed, but the suite exited 1"}},
		{"exit 2", suiteRun{results: map[string]scenarioResult{"one": clean, "two": bad}, exit: 2, claimed: 2}, []string{"exited with status 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkRun(want, tt.run)
			if len(got) != len(tt.problems) {
				t.Fatalf("checkRun = %q, want %d problem(s) like %q", got, len(tt.problems), tt.problems)
			}
			for i, p := range tt.problems {
				if !strings.Contains(got[i], p) {
					t.Errorf("problem %d = %q, want it to say %q", i, got[i], p)
				}
			}
		})
	}
}

// TestConformanceSuitesData: each suite version's data is usable: runs with scenarios, no
// scenario in two runs, and every known failure in a run, with checks and a cause.
func TestConformanceSuitesData(t *testing.T) {
	for _, s := range conformanceSuites {
		seen := map[string]string{}
		for _, r := range s.runs {
			if len(r.scenarios) == 0 || len(r.args) == 0 {
				t.Errorf("conformance %s run %s: no scenarios or no arguments", s.version, r.name)
			}
			for _, name := range r.scenarios {
				if other, dup := seen[name]; dup {
					t.Errorf("conformance %s: %s is in runs %s and %s", s.version, name, other, r.name)
				}
				seen[name] = r.name
			}
		}
		for name, k := range s.known {
			if _, ok := seen[name]; !ok {
				t.Errorf("conformance %s: known failure %s is in no run", s.version, name)
			}
			if len(k.checks) == 0 || k.cause == nil || k.why == "" {
				t.Errorf("conformance %s: known failure %s needs checks, a cause and a why", s.version, name)
			}
		}
	}
}
