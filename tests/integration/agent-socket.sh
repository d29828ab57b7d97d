#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The agent's control socket cannot be impersonated (doc/agent-protocol.md,
# "Who answers, who may ask"):
#  - an unprivileged user who binds a process's socket name first and answers
#    with made-up policies is refused by root's `mplace show` and `mplace set`
#    (datagram and stream impostors);
#  - an agent whose name is taken says so (MPLACE_LOG), and `mplace show`
#    says the agent could not listen and who holds the name;
#  - a peer of another user is refused; with CAP_SYS_NICE it is served where
#    the kernel gives the sender's pidfd (SCM_PIDFD, 6.5), refused where not;
#  - the socket is no descriptor of the program's.
#  - the agent's thread never keeps a process alive: a program whose threads
#    all end by pthread_exit ends, with its buffered output flushed.
# Usage: agent-socket.sh MPLACE AGENT EXIT-PROBE
set -u
mplace=$1 agent=$2 exitprobe=$3
export MPLACE_AGENT_PATH=$agent
fail=0
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
	echo "SKIP: needs root, setpriv and the user nobody (an unprivileged impostor)"
	exit 77
fi
if [ -n "${MPLACE_SANITIZED:-}" ]; then
	echo "SKIP: a $MPLACE_SANITIZED build's agent cannot be preloaded into uninstrumented programs"
	exit 77
fi
chmod 1777 "$tmp"

# An impostor: binds @mplace-agent.PID first and answers every request with
# made-up policies (made-up kinds, and a "set" that claims success).
cat >"$tmp/impostor.py" <<'PY'
import json, socket, sys, time
kind, pid, ready = sys.argv[1], sys.argv[2], sys.argv[3]
fake = json.dumps({"pid": int(pid), "agent": "6.6.6", "protocol": 2, "heap_allocator": "jemalloc",
                   "kinds": {"stack": {"requested": "bind:7", "source": "bind:7 (forged)",
                                       "compiled": "forged"}},
                   "files": [], "ranges": [], "problems": [], "ok": True,
                   "moved_pages": 0, "misplaced_pages": 0}).encode()
name = b"\0mplace-agent." + pid.encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if kind == "dgram" else socket.SOCK_STREAM)
s.bind(name)
if kind == "stream":
    s.listen(8)
open(ready, "w").close()
end = time.time() + 60
while time.time() < end:
    if kind == "dgram":
        data, addr = s.recvfrom(65536)
        if addr:
            s.sendto(fake, addr)
    else:
        c, _ = s.accept()
        c.recv(65536)
        c.sendall(fake + b"\n")
        c.close()
PY

wait_for() { # file: until it exists (5 s)
	for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}

sleep 300 &
victim=$!
pids+=("$victim")
for kind in dgram stream; do
	rm -f "$tmp/ready"
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$tmp/impostor.py" $kind "$victim" "$tmp/ready" &
	imp=$!
	pids+=("$imp")
	wait_for "$tmp/ready" || bad "$kind impostor did not start"
	out=$("$mplace" show --pid "$victim" 2>"$tmp/err")
	rc=$?
	# a stream socket of the same name: kernels since 5.x keep abstract
	# names apart by socket type, so the datagram client never reaches it
	# (older ones refuse the connect with EPROTOTYPE: an impostor too)
	if [ $rc = 0 ] && ! grep -q 'bind:7\|6.6.6\|forged' <<<"$out" &&
		{ { grep -q "^agent: .*could not listen: its socket name is held by" <<<"$out" &&
			grep -q "not the agent" "$tmp/err"; } ||
			{ [ $kind = stream ] && grep -q "^agent: none" <<<"$out"; }; }; then
		ok "$kind impostor: show ignores it: '$(grep ^agent: <<<"$out")'"
	else
		bad "$kind impostor: show rc=$rc: $(grep -E '^agent|bind:7' <<<"$out") / $(cat "$tmp/err")"
	fi
	if [ $kind = dgram ] && grep -q "held by process $imp (uid $(id -u nobody))" <<<"$out"; then
		ok "dgram impostor: show names it (process $imp, uid nobody)"
	elif [ $kind = dgram ]; then
		bad "dgram impostor not named: $(grep ^agent: <<<"$out")"
	fi
	"$mplace" show --pid "$victim" --json >"$tmp/json" 2>/dev/null
	python3 - "$tmp/json" $kind <<'PY' && ok "$kind impostor: --json says nothing forged was requested" || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
if d["agent"] is not False: bad.append("agent %r" % d["agent"])
if d.get("agent_state") not in (("impostor", "none") if sys.argv[2] == "stream" else ("impostor",)):
    bad.append("agent_state %r" % d.get("agent_state"))
if any(r["requested"] is not None for r in d["ranges"]): bad.append("a requested policy")
if bad: print("FAIL: " + "; ".join(bad)); sys.exit(1)
PY
	out=$("$mplace" set --pid "$victim" 'stack=bind:0' 2>&1)
	rc=$?
	[ $rc = 1 ] && grep -q "held by .*not the agent; nothing was sent\|no mplace agent listens" <<<"$out" &&
		! grep -q applied <<<"$out" &&
		ok "$kind impostor: set refuses: '$(head -1 <<<"$out")'" || bad "$kind impostor: set rc=$rc: $out"
	kill "$imp" 2>/dev/null
	wait "$imp" 2>/dev/null
