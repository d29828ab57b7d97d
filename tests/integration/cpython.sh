#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real program's own test suite under the preload agent (issue #9): Debian's
# python3.11 runs CPython's regression tests for what the agent interposes or
# lives beside (fork, threads, signals, descriptors, mmap, subprocesses,
# multiprocessing), one module per run:
#  1. every module under `mplace run --heap bind:N --stack bind:N --anon
#     bind:N` (N the first online node);
#  2. three tests the agent once broke, with the agent preloaded and no policy
#     at all (LD_PRELOAD alone): a child that saw the agent's socket as an
#     extra descriptor 3, a dup2 that failed with EBUSY on a number the
#     agent's accept() held, and a child forked from a thread that never ended
#     (doc/testing.md, "CPython's tests under the agent"); five times each.
# It passes only when every test not excluded below passes, no run times out,
# and no process of a run is left behind.  Without python3.11 or Debian's
# libpython3.11-testsuite it skips.
#
# MPLACE_CPYTHON_MODULES="test_os test_mmap" runs only those modules (by hand);
# MPLACE_CPYTHON_BASELINE=1 also runs each module without the agent first, to
# check an exclusion: a test excluded here must fail there too.
# Usage: cpython.sh MPLACE AGENT
set -u
mplace=$(realpath -- "$1") agent=$(realpath -- "$2") # the runs cd elsewhere
export MPLACE_AGENT_PATH=$agent
py=/usr/bin/python3.11 # Debian's, never a python found on PATH (pyenv)

if [ -n "${MPLACE_SANITIZED:-}" ]; then
	echo "SKIP: a $MPLACE_SANITIZED build's agent cannot be preloaded into uninstrumented programs; the plain build runs this test"
	exit 77
fi
if [ ! -x "$py" ]; then
	echo "SKIP: $py is not installed (Debian package python3.11)"
	exit 77
fi

# module and its regrtest --timeout in seconds (the whole module's; regrtest
# then also lowers support.LONG_TIMEOUT to it, so a child that never ends
# fails within it).  About four times what a module takes on the 2-core
# development host, with or without the agent (doc/testing.md has the times).
modules="
test_fork1 120
test_mmap 120
test_os 180
test_io 300
test_signal 300
test_threading 240
test_subprocess 300
test_multiprocessing_fork 600
"
# The tests run with the agent alone (no policy), one regrtest run each.
alone="
test_subprocess test_pass_fds_redirected
test_multiprocessing_fork test_large_fd_transfer
test_threading test_3_join_in_forked_from_thread
"
# Tests that fail WITHOUT the agent on the machines this runs on, each with
# its reason, as regrtest --ignore patterns: "MODULE PATTERN reason...".
# Empty: with SIGINT and SIGQUIT at their defaults (below), every test of
# these modules passed without the agent on the development host (Debian 12,
# no network, kernel 6.18, 2 CPUs), twice as root and once as nobody.  Tests
# needing the network or a resource regrtest does not enable (-u) skip
# themselves; 'cpu' is enabled for test_io's threaded buffered I/O (six
# tests, seconds).
exclusions="
"

