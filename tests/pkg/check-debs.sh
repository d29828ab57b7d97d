#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages, end to end (doc/packaging.md): built from a clean
# clone with dpkg-buildpackage, checked by lintian, installed on a fresh
# Debian 12 root made with mmdebstrap and booted with systemd-nspawn, where
# 'mplace topo', 'mplace run' and mplaced (systemctl start) must work from
# the installed paths; then removed and purged, which must leave the root as
# it was: /etc/ld.so.preload untouched or restored, nothing in /run or
# /var/lib.  Minutes, the archive and root needed: run by hand, not by the
# test suite.
#
# Usage: tests/pkg/check-debs.sh [REPO [REV]]   (default: this clone, HEAD)
# Environment: MPLACE_DEBIAN_MIRROR (default: the host's bookworm mirror),
# MPLACE_KEEP=1 to keep the work directory.
# Exit: 0 when every check passed, 1 otherwise, 77 when it cannot run here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=${1:-$(git -C "$here" rev-parse --show-toplevel)}
rev=${2:-HEAD}
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
skip() { echo "SKIP: $*"; exit 77; }
finish() {
	echo "check-debs: $pass passed, $fail failed"
	[ $fail = 0 ]
	exit $?
}

[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap's root, systemd-nspawn)"
for t in dpkg-buildpackage lintian mmdebstrap systemd-nspawn unshare; do
	command -v $t >/dev/null || skip "$t is not installed (apt-get install dpkg-dev debhelper lintian mmdebstrap systemd-container)"
done

work=$(mktemp -d /tmp/mplace-debs.XXXXXX)
cleanup() { [ "${MPLACE_KEEP:-}" = 1 ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

# ---- build from a clean clone ---------------------------------------------
git clone --quiet --no-local "$repo" "$work/mplace" && git -C "$work/mplace" checkout --quiet "$rev" ||
	{ bad "cannot clone $repo at $rev"; finish; }
echo "building $(git -C "$work/mplace" log -1 --format='%h %s' | cut -c1-72)"
missing=$(cd "$work/mplace" && dpkg-checkbuilddeps 2>&1) || skip "build dependencies missing: $missing"
start=$SECONDS
if (cd "$work/mplace" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b from a clean clone ($((SECONDS - start)) s)"
else
	bad "dpkg-buildpackage failed:"; tail -n 30 "$work/build.log"; finish
fi
summary=$(grep -E '^(Ok|Fail|Skipped|Timeout):' "$work/build.log" | tr -s ' ' | tr '\n' ' ')
echo "   its test run: $summary"
mapfile -t debs < <(find "$work" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | sort)
[ ${#debs[@]} = 4 ] && ok "four packages: $(basename -a "${debs[@]}" | tr '\n' ' ')" ||
	bad "expected four packages, got ${#debs[@]}: ${debs[*]}"

# ---- lintian ----------------------------------------------------------------
lintian --tag-display-limit 0 -I -E --pedantic "$work"/*.changes >"$work/lintian.log" 2>&1
for s in E W I P X; do
	eval "n_$s=$(grep -c "^$s: " "$work/lintian.log")"
done
# shellcheck disable=SC2154 # set by the eval above
echo "   lintian: $n_E errors, $n_W warnings, $n_I info, $n_P pedantic, $n_X experimental"
grep -E '^[EWIPX]: ' "$work/lintian.log" | sed 's/^/   /'
# shellcheck disable=SC2154
[ "$n_E" = 0 ] && [ "$n_W" = 0 ] && ok "lintian: no errors, no warnings" ||
	bad "lintian has errors or warnings (doc/packaging.md explains the ones that stay)"

# ---- a fresh Debian 12 root -------------------------------------------------
mirror=${MPLACE_DEBIAN_MIRROR:-$(awk '/^URIs:/ {u = $2} /^Suites:.*bookworm/ {print u; exit}' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null)}
mirror=${mirror:-http://deb.debian.org/debian}
root=$work/root
start=$SECONDS
# apt's lists are kept so that the packages' dependencies install from the
# archive inside the booted root, as on any machine
if ! mmdebstrap --quiet --variant=minbase --include=systemd,systemd-sysv,dbus,procps \
	--skip=cleanup/apt/lists bookworm "$root" "deb $mirror bookworm main" \
	"deb ${mirror%/debian}/debian-security bookworm-security main" >"$work/mmdebstrap.log" 2>&1; then
	tail -n 5 "$work/mmdebstrap.log"
	skip "cannot make a Debian 12 root with mmdebstrap (is the archive reachable?)"
fi
ok "mmdebstrap: a Debian 12 root ($((SECONDS - start)) s)"
mkdir -p "$root/root/debs"
cp "${debs[@]}" "$root/root/debs/"
install -m 755 "$here/inside.sh" "$root/root/inside.sh"
# the agent's path as debian/rules builds it (meson's agentdir default)
echo "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/mplace/libmplace-preload.so" >"$root/root/agent-path"
cat >"$root/etc/systemd/system/mplace-check.service" <<'UNIT'
[Unit]
Description=mplace packages: install, use, remove, purge
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/root/inside.sh
ExecStopPost=/bin/systemctl --no-block poweroff
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=900
[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/mplace-check.service "$root/etc/systemd/system/multi-user.target.wants/"
# no login prompt on the console: nobody logs in, and agetty writes
# /run/agetty.reload whenever it likes, which is not the packages' doing
ln -s /dev/null "$root/etc/systemd/system/console-getty.service"

# ---- boot it ----------------------------------------------------------------
# nspawn keeps its bookkeeping under /run/systemd/nspawn and refuses to
# clean it up where /run is not a tmpfs: a private tmpfs there, in a mount
# namespace of its own, leaves the host's /run alone.  CAP_NET_ADMIN:
# mplaced's process-events connector needs it, as on a real machine; a
# container lacks it by default.  The systemd inside needs a console that
# is a terminal (read-only).
start=$SECONDS
mkdir -p /run/systemd/nspawn
timeout 1200 unshare -m --propagation private sh -c '
	mount -t tmpfs tmpfs /run/systemd/nspawn &&
	exec systemd-nspawn -q -D "$1" -b --register=no --keep-unit --console=read-only \
		--capability=CAP_NET_ADMIN' sh "$root" >"$work/boot.log" 2>&1
r=$?
[ $r = 0 ] || bad "systemd-nspawn exited $r (console: $work/boot.log)"
if [ -f "$root/root/inside.log" ]; then
	ok "booted with systemd-nspawn -b and ran the checks inside ($((SECONDS - start)) s)"
	while read -r line; do
		case $line in
		ok:*) ok "${line#ok: }" ;;
		FAIL:*) bad "${line#FAIL: }" ;;
		*) echo "   $line" ;;
		esac
	done <"$root/root/inside.log"
	grep -q '^inside: done' "$root/root/inside.log" || bad "the checks inside did not finish"
else
	bad "the checks inside did not run; the console said:"
	tail -n 30 "$work/boot.log"
fi
finish
