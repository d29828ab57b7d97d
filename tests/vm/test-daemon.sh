#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplaced under a real systemd in the system guest (doc/daemon.md), each
# placement checked page by page from outside the process:
#  - [unit bar.service] heap = bind:3, policy = prefer:1: after systemctl
#    start, the heap is on node 3 and the rest prefers node 1; systemctl
#    show names the drop-in; mplace status names the means;
#  - [cgroup /bar.slice] allow = 2-3: every anonymous page of a process in
#    the slice, started without any agent, is on nodes 2-3; allow = 3 and a
#    reload move them all to 3;
#  - mplace set --cgroup --persist survives kill -9 of the daemon; a
#    malformed configuration leaves the one in force untouched and is
#    reported with file:line:col; an unprivileged user is refused, one with
#    CAP_SYS_NICE served;
#  - system-agent = yes: a program started from a plain shell and one started
#    by systemd, both selected by an exe and a comm scope, have their heap and
#    stack placed (checked by the kernel and page by page); an unselected one
#    carries an idle agent; the system still works;
#  - stopping takes back everything added, /etc/ld.so.preload included.
# Usage: test-daemon.sh (in the system guest; MPLACE_BUILD_DIR set)
set -u
build=$MPLACE_BUILD_DIR
mplace=$build/tools/mplace
agent=$build/agent/libmplace-preload.so
pages=$build/tests/vm/test-agent-pages
tmp=$(mktemp -d)
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
status_field() { # python expression over the status JSON d
	"$mplace" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# ---- the daemon as a unit: the installed unit file, run from the build ----
install -m 644 "$build/daemon/mplaced.service" /etc/systemd/system/mplaced.service
mkdir -p /etc/systemd/system/mplaced.service.d
cat >/etc/systemd/system/mplaced.service.d/test.conf <<EOF
[Service]
ExecStart=
ExecStart=$build/daemon/mplaced --agent $agent
# the build may live under /tmp (a CI clone)
PrivateTmp=no
EOF
mkdir -p /etc/mplace
cat >/etc/mplace/mplace.conf <<'EOF'
[unit bar.service]
heap = bind:3
policy = prefer:1

[cgroup /bar.slice]
allow = 2-3
EOF

# bar.service: a plain unit whose program allocates 64 MiB of heap
# (bytearrays: malloc) and 16 MiB of anonymous mmap, then waits
cat >/root/alloc.py <<'EOF'
import mmap, sys, time
heap = [bytearray(b"x" * (1 << 20)) for _ in range(64)]
anon = mmap.mmap(-1, 16 << 20)
for off in range(0, len(anon), 4096):
    anon[off] = 1
open(sys.argv[1], "w").write("ready\n")
time.sleep(3600)
EOF
cat >/etc/systemd/system/bar.service <<'EOF'
[Unit]
Description=a program that allocates (mplace's daemon test)
[Service]
ExecStart=/usr/bin/python3 /root/alloc.py /run/bar.ready
EOF
systemctl daemon-reload

systemctl start mplaced.service && ok "systemctl start mplaced (Type=notify: ready)" ||
	{ bad "mplaced did not start"; journalctl -u mplaced --no-pager | tail -20; exit 1; }
[ "$(status_field 'd["daemon"]["generation"]')" = 1 ] && ok "status: generation 1" || bad "status: $("$mplace" status 2>&1 | head -5)"

# ---- [unit bar.service] ----------------------------------------------------
dropins=$(systemctl show -P DropInPaths bar.service)
case $dropins in
*/run/systemd/system/bar.service.d/50-mplace.conf*) ok "systemctl show bar: the drop-in ($dropins)" ;;
*) bad "systemctl show bar: DropInPaths '$dropins'" ;;
esac
[ "$(systemctl show -P NUMAPolicy bar.service)" = preferred ] && [ "$(systemctl show -P NUMAMask bar.service)" = 1 ] &&
	ok "systemctl show bar: NUMAPolicy=preferred NUMAMask=1" ||
	bad "NUMAPolicy '$(systemctl show -P NUMAPolicy bar.service)' mask '$(systemctl show -P NUMAMask bar.service)'"
