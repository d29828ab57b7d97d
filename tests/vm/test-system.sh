#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The system guest's own contract (tests/vm/run --system, doc/testing.md):
# systemd is PID 1 and has reached its default target, the topology's nodes
# are there, a unit can be started and stopped, systemd applies a unit's
# NUMAPolicy= (the kernel policy of its process, read from numa_maps), the
# cgroup v2 cpuset controller is usable through AllowedMemoryNodes=, and the
# programs the daemon and container tests need are in the root.
# Usage: test-system.sh MPLACE
set -u
mplace=$1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

[ "$(cat /proc/1/comm)" = systemd ] && ok "PID 1 is systemd" || bad "PID 1 is $(cat /proc/1/comm)"
state=$(systemctl is-system-running)
# 'starting' while this very unit runs (it is part of the start)
case $state in
running | starting | degraded) ok "system state: $state" ;;
*) bad "system state: $state" ;;
esac
systemctl --failed --no-legend | sed 's/^/  failed unit: /'
[ -d /sys/devices/system/node/node3 ] && ok "four nodes" || bad "nodes: $(ls /sys/devices/system/node | tr '\n' ' ')"
for p in python3 crun runc containerd systemd-run; do
	command -v "$p" >/dev/null && ok "$p is installed" || bad "no $p"
done
"$mplace" topo >/dev/null && ok "mplace runs" || bad "mplace does not run"

# a unit with NUMAPolicy=: systemd sets the task policy of its process
cat >/etc/systemd/system/mp-probe.service <<'EOF'
[Service]
ExecStart=/bin/sleep 300
NUMAPolicy=bind
NUMAMask=2
EOF
systemctl daemon-reload
systemctl start mp-probe.service
pid=$(systemctl show -P MainPID mp-probe.service)
sleep 0.5
if [ "${pid:-0}" -gt 0 ] && grep -q ' bind:2 ' /proc/"$pid"/numa_maps; then
	ok "NUMAPolicy=bind NUMAMask=2 is in force in the unit's process ($pid)"
else
	bad "unit's policy: pid ${pid:-none}, $(head -3 /proc/"${pid:-0}"/numa_maps 2>/dev/null)"
fi
systemctl stop mp-probe.service
[ "$(systemctl is-active mp-probe.service)" = inactive ] && ok "stopped" || bad "not stopped"

# a slice with AllowedMemoryNodes=: the cgroup's cpuset.mems
systemd-run --unit=mp-slice-probe --slice=mp-test.slice -p AllowedMemoryNodes=2-3 /bin/sleep 300 >/dev/null 2>&1
sleep 0.5
cg=$(systemctl show -P ControlGroup mp-slice-probe.service)
mems=$(cat "/sys/fs/cgroup$cg/cpuset.mems" 2>/dev/null)
[ "$mems" = 2-3 ] && ok "AllowedMemoryNodes=2-3 is cpuset.mems of $cg" || bad "cpuset.mems of '$cg': '$mems'"
systemctl stop mp-slice-probe.service
exit $fail
