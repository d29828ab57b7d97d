#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run by check-debs.sh inside the booted Debian 12 root (a oneshot unit):
# install the packages, use them from their installed paths, remove and
# purge them, and check that nothing is left.  Writes ok:/FAIL: lines to
# /root/inside.log, which check-debs.sh reads.
set -u
exec >/root/inside.log 2>&1
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; }
# the agent's path, as the packages built it (check-debs.sh writes it)
agent=$(cat /root/agent-path)
export DEBIAN_FRONTEND=noninteractive

# The rest of the boot first (a getty writes to /run as it starts): the
# snapshot below is the booted system's, not a moment of its start.
for _ in $(seq 60); do
	[ -z "$(systemctl list-jobs --no-legend | grep -v mplace-check)" ] && break
	sleep 1
done
sleep 2
# this unit is part of the boot, so the system is "starting" until it ends
echo "system state before install: $(systemctl is-system-running 2>&1); failed units: $(systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"

# What the root holds before: every path outside the package manager's own
# state, the logs and this check's files, with /run and /var/lib in full.
snapshot() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /root \
		-o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache -o -path /var/log \) -prune -o -print
	# (systemd's own bookkeeping: its journal, units and the terminals where
	# systemctl, run from one, blocks password prompts, systemd 257)
	find /run \( -path /run/systemd/journal -o -path /run/log -o -path /run/systemd/units \
		-o -path /run/systemd/transient -o -path /run/user -o -path /run/systemd/inaccessible \
		-o -path /run/systemd/ask-password-block \) -prune -o -print
} 2>/dev/null
snapshot | sort >/root/before

# ---- install ------------------------------------------------------------------
if apt-get install -y -q /root/debs/*.deb >/root/apt-install.log 2>&1; then
	ok "apt-get install of the four packages (dependencies from the archive)"
else
	bad "apt-get install failed: $(tail -n 5 /root/apt-install.log | tr '\n' ' ')"
fi
for f in /usr/bin/mplace /usr/sbin/mplaced "$agent" /usr/include/mplace.h \
	/usr/share/bash-completion/completions/mplace /usr/share/man/man3/mplace_bind.3.gz; do
	[ -e "$f" ] || bad "$f is not installed"
done
if ls /usr/lib/*/pkgconfig/mplace.pc >/dev/null 2>&1; then
	ok "installed paths: tool, daemon, agent, header, mplace.pc, completion, man3"
else
	bad "mplace.pc is not installed"
fi
[ "$(dpkg -L mplace | grep -F libmplace-preload.so)" = "$agent" ] ||
	bad "package mplace does not ship $agent"

# ---- the tool -------------------------------------------------------------------
out=$(mplace --version 2>&1) && ok "mplace --version: $out" || bad "mplace --version: $out"
if out=$(mplace topo 2>&1); then
	ok "mplace topo lists $(grep -cE '^[0-9]+ ' <<<"$out") node(s)"
	sed -n 1,6p <<<"$out" | sed 's/^/  | /'
else
	bad "mplace topo failed: $out"
fi
# the agent from its installed path, loaded into the program mplace runs
out=$(mplace run --agent --heap local -- grep -F libmplace-preload /proc/self/maps 2>&1)
if grep -qF " $agent" <<<"$out"; then
	ok "mplace run loads the agent from $agent"
else
	bad "mplace run did not load $agent: $out"
fi
out=$(mplace run --policy 'bind:0' -- cat /proc/self/status 2>&1 | grep Mems_allowed_list) &&
	ok "mplace run --policy bind:0 runs the program" || bad "mplace run --policy bind:0: $out"

# ---- the daemon --------------------------------------------------------------------
[ "$(systemctl is-enabled mplaced.service 2>&1)" = enabled ] && ok "mplaced.service is enabled on install" ||
	bad "mplaced.service is not enabled: $(systemctl is-enabled mplaced.service 2>&1)"
systemctl start mplaced.service
sleep 1
if [ "$(systemctl is-active mplaced.service)" = active ]; then
	ok "systemctl start mplaced: active"
	out=$(mplace status 2>&1) && ok "mplace status answers: $(head -n 1 <<<"$out")" || bad "mplace status: $out"
else
	bad "mplaced did not start: $(systemctl status --no-pager -l mplaced.service 2>&1 | tail -n 8 | tr '\n' ' ')"
fi
grep -q " $agent" <<<"$(systemctl show -P ExecStart mplaced.service)" &&
	ok "the unit passes the installed agent's path" || bad "the unit does not name $agent"
systemctl stop mplaced.service
[ ! -e /run/mplace ] && ok "stopped: /run/mplace is gone" || bad "stopped, but /run/mplace is left: $(ls /run/mplace)"

