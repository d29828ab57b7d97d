#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the 2s-cxl guest: mplace numactl's memory options are in force in the
# program it execs (pages checked one by one), --hardware lists the four
# nodes with the topology's distances (and equals the real numactl where it
# was copied in), and mplace show reports per range what move_pages finds.
# With the agent: another process's requested stack policy and its pages
# as show reports them equal a move_pages query of that process.
# Usage: test-show.sh MPLACE TEST-SHOW [AGENT]
set -u
mplace=$1 prog=$2 agent=${3:-}
fail=0
tmp=$(mktemp -d)
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if [ ! -d /sys/devices/system/node/node3 ]; then
	echo "SKIP: this test wants the 2s-cxl topology (four nodes)"
	exit 77
fi

# memory options, placed page by page
"$mplace" numactl --interleave=0,1 -- "$prog" cycle 0,1 || bad "--interleave=0,1: pages do not alternate"
"$mplace" numactl -i 2,3 -- "$prog" cycle 2-3 || bad "-i 2,3: pages do not alternate"
"$mplace" numactl --membind=2 -- "$prog" on 2 || bad "--membind=2: pages not all on node 2"
"$mplace" numactl -m 3 -N 1 -- "$prog" on 3 || bad "-m 3 -N 1: pages not all on node 3"
"$mplace" numactl --preferred=3 -- "$prog" on 3 || bad "--preferred=3: pages not on node 3"
# weighted interleave: the kernel's (6.9+) with its default weights of 1
if [ -e /sys/kernel/mm/mempolicy/weighted_interleave ]; then
	"$mplace" numactl -w 0,1 -- "$prog" cycle 0,1 || bad "-w 0,1: pages do not alternate"
else
	"$mplace" numactl -w 0,1 -- true 2>"$tmp/err"
	[ $? = 1 ] && grep -q "no weighted interleave" "$tmp/err" && ok "-w on $(uname -r): '$(cat "$tmp/err")'" ||
		bad "-w on a kernel without weighted interleave: $(cat "$tmp/err")"
fi
ln -s "$(readlink -f "$mplace")" "$tmp/numactl"
"$tmp/numactl" --membind=1 "$prog" on 1 || bad "through a symlink named numactl: pages not on node 1"

# --show after exec, as the exec'd program itself reports it
out=$("$mplace" numactl --interleave=0,1 -N 1 -- "$mplace" numactl --show)
echo "$out" | sed 's/^/  /'
echo "$out" | grep -qx 'policy: interleave' && echo "$out" | grep -qx 'interleavemask: 0 1 ' &&
	echo "$out" | grep -qx 'physcpubind: 2 3 ' && echo "$out" | grep -qx 'nodebind: 1 ' &&
	ok "--show after exec: interleave over 0 1, CPUs 2 3 of node 1" || bad "--show after exec"

# --hardware: four nodes, the CPUs and the distances of the topology
"$mplace" numactl --hardware >"$tmp/hw" || bad "--hardware failed"
sed 's/^/  /' "$tmp/hw"
cat >"$tmp/want" <<'HW'
available: 4 nodes (0-3)
node 0 cpus: 0 1
node 1 cpus: 2 3
node 2 cpus:
node 3 cpus:
node distances:
node   0   1   2   3 
  0:  10  21  24  34 
  1:  21  10  34  24 
  2:  24  34  10  44 
  3:  34  24  44  10 
HW
grep -v -e ' size: ' -e ' free: ' "$tmp/hw" | diff "$tmp/want" - >"$tmp/d" &&
	ok "--hardware: 4 nodes, their CPUs and the topology's distances" || { bad "--hardware differs"; cat "$tmp/d"; }
[ "$(grep -cE '^node [0-3] (size|free): [0-9]+ MB$' "$tmp/hw")" = 8 ] && ok "--hardware: size and free of each node" ||
	bad "--hardware: size/free lines"
if command -v numactl >/dev/null 2>&1 && [ "$(command -v numactl)" != "$tmp/numactl" ]; then
	numactl --hardware | sed -E 's/^(node [0-9]+ free:) [0-9]+ MB$/\1 N/' >"$tmp/real"
	sed -E 's/^(node [0-9]+ free:) [0-9]+ MB$/\1 N/' "$tmp/hw" | diff - "$tmp/real" >"$tmp/d" &&
		ok "--hardware equals the real numactl's here" || { bad "--hardware differs from numactl"; cat "$tmp/d"; }
	for opts in "-m 2" "-i 0,1" "-p 3" "-N 1" "-P 2-3"; do
		a=$("$mplace" numactl $opts -- numactl --show 2>&1)
		b=$(numactl $opts numactl --show 2>&1)
		[ "$a" = "$b" ] && ok "numactl $opts -- numactl --show: same as the real numactl" ||
			{ bad "numactl $opts: differs"; echo "$a"; echo "--"; echo "$b"; }
	done
fi

# mplace show against the program's own per-page query
"$prog" show "$mplace" || bad "mplace show and move_pages disagree"
if [ -n "$agent" ]; then
	MPLACE_AGENT_PATH=$agent "$mplace" run --no-config --stack bind:1 -- "$prog" pause &
	runner=$!
	i=0
	while ! grep -q "@mplace-agent.$runner\$" /proc/net/unix && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	"$prog" agent "$mplace" "$runner" stack bind:1 1 || bad "show of a process under the agent"
	kill "$runner"
	wait "$runner" 2>/dev/null
fi
"$mplace" show --pid 1 >"$tmp/s1" 2>&1 && ok "mplace show --pid 1 (init)" || { bad "show --pid 1"; cat "$tmp/s1"; }

rm -rf "$tmp"
exit $fail
