#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The system agent (doc/daemon.md, "The system agent") on a fixture tree:
#  - system-agent = yes puts the agent's line first in the preload file,
#    keeping the lines already there, and writes the snapshot;
#  - a process one scope selects takes that scope's kinds from the snapshot
#    (show: requested, and the file:line it came from);
#  - a process two scopes select asks mplaced, which folds both for it;
#  - a process no scope selects is left alone, its output unchanged;
#  - a new generation is seen by processes started after it;
#  - a snapshot others may write is not read;
#  - system-agent = no takes the line out again, and SIGTERM does too,
#    leaving the other lines as they were.
# The preload file here is a fixture: the processes get the agent through
# LD_PRELOAD and the snapshot through MPLACE_SNAPSHOT.  The system guest's
# daemon test (tests/vm/test-daemon.sh) uses the real /etc/ld.so.preload.
# Usage: system-agent.sh MPLACE MPLACED AGENT
set -u
mplace=$1 mplaced=$2 agent=$(realpath "$3")
fail=0
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill -9 $dpid 2>/dev/null; rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (the daemon's files)"
	exit 77
fi
export MPLACED_SOCKET=$tmp/run/mplaced.sock
mkdir -p "$tmp"/{etc,state,run,sd,cg}
: >"$tmp/cg/cgroup.subtree_control"
chmod 755 "$tmp" "$tmp/run"
printf '/lib/other-preload.so\n' >"$tmp/ld.so.preload"

start() {
	"$mplaced" --foreground --no-systemd --config-dir "$tmp/etc" --state-dir "$tmp/state" --run-dir "$tmp/run" \
		--systemd-dir "$tmp/sd" --cgroup-root "$tmp/cg" --preload-file "$tmp/ld.so.preload" --agent "$agent" \
		>>"$tmp/log" 2>&1 &
	dpid=$!
	for _ in $(seq 50); do
		[ -S "$tmp/run/mplaced.sock" ] && "$mplace" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	bad "mplaced did not start: $(tail -3 "$tmp/log")"
	return 1
}
field() { "$mplace" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
wait_field() { # EXPR VALUE
	for _ in $(seq 50); do
		[ "$(field "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# requested KIND of PID: "policy|source" of its first range of that kind
requested() {
	"$mplace" show --pid "$2" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
r = [x for x in d['ranges'] if x['kind'] == sys.argv[1]]
print('%s|%s' % (r[0].get('requested'), r[0].get('source')) if r else 'none|')" "$1"
}
# a sleep with the agent and the fixture's snapshot; its pid in $spid
start_sleep() {
	(MPLACE_SNAPSHOT=$tmp/run/snapshot LD_PRELOAD=$agent exec "$@") &
	spid=$!
	for _ in $(seq 50); do
		grep -q libmplace-preload "/proc/$spid/maps" 2>/dev/null && [ "$(cat /proc/$spid/comm)" != bash ] && break
		sleep 0.05
	done
	sleep 0.3 # past the agent's start
}

if [ -n "${MPLACE_SANITIZED:-}" ]; then
	echo "SKIP: a sanitizer build's agent cannot be preloaded into an uninstrumented program"
	exit 77
fi

# ---- on: the line and the snapshot ----------------------------------------------
cat >"$tmp/etc/mplace.conf" <<'EOF'
[system]
system-agent = yes
[exe /usr/bin/sleep]
heap = bind:0
[comm slee*]
stack = prefer:0
EOF
start || exit 1
if [ "$(head -1 "$tmp/ld.so.preload")" = "$agent" ] && grep -qx /lib/other-preload.so "$tmp/ld.so.preload"; then
	ok "the agent's line first in the preload file, the other line kept"
else
	bad "preload file: $(cat "$tmp/ld.so.preload")"
fi
snap=$tmp/run/snapshot
if [ "$(head -1 "$snap")" = mplace-snapshot/1 ] && grep -qx 'scope 1 exe /usr/bin/sleep' "$snap" &&
	grep -qx 'scope 2 comm slee\*' "$snap" && grep -q '^kind 1 heap mplace-compiled/1 mode=bind' "$snap" &&
	[ "$(tail -1 "$snap")" = end ] && [ "$(stat -c %a "$snap")" = 644 ]; then
	ok "the snapshot: selectors, compiled records, mode 644"
else
	bad "snapshot: $(cat "$snap")"
fi

# ---- two scopes select sleep: the daemon folds them --------------------------------
before=$(field 'd["daemon"]["resolves"]')
start_sleep sleep 5
h=$(requested heap $spid) s=$(requested stack $spid)
case "$h/$s" in
"bind:0|bind:0 (exe /usr/bin/sleep at $tmp/etc/mplace.conf:4:8)/prefer:0|prefer:0 (comm slee* at $tmp/etc/mplace.conf:6:9)")
	ok "sleep (exe and comm scopes): heap from one, stack from the other, each with its file:line" ;;
*) bad "sleep: heap '$h', stack '$s'" ;;
esac
[ "$(field 'd["daemon"]["resolves"]')" -gt "$before" ] && ok "its agent asked mplaced to fold them" ||
	bad "no resolve request reached mplaced"
"$mplace" show --pid $spid | grep -q '^violations: none' && ok "show: no violation" || bad "show: $("$mplace" show --pid $spid | tail -3)"
kill $spid; wait $spid 2>/dev/null

# ---- one scope: from the snapshot alone --------------------------------------------
cp /usr/bin/sleep "$tmp/snooze" # comm "snooze", exe not /usr/bin/sleep
printf '[exe %s]\nheap = prefer:0\n' "$tmp/snooze" >"$tmp/etc/conf.d.tmp"
mkdir -p "$tmp/etc/conf.d" && mv "$tmp/etc/conf.d.tmp" "$tmp/etc/conf.d/snooze.conf"
wait_field 'd["daemon"]["generation"]' 2 && grep -qx 'generation 2' "$snap" &&
	ok "a new file: generation 2 in the snapshot" || bad "no generation 2: $(head -2 "$snap")"
before=$(field 'd["daemon"]["resolves"]')
start_sleep "$tmp/snooze" 5
h=$(requested heap $spid) s=$(requested stack $spid)
[ "$h" = "prefer:0|prefer:0 (exe $tmp/snooze at $tmp/etc/conf.d/snooze.conf:2:8)" ] && case ${s%%|*} in -|None) true ;; *) false ;; esac &&
	ok "a process one scope selects: its heap from the snapshot, nothing else" || bad "snooze: heap '$h', stack '$s'"
