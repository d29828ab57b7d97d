#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace plot's pictures: each is well-formed SVG (python3's XML parser),
# draws what topo and show report (plotcheck.py reads the data-* attributes
# back and compares them with their JSON), and renders in a real browser:
# Debian's chromium takes a headless screenshot, which must not be blank.
# The machine is the 2s-cxl fixture (nodes 0-1 with CPUs in tier 0, CXL
# nodes 2-3 in tier 1, devices on both sockets).
# A process on this host is drawn as mplace show --json reports it, range
# for range, with and without the agent (nodes from the live machine: a
# fixture has no processes); plot record follows a program that grows.
# Violations are drawn only on machines with several nodes: the VM test
# (tests/vm/test-see.sh) makes one and checks its mark.
# One picture per run (PART: machine, process or record), so that each
# test, with its browser start, stays short.
# Usage: plot.sh MPLACE SOURCE_DIR PART [AGENT]
set -u
mplace=$1 src=$2 part=$3 agent=${4:-}
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
if [ "$part" = machine ]; then
"$mplace" topo --json --sysfs-root "$fixture" >"$tmp/topo.json" || bad "mplace topo --json failed"
if "$mplace" plot machine --sysfs-root "$fixture" -o "$tmp/machine.svg"; then
	check machine "$tmp/machine.svg" "$tmp/topo.json"
	render "$tmp/machine.svg"
else
	bad "mplace plot machine failed"
fi
# the README's picture of the fixture is this tree's, and the others parse
cmp -s "$tmp/machine.svg" "$src/doc/img/plot-machine-2s-cxl.svg" &&
	ok "doc/img/plot-machine-2s-cxl.svg is what plot machine draws now" ||
	bad "doc/img/plot-machine-2s-cxl.svg is stale: make it again (doc/top.md says how)"