rm -f /run/bar.ready
systemctl start bar.service
if wait_for 60 test -f /run/bar.ready; then
	pid=$(systemctl show -P MainPID bar.service)
	# the rest: what the process allocated (page cache that other
	# processes filled before is not its to place)
	if out=$("$pages" "$pid" heap=bind:3 rest=prefer:1@anon 2>&1); then
		ok "bar.service (pid $pid): heap on node 3, the rest on node 1, page by page"
		echo "$out" | sed 's/^/  /'
	else
		bad "bar.service pages"
		echo "$out" | sed 's/^/  /'
	fi
	means=$(status_field '[s["means"] for s in d["scopes"] if s["scope"] == "unit bar.service"][0]')
	case $means in
	*NUMAPolicy=*heap\ through\ the\ agent*drop-in*) ok "status names the means: $means" ;;
	*) bad "status means of unit bar.service: '$means'" ;;
	esac
	tracked=$(status_field '[p["means"] for p in d["processes"] if p["pid"] == '"$pid"']')
	case $tracked in
	*agent*) ok "status tracks bar's process: $tracked" ;;
	*) bad "status processes: $tracked" ;;
	esac
else
	bad "bar.service did not get ready: $(systemctl status bar.service --no-pager | tail -5)"
fi
systemctl stop bar.service