testdir=$("$py" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/test
for m in $(awk 'NF { print $1 }' <<<"$modules"); do
	if [ ! -f "$testdir/$m.py" ]; then
		echo "SKIP: $testdir/$m.py is missing: CPython's tests are Debian's libpython3.11-testsuite (scripts/deps installs it)"
		exit 77
	fi
done

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

node=0
if [ -r /sys/devices/system/node/online ]; then
	node=$(sed 's/[-,].*//' /sys/devices/system/node/online)
fi
policies=(--heap "bind:$node" --stack "bind:$node" --anon "bind:$node")
# every MPLACE_ variable out of the way: the no-policy runs must have none
clean_env=(env)
for v in $(env | sed -n 's/^\(MPLACE_[A-Z0-9_]*\)=.*/\1/p'); do
	clean_env+=(-u "$v")
done

# The agent is really in the program: mapped, and under the policies active
# (its state symbol) with a heap range bound to the node in the kernel's own
# numa_maps.  With no policy it is loaded and may stay inactive (state 0).
probe='import ctypes
try:
    state = ctypes.c_int.in_dll(ctypes.CDLL(None), "mplace_agent_state").value
except ValueError:
    state = -1
b = bytearray(32 << 20)
bound = sum(" bind:" in l for l in open("/proc/self/numa_maps"))
mapped = sum("libmplace-preload" in l for l in open("/proc/self/maps"))
print(state, bound, mapped)'
read -r state bound mapped < <("$mplace" run --no-config "${policies[@]}" -- "$py" -c "$probe" 2>&1)
[ "$state" = 1 ] && [ "${bound:-0}" -gt 0 ] && ok "python3.11 under mplace run: agent active, $bound ranges bound" ||
	bad "python3.11 under mplace run: agent state '$state', bound ranges '${bound:-}' (want 1 and some)"
read -r state bound mapped < <("${clean_env[@]}" LD_PRELOAD="$agent" "$py" -c "$probe" 2>&1)
[ "${mapped:-0}" -gt 0 ] && [ "$state" != -1 ] && ok "python3.11 with the agent preloaded alone: agent loaded (state $state)" ||
	bad "python3.11 with the agent preloaded alone: not loaded (state '$state', mapped '${mapped:-}')"

# run LABEL TIMEOUT CMD...: one regrtest run in a directory and a session of
# its own, so that whatever it leaves running can be found and ended.
# SIGINT and SIGQUIT are reset to their defaults: a shell starts a background
# job with them ignored, Python then installs no KeyboardInterrupt handler,
# and seven tests of test_signal, test_threading and test_multiprocessing_fork
# fail that way with or without the agent.
run() {
	local label=$1 t=$2 dir=$tmp/$1 log=$tmp/$1.log start rc pgid left i secs
	shift 2
	mkdir -p "$dir"
	start=$(date +%s.%N)
	(cd "$dir" && exec setsid env --default-signal=INT,QUIT timeout -k 10 $((t + 120)) "$@") >"$log" 2>&1 &
	pgid=$! # setsid in a child that leads no group: no fork, the same pid
	wait $pgid
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	# a process of the run still there (a zombie whose threads all ended is gone)
	for i in $(seq 10); do
		left=$(ps -e -o pid=,pgid=,stat=,args= | awk -v g=$pgid '$2 == g && $3 != "Z"')
		[ -z "$left" ] && break
		sleep 1
	done
	if [ -n "$left" ]; then
		bad "$label: processes left behind after the run (ended now with SIGKILL):"
		sed 's/^/    /' <<<"$left" | cut -c1-160
		kill -KILL -- -$pgid 2>/dev/null
	fi
	if [ $rc = 0 ]; then
		ok "$label (${secs} s)"
		return 0
	fi
	bad "$label: regrtest exit status $rc after ${secs} s"
	# what failed, then each failure's traceback; a timeout's last lines
	grep -E '^(FAIL|ERROR): |^Timeout \(|is still running after|^Warning -- ' "$log" | sed 's/^/    /'
	if grep -q '^Timeout (' "$log" || ! grep -q '^Ran [0-9]* tests' "$log"; then
		tail -40 "$log" | sed 's/^/    | /'
	else
		sed -n '/^=\{20,\}$/,/^Ran [0-9]* tests/p' "$log" | head -200 | sed 's/^/    | /'
	fi
	return 1
}

regrtest=("$py" -m test -v --fail-env-changed -u cpu)
only=${MPLACE_CPYTHON_MODULES:-}
while read -r m t; do
	[ -n "$m" ] || continue
	[ -z "$only" ] || grep -qw -- "$m" <<<"$only" || continue
	ign=()
	while read -r em pat reason; do
		[ "$em" = "$m" ] || continue
		echo "excluded: $m $pat: $reason"
		ign+=(-i "$pat")
	done <<<"$exclusions"
	if [ -n "${MPLACE_CPYTHON_BASELINE:-}" ]; then
		run "$m without the agent" "$t" "${clean_env[@]}" -u LD_PRELOAD "${regrtest[@]}" --timeout "$t" "${ign[@]}" "$m"
	fi
	run "$m under heap, stack and anon bind:$node" "$t" \
		"$mplace" run --no-config "${policies[@]}" -- "${regrtest[@]}" --timeout "$t" "${ign[@]}" "$m"
done <<<"$modules"

# Five times each, up to the first failure: the EBUSY of
# test_large_fd_transfer was a race between the agent's thread and the
# program, lost in about half the runs.
while read -r m name; do
	[ -n "$m" ] || continue
	[ -z "$only" ] || grep -qw -- "$m" <<<"$only" || continue
	for i in 1 2 3 4 5; do
		run "$m $name, the agent alone, run $i of 5" 60 \
			"${clean_env[@]}" LD_PRELOAD="$agent" "${regrtest[@]}" --timeout 60 -m "$name" "$m" || break
	done
done <<<"$alone"

exit $fail
