#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace check end to end: the acceptance sample's exact error line, exit codes
# 0/1/2, nothing on stdout on error, the JSON, the default file set under
# --root, the shipped sample configuration, and --help against the man page.
# Usage: check.sh PATH-TO-MPLACE
set -u
mplace=$(realpath "$1")
# the system interpreter: a version-manager shim can take seconds to start
py=$(command -v /usr/bin/python3 || command -v python3)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
data=$src/tests/data/conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run ARGS...: runs mplace in $tmp, sets $rc, $out, $err
run() {
	(cd "$tmp" && "$mplace" "$@" >"$tmp/.out" 2>"$tmp/.err")
	rc=$?
	out=$(cat "$tmp/.out")
	err=$(cat "$tmp/.err")
}

expect_rc() { # want description
	checks=$((checks + 1))
	[ "$rc" = "$1" ] || fail "$2: exit $rc, expected $1 (stderr: $err)"
}

expect_eq() { # got want description
	checks=$((checks + 1))
	[ "$1" = "$2" ] || fail "$3: got [$1], expected [$2]"
}

json_check() { # python-expression-over-j description  (reads $out)
	checks=$((checks + 1))
	printf '%s' "$out" | "$py" -c "
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if ($1) else 1)
" || fail "$2: JSON was: $out"
}

# ---- the acceptance test: an error on line 7, column 12 ------------------
cp "$data/error-7-12.conf" "$tmp/db.conf"
run check db.conf
expect_rc 1 "error-7-12"
expect_eq "$out" "" "stdout on error"
expect_eq "$(printf '%s\n' "$err" | sed -n 1p)" "mplace: error: db.conf:7:12: unknown mode 'interlave'" \
	"the error line"
expect_eq "$(printf '%s\n' "$err" | grep -c '^mplace: error: ')" 1 "exactly one error"
expect_eq "$(printf '%s\n' "$err" | sed -n 2p | cut -c1-6)" "hint: " "a hint follows the error"

run check --json db.conf
expect_rc 1 "error-7-12 --json"
expect_eq "$err" "" "stderr with --json"
json_check 'len(j) == 1 and j[0]["file"] == "db.conf" and j[0]["valid"] is False and j[0]["scopes"] == 0
	and j[0]["rules"] == 0 and len(j[0]["errors"]) == 1 and j[0]["errors"][0]["line"] == 7
	and j[0]["errors"][0]["col"] == 12 and "interlave" in j[0]["errors"][0]["message"]
	and isinstance(j[0]["errors"][0]["hint"], str)' "error-7-12 JSON"

run check -q db.conf
expect_rc 1 "--quiet still fails"
expect_eq "$out" "" "--quiet stdout on error"
expect_eq "$(printf '%s\n' "$err" | sed -n 1p)" "mplace: error: db.conf:7:12: unknown mode 'interlave'" \
	"--quiet still reports"

# ---- valid files -----------------------------------------------------------
cp "$src/etc/mplace.conf.example" "$tmp/example.conf"
run check example.conf
expect_rc 0 "the sample configuration"
expect_eq "$err" "" "stderr for the sample"
checks=$((checks + 1))
[[ "$out" =~ ^example\.conf:\ ok\ \(([0-9]+)\ scopes,\ ([0-9]+)\ rules\)$ ]] && [ "${BASH_REMATCH[1]}" -ge 5 ] ||
	fail "sample: [$out]"

run check "$data/good-db.conf" "$data/good-hpc.conf" "$data/good-device.conf"
expect_rc 0 "good files"
expect_eq "$(printf '%s\n' "$out" | grep -c ': ok (')" 3 "one ok line per file"

run check --quiet "$data/good-db.conf"
expect_rc 0 "--quiet valid"
expect_eq "$out" "" "--quiet prints nothing"

run check --json example.conf "$data/good-db.conf"
expect_rc 0 "--json valid"
json_check 'len(j) == 2 and all(f["valid"] is True and f["errors"] == [] and f["scopes"] > 0 and f["rules"] > 0
	for f in j) and j[0]["file"] == "example.conf"' "valid JSON"

