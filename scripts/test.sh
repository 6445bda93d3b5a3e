#!/usr/bin/env bash
# test.sh [STEP...]
#
# Runs the project's checks, in order, and prints a summary with each step's
# result and time. Every step runs even when an earlier one failed, so one
# CI run reports everything; the exit status is non-zero if any step failed.
#
# Steps (default: all of them, in this order):
#   deps   scripts/install-deps.sh $DEPS_GROUPS (default: test gui)
#   npm    scripts/install-peers.sh: the npm peers the bridge is tested
#          against (conformance suite, Claude Code, Inspector, ...), into
#          $MCP_BROKER_PEERS_DIR (default ~/.cache/mcp-broker-peers)
#   asbin  scripts/install-providers.sh: the real authorization servers the
#          sign-in is tested against (ory/hydra, the zitadel/oidc example
#          provider), built from testdata/providers into
#          $MCP_BROKER_PROVIDERS_DIR (default ~/.cache/mcp-broker-providers)
#   vet    go vet ./...
#   gofmt  gofmt -l on every Go file outside testdata/
#   test   go test ./... once, inside scripts/with-desktop.sh (private D-Bus,
#          keyring and Xvfb display), so that the
#          keychain and browser tests run instead of skipping; with -race
#          where cgo is available, except for packages that link Fyne
#          (race-building the GL stack costs minutes); all but bridge/peertest;
#          screenshots land in $MCP_BROKER_ARTIFACTS (default dist/artifacts)
#   peers  go test -tags peers -v ./bridge/peertest: the real peers against the bridge,
#          inside scripts/with-desktop.sh, printing the conformance counts
#   signin go test -tags providers -v ./internal/providers: sign-in, tool calls
#          and refresh through mcp-broker against those authorization servers,
#          headless Chromium at their login and consent pages
#   fuzz   every Fuzz target, found with `go test -list`, for $FUZZTIME each
# and, only when named: fmt (gofmt -w the same files gofmt checks).
#
# Steps test, peers and signin run `go test -json` through scripts/skipcheck, which
# prints go test's usual output and records every skipped test; the summary
# lists them with their reasons. A skip proves nothing, so under CI=true a
# skip that is not on the allow-list .ci/allowed-skips.txt (each entry says
# why it is fine) fails the run.
#
# Environment: GO (default go), FUZZTIME (default 10s), TESTFLAGS (extra
# `go test` flags, e.g. -count=1, -short or -timeout=10m; the default timeout
# is 5m), DEPS_GROUPS, RACE (0 to turn -race off).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$root/scripts/test.sh"
cd "$root" || exit 1
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
TESTFLAGS=${TESTFLAGS:-}
DEPS_GROUPS=${DEPS_GROUPS:-test gui}
RACE=${RACE:-1}
# The peer tests look for the peers here; with-desktop.sh gives the tests a
# private XDG_CACHE_HOME, so the folder is settled (and exported) out here.
MCP_BROKER_PEERS_DIR=$(scripts/install-peers.sh --print-dir)
export MCP_BROKER_PEERS_DIR
# Likewise the build of the authorization servers of step signin.
MCP_BROKER_PROVIDERS_DIR=$(scripts/install-providers.sh --print-dir)
export MCP_BROKER_PROVIDERS_DIR
# Screenshots and other artifacts of the desktop tests are kept here.
MCP_BROKER_ARTIFACTS=${MCP_BROKER_ARTIFACTS:-$PWD/dist/artifacts}
export MCP_BROKER_ARTIFACTS
# The package of the peer tests: step peers runs it, step test leaves it out.
PEERS_PKG=github.com/mcp-broker/mcp-broker/bridge/peertest
# The package of the tests against real authorization servers (build tag providers).
PROVIDERS_PKG=github.com/mcp-broker/mcp-broker/internal/providers
# The skips CI accepts (scripts/skipcheck check).
ALLOWED_SKIPS=.ci/allowed-skips.txt

summary=()
failed=0

# run NAME CMD...: runs one step and records its outcome for the summary.
run() {
	local name=$1 start status
	shift
	printf '\n==> %s\n' "$name"
	start=$SECONDS
	"$@"
	status=$?
	local took=$((SECONDS - start))
	if ((status == 0)); then
		summary+=("$(printf '  %-6s ok     %4ds' "$name" "$took")")
	else
		summary+=("$(printf '  %-6s FAIL   %4ds  (exit %d)' "$name" "$took" "$status")")
		failed=1
	fi
}

step_deps() {
	# shellcheck disable=SC2086 # DEPS_GROUPS is a list of words
	scripts/install-deps.sh $DEPS_GROUPS
}

step_npm() {
	scripts/install-peers.sh
}

step_asbin() {
	scripts/install-providers.sh
}

