#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace top: under a pseudo-terminal with keys sent to it (top.py: the
# nodes, a placed process with its memory per node as mplace show counts it,
# help, cgroups, the filter, resizing, quitting), on this machine (live) or
# with the 2s-cxl fixture's nodes (fixture); and, live, --once --json held
# against mplace show --json of the same process, and the usage errors.
# Usage: top.sh MPLACE SOURCE_DIR live|fixture
set -u
mplace=$1 src=$2 part=$3
fail=0
tmp=$(mktemp -d)
placed=
cleanup() {
	[ -n "$placed" ] && kill "$placed" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# a placed process: its task policy binds it to node 0 (every machine has one)
"$mplace" run --no-config --policy bind:0 -- sleep 120 &
placed=$!
i=0
while [ "$(readlink /proc/$placed/exe)" != "$(readlink -f "$(command -v sleep)")" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
"$mplace" show --pid "$placed" --json >"$tmp/show.json" || bad "mplace show --pid $placed failed"

if [ "$part" = fixture ]; then
	timeout 25 python3 "$src/tests/integration/top.py" "$mplace" "$placed" "$tmp/show.json" \
		"$src/tests/data/topo/2s-cxl" || fail=1
	exit $fail
fi
timeout 25 python3 "$src/tests/integration/top.py" "$mplace" "$placed" "$tmp/show.json" || fail=1

# --once --json against show --json
"$mplace" top --once --json --interval 0.2 --pid "$placed" >"$tmp/top.json" || bad "mplace top --once --json failed"
"$mplace" show --pid "$placed" --json >"$tmp/show2.json"
python3 - "$tmp/top.json" "$tmp/show2.json" "$placed" <<'PY' || fail=1
import json, sys
top, show, pid = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
bad = []
procs = [p for p in top["processes"] if p["pid"] == pid]
if len(top["processes"]) != 1 or not procs:
    print("FAIL: --pid %d lists %s" % (pid, [p["pid"] for p in top["processes"]])); sys.exit(1)
p = procs[0]
pages, nbytes = {}, {}
for r in show["ranges"]:
    for k, v in r["pages"].items():
        pages[k] = pages.get(k, 0) + v
        nbytes[k] = nbytes.get(k, 0) + v * r["page_size"]
if p["pages"] != pages or p["bytes"] != nbytes:
    bad.append("pages per node %s (bytes %s), show %s (%s)" % (p["pages"], p["bytes"], pages, nbytes))
if p["present"] != sum(r["present"] for r in show["ranges"]):
    bad.append("present %d, show %d" % (p["present"], sum(r["present"] for r in show["ranges"])))
if p["ranges_outside"] != len(show["violations"]) or p["pages_outside"] != sum(v["pages_outside"] for v in show["violations"]):
    bad.append("outside: %d ranges %d pages, show lists %s" % (p["ranges_outside"], p["pages_outside"], show["violations"]))
if p["comm"] != show["comm"] or p["agent_state"] != show["agent_state"]:
    bad.append("comm/agent %s/%s, show %s/%s" % (p["comm"], p["agent_state"], show["comm"], show["agent_state"]))
# in force: the kernel policies of the ranges with pages, as show has them
forced = {r["kernel_policy"] for r in show["ranges"] if r["present"] and r["kernel_policy"]}
if set(p["in_force"].split(", ")) != forced or "bind:0" not in forced:
    bad.append("in force %r, show's ranges with pages have %s" % (p["in_force"], sorted(forced)))
# the nodes: listed bytes are the listed process's
for n in top["nodes"]:
    want = nbytes.get(str(n["id"]), 0)
    if n["listed_bytes"] != want:
        bad.append("node %d listed %d bytes, the process has %d" % (n["id"], n["listed_bytes"], want))
    if n["memory_total"] is None or not (0 <= n["memory_free"] <= n["memory_available"] <= n["memory_total"]):
        bad.append("node %d memory %s" % (n["id"], n))
    if n["promotions_per_second"] is None or n["demotions_per_second"] is None:
        bad.append("node %d: no promotion/demotion rate on a live kernel" % n["id"])
if top["migrations_per_second"] is None:
    bad.append("no migration rate on a live kernel")
if bad:
    print("FAIL: top --once --json against show --json: " + "; ".join(bad)); sys.exit(1)
print("ok: top --once --json: pid %d's pages per node %s, present, in force %r and outside as show says"
      % (pid, pages, p["in_force"]))
PY

# the text of --once names the nodes and the process
"$mplace" top --once --interval 0.2 --pid "$placed" >"$tmp/top.txt" || bad "mplace top --once failed"
grep -qE "^ *$placed +sleep " "$tmp/top.txt" && grep -qE "^NODE +TIER" "$tmp/top.txt" &&
	ok "top --once prints the nodes and the process" || bad "top --once: $(cat "$tmp/top.txt")"
"$mplace" top --once --json --cgroup --interval 0.2 --pid "$placed" >"$tmp/cg.json" &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (len(d["cgroups"]) == 1 and d["cgroups"][0]["processes"] == 1))' "$tmp/cg.json" &&
	ok "--cgroup: one cgroup of one process" || bad "--cgroup: $(head -c 300 "$tmp/cg.json")"

# usage: exit 2, nothing on stdout
for args in "--json" "--interval 0" "--interval x" "--pid 0" "extra"; do
	# shellcheck disable=SC2086
	out=$("$mplace" top --once $args 2>/dev/null)
	rc=$?
	[ "$args" = "--json" ] && { out=$("$mplace" top --json 2>/dev/null); rc=$?; }
	[ $rc -eq 2 ] && [ -z "$out" ] && ok "top $args: usage error" || bad "top $args: exit $rc"
done
out=$("$mplace" top </dev/null 2>&1 >/dev/null)
[ $? -eq 2 ] && ok "without a terminal: exit 2 ($out)" || bad "without a terminal: not exit 2"
exit $fail
