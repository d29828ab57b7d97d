#!/bin/sh
# In a guest with four nodes: the agent's text replicate, mlockall and
# SHM_HUGETLB, each checked page by page by test-agent-kinds running under
# mplace run, and what the agent cannot do reported on stderr (--log).
# Usage: test-agent-kinds.sh MPLACE AGENT KINDS SMALL
#   SMALL: a small dynamically linked program of the build (its text holds
#   no whole aligned 2 MiB), run with no arguments.
set -u
mplace=$1 agent=$2 kinds=$3 small=$4
export MPLACE_AGENT_PATH=$agent
fail=0
tmp=$(mktemp -d)
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

n=$(ls -d /sys/devices/system/node/node* | wc -l)
if [ "$n" -lt 4 ]; then
	echo "SKIP: needs 4 NUMA nodes, this guest has $n"
	exit 77
fi
run() { "$mplace" run --no-config --log "$@"; }
# case NAME OPTIONS... -- ARGS...: test-agent-kinds under mplace run
case_() {
	name=$1
	shift
	if run "$@" >"$tmp/out" 2>"$tmp/err"; then
		sed "s/^/  $name: /" "$tmp/out" "$tmp/err"
		ok "$name"
	else
		sed "s/^/  $name: /" "$tmp/out" "$tmp/err"
		bad "$name"
	fi
}

case_ text-replicate --text 'bind:3 replicate' -- "$kinds" text 3
case_ text-replicate-thp --policy bind:0 --text 'bind:2 replicate order=thp' -- "$kinds" text 2 huge
case_ text-replicate-2M --text 'bind:1 replicate order=2M' -- "$kinds" text 1 huge
# the copy of a program with no whole aligned 2 MiB is on base pages: said
run --text 'bind:3 replicate order=thp' -- "$small" >/dev/null 2>"$tmp/err"
if grep -q "no whole aligned 2 MiB" "$tmp/err"; then
	ok "text-replicate-small: reported that the copy cannot be huge"
else
	sed 's/^/  text-replicate-small: /' "$tmp/err"
	bad "text-replicate-small: no report that the copy cannot be huge"
fi
case_ mlockall --policy bind:0 --mlocked bind:2 -- "$kinds" mlockall 2
# what it cannot place after MCL_FUTURE (glibc's heap growth) is said
if grep -q "mlocked: mlockall(MCL_FUTURE): glibc's heap" "$tmp/err"; then
	ok "mlockall: reported that glibc's heap growth is not placed"
else
	bad "mlockall: no report about glibc's heap growth"
fi
# a heap extent made after mlockall(MCL_FUTURE) is filled as it is made:
# bound before that, on the heap's node (not the task policy's, nor mlocked's)
case_ mlockall-heap --policy bind:0 --heap bind:3 --mlocked bind:2 -- "$kinds" mlockall-heap 3
case_ shm-hugetlb --policy bind:0 --shm bind:1 --hugetlb bind:3 --anon bind:2 -- "$kinds" shm 1 3 2
rm -rf "$tmp"
exit $fail
