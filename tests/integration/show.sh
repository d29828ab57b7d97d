#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'mplace show' on this host: a shell, itself, JSON with the documented
# fields whose page counts add up, a missing pid, a process another user may
# not inspect, and usage errors.
# With the agent: the requested policy and its scope per kind, from the
# agent's control socket.
# Usage: show.sh MPLACE [AGENT]
set -u
mplace=$1 agent=${2:-}
fail=0
tmp=$(mktemp -d)
sleeper=
trap 'rm -rf "$tmp"; [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# a process of our own, alive for the test
sleep 300 &
sleeper=$!
# until the child has exec'd, it is still a copy of this shell: wait for it
for _ in $(seq 100); do
	[ "$(cat /proc/$sleeper/comm 2>/dev/null)" = sleep ] && break
	sleep 0.05
done

"$mplace" show --pid "$sleeper" >"$tmp/text" 2>"$tmp/err" || bad "show --pid $sleeper failed: $(cat "$tmp/err")"
grep -q "^pid $sleeper (sleep)" "$tmp/text" && ok "show --pid names the process" || bad "no 'pid $sleeper (sleep)' line"
grep -qE '^[0-9a-f]+-[0-9a-f]+ +stack ' "$tmp/text" && ok "the stack is listed" || bad "no stack range"
grep -qE '^text +[0-9]+ +[0-9]+ ' "$tmp/text" && ok "a summary line for text" || bad "no summary line for text"
grep -qE '^violations' "$tmp/text" && ok "violations are listed" || bad "no violations section"
grep -q "agent: none" "$tmp/text" && ok "without an agent, says so" || bad "no 'agent: none'"
[ -s "$tmp/err" ] && bad "stderr not empty: $(cat "$tmp/err")"

"$mplace" show --self >/dev/null 2>"$tmp/err" && ok "show --self" || bad "show --self failed: $(cat "$tmp/err")"

"$mplace" show --pid "$sleeper" --json >"$tmp/json" 2>"$tmp/err" || bad "show --json failed: $(cat "$tmp/err")"
python3 - "$tmp/json" "$sleeper" <<'PY' && ok "--json has every field, and kinds add up" || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
bad = []
for k in ("pid", "comm", "exe", "agent", "method", "ranges", "kinds", "violations"):
    if k not in d:
        bad.append("no top-level " + k)
if d.get("pid") != pid: bad.append("pid %r" % d.get("pid"))
if d.get("comm") != "sleep": bad.append("comm %r" % d.get("comm"))
if d.get("agent") is not False: bad.append("agent should be false")
if d.get("method") not in ("move_pages", "numa_maps"): bad.append("method %r" % d.get("method"))
kinds = {}
for r in d["ranges"]:
    for k in ("start", "end", "kind", "path", "kernel_policy", "requested", "source", "pages", "present", "matches"):
        if k not in r:
            bad.append("range without " + k)
    if int(r["start"], 16) >= int(r["end"], 16): bad.append("empty range " + r["start"])
    if r["requested"] is not None: bad.append("requested without an agent")
    if sum(r["pages"].values()) + r.get("pages_elsewhere", 0) != r["present"]:
        bad.append("pages of %s do not add up to present" % r["start"])
    k = kinds.setdefault(r["kind"], [0, 0])
    k[0] += 1; k[1] += r["present"]
for name, (n, present) in kinds.items():
    s = d["kinds"].get(name)
    if not s or s["ranges"] != n or s["present"] != present:
        bad.append("kinds.%s does not sum its ranges" % name)
if "stack" not in kinds or "text" not in kinds: bad.append("no stack or text range")
if bad:
    print("FAIL: " + "; ".join(bad[:10])); sys.exit(1)
PY

# per page: the shell's stack pages counted by move_pages equal numa_maps' count
python3 - "$tmp/json" "$sleeper" <<'PY' && ok "page counts agree with numa_maps" || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
nm = {}
for line in open("/proc/%s/numa_maps" % sys.argv[2]):
    f = line.split()
    n = sum(int(t.split("=")[1]) for t in f if t[0] == "N" and t[1].isdigit() and "=" in t)
    nm[int(f[0], 16)] = n
for r in d["ranges"]:
    s = int(r["start"], 16)
    if r["kind"] == "stack" and s in nm and nm[s] != r["present"]:
        print("FAIL: stack %s: %d pages, numa_maps %d" % (r["start"], r["present"], nm[s])); sys.exit(1)
PY

# a process that does not exist
pid=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
while kill -0 "$pid" 2>/dev/null; do pid=$((pid - 1)); done
"$mplace" show --pid "$pid" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "no process $pid" "$tmp/err" && [ ! -s "$tmp/out" ] &&
	ok "a missing pid: exit 1, '$(head -1 "$tmp/err")'" || bad "missing pid: exit $rc, $(cat "$tmp/err")"

