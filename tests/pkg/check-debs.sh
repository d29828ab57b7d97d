#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages, end to end (doc/packaging.md): built from a clean
# clone with dpkg-buildpackage, checked by lintian, installed on a fresh
# Debian 12 (or 13) root made with mmdebstrap and booted with systemd-nspawn, where
# 'mplace topo', 'mplace run' and mplaced (systemctl start) must work from
# the installed paths; then removed and purged, which must leave the root as
# it was: /etc/ld.so.preload untouched or restored, nothing in /run or
# /var/lib.  Minutes, the archive and root needed: run by hand, not by the
# test suite.
#
# Usage: tests/pkg/check-debs.sh [REPO [REV]]   (default: this clone, HEAD)
# Environment: MPLACE_RELEASE=bookworm (default) or trixie: the Debian
# release to build on and install into; one other than the host's is built
# in a root of its own made with mmdebstrap, without the test suite (its run
# and show tests assume the host's pid namespace and a /tmp that honours
# setuid, which a container does not give).  MPLACE_DEBIAN_MIRROR (default: the host's),
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

release=${MPLACE_RELEASE:-bookworm}
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mirror=${MPLACE_DEBIAN_MIRROR:-$(awk '/^URIs:/ {u = $2} /^Suites:.*bookworm/ {print u; exit}' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null)}
mirror=${mirror:-http://deb.debian.org/debian}
sources=("deb $mirror $release main" "deb ${mirror%/debian}/debian-security $release-security main")
# systemd-nspawn, in a mount namespace of its own with a tmpfs on
# /run/systemd/nspawn: nspawn keeps its bookkeeping there and refuses to
# clean it up where /run is not a tmpfs; this leaves the host's /run alone
nspawn() {
	timeout 1200 unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /run/systemd/nspawn && exec systemd-nspawn "$@"' \
		sh -q --register=no --keep-unit "$@"
}
mkdir -p /run/systemd/nspawn

# ---- build from a clean clone ---------------------------------------------
git clone --quiet --no-local "$repo" "$work/mplace" && git -C "$work/mplace" checkout --quiet "$rev" ||
	{ bad "cannot clone $repo at $rev"; finish; }
echo "building $(git -C "$work/mplace" log -1 --format='%h %s' | cut -c1-72) for $release"
start=$SECONDS
if [ "$release" = "$host_release" ]; then
	missing=$(cd "$work/mplace" && dpkg-checkbuilddeps 2>&1) || skip "build dependencies missing: $missing"
	(cd "$work/mplace" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
		>"$work/build.log" 2>&1
	r=$?
	lint() { lintian --tag-display-limit 0 -I -E --pedantic "$work"/*.changes; }
else
	# a root of that release with what debian/control asks for
	broot=$work/build-root
	mmdebstrap --quiet --variant=apt --include=build-essential,lintian,ca-certificates \
		--skip=cleanup/apt/lists "$release" "$broot" "${sources[@]}" >"$work/mmdebstrap-build.log" 2>&1 ||
		skip "cannot make a $release root with mmdebstrap: $(tail -n 3 "$work/mmdebstrap-build.log" | tr '\n' ' ')"
	mkdir -p "$broot/build"
	cp -a "$work/mplace" "$broot/build/"
	# (--timezone=off: tzdata, pulled in by python3, cannot configure over
	# the host's /etc/localtime bound in)
	nspawn -D "$broot" --console=pipe --timezone=off --setenv=DEBIAN_FRONTEND=noninteractive \
		sh -c 'cd /build/mplace && apt-get build-dep -y -q ./ &&
		DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b' >"$work/build.log" 2>&1
	r=$?
	cp "$broot"/build/*.deb "$broot"/build/*.changes "$broot"/build/*.buildinfo "$work/" 2>/dev/null
	lint() { nspawn -D "$broot" --console=pipe sh -c 'lintian --version; cd /build && lintian --tag-display-limit 0 -I -E --pedantic *.changes'; }
fi
if [ $r = 0 ]; then
	ok "dpkg-buildpackage -us -uc -b from a clean clone on $release ($((SECONDS - start)) s)"
else
	bad "dpkg-buildpackage failed:"; tail -n 30 "$work/build.log"; finish
fi
summary=$(grep -E '^(Ok|Fail|Skipped|Timeout):' "$work/build.log" | tr -s ' ' | tr '\n' ' ')
echo "   its test run: ${summary:-none (nocheck, see above)}"
mapfile -t debs < <(find "$work" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | sort)
[ ${#debs[@]} = 4 ] && ok "four packages: $(basename -a "${debs[@]}" | tr '\n' ' ')" ||
	bad "expected four packages, got ${#debs[@]}: ${debs[*]}"

# ---- lintian ----------------------------------------------------------------
lint >"$work/lintian.log" 2>&1
for s in E W I P X; do
	eval "n_$s=$(grep -c "^$s: " "$work/lintian.log")"
done
# shellcheck disable=SC2154 # set by the eval above
echo "   lintian: $n_E errors, $n_W warnings, $n_I info, $n_P pedantic, $n_X experimental"
grep -E '^[EWIPX]: ' "$work/lintian.log" | sed 's/^/   /'
# shellcheck disable=SC2154
[ "$n_E" = 0 ] && [ "$n_W" = 0 ] && ok "lintian: no errors, no warnings" ||
	bad "lintian has errors or warnings (doc/packaging.md explains the ones that stay)"

# ---- a fresh root of the release ---------------------------------------------
root=$work/root
start=$SECONDS
# apt's lists are kept so that the packages' dependencies install from the
# archive inside the booted root, as on any machine
if ! mmdebstrap --quiet --variant=minbase --include=systemd,systemd-sysv,dbus,procps \
	--skip=cleanup/apt/lists "$release" "$root" "${sources[@]}" >"$work/mmdebstrap.log" 2>&1; then
	tail -n 5 "$work/mmdebstrap.log"
	skip "cannot make a $release root with mmdebstrap (is the archive reachable?)"
fi
ok "mmdebstrap: a fresh $release root ($((SECONDS - start)) s)"
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
# CAP_NET_ADMIN: mplaced's process-events connector needs it, as on a real
# machine; a container lacks it by default.  The systemd inside needs a
# console that is a terminal (read-only).
start=$SECONDS
nspawn -D "$root" -b --console=read-only --capability=CAP_NET_ADMIN >"$work/boot.log" 2>&1
r=$?
if [ $r != 0 ]; then
	bad "systemd-nspawn exited $r; the console's end:"
	tail -n 20 "$work/boot.log" | sed 's/^/   | /'
fi
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
