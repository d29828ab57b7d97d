#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the guest (tests/vm/numactl-regress): numactl's own test scripts with
# `numactl` a symlink to mplace.  regress runs memhog under --interleave,
# --membind, --preferred and --localalloc and reads the kernel's per-node
# counters with numastat; it passes only when it prints ========SUCCESS and
# exits 0.  checkaffinity (--physcpubind, --cpunodebind against --show),
# checktopology (--hardware against sysfs) and bind_range (--all and the
# cpuset/affinity restriction) run too; each must exit 0; and --verify
# (used by numactl's shmtest) is checked on a tmpfs file.
# With EXPECT (a deliberately broken numactl, tests/vm/numactl-broken) the
# check is reversed: regress must fail, say ========FAILURE and print EXPECT;
# the other scripts are not run.
# Usage: numactl-regress.sh MPLACE TESTDIR [EXPECT]
set -u
mplace=$1 testdir=$2 expect=${3:-}
fail=0
work=$(mktemp -d)

# numactl's tests run programs from ${builddir}: numactl itself and
# test/pagesize (a program of numactl's build; here getconf says the same).
mkdir -p "$work/build/test" "$work/run"
ln -s "$mplace" "$work/build/numactl"
printf '#!/bin/sh\nexec getconf PAGESIZE\n' >"$work/build/test/pagesize"
chmod +x "$work/build/test/pagesize"
export builddir="$work/build" NUMACTL="$work/build/numactl"
# GNU grep (bind_range uses -P) before busybox's
export PATH="$work/build:/usr/bin:$PATH"
echo "numactl is $(readlink "$work/build/numactl"); $(uname -r); nodes: $(cat /sys/devices/system/node/online)"

# regress writes numastat snapshots to its current directory.
cd "$work/run" || exit 1
echo "--- test/regress"
"$testdir/regress" >"$work/regress.out" 2>&1
rc=$?
cat "$work/regress.out"
if [ -n "$expect" ]; then
	if [ $rc != 0 ] && grep -qx '========FAILURE' "$work/regress.out" &&
		grep -qF -- "$expect" "$work/regress.out"; then
		echo "ok: regress failed as it should (exit $rc, '$expect')"
		rm -rf "$work"
		exit 0
	fi
	echo "FAIL: regress did not fail with '$expect' (exit $rc)"
	exit 1
fi
if [ $rc = 0 ] && grep -qx '========SUCCESS' "$work/regress.out"; then
	echo "ok: regress (exit 0, ========SUCCESS)"
else
	echo "FAIL: regress exited $rc$(grep -qx '========SUCCESS' "$work/regress.out" || echo ' without ========SUCCESS')"
	fail=1
fi

# --verify, which numactl's shmtest uses (shmtest itself stops at its own
# --offset=2m --length=2m under numactl 2.0.16 too): silent and status 0 on
# pages placed by the policy; on pages an earlier bind left on node 0, a
# finding on stdout and status 1, as numactl.
f=/dev/shm/numactl-verify
rm -f "$f"
"$NUMACTL" --length=1m --file "$f" -i 0,1 --verify >"$work/out" 2>&1
rc=$?
if [ $rc = 0 ] && [ ! -s "$work/out" ]; then
	echo "ok: --verify on an interleaved file: silent, exit 0"
else
	echo "FAIL: --verify on an interleaved file: exit $rc, '$(cat "$work/out")'"
	fail=1
fi
rm -f "$f"
"$NUMACTL" --length=1m --file "$f" -m 0 --touch || echo "FAIL: -m 0 --touch on a file"
"$NUMACTL" --length=1m --file "$f" -i 0,1 --verify >"$work/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '^numactl verify [0-9a-f]*(1000): expected interleave node 1, got 0$' "$work/out"; then
	echo "ok: --verify on pages left on node 0: exit 1, '$(cat "$work/out")'"
else
	echo "FAIL: --verify on pages left on node 0: exit $rc, '$(cat "$work/out")'"
	fail=1
fi
rm -f "$f"

for t in checkaffinity checktopology bind_range; do
	echo "--- test/$t"
	"$testdir/$t"
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok: $t"
	else
		echo "FAIL: $t exited $rc"
		fail=1
	fi
done

rm -rf "$work"
exit $fail
