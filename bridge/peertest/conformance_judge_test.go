//go:build peers

package peertest

import (
	"regexp"
	"slices"
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

// TestConformanceSuitesData: each suite version's data is usable: hosts, runs with scenarios,
// no scenario in two listed runs or tagged twice, every known failure in a run with checks, a
// cause and a why, and every pending entry a tagged scenario and version, once, with the
// feature it waits for.
func TestConformanceSuitesData(t *testing.T) {
	for _, s := range conformanceSuites {
		if len(s.hosts) == 0 || !slices.Contains(s.hosts, hostDriver) {
			t.Errorf("conformance %s: hosts %v, want the driver among them", s.version, s.hosts)
		}
		if (len(s.runs) == 0) == (len(s.scenarios) == 0) {
			t.Errorf("conformance %s: give either runs or tagged scenarios", s.version)
		}
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
		tagged := map[string]bool{}
		for _, sc := range s.scenarios {
			if seen[sc.name] != "" || len(sc.versions) == 0 {
				t.Errorf("conformance %s: %s is tagged twice or for no version", s.version, sc.name)
			}
			seen[sc.name] = "tagged"
			for _, v := range sc.versions {
				if v != versionExtension && !specVersion.MatchString(v) {
					t.Errorf("conformance %s: %s is tagged %q, not a spec version", s.version, sc.name, v)
				}
				tagged[sc.name+"@"+v] = true
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
		pending := map[string]bool{}
		for _, p := range s.pending {
			key := p.scenario + "@" + p.version
			if !tagged[key] || pending[key] || p.missing == "" {
				t.Errorf("conformance %s: pending %s must be a tagged scenario and version, listed once, with what it waits for", s.version, key)
			}
			pending[key] = true
		}
	}
}

// specVersion is the form of a dated spec version.
var specVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// TestConformancePlan: a suite of tagged scenarios runs each alone at each version (an
// extension at the default one), beside the other runs, the driver all of them, another host
// all but those that test the host; each run carries its pending entry. Listed runs stay as
// listed, one at a time.
func TestConformancePlan(t *testing.T) {
	s := conformanceSuite{
		hosts: []string{hostDriver, hostInspector},
		scenarios: []taggedScenario{
			{name: "a", versions: []string{"2025-11-25", "2026-07-28"}},
			{name: "b", versions: []string{versionExtension}},
			{name: "c", versions: []string{"2026-07-28"}, hostOnly: "it tests the host"},
		},
		pending: []pendingRun{{scenario: "a", version: "2026-07-28", missing: "a feature"}},
	}
	type planned struct {
		name, args string
		pending    bool
	}
	plan := func(h string) []planned {
		var out []planned
		for _, r := range s.plan(h) {
			scenario, version, _ := strings.Cut(r.name, "@")
			if !slices.Equal(r.scenarios, []string{scenario}) || r.version != version || !r.concurrent {
				t.Errorf("run %s reports %v at %q, concurrent %t; want its scenario alone at its version, beside other runs",
					r.name, r.scenarios, r.version, r.concurrent)
			}
			out = append(out, planned{r.name, strings.Join(r.args, " "), r.pending != nil})
		}
		return out
	}
	a := []planned{
		{"a@2025-11-25", "--scenario a --spec-version 2025-11-25", false},
		{"a@2026-07-28", "--scenario a --spec-version 2026-07-28", true},
		{"b@extension", "--scenario b", false},
	}
	if got, want := plan(hostDriver), append(a, planned{"c@2026-07-28", "--scenario c --spec-version 2026-07-28", false}); !slices.Equal(got, want) {
		t.Errorf("the driver's plan = %v, want %v", got, want)
	}
	if got := plan(hostInspector); !slices.Equal(got, a) {
		t.Errorf("the Inspector's plan = %v, want %v", got, a)
	}
	listed := conformanceSuite{runs: []conformanceRun{{name: "core", args: []string{"--suite", "core"}, scenarios: []string{"x"}}}}
	if got := listed.plan(hostDriver); len(got) != 1 || got[0].name != "core" || got[0].concurrent {
		t.Errorf("a suite of listed runs plans %v", got)
	}
}

// TestConformanceSettle: a run's failures fail the test; a pending run's are expected, and a
// pending run that passes fails the test with the words that say to remove its entry.
func TestConformanceSettle(t *testing.T) {
	pending := &pendingRun{scenario: "s", version: "v", missing: "a feature"}
	failures := []string{"scenario s: 2 checks failed or warned\nmore", "another"}
	tests := []struct {
		name     string
		run      conformanceRun
		failures []string
		errs     []string // substrings, one per error
		note     string
	}{
		{"passes", conformanceRun{name: "s@v"}, nil, nil, ""},
		{"fails", conformanceRun{name: "s@v"}, failures, failures, ""},
		{"pending and fails", conformanceRun{name: "s@v", pending: pending}, failures, nil, "s@v is pending (a feature) and fails as expected: scenario s: 2 checks failed or warned"},
		{"pending and passes", conformanceRun{name: "s@v", pending: pending}, nil, []string{"s@v passes through the inspector: remove it from pending (it waited for a feature)"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, note := settle(tt.run, hostInspector, tt.failures)
			if len(errs) != len(tt.errs) || note != tt.note {
				t.Fatalf("settle = %q, %q; want %q, %q", errs, note, tt.errs, tt.note)
			}
			for i, e := range tt.errs {
				if !strings.Contains(errs[i], e) {
					t.Errorf("error %d = %q, want it to say %q", i, errs[i], e)
				}
			}
		})
	}
}
