#!/usr/bin/env bash
# install-deps.sh [--check] [GROUP...]
#
# Installs the Debian packages a group of tasks needs, and only those that are
# missing: when everything is there it does nothing and returns at once.
#
# Groups (default: test):
#   test  what `make test` needs: the real keychain and the real browser
#   gui   what building and testing the Fyne tray needs (Xvfb, a tray host,
#         screenshots)
#   ci    make itself, for .ci/run on a bare machine
#   all   every group
#
# --check only reports what is missing (exit 1 if anything is).
#
# Runs apt-get as root directly, else through `sudo -n`; without either it
# prints the command to run and fails. Never installs dbus-x11: with it godbus
# and Fyne autolaunch session buses and leak them (shared/desktop-testing.md).
# On a system without dpkg/apt-get it only says so: the tests that need these
# packages skip there.
set -euo pipefail

# Package groups, one purpose per line.
group_test=(
	gnome-keyring    # Secret Service for the real-keychain tests
	dbus-daemon      # dbus-daemon, dbus-run-session (scripts/with-desktop.sh)
	dbus-bin         # dbus-send (scripts/with-desktop.sh)
	libglib2.0-bin   # gdbus (the session bus by hand and from tests), gio (ui/autostart launches the entry)
	desktop-file-utils # desktop-file-validate for the autostart entry (ui/autostart, no cgo)
	chromium         # the real browser the browser tests drive (chromedp)
	ca-certificates  # HTTPS to the Go module proxy on a bare machine
)
group_gui=(
	gcc libc6-dev pkg-config                       # cgo
	libgl-dev libx11-dev libxcursor-dev libxrandr-dev # Fyne's GLFW driver headers
	libxinerama-dev libxi-dev libxxf86vm-dev
	xvfb xauth libgl1-mesa-dri                     # headless X with software GL
	haskell-gtk-sni-tray-utils                     # a real tray host (gtk-sni-tray-standalone) for the screenshots
	imagemagick xdotool                            # screenshots (import) and clicks on the tray icon
)
group_ci=(
	make
)

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

check_only=false
groups=()
for arg in "$@"; do
	case "$arg" in
	--check) check_only=true ;;
	-h | --help) usage ;;
	test | gui | ci) groups+=("$arg") ;;
	all) groups+=(test gui ci) ;;
	*)
		echo "install-deps: unknown group '$arg'" >&2
		usage
		;;
	esac
done
((${#groups[@]} > 0)) || groups=(test)

# Before anything that needs bash 4 (macOS ships bash 3.2).
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	echo "install-deps: not a Debian-like system: nothing installed; install the equivalents of the '${groups[*]}' group(s) in $0 by hand" >&2
	echo "install-deps: (the tests that need a keychain or a browser skip without them)" >&2
	exit 0
fi

wanted=()
for g in "${groups[@]}"; do
	case "$g" in
	test) wanted+=("${group_test[@]}") ;;
	gui) wanted+=("${group_gui[@]}") ;;
	ci) wanted+=("${group_ci[@]}") ;;
	esac
done

# One dpkg-query for all: "name status" per known package; unknown ones are
# simply absent from the output.
declare -A installed=()
while read -r name status; do
	[[ "$status" == ii* ]] && installed[$name]=1
done < <(dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for p in "${wanted[@]}"; do
	[[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done
# Deduplicate while keeping order.
declare -A seen=()
uniq_missing=()
for p in "${missing[@]}"; do
	[[ -n "${seen[$p]:-}" ]] && continue
	seen[$p]=1
	uniq_missing+=("$p")
done
missing=("${uniq_missing[@]}")

if ((${#missing[@]} == 0)); then
	echo "install-deps: nothing to do (${groups[*]})"
	exit 0
fi
echo "install-deps: missing: ${missing[*]}"
if $check_only; then
	exit 1
fi

# Forbid dbus-x11 unless it is already installed (then it is the user's
# choice, and removing it is not ours): gnome-keyring accepts it as its
# session bus, and apt would otherwise be free to pick it.
forbid=()
if ! dpkg-query -W -f '${db:Status-Abbrev}' dbus-x11 2>/dev/null | grep -q '^ii'; then
	forbid=(dbus-x11-)
else
	echo "install-deps: warning: dbus-x11 is installed; godbus and Fyne will autolaunch (and leak) session buses" >&2
fi

if ((EUID == 0)); then
	sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	echo "install-deps: need root to install packages; run:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]} ${forbid[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}" "${forbid[@]}"

# Verify: a package apt silently skipped would otherwise surface as skipped
# (or, in CI, failing) tests far from here.
still=()
for p in "${missing[@]}"; do
	dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || still+=("$p")
done
if ((${#still[@]} > 0)); then
	echo "install-deps: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: installed ${missing[*]}"
