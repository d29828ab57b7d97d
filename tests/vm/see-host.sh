#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the guest's test of plot and top (test-see.sh through tests/vm/run),
# then renders on the host, in Debian's headless chromium, the pictures the
# guest drew from its four nodes (the guest has no browser): each must parse
# and its screenshot must not be blank (plotcheck.py png).  The guest's exit
# status is kept; a missing chromium skips the rendering alone, said so.
# Usage: see-host.sh PLOTCHECK RUN [RUN-ARGS...]
set -u
plotcheck=$1 run=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$run" "$@" | tee "$tmp/console"
rc=${PIPESTATUS[0]}
[ "$rc" = 77 ] && exit 77
python3 - "$tmp/console" "$tmp" <<'EOF'
import base64, sys
name, buf = None, []
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\r\n")
    if line.startswith("MPLACE-SVG-BEGIN "):
        name, buf = line.split()[1], []
    elif line == "MPLACE-SVG-END" and name:
        open("%s/%s.svg" % (sys.argv[2], name), "wb").write(base64.b64decode("".join(buf)))
        name = None
    elif name:
        buf.append(line)
EOF
fail=0
n=0
chromium=$(command -v chromium || true)
for svg in "$tmp"/*.svg; do
	[ -e "$svg" ] || continue
	n=$((n + 1))
	if ! python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$svg"; then
		echo "FAIL: the guest's $(basename "$svg") does not parse"; fail=1; continue
	fi
	if [ -z "$chromium" ]; then
		echo "skip: no chromium to render the guest's $(basename "$svg") (scripts/deps installs it)"
		continue
	fi
	size=$(python3 "$plotcheck" size "$svg") || { echo "FAIL: no size in $svg"; fail=1; continue; }
	timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/chromium" --window-size="$size" \
		--screenshot="${svg%.svg}.png" "file://$svg" >"$tmp/chromium.log" 2>&1
	if [ ! -s "${svg%.svg}.png" ]; then
		echo "FAIL: chromium made no screenshot of the guest's $(basename "$svg"): $(tail -3 "$tmp/chromium.log")"
		fail=1
	elif python3 "$plotcheck" png "${svg%.svg}.png" | sed "s/^/$(basename "$svg"): /"; [ "${PIPESTATUS[0]}" != 0 ]; then
		fail=1
	fi
done
if [ "$rc" = 0 ] && [ $n != 3 ]; then
	echo "FAIL: $n of the guest's 3 pictures came out on its console"
	fail=1
fi
[ "$rc" = 0 ] && exit $fail
exit "$rc"
