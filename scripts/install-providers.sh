#!/usr/bin/env bash
# install-providers.sh [--check] [--print-dir]
#
# Builds the real authorization servers the sign-in is tested against
# (internal/providers), from Go modules pinned in testdata/providers, into a
# cache folder outside the work tree:
#   ${MCP_BROKER_PROVIDERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-broker-providers}/bin
# When that folder already holds this pin's build it does nothing and returns
# at once; otherwise it builds again.
#
# The providers, each in its own module so that their dependencies stay out of
# the product's go.mod:
#   hydra       ory/hydra v2.3.0 (testdata/providers/hydra: `tool` directive),
#               with SQLite for its in-memory database (cgo: needs a C compiler)
#   zitadel-op  the OpenID provider example of zitadel/oidc v3, on loopback
#               (testdata/providers/zitadel/main.go says how it is set up)
#
# --check      only say whether the build is current (exit 1 if not)
# --print-dir  print the folder and exit
#
# Without a C compiler it only says so and exits 0: the provider tests skip
# there (and fail under CI=true); `scripts/install-deps.sh gui` brings gcc.
# To move to another version: `go get -tool github.com/ory/hydra/v2@vX` (or
# `go get github.com/zitadel/oidc/v3@vX`) and `go mod tidy` in that module's
# folder, keep hydra's own replace directives in step with its go.mod, commit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/testdata/providers"
dir="${MCP_BROKER_PROVIDERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-broker-providers}"
GO=${GO:-go}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

check_only=false
for arg in "$@"; do
	case "$arg" in
	--check) check_only=true ;;
	--print-dir)
		echo "$dir"
		exit 0
		;;
	-h | --help) usage ;;
	*)
		echo "install-providers: unknown argument '$arg'" >&2
		usage
		;;
	esac
done

# The stamp names what is built: the hash of these files, in this order. The
# Go tests (internal/providers) compute the same hash to refuse a stale build.
sources=(hydra/go.mod hydra/go.sum zitadel/go.mod zitadel/go.sum zitadel/main.go)
want=$(cd "$src" && cat "${sources[@]}" | sha256sum | cut -d' ' -f1)
stamp="$dir/.installed"

current() {
	[[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$dir/bin/hydra" && -x "$dir/bin/zitadel-op" ]]
}

if current; then
	echo "install-providers: up to date ($dir)"
	exit 0
fi
if $check_only; then
	echo "install-providers: not built or stale: run scripts/install-providers.sh ($dir)"
	exit 1
fi
cc=$(CGO_ENABLED=1 "$GO" env CC)
if ! command -v "$cc" >/dev/null; then
	echo "install-providers: no C compiler ($cc), which hydra's SQLite needs: the provider tests will skip (run scripts/install-deps.sh gui, then rerun)" >&2
	exit 0
fi

mkdir -p "$dir"
# Two builds at once (two `make test`s) would write the same binaries: take a
# lock, and look again once we hold it.
exec 9>"$dir/.lock"
if command -v flock >/dev/null; then
	flock 9
	if current; then
		echo "install-providers: up to date ($dir)"
		exit 0
	fi
fi

rm -f "$stamp"
mkdir -p "$dir/bin"
start=$SECONDS
echo "install-providers: building ory/hydra (a cold build downloads and compiles a few hundred modules)"
CGO_ENABLED=1 "$GO" -C "$src/hydra" build -tags sqlite -o "$dir/bin/hydra" github.com/ory/hydra/v2
echo "install-providers: building the zitadel/oidc example OpenID provider"
"$GO" -C "$src/zitadel" build -o "$dir/bin/zitadel-op" .

# Check that what the tests start runs, so that a broken build fails here
# rather than as a puzzling failure far away.
"$dir/bin/hydra" version >/dev/null || {
	echo "install-providers: $dir/bin/hydra does not run" >&2
	exit 1
}
"$dir/bin/zitadel-op" -h 2>/dev/null || [[ $? == 2 ]] || {
	echo "install-providers: $dir/bin/zitadel-op does not run" >&2
	exit 1
}

echo "$want" >"$stamp"
echo "install-providers: built in $((SECONDS - start))s into $dir"