# ---- [cgroup /bar.slice] allow = 2-3, a process without any agent -----------
# anon_nodes PID: the nodes of its anonymous pages, from numa_maps (the
# kernel's own walk of every page), as "node:pages ..." and the total
anon_nodes() {
	python3 - "$1" <<'EOF'
import re, sys
count = {}
for line in open("/proc/%s/numa_maps" % sys.argv[1]):
    if " file=" in line:
        continue
    for n, c in re.findall(r" N(\d+)=(\d+)", line):
        count[int(n)] = count.get(int(n), 0) + int(c)
print(" ".join("%d:%d" % (n, count[n]) for n in sorted(count)))
EOF
}
# only_on PID NODES...: every anonymous page on those nodes, and at least 16384 pages
only_on() {
	local pid=$1 got total=0 outside=0
	shift
	got=$(anon_nodes "$pid")
	for nc in $got; do
		total=$((total + ${nc#*:}))
		case " $* " in *" ${nc%%:*} "*) ;; *) outside=$((outside + ${nc#*:})) ;; esac
	done
	echo "$got"
	[ $outside = 0 ] && [ $total -ge 16384 ]
}
mems=$(cat /sys/fs/cgroup/bar.slice/cpuset.mems 2>/dev/null)
[ "$mems" = 2-3 ] && ok "bar.slice: cpuset.mems 2-3 (through systemd)" || bad "bar.slice cpuset.mems '$mems'"
[ "$(systemctl show -P AllowedMemoryNodes bar.slice)" = 2-3 ] && ok "systemctl show bar.slice: AllowedMemoryNodes=2-3" ||
	bad "bar.slice AllowedMemoryNodes '$(systemctl show -P AllowedMemoryNodes bar.slice)'"
rm -f /run/sl.ready
systemd-run --unit=in-slice --slice=bar.slice /usr/bin/python3 /root/alloc.py /run/sl.ready >/dev/null 2>&1
if wait_for 60 test -f /run/sl.ready; then
	pid=$(systemctl show -P MainPID in-slice.service)
	grep -q libmplace-preload /proc/"$pid"/maps && bad "the slice's process has an agent" ||
		ok "the slice's process (pid $pid) runs without any agent"
	if got=$(only_on "$pid" 2 3); then ok "every anonymous page on nodes 2-3: $got"; else bad "pages: $got"; fi
	sed -i 's/^allow = 2-3/allow = 3/' /etc/mplace/mplace.conf
	systemctl reload mplaced.service
	wait_for 20 sh -c '[ "$(cat /sys/fs/cgroup/bar.slice/cpuset.mems)" = 3 ]' &&
		ok "reload: bar.slice cpuset.mems 3" || bad "after reload cpuset.mems '$(cat /sys/fs/cgroup/bar.slice/cpuset.mems)'"
	sleep 1
	if got=$(only_on "$pid" 3); then ok "every anonymous page moved to node 3: $got"; else bad "after allow = 3: $got"; fi
	# anonymous memory moves with cpuset.mems; page cache the slice was
	# charged for and no longer maps stays where it is (and is counted)
	outside=$("$mplace" status --prometheus | sed -n 's/^mplace_cgroup_anon_pages_outside{cgroup="\/bar.slice"} //p')
	all=$("$mplace" status --prometheus | sed -n 's/^mplace_cgroup_pages_outside{cgroup="\/bar.slice"} //p')
	[ "$outside" = 0 ] && [ -n "$all" ] &&
		ok "prometheus: 0 anonymous pages of /bar.slice outside its nodes ($all pages in all, page cache included)" ||
		bad "prometheus anonymous pages outside: '$outside' (all: '$all')"
else
	bad "the slice's process did not get ready"
fi
systemctl stop in-slice.service

# ---- a malformed configuration: the one in force stays, the error reported ----
# (the sed above also woke inotify: its reload comes 200 ms after the quiet)
sleep 1
gen=$(status_field 'd["daemon"]["generation"]')
mkdir -p /etc/mplace/conf.d
printf '[cgroup /bar.slice]\nallow = 2-x\n' >/etc/mplace/conf.d/50-bad.conf
if wait_for 10 sh -c "$mplace status --json | grep -q '50-bad.conf:2:'"; then
	ok "malformed conf.d file reported: $(status_field 'd["daemon"]["config_error"]')"
else
	bad "no error reported for the malformed file: $("$mplace" status | head -4)"
fi
[ "$(status_field 'd["daemon"]["generation"]')" = "$gen" ] && [ "$(cat /sys/fs/cgroup/bar.slice/cpuset.mems)" = 3 ] &&
	ok "generation $gen and cpuset.mems 3 stay in force" || bad "the bad file changed what is in force"
journalctl -u mplaced --no-pager | grep -q '50-bad.conf:2:' && ok "the error is in the journal" ||
	bad "the error is not in the journal"
rm /etc/mplace/conf.d/50-bad.conf
no_config_error() { [ "$(status_field 'd["daemon"]["config_error"]')" = None ]; }
wait_for 10 no_config_error && ok "fixed: the error is gone" ||
	bad "the error stays after the fix"

# ---- unprivileged: refused; with CAP_SYS_NICE: served ----------------------
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$mplace" set --cgroup /bar.slice allow=2-3 2>&1)
r=$?
case $r:$out in
1:*"only root or a process with CAP_SYS_NICE"*) ok "nobody is refused: $out" ;;
*) bad "nobody's set: exit $r: $out" ;;
esac
[ "$(cat /sys/fs/cgroup/bar.slice/cpuset.mems)" = 3 ] && ok "nothing changed by the refused request" || bad "refused request changed cpuset.mems"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+sys_nice --ambient-caps=+sys_nice \
	"$mplace" set --cgroup /bar.slice allow=3 2>&1)
r=$?
[ $r = 0 ] && ok "nobody with CAP_SYS_NICE is served: $out" || bad "CAP_SYS_NICE: exit $r: $out"

# ---- persisted changes survive kill -9 at any moment -----------------------
# each acknowledged change must be there after the daemon is killed right
# after the answer and started again by systemd (Restart=on-failure)
lost=0
for v in 2-3 3 2-3 3 2-3; do
	"$mplace" set --cgroup /bar.slice allow=$v --persist >/dev/null || { bad "set allow=$v"; continue; }
	systemctl kill -s KILL mplaced.service
	wait_for 30 sh -c "$mplace status >/dev/null" || { bad "mplaced did not come back after kill -9"; break; }
	got=$(status_field '[r for r in open(d["daemon"]["persisted"]).read().split("\n") if r.startswith("allow")]')
	mems=$(cat /sys/fs/cgroup/bar.slice/cpuset.mems)
	[ "$got" = "['allow = $v']" ] && [ "$mems" = "$v" ] || { lost=$((lost + 1)); echo "  after allow=$v: persisted $got, cpuset.mems $mems"; }
done
[ $lost = 0 ] && ok "5 acknowledged --persist changes, each followed by kill -9: none lost" || bad "$lost of 5 lost"
restarts=$(systemctl show -P NRestarts mplaced.service)
[ "$restarts" -ge 5 ] && ok "systemd restarted mplaced $restarts times" || bad "NRestarts $restarts"

# ---- the system agent: exe and comm scopes reach programs started any way ----
# the probe: a C program that reports the kernel's view of its own memory
probe=$build/tests/integration/test-agent-probe
had_preload=no
[ -e /etc/ld.so.preload ] && had_preload=yes
cat >>/etc/mplace/mplace.conf <<'EOF'

[system]
system-agent = yes

[exe */test-agent-probe]
heap = bind:2

[comm test-agent-*]
stack = bind:1
EOF
systemctl reload mplaced.service
if wait_for 20 grep -qx "$agent" /etc/ld.so.preload; then
	ok "system-agent = yes: /etc/ld.so.preload names the agent"
else
	bad "/etc/ld.so.preload: $(cat /etc/ld.so.preload 2>&1)"
fi
wait_for 10 test -s /run/mplace/snapshot && ok "the snapshot is written" || bad "no /run/mplace/snapshot"
# started from this shell, with nothing in its environment
out=$(env -u LD_PRELOAD "$probe" 2>&1)
case $out in
# (bind without strict is MPOL_PREFERRED_MANY for the kernel: mode 2 or 5)
*"agent active"*"heap-policy "[25]" 2"*"heap-node 2"*"stack-policy "[25]" 1"*"stack-node 1"*)
	ok "a program started from a plain shell: heap bound to node 2, stack to node 1 (two scopes, folded)" ;;