[ "$(field 'd["daemon"]["resolves"]')" = "$before" ] && ok "without asking mplaced" || bad "it asked mplaced"
kill $spid; wait $spid 2>/dev/null

# ---- no scope: left alone -----------------------------------------------------------
want=$(python3 -c 'import sys; print(sum(range(10**6)), sys.argv[1:])' a b)
got=$(MPLACE_SNAPSHOT=$snap LD_PRELOAD=$agent python3 -c 'import sys; print(sum(range(10**6)), sys.argv[1:])' a b 2>&1)
[ "$got" = "$want" ] && ok "a process no scope selects: same output, nothing on stderr" || bad "python3: '$got'"
start_sleep python3 -c 'import time; time.sleep(5)'
"$mplace" show --pid $spid | grep -q '^agent: loaded, not listening' && ok "and its agent has nothing to do" ||
	bad "python3: $("$mplace" show --pid $spid | sed -n 2p)"
grep -q "$snap" /proc/$spid/maps && bad "the snapshot stays mapped in a process it gives nothing" ||
	ok "and the snapshot is not left mapped in it"
kill $spid; wait $spid 2>/dev/null

# ---- a snapshot others may write is not read ---------------------------------------
cp "$snap" "$tmp/open-snapshot" && chmod 666 "$tmp/open-snapshot"
out=$( (MPLACE_LOG=1 MPLACE_SNAPSHOT=$tmp/open-snapshot LD_PRELOAD=$agent sleep 0.1) 2>&1)
case $out in
*"writable by others; not read"*) ok "a snapshot others may write: refused, and said" ;;
*) bad "open snapshot: '$out'" ;;
esac

# ---- off again, then stop ------------------------------------------------------------
sed -i 's/system-agent = yes/system-agent = no/' "$tmp/etc/mplace.conf"
wait_field 'd["daemon"]["generation"]' 3 || bad "no generation 3"
[ "$(cat "$tmp/ld.so.preload")" = /lib/other-preload.so ] && [ ! -e "$snap" ] &&
	ok "system-agent = no: the line taken out, the other kept; the snapshot gone" ||
	bad "after off: $(cat "$tmp/ld.so.preload"); snapshot $(ls "$snap" 2>&1)"
sed -i 's/system-agent = no/system-agent = yes/' "$tmp/etc/mplace.conf"
wait_field 'd["daemon"]["generation"]' 4 || bad "no generation 4"
grep -qx "$agent" "$tmp/ld.so.preload" || bad "on again: not put back"
kill -TERM $dpid
wait $dpid 2>/dev/null
dpid=
[ "$(cat "$tmp/ld.so.preload")" = /lib/other-preload.so ] && ok "SIGTERM: the line taken out, the other kept" ||
	bad "after stop: $(cat "$tmp/ld.so.preload")"

# a preload file that was not there before goes with the line
rm "$tmp/ld.so.preload"
start || exit 1
grep -qx "$agent" "$tmp/ld.so.preload" || bad "not put in a new preload file"
kill -TERM $dpid
wait $dpid 2>/dev/null
dpid=
[ ! -e "$tmp/ld.so.preload" ] && ok "a preload file mplaced made is removed at stop" ||
	bad "left: $(cat "$tmp/ld.so.preload")"

[ $fail = 0 ] || { echo "--- mplaced's log"; cat "$tmp/log"; }
exit $fail
