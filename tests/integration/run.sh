#!/bin/bash
# mplace run and the preload agent on this host: the environment handed to
# the program, errors that stop the exec, the policies the kernel reports
# for the probe's task, heap, stack, anonymous mapping and threads, the
# control socket, a child's own exe rules, and a setuid program that
# ignores MPLACE_* variables.
# Usage: run.sh MPLACE PROBE PROBE_LINKED AGENT
if [ -n "${MPLACE_SANITIZED:-}" ]; then
	echo "SKIP: a $MPLACE_SANITIZED build's agent cannot be preloaded into uninstrumented programs; the plain build runs this test"
	exit 77
fi
set -u
mplace=$1 probe=$2 linked=$3 agent=$4
src=$(cd "$(dirname "$0")/../.." && pwd)
export MPLACE_AGENT_PATH=$agent
fail=0 tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
# expect KEY VALUE in the probe output $out
expect() { grep -qx -- "$1 $2" <<<"$out" && ok "$1 = $2" || bad "$1: want '$2', got '$(grep -- "^$1 " <<<"$out")'"; }

# MPOL_* numbers as get_mempolicy reports them
DEFAULT=0 PREFERRED=1 BIND=2 INTERLEAVE=3

"$mplace" run --no-config --heap bind:0 -- true && ok "run -- true" || bad "run -- true exits $?"

out=$("$mplace" run --no-config --heap bind:0 --anon interleave:0 -- env)
for v in MPLACE_AGENT_HEAP MPLACE_AGENT_SOURCE_HEAP MPLACE_AGENT_ANON; do
	grep -q "^$v=" <<<"$out" && ok "$v is set" || bad "$v missing from the child's environment"
done
grep -q '^MPLACE_AGENT_HEAP=mplace-compiled/1 mode=bind kmode=2 .*nodes=0 ' <<<"$out" &&
	ok "heap compiled" || bad "heap compiled: $(grep ^MPLACE_AGENT_HEAP= <<<"$out")"
grep -qx 'MPLACE_AGENT_SOURCE_HEAP=bind:0 (command line)' <<<"$out" && ok "heap source" || bad "heap source"
grep -q "^LD_PRELOAD=$agent" <<<"$out" && ok "LD_PRELOAD starts with the agent" || bad "LD_PRELOAD"
# the generic policy alone needs no agent: the task policy is inherited
# (the start costs what numactl's does); --agent loads it anyway, and so
# does any other kind; --sysfs-root resolves for another machine: no agent
out=$("$mplace" run --no-config --policy bind:0 -- env)
! grep -q "^LD_PRELOAD=.*libmplace-preload" <<<"$out" && grep -q "^MPLACE_AGENT_POLICY=" <<<"$out" &&
	ok "--policy alone: no agent, the variables set" || bad "--policy alone: $(grep ^LD_PRELOAD= <<<"$out")"
out=$("$mplace" run --no-config --policy bind:0 -- cat /proc/self/status)
grep -q "^Mems_allowed_list:" <<<"$out" && out2=$("$mplace" run --no-config --policy bind:0 -- grep -c . /proc/self/numa_maps) &&
	ok "--policy alone: the program runs" || bad "--policy alone did not run"
out=$("$mplace" run --no-config --agent --policy bind:0 -- env)
grep -q "^LD_PRELOAD=$agent" <<<"$out" && ok "--agent: the agent is loaded" || bad "--agent: $(grep ^LD_PRELOAD= <<<"$out")"
out=$("$mplace" run --no-config --sysfs-root "$src/tests/data/topo/2s" --heap bind:1 -- env 2>"$tmp/err")
! grep -q "^LD_PRELOAD=.*libmplace-preload" <<<"$out" && grep -q "^MPLACE_AGENT_HEAP=" <<<"$out" &&
	grep -q "resolved for another machine; the agent is not loaded" "$tmp/err" &&
	ok "--sysfs-root: no agent, said" || bad "--sysfs-root: $(cat "$tmp/err") $(grep ^LD_PRELOAD= <<<"$out")"
grep -q '^MPLACE_AGENT_STACK=' <<<"$out" && bad "a kind nobody asked for is set" || ok "no stack variable"
grep -q '^MPLACE_AGENT_\(EXE\|CONFIG\|EXE_SCOPES\)=' <<<"$out" && bad "exe rule variables without exe scopes" ||
	ok "no exe rule variables without a configuration"