step_vet() {
	"$GO" vet ./...
	# The peer tests sit behind a build tag, so that a plain `go test ./...` never runs them;
	# so does the tray build of the command (cgo, Fyne).
	"$GO" vet -tags peers "$PEERS_PKG"
	"$GO" vet -tags providers "$PROVIDERS_PKG"
	CGO_ENABLED=1 "$GO" vet -tags tray ./cmd/mcp-broker
}

# go_files lists the Go files gofmt looks after: all but testdata's.
go_files() {
	find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './bin/*' -not -path './dist/*'
}

step_fmt() {
	local files
	files=$(go_files)
	[[ -n "$files" ]] || return 0
	# shellcheck disable=SC2086 # one path per word; Go file names have no spaces here
	gofmt -l -w $files
}

step_gofmt() {
	local files bad
	files=$(go_files)
	[[ -n "$files" ]] || return 0
	# shellcheck disable=SC2086 # one path per word; Go file names have no spaces here
	bad=$(gofmt -l $files) || return 1
	if [[ -n "$bad" ]]; then
		echo "not gofmt-ed (run make fmt):"
		while read -r f; do echo "  $f"; done <<<"$bad"
		return 1
	fi
}

# race_ok reports whether -race can work here: it needs cgo and a C compiler.
race_ok() {
	[[ "$RACE" == 1 ]] || return 1
	[[ "$("$GO" env CGO_ENABLED)" == 1 ]] || return 1
	command -v "$("$GO" env CC)" >/dev/null
}