# processes that exit while being read: a result or a clear error, never a crash
crash=0
for i in $(seq 1 30); do
	sleep 0.0$((i % 10)) &
	p=$!
	"$mplace" show --pid "$p" --json >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ] && { [ $rc -ne 1 ] || ! grep -qE "no process $p|no user memory|cannot read" "$tmp/err"; }; then
		crash=1
		echo "  pid $p: exit $rc: $(cat "$tmp/err")"
	fi
	wait "$p" 2>/dev/null
done
[ $crash = 0 ] && ok "30 processes exiting while shown: a result or 'no process', never a crash" ||
	bad "a process exiting midway gave an unclear error or a crash"

# a kernel thread has no user memory: said so, exit 1.  The first one this
# pid namespace shows (PF_KTHREAD in /proc/PID/stat's flags): pid 2 on a
# machine, none in a container's own pid namespace
kthread=$(for st in /proc/[0-9]*/stat; do
	# the fields after the command's ") ": state ppid pgrp session tty tpgid flags
	f=$(sed 's/.*) //' "$st" 2>/dev/null | awk '{ print $7 }')
	[ -n "$f" ] && [ $(((f >> 21) & 1)) = 1 ] && { basename "${st%/stat}"; break; }
done)
if [ -n "$kthread" ]; then
	"$mplace" show --pid "$kthread" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && grep -q "no user memory" "$tmp/err" && [ ! -s "$tmp/out" ] &&
		ok "a kernel thread: '$(cat "$tmp/err")'" || bad "pid $kthread (a kernel thread): exit $rc, $(cat "$tmp/err")"
else
	echo "skip: no kernel thread in this pid namespace (a container) to show"
fi

# usage errors
"$mplace" show >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--pid" "$tmp/err" && ok "no process named: exit 2, asks for --pid" || bad "no --pid: $(cat "$tmp/err")"
"$mplace" show --pid x >/dev/null 2>&1
[ $? -eq 2 ] && ok "--pid x: exit 2" || bad "--pid x accepted"
"$mplace" show --pid 1 --self >/dev/null 2>&1
[ $? -eq 2 ] && ok "--pid with --self: exit 2" || bad "--pid with --self accepted"

# another user's process, as a user without ptrace rights over it
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$mplace" show --pid "$sleeper" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "cannot inspect process $sleeper" "$tmp/err" && [ ! -s "$tmp/out" ]; then
		ok "another user's process: exit 1, '$(head -1 "$tmp/err")'"
	else
		bad "another user's process: exit $rc, $(cat "$tmp/err")"
	fi
elif [ "$(id -u)" != 0 ]; then
	"$mplace" show --pid 1 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && grep -q "cannot inspect process 1" "$tmp/err" && ok "pid 1 as non-root: exit 1" ||
		bad "pid 1 as non-root: exit $rc, $(cat "$tmp/err")"
else
	echo "skip: no setpriv or no user nobody to test another user's process"
fi

# under the agent: what was requested, and from where
if [ -n "$agent" ] && [ -f "$agent" ]; then
	MPLACE_AGENT_PATH=$agent "$mplace" run --no-config --heap bind:0 --stack bind:0 -- sleep 60 &
	runner=$!
	i=0
	while ! grep -q "@mplace-agent.$runner\$" /proc/net/unix && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	"$mplace" show --pid "$runner" --json >"$tmp/agent.json" 2>"$tmp/err" || bad "show under the agent: $(cat "$tmp/err")"
	"$mplace" show --pid "$runner" >"$tmp/agent.txt" 2>&1
	kill "$runner" 2>/dev/null
	wait "$runner" 2>/dev/null
	python3 - "$tmp/agent.json" <<'PY' && ok "under the agent: stack requested bind:0 from the command line" || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
if d["agent"] is not True: bad.append("agent is not true")
st = [r for r in d["ranges"] if r["kind"] == "stack" and r["path"] == "[stack]"]
if not st: bad.append("no [stack]")
for r in st:
    if r["requested"] != "bind:0": bad.append("stack requested %r" % r["requested"])
    if "command line" not in (r["source"] or ""): bad.append("stack source %r" % r["source"])
    if not r["matches"]: bad.append("stack does not match")
if bad:
    print("FAIL: " + "; ".join(bad)); sys.exit(1)
PY
	grep -q "^agent: " "$tmp/agent.txt" && ! grep -q "agent: none" "$tmp/agent.txt" &&
		ok "the table names the agent" || bad "the table does not name the agent"
else
	echo "skip: no agent library given"
fi
exit $fail
