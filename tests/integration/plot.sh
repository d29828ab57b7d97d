#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace plot's pictures: each is well-formed SVG (python3's XML parser),
# draws what topo and show report (plotcheck.py reads the data-* attributes
# back and compares them with their JSON), and renders in a real browser:
# Debian's chromium takes a headless screenshot, which must not be blank.
# The machine is the 2s-cxl fixture (nodes 0-1 with CPUs in tier 0, CXL
# nodes 2-3 in tier 1, devices on both sockets).
# Usage: plot.sh MPLACE SOURCE_DIR
set -u
mplace=$1 src=$2
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
check() { python3 "$src/tests/integration/plotcheck.py" "$@" || fail=1; }
fixture=$src/tests/data/topo/2s-cxl

chromium=$(command -v chromium || true)
# A screenshot of the picture at its own size; a missing browser is a skip
# of that check alone, said so.
render() {
	local svg=$1 size
	if [ -z "$chromium" ]; then
		echo "skip: no chromium to render $(basename "$svg") (scripts/deps installs it)"
		return
	fi
	size=$(python3 "$src/tests/integration/plotcheck.py" size "$svg") || { bad "no size in $svg"; return; }
	timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/chromium" --window-size="$size" \
		--screenshot="${svg%.svg}.png" "file://$svg" >"$tmp/chromium.log" 2>&1
	if [ ! -s "${svg%.svg}.png" ]; then
		bad "chromium made no screenshot of $(basename "$svg"): $(tail -3 "$tmp/chromium.log")"
		return
	fi
	check png "${svg%.svg}.png"
}

# ---- machine
"$mplace" topo --json --sysfs-root "$fixture" >"$tmp/topo.json" || bad "mplace topo --json failed"
if "$mplace" plot machine --sysfs-root "$fixture" -o "$tmp/machine.svg"; then
	check machine "$tmp/machine.svg" "$tmp/topo.json"
	render "$tmp/machine.svg"
else
	bad "mplace plot machine failed"
fi
# standard output, and the environment's root, give the same picture
MPLACE_SYSFS_ROOT=$fixture "$mplace" plot machine >"$tmp/machine-stdout.svg" &&
	cmp -s "$tmp/machine.svg" "$tmp/machine-stdout.svg" &&
	ok "plot machine to standard output with MPLACE_SYSFS_ROOT equals the file" ||
	bad "plot machine to standard output differs from -o"
# usage errors exit 2 and print nothing on stdout
for args in "" "nosuch" "machine extra" "machine --nosuch"; do
	# shellcheck disable=SC2086
	out=$("$mplace" plot $args 2>/dev/null)
	rc=$?
	[ $rc -eq 2 ] && [ -z "$out" ] && ok "plot $args: usage error, exit 2" || bad "plot $args: exit $rc, stdout '$out'"
done
out=$("$mplace" plot machine --sysfs-root "$tmp/none" 2>&1 >/dev/null)
[ $? -eq 1 ] && ok "a missing root: exit 1 ($out)" || bad "a missing root did not exit 1"
exit $fail