done

# A taken name: the impostor binds the name of a pid that will exec into
# `mplace run` (which keeps its pid) before the agent starts there.
rm -f "$tmp/ready" "$tmp/go"
sh -c "while [ ! -e '$tmp/go' ]; do sleep 0.05; done; exec \"$mplace\" run --log --no-config --stack bind:0 -- sleep 30" \
	2>"$tmp/agent.err" &
runner=$!
pids+=("$runner")
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$tmp/impostor.py" dgram "$runner" "$tmp/ready" &
imp=$!
pids+=("$imp")
wait_for "$tmp/ready" || bad "impostor did not start"
touch "$tmp/go"
for _ in $(seq 100); do [ "$(cat /proc/$runner/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
for _ in $(seq 100); do grep -q "control socket" "$tmp/agent.err" && break; sleep 0.05; done
grep -q "mplace-agent\[$runner\]: control socket: the name @mplace-agent.$runner is held by another process" \
	"$tmp/agent.err" && ok "the agent reports its taken name: '$(head -1 "$tmp/agent.err")'" ||
	bad "taken name not reported: $(cat "$tmp/agent.err")"
out=$("$mplace" show --pid "$runner" 2>/dev/null)
grep -q "^agent: loaded, could not listen: its socket name is held by process $imp" <<<"$out" &&
	ok "show of it: '$(grep ^agent: <<<"$out")'" || bad "show of a process whose name is taken: $(grep ^agent: <<<"$out")"
kill "$imp" "$runner" 2>/dev/null
wait "$imp" "$runner" 2>/dev/null

# Who may ask: the agent runs as root; nobody is refused; nobody with
# CAP_SYS_NICE is served where the kernel gives a pidfd of the sender.
"$mplace" run --no-config --stack bind:0 -- sleep 30 &
runner=$!
pids+=("$runner")
for _ in $(seq 100); do grep -q "@mplace-agent.$runner\$" /proc/net/unix && break; sleep 0.05; done
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$mplace" set --pid "$runner" 'stack=bind:0' 2>&1)
rc=$?
[ $rc = 1 ] && grep -q "only root, the process's own user, or a process with CAP_SYS_NICE may ask" <<<"$out" &&
	ok "another user without CAP_SYS_NICE is refused" || bad "another user: rc=$rc $out"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+sys_nice --ambient-caps=+sys_nice \
	"$mplace" set --pid "$runner" 'stack=bind:0' 2>&1)
rc=$?
# SO_PASSPIDFD came with Linux 6.5
read -r major minor _ < <(uname -r | tr '.-' '  ')
if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 5 ]; }; then
	[ $rc = 0 ] && grep -q "^stack=bind:0: applied" <<<"$out" &&
		ok "another user with CAP_SYS_NICE is served (pidfd of the sender)" || bad "CAP_SYS_NICE: rc=$rc $out"
else
	[ $rc = 1 ] && grep -q "SCM_PIDFD" <<<"$out" &&
		ok "another user with CAP_SYS_NICE is refused on $(uname -r): no pidfd of the sender" ||
		bad "CAP_SYS_NICE on an old kernel: rc=$rc $out"
fi

# The socket is in no table of the program's: the control thread has a
# descriptor table of its own (the process's, /proc/PID/fd, does not have
# it; one thread's, /proc/PID/task/TID/fd, does, and nothing else)
ino=$(awk -v n="@mplace-agent.$runner" '$8 == n {print $7}' /proc/net/unix)
in_proc=$(for f in /proc/$runner/fd/*; do readlink "$f"; done | grep -c "socket:\[$ino\]")
holders=
for t in /proc/$runner/task/*; do
	for f in "$t"/fd/*; do [ "$(readlink "$f")" = "socket:[$ino]" ] && holders="$holders ${t##*/}:$(ls "$t/fd" | tr '\n' ,)"; done
done
[ -n "$ino" ] && [ "$in_proc" = 0 ] && [ "$(wc -w <<<"$holders")" = 1 ] && [ "${holders#*:}" = "0," ] &&
	ok "the socket is no descriptor of the program's; one thread holds it, alone in its table ($holders)" ||
	bad "socket inode '$ino': $in_proc in /proc/PID/fd, held by '$holders'"
kill "$runner" 2>/dev/null
wait "$runner" 2>/dev/null

# Threads ending by pthread_exit: the process ends with its last thread
# (glibc's exit(0) there flushes stdout), with and without a policy that
# starts the control thread
for how in main fork; do
	out=$(timeout 10 "$mplace" run --no-config --heap bind:0 -- "$exitprobe" $how | cat)
	rc=${PIPESTATUS[0]}
	want="worker done"
	[ $how = fork ] && want=$(printf 'worker done\nchild ended: 0')
	[ $rc = 0 ] && [ "$out" = "$want" ] && ok "pthread_exit in every thread ($how): the process ends, output flushed" ||
		bad "pthread_exit ($how): rc=$rc (124: it never ended) output '$out'"
done
exit $fail
