#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'mplace topo' against every fixture under tests/data/topo: the JSON equals
# the fixture's expected.json (compared as data), the table names every node,
# --help and mplace-topo.1 list the same options, errors exit as documented,
# offline CPUs and GPU memory are what placement sees them as, and on the
# live machine the nodes agree with hwloc where it is installed.
# Usage: topo.sh MPLACE SOURCE_DIR
set -u
mplace=$1 src=$2
fail=0 n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# Run everything first; one python3 run then checks it all (its start-up
# is the slow part on small machines).
for dir in "$src"/tests/data/topo/*/; do
	name=$(basename "$dir")
	[ -f "$dir/expected.json" ] || continue
	n=$((n + 1))
	echo "$name" >>"$tmp/names"
	"$mplace" topo --json --sysfs-root "$dir" >"$tmp/$name.json" 2>"$tmp/$name.err" ||
		bad "$name: mplace topo --json failed: $(cat "$tmp/$name.err")"
	# the same tree through the environment variable
	MPLACE_SYSFS_ROOT=$dir "$mplace" topo --json >"$tmp/$name.env.json" 2>/dev/null ||
		bad "$name: MPLACE_SYSFS_ROOT run failed"
	"$mplace" topo --features --sysfs-root "$dir" >"$tmp/$name.txt" 2>&1 || bad "$name: text output failed"
done
[ "$n" -ge 11 ] || bad "only $n fixtures with expected.json (want 11 or more)"
python3 - "$src/tests/data/topo" "$tmp" <<'PY' || fail=1
import json, re, sys

fixtures, tmp = sys.argv[1:3]
failed = False
for name in open(tmp + "/names").read().split():
    expected = json.load(open("%s/%s/expected.json" % (fixtures, name)))
    for kind, path in (("JSON", "%s/%s.json" % (tmp, name)), ("MPLACE_SYSFS_ROOT", "%s/%s.env.json" % (tmp, name))):
        try:
            got = json.load(open(path))
        except ValueError as e:
            got = "unparsable: %s" % e
        # compared as data: key order and formatting do not matter
        if got == expected:
            print("ok: %s: %s output equals expected.json" % (name, kind))
        else:
            failed = True
            print("FAIL: %s: %s output differs from expected.json" % (name, kind))
            if isinstance(got, dict):
                for k in sorted(set(got) | set(expected)):
                    if got.get(k) != expected.get(k):
                        print("  member %r: got %s" % (k, json.dumps(got.get(k))[:300]))
    text = open("%s/%s.txt" % (tmp, name)).read()
    missing = [n["id"] for n in expected["nodes"] if not re.search(r"^%d +" % n["id"], text, re.M)]
    if missing or "Kernel capabilities" not in text:
        failed = True
        print("FAIL: %s: table lacks nodes %s or the capability list" % (name, missing))
    else:
        print("ok: %s: the table has a row for each of %d nodes" % (name, len(expected["nodes"])))
sys.exit(1 if failed else 0)
PY

# Offline CPUs are no CPUs: the table keeps them apart, and -N on a node
# whose CPUs are all offline is refused before sched_setaffinity is asked.
topo=$src/tests/data/topo
if grep -q '^2  *- ' "$tmp/offline-cpus.txt" &&
	grep -q 'node 2: 16-23 (no CPU of the node is online)' "$tmp/offline-cpus.txt"; then
	ok "offline-cpus: node 2 lists no CPU, its offline CPUs apart"
else
	bad "offline-cpus: table: $(head -6 "$tmp/offline-cpus.txt")"
fi
"$mplace" run --sysfs-root "$topo/offline-cpus" -N 2 -- true >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'the nodes have no CPUs' "$tmp/err"; then
	ok "offline-cpus: run -N 2 refused: the nodes have no CPUs"
else
	bad "offline-cpus: run -N 2: exit $rc, $(cat "$tmp/err")"
fi
# GPU memory: marked in the table, and left out of what generic terms mean
if grep -q '^250  *- .* gpu ' "$tmp/power9-gpu.txt" && grep -q 'node 255: GPU 0035:05:00.0' "$tmp/power9-gpu.txt"; then
	ok "power9-gpu: GPU memory marked in the table"
else
	bad "power9-gpu: table: $(head -12 "$tmp/power9-gpu.txt")"
fi
resolved() { # FIXTURE POLICY -> "NODES ALLOWED" of the compiled policy
	"$mplace" resolve --sysfs-root "$topo/$1" --cgroup / --no-config "$2" --json 2>/dev/null |
		python3 -c 'import json,sys; c=json.load(sys.stdin); print(*(",".join(map(str, c[k])) for k in ("nodes", "allowed")))' 2>/dev/null
}
while IFS='|' read -r fx pol want; do
	got=$(resolved "$fx" "$pol")
	[ "$got" = "$want" ] && ok "$fx: '$pol' is $want" || bad "$fx: '$pol' is '$got', want '$want'"
done <<'CASES'
power9-gpu|interleave:all|0,8 0,8
power9-gpu|bind:tier:fast|0,8 0,8
power9-gpu|bind:250|250 0,8,250
power9-gpu|interleave:all,gpu-nodes|0,8,250,251,252,253,254,255 0,8,250,251,252,253,254,255
grace-hopper|bind:best:bandwidth|0 0
grace-hopper|interleave:tier:fast|0 0
grace-hopper|bind:gpu-nodes|1 0,1
offline-cpus|bind:cpu-nodes|0,1,3 0,1,2,3
CASES

# --help and the man page name the same long options.
page=$src/doc/man/mplace-topo.1
h=$("$mplace" topo --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
m=$(sed 's/\\-/-/g' "$page" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
if [ "$h" = "$m" ]; then
	ok "topo --help and mplace-topo.1 list the same options"
else
	bad "topo --help (<) and mplace-topo.1 (>) differ:"
	diff <(echo "$h") <(echo "$m")
fi

# Errors: a missing root is exit 1 with a message and nothing on stdout;
# a bad option is a usage error (2).
"$mplace" topo --sysfs-root "$tmp/no-such-dir" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q 'no-such-dir' "$tmp/err"; then
	ok "missing --sysfs-root: exit 1 naming the directory"
else
	bad "missing --sysfs-root: exit $rc, stderr: $(cat "$tmp/err")"
fi
mkdir -p "$tmp/empty"
"$mplace" topo --sysfs-root "$tmp/empty" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && ok "root without nodes: exit 1" || bad "root without nodes: exit $rc"
"$mplace" topo --no-such-option >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "unknown option: exit 2" || bad "unknown option: exit $rc"

# The live machine, against hwloc: the same nodes, CPUs per node and memory.
if ! "$mplace" topo --json >"$tmp/live.json" 2>"$tmp/err"; then
	if grep -q 'no NUMA node directory' "$tmp/err"; then
		echo "skip: live system has no NUMA nodes"
	else
		bad "live: $(cat "$tmp/err")"
	fi
elif ! command -v lstopo-no-graphics >/dev/null; then
	echo "skip: lstopo-no-graphics (hwloc) is not installed; live cross-check not done"
else
	lstopo-no-graphics --of xml >"$tmp/hwloc.xml" 2>/dev/null
	if python3 - "$tmp/live.json" "$tmp/hwloc.xml" <<'PY'; then
import json, sys
import xml.etree.ElementTree as ET

mine = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
root = ET.parse(sys.argv[2]).getroot()


def cpus_of(cpuset):
    # hwloc bitmap: comma-separated 32-bit hex words, most significant first
    bits = 0
    for word in cpuset.replace("0x", "").split(","):
        bits = (bits << 32) | int(word or "0", 16)
    return [i for i in range(bits.bit_length()) if bits >> i & 1]


theirs = {}
for o in root.iter("object"):
    if o.get("type") == "NUMANode":
        theirs[int(o.get("os_index"))] = (cpus_of(o.get("cpuset")), int(o.get("local_memory", "0")),
                                          o.get("subtype"))
errors = []
# hwloc hides NVIDIA GPU memory nodes on POWER and marks them GPUMemory
# elsewhere, with the GPU's CPUs as their locality: compare the marking only
gpu = {i for i in mine if mine[i]["gpu_memory"]}
if sorted(set(mine) - gpu) != sorted(set(theirs) - gpu):
    errors.append("nodes %s (mplace) vs %s (hwloc)" % (sorted(mine), sorted(theirs)))
for i in sorted(theirs):
    if (i in gpu) != (theirs[i][2] == "GPUMemory"):
        errors.append("node %d: GPU memory %s (mplace), subtype %s (hwloc)" % (i, i in gpu, theirs[i][2]))
# both count online CPUs only (hwloc leaves offline PUs out of cpusets)
for i in sorted(set(mine) & set(theirs) - gpu):
    if mine[i]["cpus"] != theirs[i][0]:
        errors.append("node %d cpus %s vs %s" % (i, mine[i]["cpus"], theirs[i][0]))
    if mine[i]["memory_total"] != theirs[i][1]:
        errors.append("node %d memory %s vs %s" % (i, mine[i]["memory_total"], theirs[i][1]))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
		ok "live: nodes, CPUs and memory agree with hwloc"
	else
		bad "live: mplace and hwloc disagree"
	fi
fi
exit $fail
