#!/usr/bin/env bash
# with-desktop.sh CMD [ARG...]
#
# Runs CMD with the desktop services the desktop tests need, and nothing of
# the user's own desktop:
#   - a private session bus (dbus-run-session), so that nothing reaches the
#     user's bus and nothing is left running afterwards;
#   - fresh, private XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and
#     XDG_RUNTIME_DIR (0700), set on dbus-run-session itself so that even a
#     D-Bus-activated service writes there and never into ~/.local/share;
#   - a gnome-keyring Secret Service with a new login keyring, unlocked with
#     a random password, announced by MCP_BROKER_TEST_KEYRING=1 (see
#     internal/testenv);
#   - a private X display (Xvfb through xvfb-run, 1024x768, no TCP) for the
#     tray and window tests, unless DISPLAY is already set or
#     MCP_BROKER_TEST_XVFB=0.
# CI and everything else in the environment pass through. The exit status is
# CMD's. Without dbus-run-session or gnome-keyring-daemon it runs CMD as is
# (the desktop tests then skip), except when CI=true, where that is an error.
set -euo pipefail

die() {
	echo "with-desktop: $*" >&2
	exit 1
}

is_ci() {
	case "${CI:-}" in
	true | TRUE | True | 1) return 0 ;;
	*) return 1 ;;
	esac
}

# inside runs within dbus-run-session: start and unlock the keyring, run the
# command, stop the keyring.
inside() {
	local pw pid status
	# The password only protects a throw-away keyring; it travels on stdin,
	# never in argv.
	pw=$(head -c 24 /dev/urandom | base64)
	printf %s "$pw" | gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
		die "gnome-keyring-daemon --unlock failed"
	unset pw

	# The daemon registers on the bus just after it forks: wait (bounded).
	local i
	for ((i = 0; i < 100; i++)); do
		if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
			grep -q 'boolean true'; then
			break
		fi
		sleep 0.1
	done
	((i < 100)) || die "the keyring never appeared on the session bus as org.freedesktop.secrets"
	# Its PID, from the bus, to stop exactly that process at the end.
	pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets |
		awk '/uint32/ { print $2 }')

	export MCP_BROKER_TEST_KEYRING=1
	set +e
	"$@"
	status=$?
	set -e

	# The daemon would exit with the bus, but asynchronously; stop it now so
	# that it no longer writes into the directories about to be removed.
	if [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; then
		for ((i = 0; i < 50; i++)); do
			# Gone, or a zombie waiting for an init that may never reap it.
			[[ -r /proc/$pid/stat ]] || break
			[[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
			sleep 0.1
		done
	fi
	return "$status"
}

if [[ "${1:-}" == "--inside" ]]; then
	shift
	inside "$@"
	exit $?
fi

(($# > 0)) || die "usage: scripts/with-desktop.sh CMD [ARG...]"

# A display of our own, unless there is one (a developer's desktop) or none is wanted.
xvfb=()
if [[ -z "${DISPLAY:-}" && "${MCP_BROKER_TEST_XVFB:-1}" != 0 ]]; then
	if command -v xvfb-run >/dev/null && command -v xauth >/dev/null; then
		xvfb=(xvfb-run -a -s "-screen 0 1024x768x24 -nolisten tcp")
	elif is_ci; then
		die "missing xvfb-run or xauth: run scripts/install-deps.sh test gui first (CI=true: the tray tests must not skip)"
	else
		echo "with-desktop: no xvfb-run: running without a display; the tray tests will skip" >&2
	fi
fi

missing=()
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
	if is_ci; then
		die "missing ${missing[*]}: run scripts/install-deps.sh first (CI=true: the desktop tests must not skip)"
	fi
	echo "with-desktop: missing ${missing[*]}: running without a private keychain; desktop tests will skip" >&2
	exec "$@"
fi

# Pin Go's own directories before moving XDG_*: GOCACHE defaults to
# $XDG_CACHE_HOME/go-build and GOENV to $XDG_CONFIG_HOME/go/env, and a cold
# build cache costs minutes.
if command -v go >/dev/null; then
	{
		read -r GOCACHE
		read -r GOMODCACHE
		read -r GOENV
	} < <(go env GOCACHE GOMODCACHE GOENV)
	export GOCACHE GOMODCACHE GOENV
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcp-broker-desktop.XXXXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	rm -rf "$tmp" 2>/dev/null || { sleep 1 && rm -rf "$tmp"; }
}
trap cleanup EXIT
# Turn signals into exits, so that the EXIT trap runs for them too.
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 0700 "$tmp"
mkdir -m 0700 "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/runtime"

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
set +e
XDG_DATA_HOME="$tmp/data" \
	XDG_CONFIG_HOME="$tmp/config" \
	XDG_CACHE_HOME="$tmp/cache" \
	XDG_RUNTIME_DIR="$tmp/runtime" \
	"${xvfb[@]}" dbus-run-session -- bash "$self" --inside "$@"
status=$?
set -e
exit "$status"
