#!/bin/sh
# In a guest with several nodes: real programs from Debian (python3, sqlite3,
# memcached) under mplace run with a different policy per kind give the same
# output as without the agent, and each kind's pages are where its policy
# says, checked page by page from outside (test-agent-pages).
# Usage: test-agent.sh MPLACE AGENT PAGES PROBE
set -u
mplace=$1 agent=$2 pages=$3 probe=$4
export MPLACE_AGENT_PATH=$agent
fail=0
tmp=$(mktemp -d)
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

nodes=$(ls -d /sys/devices/system/node/node* | sed 's/.*node//' | sort -n | tr '\n' ' ')
last=$(echo $nodes | awk '{print $NF}')
echo "nodes: $nodes"
if [ "$last" -ge 3 ]; then
	# 2s-cxl: DRAM 0-1, CXL 2-3
	HEAP=bind:3 STACK=bind:1 ANON=interleave:1-2 DATA=bind:2
else
	# hbm: DRAM 0, HBM 1
	HEAP=bind:1 STACK=bind:0 ANON=interleave:0-1 DATA=prefer:1
fi
# exec: a background run has the program's pid in $!
run() { exec "$mplace" run --no-config --log --policy prefer:0 --heap "$HEAP" --stack "$STACK" --anon "$ANON" --data "$DATA" -- "$@"; }
# wait until FILE has a line matching RE (the program is at its pause)
wait_for() { i=0; while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }
# check PID: heap, stack and anon of a live process, page by page
check() {
	what=$1 pid=$2
	shift 2
	if out=$("$pages" "$pid" "heap=$HEAP" "stack=$STACK@[stack]" "$@" 2>&1); then
		echo "$out" | sed "s/^/  $what: /"
		ok "$what: every page where its kind's policy says"
	else
		echo "$out" | sed "s/^/  $what: /"
		bad "$what: pages elsewhere"
	fi
}

# ---- the probe: every kind, and the task policy of threads
out=$(run "$probe")
echo "$out" | sed 's/^/  probe: /'
echo "$out" | grep -qx "agent active" && ok "probe: agent active" || bad "probe: agent not active"
echo "$out" | grep -qx "heap-node ${HEAP#bind:}" && ok "probe: heap on node ${HEAP#bind:}" || bad "probe: heap node"
echo "$out" | grep -qx "stack-node ${STACK#bind:}" && ok "probe: stack on its node" || bad "probe: stack node"
echo "$out" | grep -qx "thread-stack-node ${STACK#bind:}" && ok "probe: thread stack on its node" ||
	bad "probe: thread stack node"
echo "$out" | grep -qx "thread-task-policy 1 0" && ok "probe: thread task policy prefer:0" || bad "probe: thread task"

# ---- python3 (Debian's): same output, pages placed
cat >"$tmp/p.py" <<'PY'
import hashlib, json, sys, threading, time
d = {str(i): [i] * 20 for i in range(100000)}
res = []
def work(k):
    res.append(hashlib.sha256(json.dumps(d, sort_keys=True).encode() + bytes([k])).hexdigest())
t = [threading.Thread(target=work, args=(k,)) for k in range(3)]
[x.start() for x in t]; [x.join() for x in t]
print(sorted(res), len(d), sum(len(v) for v in d.values()))
sys.stdout.flush()
if len(sys.argv) > 1:
    print("paused"); sys.stdout.flush(); time.sleep(float(sys.argv[1]))
PY
a=$(/usr/bin/python3 "$tmp/p.py")
b=$(run /usr/bin/python3 "$tmp/p.py")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "python3: same output with the agent" || bad "python3 output differs: '$a' vs '$b'"
run /usr/bin/python3 "$tmp/p.py" 6 >"$tmp/py.out" 2>&1 &
pid=$!
wait_for "$tmp/py.out" paused
check python3 "$pid" "anon=$ANON"
"$mplace" set --pid "$pid" 'policy=prefer:0' >/dev/null && ok "python3: mplace set answered" || bad "python3: mplace set"
wait $pid

