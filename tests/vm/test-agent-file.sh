#!/bin/sh
# In a guest with several nodes: file:GLOB for reads.  A file on a real
# block device (brd + ext4, so dropping the page cache really drops it) is
# read by Debian's cat (open), python3 (open) and md5sum (fopen) under
# mplace run --file GLOB=bind:N, and every page of its page cache is then
# asked for its node from outside (test-agent-file where).  A baseline read
# without the policy must NOT pass the same check (the check can fail), a
# file cached elsewhere beforehand is reported, and moved with 'migrate'.
# Usage: test-agent-file.sh MPLACE AGENT HELPER
set -u
mplace=$1 agent=$2 helper=$3
export MPLACE_AGENT_PATH=$agent
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
drop() { sync; echo 1 >/proc/sys/vm/drop_caches; }

nodes=$(ls -d /sys/devices/system/node/node* | sed 's/.*node//' | sort -n | tr '\n' ' ')
echo "nodes: $nodes"
set -- $nodes
[ $# -ge 3 ] || { echo "SKIP: needs 3 nodes or more (have $nodes)"; exit 77; }
# a node without CPUs (2s-cxl: 2), so nothing lands there by accident
N=2
grep -q '[0-9]' /sys/devices/system/node/node$N/cpulist && { echo "SKIP: node $N has CPUs"; exit 77; }

modprobe brd rd_nr=1 rd_size=65536 || { echo "FAIL: modprobe brd"; exit 1; }
mkfs.ext4 -q -F /dev/ram0 || { echo "FAIL: mkfs.ext4"; exit 1; }
mkdir -p /mnt/f && mount -t ext4 /dev/ram0 /mnt/f || { echo "FAIL: mount"; exit 1; }
head -c 8388608 /dev/urandom >/mnt/f/xdata
drop
sum=$(md5sum </mnt/f/xdata)
# where NAME NODES: every page of xdata cached and on NODES
where() {
	out=$("$helper" where /mnt/f/xdata "$2")
	rc=$?
	echo "  $1: $out"
	return $rc
}

# ---- baseline: without a file policy the cache is on the reader's node
drop
/usr/bin/cat /mnt/f/xdata >/dev/null
if where baseline $N; then bad "baseline: the check passed without the policy (it cannot fail?)"; else
	ok "baseline: without --file the pages are not on node $N"; fi

run() { "$mplace" run --no-config --log --file "/mnt/f/x*=bind:$N" "$@"; }

# ---- cat: open + read
drop
run -- /usr/bin/cat /mnt/f/xdata >/dev/null 2>/tmp/err
cat /tmp/err
where cat $N && ok "cat: every page of the file on node $N" || bad "cat: pages elsewhere"

# ---- python3: open() + read()
drop
run -- /usr/bin/python3 -c 'import sys; sys.stdout.write(str(len(open("/mnt/f/xdata", "rb").read())))' >/tmp/out
[ "$(cat /tmp/out)" = 8388608 ] && ok "python3 read the whole file" || bad "python3 read: $(cat /tmp/out)"
where python3 $N && ok "python3: every page of the file on node $N" || bad "python3: pages elsewhere"

# ---- md5sum: fopen (glibc's fopen does not go through the exported open)
drop
got=$(run -- /usr/bin/md5sum /mnt/f/xdata | cut -d' ' -f1)
[ "$got  -" = "$sum" ] && ok "md5sum: same sum" || bad "md5sum: '$got' vs '$sum'"
where md5sum $N && ok "md5sum (fopen): every page of the file on node $N" || bad "md5sum (fopen): pages elsewhere"

# ---- a relative path through fopen, and the task policy restored after it
drop
fr=$(cd /mnt/f && "$mplace" run --no-config --log --policy interleave:0-1 --file "/mnt/f/x*=bind:$N" -- "$helper" fread xdata)
echo "$fr" | sed 's/^/  fread: /'
where fread-relative $N && ok "fopen of a relative path: pages on node $N" || bad "fopen relative: pages elsewhere"
echo "$fr" | grep -qx 'task-policy 3 3' && ok "task policy interleave:0-1 restored after the read" ||
	bad "task policy after the read: $(echo "$fr" | grep task-policy)"

# ---- cached elsewhere first: reported; with migrate, moved
drop
/usr/bin/cat /mnt/f/xdata >/dev/null
run -- /usr/bin/cat /mnt/f/xdata 2>&1 >/dev/null | tee /tmp/err
grep -q 'already in the page cache on other nodes' /tmp/err && ok "pages cached elsewhere are reported" ||
	bad "no report of pages cached elsewhere"
"$mplace" run --no-config --log --file "/mnt/f/x*=bind:$N migrate" -- /usr/bin/cat /mnt/f/xdata 2>&1 >/dev/null |
	tee /tmp/err
where migrate $N && ok "migrate: the cached pages moved to node $N" || bad "migrate: pages elsewhere"

umount /mnt/f
exit $fail