# go_tests runs inside with-desktop.sh: -race for the packages that do not
# link Fyne, plain for those that do, in one or two go test invocations.
go_tests() {
	local -a race=() plain=() flags=()
	# A hung test must not eat the default 10 minutes per package: 5 minutes
	# is ample here. TESTFLAGS come after it, so -timeout there wins.
	# shellcheck disable=SC2206 # TESTFLAGS is a list of words
	flags=(-timeout=5m $TESTFLAGS)
	if race_ok; then
		local pkg deps
		while read -r pkg deps; do
			[[ "$pkg" == "$PEERS_PKG" ]] && continue
			if [[ " $deps " == *" fyne.io/fyne/v2 "* ]]; then
				plain+=("$pkg")
			else
				race+=("$pkg")
			fi
		done < <("$GO" list -f '{{.ImportPath}} {{join .Deps " "}}' ./...)
	else
		echo "(no cgo or no C compiler here: running without -race)"
		local p
		while read -r p; do [[ "$p" == "$PEERS_PKG" ]] || plain+=("$p"); done < <("$GO" list ./...)
	fi
	local status=0
	if ((${#race[@]} > 0)); then
		echo "go test -race ${flags[*]:+${flags[*]} }(${#race[@]} packages)"
		go_test_json test -race "${flags[@]}" "${race[@]}" || status=1
	fi
	if ((${#plain[@]} > 0)); then
		echo "go test ${flags[*]:+${flags[*]} }(${#plain[@]} packages, without -race)"
		go_test_json test "${flags[@]}" "${plain[@]}" || status=1
	fi
	return "$status"
}

# go_test_json LABEL ARGS...: go test -json ARGS through skipcheck filter, which
# prints what go test (or go test -v, when ARGS hold -v) would and records the
# skipped tests, labelled LABEL, for the summary. Its exit status is go test's.
go_test_json() {
	local label=$1 arg
	shift
	local -a verbose=()
	for arg in "$@"; do
		case "$arg" in -v | -v=true | -test.v | -test.v=true) verbose=(-v) ;; esac
	done
	if [[ -z "${MCP_BROKER_SKIPCHECK:-}" || -z "${MCP_BROKER_SKIP_RECORD:-}" ]]; then
		echo "test.sh: MCP_BROKER_SKIPCHECK and MCP_BROKER_SKIP_RECORD are unset (run the steps through scripts/test.sh)" >&2
		return 1
	fi
	# pipefail: the status is go test's when it fails, else the filter's.
	"$GO" test -json "$@" 2>&1 |
		"$MCP_BROKER_SKIPCHECK" filter "${verbose[@]}" -label "$label" -record "$MCP_BROKER_SKIP_RECORD"
}

# build_skipcheck builds the filter the test steps pipe go test -json through.
build_skipcheck() {
	[[ -x "$MCP_BROKER_SKIPCHECK" ]] || "$GO" build -o "$MCP_BROKER_SKIPCHECK" ./scripts/skipcheck
}

step_test() {
	build_skipcheck || return 1
	scripts/with-desktop.sh "$self" __go_tests
}

# peer_tests runs inside with-desktop.sh. -v: the tests log the conformance
# pass counts and the Inspector's load figures. -count=1: the peers are
# outside Go's view, so a cached result would prove nothing.
peer_tests() {
	# shellcheck disable=SC2086 # TESTFLAGS is a list of words
	go_test_json peers -tags peers -count=1 -v -timeout=15m $TESTFLAGS "$PEERS_PKG"
}

step_peers() {
	build_skipcheck || return 1
	scripts/with-desktop.sh "$self" __peer_tests
}

# step_signin needs no desktop: the browser is headless and mcp-broker keeps its secrets in
# a file store in each test's own folder. -count=1: the servers are outside Go's view.
step_signin() {
	build_skipcheck || return 1
	# shellcheck disable=SC2086 # TESTFLAGS is a list of words
	go_test_json signin -tags providers -count=1 -v -timeout=10m $TESTFLAGS "$PROVIDERS_PKG"
}

# skip_summary checks the skips the test steps recorded against the allow-list
# and adds them to the summary: a line for the check, then the list.
skip_summary() {
	local report status
	if [[ -x "$MCP_BROKER_SKIPCHECK" ]]; then
		report=$("$MCP_BROKER_SKIPCHECK" check -allow "$ALLOWED_SKIPS" "$MCP_BROKER_SKIP_RECORD" 2>&1)
		status=$?
	else
		report="scripts/skipcheck did not build: the skipped tests are unknown"
		status=1
	fi
	if ((status == 0)); then
		summary+=("  skips  ok")
	else
		summary+=("$(printf '  skips  FAIL          (exit %d)' "$status")")
		failed=1
	fi
	local line
	while IFS= read -r line; do
		summary+=("         $line")
	done <<<"$report"
}

step_fuzz() {
	# Only packages whose tests mention a Fuzz function are listed (each
	# listing builds a test binary); go test -list then says exactly which
	# targets exist. Its output is the names, then "ok <pkg> <time>".
	local -a candidates=()
	local pkg dir
	while read -r pkg dir; do
		grep -qs '^func Fuzz' "$dir"/*_test.go && candidates+=("$pkg")
	done < <("$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./...)
	if ((${#candidates[@]} == 0)); then
		echo "no fuzz targets"
		return 0
	fi
	local listing
	listing=$("$GO" test -list '^Fuzz' "${candidates[@]}") || {
		echo "$listing"
		return 1
	}
	local -a targets=()
	local -a names=()
	local line
	while read -r line; do
		case "$line" in
		Fuzz*) names+=("$line") ;;
		ok*)
			pkg=$(awk '{ print $2 }' <<<"$line")
			for n in "${names[@]}"; do targets+=("$pkg $n"); done
			names=()
			;;
		esac
	done <<<"$listing"
	local status=0 t
	for t in "${targets[@]}"; do
		read -r pkg n <<<"$t"
		echo "--- $n ($pkg, $FUZZTIME)"
		fuzz_one "$pkg" "$n" || status=1
	done
	echo "fuzzed ${#targets[@]} target(s)"
	return "$status"
}

# fuzz_one fuzzes one target. Go 1.26's fuzzing coordinator can report a bare
# "context deadline exceeded" when -fuzztime ends while a worker is busy, on a
# loaded machine, having found nothing (golang/go#75804, fixed in Go 1.27). A
# run that fails that way and wrote no failing input is run once more; any
# other failure counts at once.
fuzz_one() {
	local pkg=$1 n=$2 out rc
	out=$(mktemp)
	"$GO" test -run='^$' -fuzz="^${n}\$" -fuzztime="$FUZZTIME" "$pkg" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if ((rc != 0)) && grep -q '^    context deadline exceeded$' "$out" && ! grep -q 'Failing input written' "$out"; then
		echo "(the fuzzing engine's deadline race, golang/go#75804, with no failing input: running $n once more)"
		"$GO" test -run='^$' -fuzz="^${n}\$" -fuzztime="$FUZZTIME" "$pkg"
		rc=$?
	fi
	rm -f "$out"
	return "$rc"
}

case "${1:-}" in
__go_tests)
	go_tests
	exit $?
	;;
__peer_tests)
	peer_tests
	exit $?
	;;
esac

steps=("$@")
((${#steps[@]} > 0)) || steps=(deps npm asbin vet gofmt test peers signin fuzz)
for s in "${steps[@]}"; do
	case "$s" in
	deps | npm | asbin | vet | gofmt | test | peers | signin | fuzz | fmt) ;;
	*)
		echo "test.sh: unknown step '$s' (deps npm asbin vet gofmt test peers signin fuzz, or fmt)" >&2
		exit 2
		;;
	esac
done

# The test steps' skip records and the filter that writes them live here, for
# this run only; the exported names reach the steps through with-desktop.sh.
work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-broker-test.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export MCP_BROKER_SKIPCHECK="$work/skipcheck" MCP_BROKER_SKIP_RECORD="$work/skips.jsonl"

total=$SECONDS
for s in "${steps[@]}"; do
	run "$s" "step_$s"
done
if [[ " ${steps[*]} " == *" test "* || " ${steps[*]} " == *" peers "* || " ${steps[*]} " == *" signin "* ]]; then
	skip_summary
fi

printf '\n==== summary ====\n'
printf '%s\n' "${summary[@]}"
if ((failed)); then
	printf '  total  FAIL   %4ds\n' $((SECONDS - total))
	exit 1
fi
printf '  total  ok     %4ds\n' $((SECONDS - total))