out=$("$mplace" run --no-config --file '/data/*.db=bind:0' -- env)
grep -q "^MPLACE_AGENT_FILE_0=/data/\*\.db	mplace-compiled/1 " <<<"$out" && ok "file glob variable" ||
	bad "file glob variable: $(grep ^MPLACE_AGENT_FILE <<<"$out")"

# errors: exit 1, the reason named, nothing executed
err=$("$mplace" run --no-config --heap 'bogus:0' -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- '--heap' <<<"$err" && ok "bad policy: exit 1 naming --heap" || bad "bad policy: rc=$rc: $err"
err=$("$mplace" run --no-config --heap 'bind:9 strict' -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'heap' <<<"$err" && ok "strict unmet: exit 1 naming heap" || bad "strict: rc=$rc: $err"
[ ! -e "$tmp/ran" ] && ok "nothing executed" || bad "the command ran after an error"
"$mplace" run --no-config -- /nonexistent/cmd 2>/dev/null; rc=$?
[ $rc = 127 ] && ok "missing command: 127" || bad "missing command: rc=$rc"

# the probe without and with the agent
out=$("$probe")
expect agent absent
expect heap-policy "$DEFAULT -"
out=$("$mplace" run --no-config --policy preferred:0 --heap bind:0 --stack bind:0 --anon interleave:0 -- "$probe")
expect agent active
expect task-policy "$PREFERRED 0"
expect thread-task-policy "$PREFERRED 0"
expect heap-policy "$BIND 0"
expect heap-node 0
expect stack-policy "$BIND 0"
expect stack-node 0
expect thread-stack-policy "$BIND 0"
expect anon-policy "$INTERLEAVE 0"
expect anon-node 0
# --kernel takes the task policy; policy still places kinds without their own
out=$("$mplace" run --no-config --policy bind:0 --kernel interleave:0 -- "$probe")
expect task-policy "$INTERLEAVE 0"
expect thread-task-policy "$INTERLEAVE 0"
expect anon-policy "$BIND 0"

# the control socket: show and set, through mplace set
"$mplace" run --no-config --heap bind:0 -- "$probe" --sleep 3 >"$tmp/probe.out" &
pid=$!
for i in $(seq 50); do grep -q anon-node "$tmp/probe.out" 2>/dev/null && break; sleep 0.1; done
out=$("$mplace" set --pid "$pid" 'heap=bind:0 migrate' 'policy=interleave:0' 2>&1) &&
	grep -q '^heap=bind:0 migrate: applied' <<<"$out" && ok "mplace set heap, policy" || bad "mplace set: $out"
out=$("$mplace" set --pid "$pid" 'heap=bogus:' 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'bogus' <<<"$out" && ok "mplace set: bad policy refused" || bad "mplace set bad: rc=$rc $out"
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$mplace" set --pid "$pid" 'heap=bind:0' 2>&1); rc=$?
	[ $rc = 1 ] && grep -q 'CAP_SYS_NICE may ask' <<<"$out" && ok "another user is refused" || bad "another user: rc=$rc $out"
fi
wait $pid
out=$(cat "$tmp/probe.out")
expect task-after-policy "$INTERLEAVE 0"
sleep 1 & pid=$!
out=$("$mplace" set --pid "$pid" 'heap=bind:0' 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'no mplace agent' <<<"$out" && grep -q -- '--migrate-all' <<<"$out" &&
	ok "no agent: said, nothing done" || bad "no agent: rc=$rc $out"
out=$("$mplace" set --pid "$pid" --migrate-all 'policy=bind:0' 2>&1) && ok "--migrate-all" || bad "--migrate-all: $out"
wait $pid

# numactl's process options on mplace run: the memory option is the generic
# policy (the task policy the probe's threads report), -N/-C the affinity
LOCAL=4 PREFERRED_MANY=5
out=$("$mplace" run --no-config -m 0 -- "$probe")
expect task-policy "$BIND 0"
expect thread-task-policy "$BIND 0"
out=$("$mplace" run --no-config --interleave=0 --heap bind:0 -- "$probe")
expect task-policy "$INTERLEAVE 0"
expect heap-policy "$BIND 0"
out=$("$mplace" run --no-config -p 0 -- "$probe")
expect task-policy "$PREFERRED 0"
out=$("$mplace" run --no-config --localalloc -- "$probe")
expect task-policy "$LOCAL -"
out=$("$mplace" run --no-config -P 0 -- "$probe" 2>&1)
if grep -qx "task-policy $PREFERRED_MANY 0" <<<"$out"; then ok "-P: preferred-many"
elif grep -q 'preferred-many' <<<"$out"; then ok "-P: this kernel has no preferred-many, said so"
else bad "-P: $out"; fi
out=$("$mplace" run --no-config --membind 0 -- env)
grep -q '^MPLACE_AGENT_POLICY=mplace-compiled/1 mode=bind kmode=2 .*nodes=0 ' <<<"$out" &&
	ok "--membind is handed to the agent as the generic policy" || bad "--membind: $(grep ^MPLACE_AGENT_POLICY= <<<"$out")"
grep -q '^MPLACE_AGENT_HEAP=' <<<"$out" && bad "--membind set a kind of its own" || ok "--membind: no other kind set"
out=$("$mplace" run --no-config -m 0 -- cat /proc/self/numa_maps)
grep -q ' bind:0 ' <<<"$out" && ok "-m 0: numa_maps shows bind:0" || bad "-m 0: numa_maps: $(head -2 <<<"$out")"
out=$("$mplace" run --no-config -C 0 -- cat /proc/self/status)
grep -qx 'Cpus_allowed_list:	0' <<<"$out" && ok "-C 0: Cpus_allowed_list 0" ||
	bad "-C 0: $(grep Cpus_allowed_list <<<"$out")"
node0=$(cat /sys/devices/system/node/node0/cpulist)
out=$("$mplace" run --no-config -m 0 -N same -- cat /proc/self/status)
grep -qx "Cpus_allowed_list:	$node0" <<<"$out" && ok "-N same: the CPUs of node 0 ($node0)" ||
	bad "-N same: $(grep Cpus_allowed_list <<<"$out")"
grep -qx "Mems_allowed_list:	0" <<<"$out" && ok "Mems_allowed_list: 0" || bad "$(grep Mems_allowed_list <<<"$out")"
out=$("$mplace" run --no-config -N 0 -C 0 -- cat /proc/self/status)
grep -qx 'Cpus_allowed_list:	0' <<<"$out" && ok "-N then -C: applied in order" || bad "-N -C: $(grep Cpus_allowed <<<"$out")"
# conflicts and bad lists: the error names the options, nothing runs
err=$("$mplace" run --no-config --policy bind:0 --membind 0 -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 2 ] && grep -q -- '--policy' <<<"$err" && grep -q -- '--membind' <<<"$err" &&
	ok "--policy with --membind: exit 2 naming both" || bad "--policy --membind: rc=$rc: $err"
err=$("$mplace" run --no-config -m 0 -i 0 -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 2 ] && grep -q -- '--membind and --interleave' <<<"$err" && ok "two memory options: exit 2 naming both" ||
	bad "-m -i: rc=$rc: $err"
err=$("$mplace" run --no-config -m 63 -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'out of range' <<<"$err" && ok "-m 63: a node that is not there" || bad "-m 63: rc=$rc: $err"
err=$("$mplace" run --no-config -N 63 -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- '--cpunodebind' <<<"$err" && ok "-N 63: refused" || bad "-N 63: rc=$rc: $err"
err=$("$mplace" run --no-config -C 4095 -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 1 ] && grep -q -- '--physcpubind' <<<"$err" && ok "-C 4095: refused" || bad "-C 4095: rc=$rc: $err"
err=$("$mplace" run --no-config -N same -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'same' <<<"$err" && ok "same with nothing before it: usage error" || bad "same: rc=$rc: $err"
[ ! -e "$tmp/ran" ] && ok "nothing executed after a numactl option error" || bad "ran after a numactl option error"

# a child's own rules: a program a child execs, matched by an [exe GLOB]
# scope of the configuration mplace run read, takes that scope's kinds; the
# others, and every program no exe scope matches, keep what was inherited.
# (Checked on node 0 alone: the inherited heap is interleave:0, the exe
# scope's bind:0, which get_mempolicy tells apart.  "; :" keeps sh from
# exec'ing its last command, so the probe is a child.)
conf=$tmp/child.conf
printf '%s\n' '[exe */test-agent-probe]' 'heap = bind:0' 'stack = bind:0' '' \
	'[exe */mplace-child-sh]' 'heap = bind:0' 'file:/tmp/*.child = bind:0' >"$conf"
cp "$(command -v sh)" "$tmp/mplace-child-sh"
run_c() { "$mplace" run --log --config "$conf" --heap interleave:0 -- "$@"; }
out=$(run_c sh -c "\"$probe\"; :")
expect heap-policy "$BIND 0"
expect stack-policy "$BIND 0"
# the program mplace run resolved for keeps its command line over its scope
out=$(run_c "$probe")
expect heap-policy "$INTERLEAVE 0"
expect stack-policy "$BIND 0"
# mplace show: the source names the exe scope
run_c sh -c "\"$probe\" --sleep 2; :" >"$tmp/child.out" 2>&1 &
for i in $(seq 60); do grep -q anon-node "$tmp/child.out" 2>/dev/null && break; sleep 0.05; done
pid=$(pgrep -n -f "^$probe --sleep 2")
out=$("$mplace" show --pid "$pid" 2>&1)
grep -qF "source: bind:0 (exe */test-agent-probe at $conf:3:9)" <<<"$out" &&
	ok "show: the child's stack source is its exe scope" || bad "show: child source: $(grep source: <<<"$out")"
kill "$pid" 2>/dev/null
wait
# what a matched child hands its own children: its policy and source, its
# file globs first; a grandchild no scope matches keeps them
out=$(run_c sh -c "\"$tmp/mplace-child-sh\" -c env; :")
grep -q '^MPLACE_AGENT_HEAP=mplace-compiled/1 mode=bind kmode=2 .*nodes=0 ' <<<"$out" &&
	ok "a matched child's grandchild inherits the child's heap" ||
	bad "grandchild heap: $(grep ^MPLACE_AGENT_HEAP= <<<"$out")"
grep -qxF "MPLACE_AGENT_SOURCE_HEAP=bind:0 (exe */mplace-child-sh at $conf:6:8)" <<<"$out" &&
	ok "and its source" || bad "grandchild source: $(grep ^MPLACE_AGENT_SOURCE_HEAP= <<<"$out")"
grep -qF "MPLACE_AGENT_FILE_0=/tmp/*.child	mplace-compiled/1 mode=bind " <<<"$out" &&
	ok "and its file glob" || bad "grandchild file glob: $(grep ^MPLACE_AGENT_FILE <<<"$out")"
grep -qx "MPLACE_AGENT_EXE=$tmp/mplace-child-sh" <<<"$out" && ok "MPLACE_AGENT_EXE names the child" ||
	bad "MPLACE_AGENT_EXE: $(grep ^MPLACE_AGENT_EXE= <<<"$out")"
# the program mplace run resolved for is a script whose interpreter an exe
# scope matches: the interpreter is that program, it keeps the command line
printf '#!%s\nenv\n' "$tmp/mplace-child-sh" >"$tmp/script" && chmod +x "$tmp/script"
out=$(run_c "$tmp/script")
grep -q '^MPLACE_AGENT_HEAP=mplace-compiled/1 mode=interleave ' <<<"$out" &&
	ok "a script keeps the command line over its interpreter's scope" ||
	bad "script: $(grep ^MPLACE_AGENT_HEAP= <<<"$out")"
# a control (it cannot fail without the feature; it fails if the feature
# over-applies): a child no scope matches keeps the inherited heap
out=$(run_c sh -c "env; :")
grep -q '^MPLACE_AGENT_HEAP=mplace-compiled/1 mode=interleave ' <<<"$out" &&
	ok "an unmatched child keeps the inherited heap" || bad "unmatched child: $(grep ^MPLACE_AGENT_HEAP= <<<"$out")"
# errors at the child's start: reported, the inherited policies stay
cp "$conf" "$tmp/broken.conf"
out=$("$mplace" run --log --config "$tmp/broken.conf" --heap interleave:0 -- \
	sh -c "echo '[exe' >>\"$tmp/broken.conf\"; \"$probe\"; :" 2>&1)
expect heap-policy "$INTERLEAVE 0"
expect stack-policy "$DEFAULT -"
grep -q "^mplace-agent\[[0-9]*\]: own exe rules not applied, inherited policies kept: configuration $tmp/broken.conf:8:" <<<"$out" &&
	ok "a broken configuration at the child's start is reported" || bad "broken config: $(grep mplace-agent <<<"$out")"
printf '%s\n' '[exe */test-agent-probe]' 'stack = bind:0' 'heap = bind:9 strict' >"$tmp/strict.conf"
out=$("$mplace" run --log --config "$tmp/strict.conf" --heap interleave:0 -- sh -c "\"$probe\"; :" 2>&1)
expect heap-policy "$INTERLEAVE 0"
expect stack-policy "$DEFAULT -"
grep -q "^mplace-agent\[[0-9]*\]: own exe rules not applied, inherited policies kept: heap: .*strict.conf:3:8" <<<"$out" &&
	ok "a strict rule unmet at the child's start is reported" || bad "strict child: $(grep mplace-agent <<<"$out")"

# long texts travel whole or fail at mplace run (lib/wire/wire.h: one limit for
# both ends): a configuration under a long path makes a long source
long=$tmp
for i in 1 2 3 4 5 6 7; do long=$long/$(printf 'd%.0s' $(seq 200)); done
mkdir -p "$long"
printf '%s\n' '[system]' 'heap = bind:0' '[exe */test-agent-probe]' 'heap = bind:0' >"$long/a.conf"
"$mplace" run --config "$long/a.conf" -- "$probe" --sleep 5 >"$tmp/long.out" &
pid=$!
for i in $(seq 50); do grep -q anon-node "$tmp/long.out" 2>/dev/null && break; sleep 0.1; done
want=$(tr '\0' '\n' </proc/$pid/environ | sed -n 's/^MPLACE_AGENT_SOURCE_HEAP=//p')
got=$("$mplace" show --pid $pid --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(next(r["source"] for r in d["ranges"] if r["kind"] == "heap"))')
[ ${#want} -gt 2000 ] && [ "$got" = "$want" ] &&
	ok "a ${#want}-byte source reaches the agent whole (show gives it back)" ||
	bad "long source: ${#want} bytes set, show gives ${#got}"
wait $pid
{ echo '[system]'; echo 'heap = bind:0'; for i in 1 2 3 4 5 6; do echo '[exe */test-agent-probe]'; echo 'heap = bind:0'; done; } \
	>"$long/b.conf"
out=$("$mplace" run --config "$long/b.conf" -- "$probe" 2>&1)
rc=$?
[ $rc = 1 ] && grep -q "heap: its source text is [0-9]* bytes; the agent takes at most 8191" <<<"$out" &&
	! grep -q '^agent ' <<<"$out" && ok "a source longer than the agent keeps fails at mplace run" ||
	bad "too long a source: rc=$rc $(head -2 <<<"$out")"

# secure execution: a setuid copy of the probe that loads the agent as a
# dependency, run by another user, ignores MPLACE_* and applies nothing
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && findmnt -no OPTIONS -T "$tmp" | grep -qw nosuid; then
	echo "skip: setuid check: $tmp is on a nosuid mount (a build container's /tmp)"
elif [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	cp "$linked" "$tmp/probe-suid" && chown root:root "$tmp/probe-suid" && chmod 4755 "$tmp/probe-suid"
	chmod 755 "$tmp"
	env_heap=$("$mplace" run --no-config --heap bind:0 -- env | sed -n 's/^MPLACE_AGENT_HEAP=//p')
	# the same binary without setuid: the agent is active (the check can fail)
	out=$(MPLACE_AGENT_HEAP=$env_heap "$linked")
	expect agent active
	expect heap-policy "$BIND 0"
	out=$(MPLACE_AGENT_HEAP=$env_heap setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/probe-suid" 2>&1)
	if grep -q '^agent ' <<<"$out"; then
		expect agent secure
		expect env set
		expect heap-policy "$DEFAULT -"
	else
		bad "setuid probe did not run (nosuid mount?): $out"
	fi
else
	echo "skip: setuid check needs root and setpriv"
fi
exit $fail