*) bad "the probe from a shell: $(echo "$out" | tr '\n' ' ')" ;;
esac
# started by systemd, not by this shell
systemd-run --wait --pipe --quiet --unit=probe-unit "$probe" >"$tmp/probe-unit.out" 2>&1
case $(cat "$tmp/probe-unit.out") in
*"agent active"*"heap-node 2"*"stack-node 1"*) ok "the same program as a transient unit: heap on node 2, stack on node 1" ;;
*) bad "the probe as a unit: $(tr '\n' ' ' <"$tmp/probe-unit.out")" ;;
esac
# a long-lived one, checked page by page from outside
"$probe" --sleep 30 >"$tmp/probe.out" 2>&1 &
ppid=$!
wait_for 20 grep -q thread-stack-node "$tmp/probe.out"
if out=$("$pages" "$ppid" heap=bind:2 2>&1); then
	ok "every heap page of the probe on node 2, seen from outside"
else
	bad "probe pages"
fi
echo "$out" | sed 's/^/  /'
"$mplace" show --pid "$ppid" | grep -q '^violations: none' && ok "show: no violation" ||
	bad "show: $("$mplace" show --pid "$ppid" | tail -4)"
kill $ppid 2>/dev/null
wait $ppid 2>/dev/null
[ "$(status_field 'd["daemon"]["resolves"]')" -ge 3 ] && ok "its agents asked mplaced to fold the two scopes" ||
	bad "resolves: $(status_field 'd["daemon"]["resolves"]')"
# a program no scope selects carries the agent, which does nothing
python3 -c 'import time; open("/run/idle.ready", "w").write("1"); time.sleep(30)' &
ipid=$!
wait_for 20 test -f /run/idle.ready
grep -q libmplace-preload /proc/$ipid/maps && "$mplace" show --pid $ipid | grep -q '^agent: loaded, not listening' &&
	ok "a program no scope selects: the agent loaded, doing nothing" ||
	bad "idle python3: $("$mplace" show --pid $ipid | sed -n 2p)"
kill $ipid
wait $ipid 2>/dev/null
# the machine goes on: units start, the journal writes
systemctl restart systemd-journald.service && systemd-run --wait --quiet /bin/true &&
	journalctl --no-pager -n 1 >/dev/null && ok "with the agent everywhere, units start and the journal works" ||
	bad "the system misbehaves with the agent in ld.so.preload"

# ---- stop: everything added is taken back -----------------------------------
systemctl stop mplaced.service
[ ! -e /run/systemd/system/bar.service.d/50-mplace.conf ] && ok "stop: bar's drop-in removed" || bad "drop-in left"
[ "$(systemctl show -P NUMAPolicy bar.service)" != preferred ] && ok "stop: systemd no longer has bar's NUMAPolicy" ||
	bad "bar.service keeps NUMAPolicy=preferred"
mems=$(cat /sys/fs/cgroup/bar.slice/cpuset.mems 2>/dev/null)
[ -z "$mems" ] && ok "stop: bar.slice's cpuset.mems taken back (empty)" || bad "bar.slice cpuset.mems '$mems'"
[ -z "$(systemctl show -P AllowedMemoryNodes bar.slice)" ] && ok "stop: AllowedMemoryNodes of bar.slice reset" ||
	bad "AllowedMemoryNodes '$(systemctl show -P AllowedMemoryNodes bar.slice)'"
ls /run/systemd/system.control/bar.slice.d/ 2>/dev/null | grep -q AllowedMemoryNodes &&
	bad "systemd's control drop-in for bar.slice left" || ok "stop: no control drop-in left"
[ ! -e /run/mplace ] && ok "stop: /run/mplace removed" || bad "/run/mplace: $(ls /run/mplace)"
if [ $had_preload = no ] && [ ! -e /etc/ld.so.preload ]; then
	ok "stop: /etc/ld.so.preload, made by mplaced, removed"
elif [ $had_preload = yes ] && ! grep -qx "$agent" /etc/ld.so.preload; then
	ok "stop: the agent's line taken out of /etc/ld.so.preload"
else
	bad "stop: /etc/ld.so.preload: $(cat /etc/ld.so.preload)"
fi
out=$("$probe" 2>&1)
case $out in
*"agent absent"*) ok "stop: a new program has no agent" ;;
*) bad "after stop the probe says: $(echo "$out" | head -1)" ;;
esac
# the persisted change stays for the next start, by design
[ -s /var/lib/mplace/runtime.conf ] && ok "the persisted change stays in /var/lib/mplace for the next start" ||
	bad "/var/lib/mplace/runtime.conf is gone"

echo "--- journal of mplaced"
journalctl -u mplaced --no-pager -o cat | tail -15 | sed 's/^/  /'
rm -rf "$tmp"
exit $fail