for f in "$src"/doc/img/*.svg; do
	python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$f" &&
		ok "$(basename "$f") is well-formed SVG" || bad "$(basename "$f") does not parse"
done
# standard output, and the environment's root, give the same picture
MPLACE_SYSFS_ROOT=$fixture "$mplace" plot machine >"$tmp/machine-stdout.svg" &&
	cmp -s "$tmp/machine.svg" "$tmp/machine-stdout.svg" &&
	ok "plot machine to standard output with MPLACE_SYSFS_ROOT equals the file" ||
	bad "plot machine to standard output differs from -o"
fi

# ---- process: an idle one, whose pages do not move between show and plot
if [ "$part" = process ]; then
sleep 60 &
idle=$!
sleep 0.2
"$mplace" show --pid "$idle" --json >"$tmp/show.json" || bad "mplace show --pid $idle failed"
if "$mplace" plot process "$idle" -o "$tmp/process.svg"; then
	check process "$tmp/process.svg" "$tmp/show.json"
	render "$tmp/process.svg"
else
	bad "mplace plot process $idle failed"
fi
# --all draws the ranges without pages too: as many as show lists
"$mplace" plot process "$idle" --all >"$tmp/all.svg" || bad "plot process --all failed"
python3 - "$tmp/all.svg" "$tmp/show.json" <<'PY' && ok "--all draws every range show lists" || fail=1
import json, sys, xml.etree.ElementTree as ET
drawn = [e for e in ET.parse(sys.argv[1]).iter() if e.get("class") == "range"]
n = len(json.load(open(sys.argv[2]))["ranges"])
if len(drawn) != n:
    print("FAIL: --all drew %d ranges, show lists %d" % (len(drawn), n)); sys.exit(1)
PY
kill "$idle"
wait "$idle" 2>/dev/null
out=$("$mplace" plot process "$idle" 2>&1 >/dev/null)
[ $? -eq 1 ] && ok "a process that is gone: exit 1 ($out)" || bad "a process that is gone did not exit 1"

# under the agent: the requested policies drawn are the agent's
if [ -n "$agent" ] && [ -f "$agent" ]; then
	MPLACE_AGENT_PATH=$agent "$mplace" run --no-config --heap bind:0 --stack bind:0 -- sleep 60 &
	runner=$!
	i=0
	while ! grep -q "@mplace-agent.$runner\$" /proc/net/unix && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	"$mplace" show --pid "$runner" --json >"$tmp/agent.json" || bad "show under the agent failed"
	"$mplace" plot process "$runner" -o "$tmp/agent.svg" || bad "plot process under the agent failed"
	kill "$runner" 2>/dev/null
	wait "$runner" 2>/dev/null
	check process "$tmp/agent.svg" "$tmp/agent.json"
	grep -q 'data-kind="stack"[^>]*data-requested="bind:0"' "$tmp/agent.svg" &&
		ok "under the agent: the stack is drawn with bind:0 requested" ||
		bad "under the agent: no stack drawn with bind:0 requested"
else
	echo "skip: no agent library given (a sanitizer build): the agent's requests are not drawn"
fi

fi

# ---- record: a program that makes 8 x 8 MiB, one every 0.15 s
if [ "$part" = record ]; then
"$mplace" plot record --interval 0.1 -o "$tmp/record.svg" -- python3 -c '
import time
a = []
for i in range(8):
    a.append(bytearray(8 << 20))
    time.sleep(0.15)
time.sleep(0.3)
' || bad "mplace plot record -- python3 failed"
check record "$tmp/record.svg" 8
python3 - "$tmp/record.svg" <<'PY' && ok "record: the program's 64 MiB of anon appear and stay" || fail=1
import sys, xml.etree.ElementTree as ET
s = [e for e in ET.parse(sys.argv[1]).iter() if e.get("class") == "sample"]
anon = [dict(p.split(":") for p in e.get("data-kinds").split()).get("anon", "0") for e in s]
anon = [int(a) for a in anon]
# 64 MiB is 16384 pages; at the start there is no bytearray yet; once all
# are there they stay through the program's 0.3 s pause (two samples at
# least: the last one may catch the interpreter freeing them as it exits)
full = [i for i, a in enumerate(anon) if a >= 16384]
if not (anon[0] < 4096 and full and all(a >= 16384 for a in anon[full[0]:full[0] + 2]) and len(anon) >= full[0] + 2):
    print("FAIL: anon pages over time %s" % anon); sys.exit(1)
PY
render "$tmp/record.svg"
# --pid and --seconds: an idle process, whose last sample equals show's
# counts per node
sleep 60 &
idle=$!
sleep 0.2
"$mplace" plot record --pid "$idle" --seconds 0.5 --interval 0.1 -o "$tmp/record-pid.svg" ||
	bad "plot record --pid failed"
"$mplace" show --pid "$idle" --json >"$tmp/show2.json"
kill "$idle"
wait "$idle" 2>/dev/null
check record "$tmp/record-pid.svg" 4
python3 - "$tmp/record-pid.svg" "$tmp/show2.json" <<'PY' && ok "record --pid: the last sample's pages per node are show's" || fail=1
import json, sys, xml.etree.ElementTree as ET
s = [e for e in ET.parse(sys.argv[1]).iter() if e.get("class") == "sample"][-1]
got = {k: int(v) for k, v in (p.split(":") for p in s.get("data-pages").split())}
want = {}
for r in json.load(open(sys.argv[2]))["ranges"]:
    for k, v in r["pages"].items():
        want[k] = want.get(k, 0) + v
if got != want:
    print("FAIL: record's last sample %s, show %s" % (got, want)); sys.exit(1)
PY

fi

# usage errors exit 2 and print nothing on stdout
[ "$part" = machine ] && for args in "" "nosuch" "machine extra" "machine --nosuch" "process" "process x" "process 1 2" "record" \
	"record sleep 1" "record --pid 1 -- sleep 1" "record --interval 0 --pid 1" "record --seconds x --pid 1"; do
	# shellcheck disable=SC2086
	out=$("$mplace" plot $args 2>/dev/null)
	rc=$?
	[ $rc -eq 2 ] && [ -z "$out" ] && ok "plot $args: usage error, exit 2" || bad "plot $args: exit $rc, stdout '$out'"
done
if [ "$part" = machine ]; then
	out=$("$mplace" plot machine --sysfs-root "$tmp/none" 2>&1 >/dev/null)
	[ $? -eq 1 ] && ok "a missing root: exit 1 ($out)" || bad "a missing root did not exit 1"
fi
exit $fail