# ---- invalid and unreadable files -------------------------------------------
run check "$data/good-db.conf" db.conf
expect_rc 1 "one bad file among good ones"
expect_eq "$out" "" "no ok lines when any file fails"

run check "$data/bad-many.conf"
expect_rc 1 "bad-many"
expect_eq "$(printf '%s\n' "$err" | grep -c '^mplace: error: ')" 6 "every error of bad-many is reported"

run check nope.conf
expect_rc 1 "missing file"
expect_eq "$err" "mplace: error: nope.conf: cannot read: No such file or directory" "missing file message"

run check --json nope.conf
expect_rc 1 "missing file --json"
json_check 'j[0]["valid"] is False and j[0]["errors"][0]["line"] == 0' "missing file JSON"

# ---- the default configuration under --root ------------------------------------
run check --root "$tmp/root"
expect_rc 0 "no default configuration"
mkdir -p "$tmp/root/etc/mplace/conf.d"
printf '[system]\npolicy = local\n' >"$tmp/root/etc/mplace/mplace.conf"
printf '[comm b]\nheap = local\n' >"$tmp/root/etc/mplace/conf.d/20-b.conf"
printf '[comm a]\nheap = local\nstack = local\n' >"$tmp/root/etc/mplace/conf.d/10-a.conf"
printf 'not read\n' >"$tmp/root/etc/mplace/conf.d/30-c.conf.rpmsave"
run check --root "$tmp/root"
expect_rc 0 "default configuration"
expect_eq "$out" "$tmp/root/etc/mplace/mplace.conf: ok (1 scope, 1 rule)
$tmp/root/etc/mplace/conf.d/10-a.conf: ok (1 scope, 2 rules)
$tmp/root/etc/mplace/conf.d/20-b.conf: ok (1 scope, 1 rule)" "default files in order"
printf '[comm c]\nheap = nowhere\n' >"$tmp/root/etc/mplace/conf.d/15-c.conf"
run check --root "$tmp/root"
expect_rc 1 "a bad file in conf.d"
expect_eq "$out" "" "stdout with a bad conf.d file"
expect_eq "$(printf '%s\n' "$err" | sed -n 1p | cut -d: -f1-5)" \
	"mplace: error: $tmp/root/etc/mplace/conf.d/15-c.conf:2:8" "the conf.d error's position"

# ---- the example in mplace.conf(5) is a valid configuration -----------------------
sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$src/doc/man/mplace.conf.5" | sed -n '/^\.nf/,/^\.fi/p' |
	sed '/^\.nf/d; /^\.fi/d; s/\\-/-/g' >"$tmp/man-example.conf"
run check man-example.conf
expect_rc 0 "the example in mplace.conf(5)"
checks=$((checks + 1))
[[ "$out" =~ \((4|[5-9]) ]] || fail "the man page example has the scopes it shows: [$out]"

# ---- usage ------------------------------------------------------------------------
run check --bogus db.conf
expect_rc 2 "unknown option"
expect_eq "$out" "" "stdout on usage error"
run check --root
expect_rc 2 "--root without DIR"
run check --root "$tmp/root" db.conf
expect_rc 2 "--root with FILE"
run check --help
expect_rc 0 "--help"
expect_eq "$(printf '%s\n' "$out" | sed -n 1p)" "Usage: mplace check [OPTIONS] [FILE]..." "usage line"

# ---- --help and the man page list the same long options -----------------------------
man=$src/doc/man/mplace-check.1
help_opts=$(printf '%s\n' "$out" | grep -o -- '--[a-z][a-z-]*' | sort -u)
man_opts=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | grep -o -- '\\-\\-[a-z][a-z-]*' | tr -d '\\' | sort -u)
expect_eq "$help_opts" "$man_opts" "long options in --help and in the man page's OPTIONS"
checks=$((checks + 1))
grep -q '^\.B mplace check$' "$man" || fail "man page SYNOPSIS"

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