# ---- mplace show labels the heap it placed (issue #9): 128 MiB of python3
# bytearrays are the heap's, requested $HEAP, every page on its nodes
cat >"$tmp/big.py" <<'PY'
import sys, time
a = [bytearray(b"x" * (1 << 20)) for _ in range(128)]
print("paused"); sys.stdout.flush(); time.sleep(float(sys.argv[1]))
PY
# show --json of PID: the heap's ranges requested $HEAP and matching, at
# least MIN pages of them; no violation anywhere
show_heap() {
	what=$1 pid=$2 min=$3
	"$mplace" show --pid "$pid" --json >"$tmp/show.json" 2>"$tmp/show.err" || { bad "$what: show: $(cat "$tmp/show.err")"; return; }
	"$mplace" show --pid "$pid" >"$tmp/show.txt" 2>&1
	if /usr/bin/python3 - "$tmp/show.json" "$HEAP" "$min" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1])); want, least = sys.argv[2], int(sys.argv[3])
heap = [r for r in d["ranges"] if r["kind"] == "heap"]
bad = []
if d["agent_state"] != "answered": bad.append("agent_state %s" % d["agent_state"])
pages = sum(r["present"] for r in heap)
if pages < least: bad.append("%d heap pages, want at least %d" % (pages, least))
for r in heap:
    # the canonical text of what was asked, with what resolution added
    if (r["requested"] or "").split()[0] != want: bad.append("heap %s requested %r" % (r["start"], r["requested"]))
    if not (r["source"] or "").endswith("(command line)"): bad.append("heap source %r" % r["source"])
    if not r["matches"]: bad.append("heap %s does not match" % r["start"])
if d["violations"]: bad.append("violations: %s" % d["violations"][:3])
print("  %d heap ranges, %d pages %s" % (len(heap), pages, d["kinds"].get("heap", {}).get("pages")))
if bad: print("FAIL: " + "; ".join(bad[:6])); sys.exit(1)
PY
		ok "$what: show lists its heap as heap, requested $HEAP, matched"
	else
		bad "$what: show and the heap"
		grep -E "^agent|heap" "$tmp/show.txt" | head -5
	fi
}
run /usr/bin/python3 "$tmp/big.py" 30 >"$tmp/big.out" 2>&1 &
pid=$!
wait_for "$tmp/big.out" paused
show_heap "python3 bytearrays" "$pid" 32768
if out=$("$pages" "$pid" "heap=$HEAP" 2>&1); then
	ok "python3 bytearrays: every heap page where show says (move_pages from outside)"
else
	echo "$out" | sed 's/^/  /'
	bad "python3 bytearrays: heap pages elsewhere"
fi
kill $pid; wait $pid 2>/dev/null
run "$probe" --sleep 30 >"$tmp/probe.out" 2>&1 &
pid=$!
wait_for "$tmp/probe.out" thread-stack-node
show_heap "the allocator probe" "$pid" 256
kill $pid; wait $pid 2>/dev/null

# ---- the agent's own thread keeps the stack policy (issue #9): 20 starts
# under heap and stack policies, not one violation in show
v=0
for i in $(seq 20); do
	"$mplace" run --no-config --heap "$HEAP" --stack "$STACK" -- /usr/bin/python3 -c 'import sys, time; print("paused"); sys.stdout.flush(); time.sleep(20)' >"$tmp/s.out" 2>&1 &
	pid=$!
	wait_for "$tmp/s.out" paused
	# the main stack and the agent's control thread's: show finds a thread's
	# stack from the stack pointer of a thread blocked in a system call, so a
	# control thread still starting (slow under sanitizers) is looked at again
	for try in 1 2 3 4 5; do
		"$mplace" show --pid "$pid" >"$tmp/s.txt" 2>&1
		[ "$(grep -cE '^[0-9a-f]+-[0-9a-f]+ +stack ' "$tmp/s.txt")" -ge 2 ] && break
		sleep 0.2
	done
	[ "$(grep -cE '^[0-9a-f]+-[0-9a-f]+ +stack ' "$tmp/s.txt")" -ge 2 ] || { v=$((v + 1)); echo "  one stack listed"; }
	grep -q "^violations: none" "$tmp/s.txt" || { v=$((v + 1)); sed -n '/^violations/,$p' "$tmp/s.txt" | head -4; }
	kill $pid; wait $pid 2>/dev/null
