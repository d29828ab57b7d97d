#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the 2s-cxl guest (four nodes, HMAT, two memory tiers): mplace plot and
# mplace top on a real machine with several nodes.  A program holds 64 pages
# bound to node 1 and 64 pages made on node 0 then bound to node 1 without
# moving them (a violation), as test-show's show case makes them.
#  - plot machine draws the guest's nodes, tiers, HMAT figures and distances
#    as mplace topo --json gives them (plotcheck.py machine);
#  - plot process draws the program's ranges as mplace show --json gives
#    them, the stale range marked as a violation, the bound one on node 1;
#  - plot record --pid follows it, its samples adding up, node 1 in them;
#  - top --once --json lists its pages per node as show counts them, one
#    range and 64 pages outside; a node row for each of the four nodes;
#  - top in a pseudo-terminal (top.py) shows the four nodes and the program
#    with its memory per node, where the guest has vt100's terminfo.
# The pictures are not rendered here (no browser in the guest): the
# integration tests render each kind with chromium on the host.
# Usage: test-see.sh MPLACE TEST-SHOW PLOTCHECK TOP_PY
set -u
mplace=$1 prog=$2 plotcheck=$3 toppy=$4
fail=0
tmp=$(mktemp -d)
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if [ ! -d /sys/devices/system/node/node3 ]; then
	echo "SKIP: this test wants the 2s-cxl topology (four nodes)"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: no python3 in the guest to read the pictures back"
	exit 77
fi

"$prog" hold >"$tmp/hold" &
holder=$!
i=0
while ! grep -q '^bound ' "$tmp/hold" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
read -r _ bound _ stale <"$tmp/hold" || { bad "the holder did not start"; exit 1; }
echo "  holder $holder: bound $bound, stale $stale"

# ---- plot machine
"$mplace" topo --json >"$tmp/topo.json" || bad "topo --json"
"$mplace" plot machine -o "$tmp/machine.svg" || bad "plot machine"
python3 "$plotcheck" machine "$tmp/machine.svg" "$tmp/topo.json" || fail=1

# ---- plot process: the violation is marked, the bound range on node 1
"$mplace" show --pid "$holder" --json >"$tmp/show.json" || bad "show --pid $holder"
"$mplace" plot process "$holder" -o "$tmp/process.svg" || bad "plot process"
python3 "$plotcheck" process "$tmp/process.svg" "$tmp/show.json" || fail=1
grep -q "class=\"violation\" data-start=\"$stale\"" "$tmp/process.svg" &&
	ok "the stale range $stale is marked as a violation" || bad "no violation mark on $stale"
grep -q "data-start=\"$bound\"[^>]*data-kernel-policy=\"bind:1\"[^>]*data-pages=\"1:64\"" "$tmp/process.svg" &&
	ok "the bound range $bound is drawn with bind:1 and its 64 pages on node 1" ||
	bad "the bound range is not drawn on node 1"

# ---- plot record --pid
"$mplace" plot record --pid "$holder" --seconds 1 --interval 0.2 -o "$tmp/record.svg" || bad "plot record"
python3 "$plotcheck" record "$tmp/record.svg" 4 || fail=1
python3 - "$tmp/record.svg" <<'PY' && ok "record: every sample has node 1's 64 pages and node 0's" || fail=1
import sys, xml.etree.ElementTree as ET
for e in ET.parse(sys.argv[1]).iter():
    if e.get("class") == "sample":
        p = dict(x.split(":") for x in e.get("data-pages").split())
        if int(p.get("1", 0)) < 64 or int(p.get("0", 0)) < 64:
            print("FAIL: sample at %s s: %s" % (e.get("data-t"), p)); sys.exit(1)
PY

# ---- top --once --json against show
"$mplace" top --once --json --interval 0.5 --pid "$holder" >"$tmp/top.json" || bad "top --once --json"
python3 - "$tmp/top.json" "$tmp/show.json" "$tmp/topo.json" <<'PY' || fail=1
import json, sys
top, show, topo = (json.load(open(a)) for a in sys.argv[1:4])
# the tiers as topo reads them (6.12 puts the CXL nodes in a tier of their
# own from HMAT; 6.1 has one tier for all)
ranks = sorted({n["tier"] for n in topo["nodes"]})
want_tiers = [sorted(n["id"] for n in topo["nodes"] if n["tier"] == r) for r in ranks]
p = top["processes"][0]
pages = {}
for r in show["ranges"]:
    for k, v in r["pages"].items():
        pages[k] = pages.get(k, 0) + v
bad = []
if p["pages"] != pages:
    bad.append("pages %s, show %s" % (p["pages"], pages))
if p["ranges_outside"] != 1 or p["pages_outside"] != 64 or len(show["violations"]) != 1:
    bad.append("outside %d ranges %d pages; show %s" % (p["ranges_outside"], p["pages_outside"], show["violations"]))
if sorted(n["id"] for n in top["nodes"]) != [0, 1, 2, 3] or [t["nodes"] for t in top["tiers"]] != want_tiers:
    bad.append("nodes %s tiers %s, topo's %s" % ([n["id"] for n in top["nodes"]], top["tiers"], want_tiers))
for n in top["nodes"]:
    if n["promotions_per_second"] is None or n["demotions_per_second"] is None:
        bad.append("node %d: no rates" % n["id"])
if bad:
    print("FAIL: top --once --json: " + "; ".join(bad)); sys.exit(1)
print("ok: top --once --json: pages per node %s as show counts them, 1 range and 64 pages outside" % pages)
PY

# ---- top in a pseudo-terminal
if [ -e /lib/terminfo/v/vt100 ] || [ -e /usr/share/terminfo/v/vt100 ]; then
	python3 "$toppy" "$mplace" "$holder" "$tmp/show.json" || fail=1
else
	echo "skip: no terminfo for vt100 in the guest: the screen is tested on the host (top-live, top-fixture)"
fi

kill "$holder"
wait "$holder" 2>/dev/null
# the guest has no browser: the pictures go out on the console, base64
# between markers, and tests/vm/see-host.sh renders them on the host
for f in machine process record; do
	[ -s "$tmp/$f.svg" ] || continue
	echo "MPLACE-SVG-BEGIN $f"
	python3 -c 'import base64, sys; sys.stdout.write(base64.encodebytes(open(sys.argv[1], "rb").read()).decode())' "$tmp/$f.svg"
	echo "MPLACE-SVG-END"
done
rm -rf "$tmp"
exit $fail
