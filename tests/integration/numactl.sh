#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'mplace numactl' against the real numactl installed on this host:
# --hardware and --show byte for byte (free memory by pattern, it moves),
# memory options applied before exec as the real numactl --show observes
# them, the symlink name, and numactl-like errors.
# Usage: numactl.sh MPLACE
set -u
mplace=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if ! command -v numactl >/dev/null; then
	echo "skip: numactl is not installed (Debian package numactl)"
	exit 77
fi
real=$(command -v numactl)

# --hardware: node free memory moves between the two runs
"$mplace" numactl --hardware >"$tmp/ours" 2>&1 || bad "numactl --hardware failed"
"$real" --hardware >"$tmp/theirs" 2>&1
free_re='s/^(node [0-9]+ free:) [0-9]+ MB$/\1 N MB/'
if diff <(sed -E "$free_re" "$tmp/ours") <(sed -E "$free_re" "$tmp/theirs") >"$tmp/d"; then
	ok "--hardware equals numactl --hardware (free figures by pattern)"
else
	bad "--hardware differs:"; cat "$tmp/d"
fi
grep -qE '^node [0-9]+ free: [0-9]+ MB$' "$tmp/ours" || bad "no free line"

# --show, and with each memory option the real numactl's --show after exec
cmp -s <("$mplace" numactl --show) <("$real" --show) && ok "--show equals numactl --show" ||
	bad "--show differs: $(diff <("$mplace" numactl --show) <("$real" --show))"
for opts in "-m 0" "--membind=0" "-i all" "--interleave=0" "-p 0" "--preferred=0" "-l" "--localalloc" \
	"-P 0" "-b -m 0" "-N 0" "-C 0" "--physcpubind=0 -m 0" "-a -N all" "-m 0 -N 0 -C 0"; do
	# shellcheck disable=SC2086
	ours=$("$mplace" numactl $opts -- "$real" --show 2>&1)
	# shellcheck disable=SC2086
	theirs=$("$real" $opts "$real" --show 2>&1)
	if [ "$ours" = "$theirs" ]; then
		ok "numactl $opts -- numactl --show: same policy and binding after exec"
	else
		bad "numactl $opts: differs"; diff <(echo "$ours") <(echo "$theirs")
	fi
done
"$mplace" numactl -m 0 -- "$real" --show | grep -qx 'membind: 0 ' && ok "-m 0: the exec'd program sees 'membind: 0'" ||
	bad "-m 0 not in force after exec"
"$mplace" numactl -m 0 -- "$real" --show | grep -qx 'policy: bind' && ok "-m 0: policy bind after exec" ||
	bad "-m 0: not bind after exec"
# options apply in order: -s after -m shows the bind just set
"$mplace" numactl -m 0 -s | grep -qx 'policy: bind' && ok "-m 0 -s shows the bind it set" || bad "-m 0 -s"

# invoked through a symlink named numactl
ln -s "$(readlink -f "$mplace")" "$tmp/numactl"
cmp -s <("$tmp/numactl" --show) <("$real" --show) && ok "a symlink named numactl behaves as numactl" ||
	bad "symlink numactl --show differs"

# errors: exit 1, usage on stderr, like numactl
check_err() { # EXPECT_STDOUT_REGEX STDERR_REGEX ARGS...
	local out_re=$1 err_re=$2
	shift 2
	"$mplace" numactl "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	"$real" "$@" >"$tmp/rout" 2>"$tmp/rerr"
	local rrc=$?
	if [ $rc -ne "$rrc" ]; then
		bad "numactl $*: exit $rc, the real one $rrc"
	elif ! grep -qE "$err_re" "$tmp/err"; then
		bad "numactl $*: stderr lacks /$err_re/: $(head -3 "$tmp/err")"
	elif [ -n "$out_re" ] && ! grep -qxE "$out_re" "$tmp/out"; then
		bad "numactl $*: stdout lacks /$out_re/: $(cat "$tmp/out")"
	elif [ -n "$out_re" ] && ! grep -qxE "$out_re" "$tmp/rout"; then
		bad "numactl $*: the real numactl does not print /$out_re/ either: $(cat "$tmp/rout")"
	else
		ok "numactl $*: exit $rc$([ -n "$out_re" ] && echo ", '$(cat "$tmp/out")'")"
	fi
}
check_err '' '^usage: numactl' --no-such-option
check_err '' '^usage: numactl'
check_err '<9> is invalid' '^usage: numactl' -m 9 true
check_err '<abc> is invalid' '^usage: numactl' -m abc true
check_err '<0,1> is invalid' '^usage: numactl' -p 0,1 true
check_err '<4096> is invalid' '^usage: numactl' -C 4096 true
check_err '' '^numactl: Conflicting policies' -i 0 -m 0 true
check_err '' 'must be after shared memory' --touch
check_err '' 'without shared memory' -d
check_err '' '^numactl: --verify must be after shared memory' --verify
check_err '' 'shm related option --length for process' -L 1m true
check_err '' "execution of .no-such-command-here'" no-such-command-here
"$mplace" numactl -t true 2>"$tmp/err" && grep -q 'Strict flag for process ignored' "$tmp/err" &&
	ok "--strict for a process: warned and ignored" || bad "--strict for a process"

# --file: a policy on a tmpfs file, --touch, --dump and --dump-nodes as numactl prints them
shm=/dev/shm/mplace-numactl-test.$$
for args in "--length=64k --file $shm -m 0 --touch --dump-nodes" "--length=64k --file $shm -i 0 --dump" \
	"--length=8k --file $shm -l --dump" "--length=64k --file $shm -i 0 --verify --dump" \
	"--length=64k --file $shm -m 0 --verify --dump-nodes"; do
	rm -f "$shm"
	# shellcheck disable=SC2086
	ours=$("$mplace" numactl $args 2>&1)
	rc=$?
	rm -f "$shm"
	# shellcheck disable=SC2086
	theirs=$("$real" $args 2>&1)
	if [ $rc -eq 0 ] && [ "$ours" = "$theirs" ]; then
		ok "numactl $args: '$(echo "$ours" | head -1)'"
	else
		bad "numactl $args: exit $rc"; diff <(echo "$ours") <(echo "$theirs")
	fi
done
# --verify (numactl's shmtest uses it): a policy with nodes first, as numactl wants
for args in "--length=8k --file $shm --verify" "--length=8k --file $shm -l --verify"; do
	rm -f "$shm"
	# shellcheck disable=SC2086
	check_err '' '^numactl: Need a (policy first|mask) to verify' $args
done
# numactl 2.0.16 fails here (it mbinds the segment to node -1); ours prefers node 0
rm -f "$shm"
out=$("$mplace" numactl --length=8k --offset=8k --file "$shm" -p 0 --dump 2>&1)
[ "$out" = "0000000000002000-0000000000004000: preferred : 0 " ] && ok "--offset and -p on a file: '$out'" ||
	bad "--offset -p --dump: '$out'"
rm -f "$shm"
exit $fail
