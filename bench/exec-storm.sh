#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A storm of short-lived processes under the system agent, in one run
# (doc/daemon.md, "The system agent"; not a timed test):
#   none     no agent at all: the baseline
#   idle     the agent in every process, no scope selects them (almost every
#            process of a machine)
#   one      one [exe] scope selects them: the snapshot alone
#   two      an [exe] and a [comm] scope: each agent asks mplaced (resolve)
# For each: execs/s, fork-to-main p50/p99 (the agent applies its policies
# before main), processes whose heap page has not the expected policy
# ("missed", must be 0), and mplaced's CPU per 1,000 execs; and mplaced's CPU
# at idle.  The processes get the agent through LD_PRELOAD and the snapshot
# through MPLACE_SNAPSHOT, as /etc/ld.so.preload would give them (this keeps
# the storm from reaching the rest of the machine).
# Usage: exec-storm.sh BUILD_DIR [N [WORKERS]]   (as root)
set -u
build=$(realpath "$1")
n=${2:-4000} workers=${3:-4}
storm=$build/bench/bench-exec-storm
agent=$build/agent/libmplace-preload.so
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; rm -rf "$tmp"' EXIT
export MPLACED_SOCKET=$tmp/run/mplaced.sock
mkdir -p "$tmp"/{etc,state,run,sd,cg}
: >"$tmp/cg/cgroup.subtree_control"
ticks=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$ticks" '{ print ($14 + $15) * 1000 / t }' "/proc/$dpid/stat"; }
# the heap policy the kernel reports for bind:0 on this machine (2: MPOL_BIND)
mode=2

start() { # CONFIG-TEXT
	[ -n "$dpid" ] && { kill $dpid; wait $dpid 2>/dev/null; }
	printf '%b' "$1" >"$tmp/etc/mplace.conf"
	"$build/daemon/mplaced" --foreground --no-systemd --config-dir "$tmp/etc" --state-dir "$tmp/state" \
		--run-dir "$tmp/run" --systemd-dir "$tmp/sd" --cgroup-root "$tmp/cg" --preload-file "$tmp/ld.so.preload" \
		--agent "$agent" >>"$tmp/log" 2>&1 &
	dpid=$!
	for _ in $(seq 50); do
		[ -s "$tmp/run/snapshot" ] && "$build/tools/mplace" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "mplaced did not start: $(tail -3 "$tmp/log")" >&2
	exit 1
}
row() { # NAME HEAP-MODE STACK-MODE PRELOAD
	local c0 c1 out
	c0=$(cpu_ms)
	if [ -n "$4" ]; then
		out=$(MPLACE_SNAPSHOT=$tmp/run/snapshot LD_PRELOAD=$4 "$storm" "$n" "$workers" "$2" "$3")
	else
		out=$(MPLACE_AGENT_OFF=1 "$storm" "$n" "$workers" "$2" "$3")
	fi
	c1=$(cpu_ms)
	printf '%-5s %s; mplaced %.1f ms CPU per 1000 execs\n' "$1" "$out" "$(echo "($c1 - $c0) * 1000 / $n" | bc -l)"
}

echo "exec-storm: $n processes, $workers at a time, on $(nproc) CPUs ($(uname -r))"
start '[system]\nsystem-agent = yes\n[exe /nonexistent/*]\nheap = bind:0\n'
c0=$(cpu_ms)
sleep 5
echo "mplaced at idle: $(echo "($(cpu_ms) - $c0) / 5" | bc -l | xargs printf '%.2f') ms CPU per second"
row none 0 0 ""
row idle 0 0 "$agent"
start '[system]\nsystem-agent = yes\n[exe */bench-exec-storm]\nheap = bind:0\n'
row one $mode 0 "$agent"
start '[system]\nsystem-agent = yes\n[exe */bench-exec-storm]\nheap = bind:0\n[comm bench-exec*]\nstack = bind:0\n'
row two $mode $mode "$agent"
echo "resolve requests served: $("$build/tools/mplace" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["resolves"])')"