done
[ $v = 0 ] && ok "20 starts of python3 under heap and stack policies: no violation" ||
	bad "$v of 20 starts showed a violation"

# ---- sqlite3: same query output, pages placed
cat >"$tmp/q.sql" <<'SQL'
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50000)
INSERT INTO t SELECT x, hex(x * 7919), x * 0.5 FROM n;
CREATE INDEX tb ON t(b);
SELECT count(*), sum(a), round(avg(c), 3), min(b), max(b) FROM t;
SELECT b FROM t WHERE a % 9973 = 0 ORDER BY b;
SQL
a=$(sqlite3 "$tmp/a.db" <"$tmp/q.sql")
b=$(run sqlite3 "$tmp/b.db" <"$tmp/q.sql")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "sqlite3: same output with the agent" || bad "sqlite3 output differs"
# $! of a background pipeline is its last command: sqlite3 itself (run execs)
(cat "$tmp/q.sql"; echo "SELECT 'paused';"; sleep 5) | run sqlite3 "$tmp/c.db" >"$tmp/sq.out" 2>&1 &
pid=$!
wait_for "$tmp/sq.out" paused
[ -n "$pid" ] && check sqlite3 "$pid" || bad "sqlite3: no process"
wait

# ---- memcached: a server in the background, requests, then its pages
cat >"$tmp/mc.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rb")
for i in range(3000):
    v = (b"%d-" % i) * 200
    s.sendall(b"set k%d 0 0 %d\r\n%s\r\n" % (i, len(v), v))
    assert f.readline() == b"STORED\r\n"
s.sendall(b"get k2999 k17\r\n")
out = []
while True:
    l = f.readline(); out.append(l)
    if l == b"END\r\n": break
print(len(b"".join(out)), b"".join(out)[:40])
PY
mc() { "$@" memcached -u root -s "$tmp/mc.sock" -m 64 -t 2 & }
mc env
wait_for_sock() { i=0; while [ ! -S "$tmp/mc.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; }
wait_for_sock
a=$(/usr/bin/python3 "$tmp/mc.py" "$tmp/mc.sock")
kill $! 2>/dev/null; wait; rm -f "$tmp/mc.sock"
mc run
pid=$!
wait_for_sock
b=$(/usr/bin/python3 "$tmp/mc.py" "$tmp/mc.sock")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "memcached: same answers with the agent" || bad "memcached answers differ: '$a' vs '$b'"
check memcached "$pid"
# mplace set moves the running server's heap to node 0, page by page
out=$("$mplace" set --pid "$pid" "heap=bind:0 migrate" 2>&1)
echo "  memcached: $out"
moved=$(echo "$out" | sed -n 's/.*applied; \([0-9]*\) pages moved.*/\1/p')
[ "${moved:-0}" -gt 1000 ] && ok "memcached: mplace set moved $moved heap pages" || bad "memcached: mplace set: $out"
if out=$("$pages" "$pid" "heap-after-set=bind:0" 2>&1); then
	echo "  memcached: $out"
	ok "memcached: the heap is on node 0 after mplace set"
else
	echo "  memcached: $out"
	bad "memcached: heap pages elsewhere after mplace set"
fi
kill $pid; wait
rm -rf "$tmp"
exit $fail