# ---- the system agent, and a preload line left behind ---------------------------------
# With 'system-agent = yes' the daemon puts its agent first in
# /etc/ld.so.preload, before a line of the administrator's own, and takes it
# out when it stops; killed, it leaves the line, which removing the package
# must take out, keeping the administrator's line and the file's mode.
other=$(readlink -f /lib/*/libc.so.6)
printf '%s\n' "$other" >/etc/ld.so.preload
mkdir -p /etc/mplace
printf '[system]\nsystem-agent = yes\n' >/etc/mplace/mplace.conf
systemctl start mplaced.service
for _ in $(seq 20); do [ "$(head -n 1 /etc/ld.so.preload)" = "$agent" ] && break; sleep 0.5; done
if [ "$(cat /etc/ld.so.preload)" = "$(printf '%s\n%s' "$agent" "$other")" ]; then
	ok "system-agent = yes: mplaced put $agent first in /etc/ld.so.preload"
else
	bad "system-agent = yes: /etc/ld.so.preload is: $(cat /etc/ld.so.preload)"
fi
grep -qF " $agent" /proc/self/maps && ok "a program started any way now carries the agent" ||
	bad "the system agent is not in a new program"
systemctl stop mplaced.service
[ "$(cat /etc/ld.so.preload)" = "$other" ] && ok "stopping mplaced took its line out, the other kept" ||
	bad "after stopping mplaced, /etc/ld.so.preload is: $(cat /etc/ld.so.preload)"
systemctl start mplaced.service
for _ in $(seq 20); do [ "$(head -n 1 /etc/ld.so.preload)" = "$agent" ] && break; sleep 0.5; done
# killed, and not restarted (stop cancels Restart=on-failure)
systemctl kill -s KILL mplaced.service
sleep 1
systemctl stop mplaced.service
grep -qxF "$agent" /etc/ld.so.preload && ok "a killed mplaced leaves its line (as it must: it had no chance)" ||
	bad "a killed mplaced left no line, so removal is not tested with one"
chmod 600 /etc/ld.so.preload
apt-get remove -y -q mplaced >/root/apt-remove.log 2>&1 || bad "apt-get remove mplaced failed"
if [ "$(cat /etc/ld.so.preload)" = "$other" ] && [ "$(stat -c %a /etc/ld.so.preload)" = 600 ]; then
	ok "removing mplaced took the agent's line out of /etc/ld.so.preload, kept the other line and the mode"
else
	bad "after removing mplaced, /etc/ld.so.preload is: $(cat /etc/ld.so.preload) ($(stat -c %a /etc/ld.so.preload))"
fi
# mplace's own removal (the agent's file goes) with a line left
printf '%s\n' "$agent" >/etc/ld.so.preload
apt-get remove -y -q mplace >>/root/apt-remove.log 2>&1 || bad "apt-get remove mplace failed"
[ ! -e /etc/ld.so.preload ] && ok "removing mplace took the line out, and the file it alone was in" ||
	bad "after removing mplace, /etc/ld.so.preload is: $(cat /etc/ld.so.preload)"
# and purging with the daemon running the system agent
apt-get install -y -q /root/debs/mplace_*.deb /root/debs/mplaced_*.deb >>/root/apt-install.log 2>&1 ||
	bad "reinstalling mplace and mplaced failed"
systemctl start mplaced.service
for _ in $(seq 20); do [ -e /etc/ld.so.preload ] && break; sleep 0.5; done
grep -qxF "$agent" /etc/ld.so.preload 2>/dev/null || bad "the reinstalled mplaced did not put its line in"
apt-get purge -y -q mplaced mplace libmplace-dev libmplace0 >/root/apt-purge.log 2>&1 &&
	ok "apt-get purge of the four packages, mplaced running" || bad "apt-get purge failed: $(tail -n 5 /root/apt-purge.log | tr '\n' ' ')"
[ ! -e /etc/ld.so.preload ] && ok "purged: /etc/ld.so.preload is as before (absent)" ||
	bad "after purge, /etc/ld.so.preload is: $(cat /etc/ld.so.preload)"
# the administrator's configuration is theirs: this check's own goes now
rm -r /etc/mplace
apt-get autoremove --purge -y -q >>/root/apt-purge.log 2>&1

# ---- nothing left ------------------------------------------------------------------
systemctl daemon-reload
snapshot | sort >/root/after
left=$(comm -13 /root/before /root/after)
gone=$(comm -23 /root/before /root/after)
if [ -z "$left" ]; then
	ok "purge left nothing behind (no path that was not there before, /run and /var/lib included)"
else
	bad "left after purge: $(echo $left)"
fi
[ -z "$gone" ] || echo "(paths gone since before the install, none of them mplace's: $(echo $gone))"
for d in /var/lib/mplace /run/mplace; do
	[ ! -e "$d" ] || bad "$d is left after purge"
done
echo "system state at the end: $(systemctl is-system-running 2>&1)"
echo "inside: done"
