#!/bin/sh
# In a guest with several nodes: numactl's process options on mplace run.
# test-run-numactl reports from inside the program its task policy, its
# CPUs and the node of each page of 16 MiB it writes (move_pages), for each
# memory option and -N/-C; the same options through mplace numactl must give
# the same task policy and CPUs.
# Usage: test-run-numactl.sh MPLACE AGENT HELPER
set -u
mplace=$1 agent=$2 helper=$3
export MPLACE_AGENT_PATH=$agent
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

nodes=$(ls -d /sys/devices/system/node/node* | sed 's/.*node//' | sort -n | tr '\n' ' ')
echo "nodes: $nodes"
set -- $nodes
[ $# -ge 4 ] || { echo "SKIP: needs 4 nodes (2s-cxl), have $nodes"; exit 77; }
cpus1=$(cat /sys/devices/system/node/node1/cpulist)
cpus0=$(cat /sys/devices/system/node/node0/cpulist)
[ -n "$cpus0" ] && [ -n "$cpus1" ] || { echo "SKIP: nodes 0 and 1 need CPUs"; exit 77; }
cpu1=${cpus1%%[-,]*}

# case NAME WANT_POLICY WANT_CPUS PAGES_RE -- OPTIONS: run the helper under
# mplace run OPTIONS and compare; PAGES_RE matches the whole pages line
case_() {
	name=$1 pol=$2 cpus=$3 pages=$4
	shift 5
	out=$("$mplace" run --no-config "$@" -- "$helper" 2>&1)
	echo "$out" | sed "s/^/  $name: /"
	echo "$out" | grep -qx "task-policy $pol" || { bad "$name: task policy, want '$pol'"; return; }
	echo "$out" | grep -qx "cpus $cpus" || { bad "$name: cpus, want '$cpus'"; return; }
	echo "$out" | grep -Eqx "pages $pages" || { bad "$name: pages, want '$pages'"; return; }
	ok "$name"
	# mplace numactl with the same options: the same task policy and CPUs
	num=$("$mplace" numactl "$@" -- "$helper" 2>&1)
	[ "$(echo "$out" | head -2)" = "$(echo "$num" | head -2)" ] && ok "$name: same as mplace numactl" ||
		bad "$name: mplace numactl gives '$(echo "$num" | head -2 | tr '\n' ' ')'"
}
all=$(cat /sys/devices/system/cpu/online)
# name, task policy (MPOL_* and mask), CPUs, pages per node: on 2s-cxl nodes
# 0-1 have the CPUs, 2-3 are CXL memory
case_ membind "2 4" "$all" "2:4096" -- -m 2
case_ interleave "3 6" "$all" "1:2048 2:2048" -- --interleave=1-2
case_ interleave-all "3 f" "$all" "0:1024 1:1024 2:1024 3:1024" -- -i all
case_ preferred "1 8" "$all" "3:4096" -- -p 3
case_ preferred-many "5 c" "$all" "(2:[0-9]+|3:[0-9]+|2:[0-9]+ 3:[0-9]+)" -- -P 2-3
case_ weighted-interleave "6 3" "$all" "0:[0-9]+ 1:[0-9]+" -- -w 0-1
case_ localalloc-cpunodebind "4 0" "$cpus1" "1:4096" -- -l -N 1
case_ membind-same "2 2" "$cpus1" "1:4096" -- -m 1 -N same
case_ physcpubind "4 0" "$cpu1" "1:4096" -- --localalloc --physcpubind "$cpu1"
case_ cpunodebind-only "0 0" "$cpus0" "0:4096" -- -N 0

# errors: named, nothing runs
err=$("$mplace" run --no-config -m 2 -N same -- "$helper" 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'no CPUs' && ok "-N of a node without CPUs: refused" || bad "-N 2: rc=$rc $err"
err=$("$mplace" run --no-config --policy bind:1 -i 2 -- "$helper" 2>&1); rc=$?
[ $rc = 2 ] && echo "$err" | grep -q -- '--policy and --interleave' && ok "--policy with -i: refused naming both" ||
	bad "--policy -i: rc=$rc $err"
exit $fail
