#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplaced's own logic on a fixture tree, without systemd (--no-systemd) and
# without a cgroup v2 kernel (the cgroup files are plain files here; the
# system guest's daemon test checks the real ones, page by page):
#  - a configuration with an error at start: nothing applied, the error with
#    file:line:col in status; fixed on disk, reloaded by inotify;
#  - [cgroup] allow= written to cpuset.mems with the controller enabled down
#    to it; [unit] drop-in with NUMAPolicy= and the agent's environment;
#  - mplace set: checked like the files (line, column, hint), refused for a
#    node the machine lacks, a key replacing the same key of the files,
#    --persist written to runtime.conf; unprivileged set refused, status
#    open to all;
#  - reset and reset --suspend; SIGTERM takes everything back; kill -9 and a
#    new start still take it back (the record of actions); keep = yes leaves
#    it in place.
# Usage: daemon.sh MPLACE MPLACED
set -u
mplace=$1 mplaced=$2
fail=0
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill -9 $dpid 2>/dev/null; rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
	echo "SKIP: needs root, setpriv and the user nobody"
	exit 77
fi
export MPLACED_SOCKET=$tmp/run/mplaced.sock
mkdir -p "$tmp"/{etc,state,run,sd,cg/bar.slice/inner}
: >"$tmp/cg/cgroup.subtree_control"
: >"$tmp/cg/bar.slice/cgroup.subtree_control"
: >"$tmp/cg/bar.slice/cpuset.mems" # what was there before the daemon: nothing of its own
: >"$tmp/cg/bar.slice/inner/cpuset.mems"
chmod 755 "$tmp" "$tmp/run"

start() {
	"$mplaced" --foreground --no-systemd --config-dir "$tmp/etc" --state-dir "$tmp/state" --run-dir "$tmp/run" \
		--systemd-dir "$tmp/sd" --cgroup-root "$tmp/cg" --agent /usr/lib/mplace-test-agent.so \
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
wait_field() { # EXPR VALUE: until field EXPR prints VALUE (5 s)
	for _ in $(seq 50); do
		[ "$(field "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
mems() { tr -d '\n' <"$tmp/cg/$1/cpuset.mems"; }
dropin=$tmp/sd/bar.service.d/50-mplace.conf

# ---- a bad configuration at start, then fixed on disk -------------------------
printf '[cgroup /bar.slice]\nallow = 0\n[unit bar.service]\npolicy = bind:0\nheap = bnd:0\n' >"$tmp/etc/mplace.conf"
start || exit 1
err=$(field 'd["daemon"]["config_error"]')
case $err in
*/etc/mplace.conf:5:8:*) ok "bad file at start reported: $err" ;;
*) bad "config_error: '$err'" ;;
esac
[ "$(field 'd["daemon"]["generation"]')" = 0 ] && [ "$(mems bar.slice)" = "" ] && [ ! -e "$dropin" ] &&
	ok "nothing applied from it" || bad "something was applied from a bad file"
sed -i 's/bnd:0/bind:0/' "$tmp/etc/mplace.conf"
wait_field 'd["daemon"]["generation"]' 1 && ok "fixed on disk: reloaded (inotify), generation 1" ||
	bad "no reload after the fix"
[ "$(mems bar.slice)" = 0 ] && grep -q cpuset "$tmp/cg/cgroup.subtree_control" &&
	ok "cpuset.mems 0, the cpuset controller enabled above it" || bad "cpuset: '$(mems bar.slice)', subtree_control '$(cat "$tmp/cg/cgroup.subtree_control")'"
if grep -q '^NUMAPolicy=bind' "$dropin" && grep -q 'MPLACE_AGENT_HEAP=mplace-compiled/1 mode=bind' "$dropin" &&
	grep -q 'LD_PRELOAD=/usr/lib/mplace-test-agent.so' "$dropin"; then
	ok "unit drop-in: NUMAPolicy=, the agent and its heap policy"
else
	bad "drop-in: $(cat "$dropin" 2>&1)"
fi

# ---- mplace set ---------------------------------------------------------------
out=$("$mplace" set --cgroup /bar.slice/inner alow=0 2>&1)
case $? in 1) ;; *) bad "a bad key was not an error" ;; esac
case $out in *"unknown key 'alow'"*"did you mean 'allow'"*) ok "set: bad key with its hint" ;; *) bad "set: $out" ;; esac
out=$("$mplace" set --cgroup /bar.slice/inner allow=7 2>&1) && bad "node 7 accepted" ||
	{ case $out in *7*) ok "set: a node the machine lacks is refused: $out" ;; *) bad "node 7: $out" ;; esac; }
"$mplace" set --cgroup /bar.slice/inner allow=0 >/dev/null && [ "$(mems bar.slice/inner)" = 0 ] &&
	ok "set: a new cgroup scope, in force at once" || bad "set inner: '$(mems bar.slice/inner)'"
[ ! -e "$tmp/state/runtime.conf" ] && ok "not persisted without --persist" || bad "runtime.conf written"
"$mplace" set --unit bar.service policy=interleave:0 --persist >/dev/null &&
	grep -q '^NUMAPolicy=interleave' "$dropin" && ! grep -q '^NUMAPolicy=bind' "$dropin" &&
	ok "set --persist: the key replaces the file's, the drop-in follows" || bad "drop-in after set: $(grep NUMA "$dropin")"
grep -q 'policy = interleave:0' "$tmp/state/runtime.conf" && ok "persisted in runtime.conf" ||
	bad "runtime.conf: $(cat "$tmp/state/runtime.conf" 2>&1)"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$mplace" set --cgroup /bar.slice allow=0 2>&1)
r=$?
[ $r = 1 ] && case $out in *"only root"*) true ;; *) false ;; esac && ok "nobody's set refused: $out" ||
	bad "nobody: exit $r: $out"
setpriv --reuid=65534 --regid=65534 --clear-groups "$mplace" status >/dev/null && ok "nobody may read the status" ||
	bad "nobody's status failed"
"$mplace" status --prometheus | grep -q '^mplace_config_generation ' && ok "status --prometheus" || bad "prometheus"

# ---- reset ---------------------------------------------------------------------
"$mplace" reset >/dev/null && [ ! -e "$tmp/state/runtime.conf" ] && [ "$(mems bar.slice/inner)" = "" ] &&
	grep -q '^NUMAPolicy=bind' "$dropin" && ok "reset: changes forgotten, the files' scopes enforced anew" ||
	bad "reset: inner '$(mems bar.slice/inner)', $(grep NUMA "$dropin" 2>&1)"
"$mplace" reset --suspend >/dev/null && [ "$(mems bar.slice)" = "" ] && [ ! -e "$dropin" ] &&
	[ "$(field 'len(d["actions"])')" = 0 ] && ok "reset --suspend: nothing in place" ||
	bad "suspend: cpuset.mems '$(mems bar.slice)', drop-in $([ -e "$dropin" ] && echo left || echo gone), $(field 'len(d["actions"])') actions"
kill -HUP $dpid
wait_field 'len(d["actions"])' 2 && ok "SIGHUP: enforced again" || bad "after SIGHUP: $(field 'd["actions"]')"

# ---- stop, kill -9, keep ---------------------------------------------------------
echo 1 >"$tmp/cg/bar.slice/cpuset.mems" # someone else changed it: a reload puts it right
kill -HUP $dpid
for _ in $(seq 50); do [ "$(mems bar.slice)" = 0 ] && break; sleep 0.1; done
[ "$(mems bar.slice)" = 0 ] && ok "a cpuset.mems changed behind its back is put right on reload" ||
	bad "cpuset.mems stays '$(mems bar.slice)'"
kill -9 $dpid
wait $dpid 2>/dev/null
[ -s "$tmp/run/actions" ] && ok "kill -9: the record of actions is there" || bad "no record after kill -9"
start || exit 1
kill -TERM $dpid
wait $dpid
[ "$(mems bar.slice)" = "" ] && [ ! -e "$dropin" ] && [ ! -e "$tmp/run/mplaced.sock" ] && [ ! -e "$tmp/run/actions" ] &&
	ok "after kill -9 and a new start, SIGTERM took everything back (cpuset.mems empty again)" ||
	bad "after stop: cpuset '$(mems bar.slice)', drop-in $( [ -e "$dropin" ] && echo left || echo gone), $(ls "$tmp/run")"
printf '[system]\nkeep = yes\n' >"$tmp/etc/conf.d.keep" # not a .conf in conf.d: ignored
mkdir -p "$tmp/etc/conf.d" && mv "$tmp/etc/conf.d.keep" "$tmp/etc/conf.d/keep.conf"
start || exit 1
kill -TERM $dpid
wait $dpid
[ -e "$dropin" ] && grep -q keep "$tmp/log" && ok "keep = yes: stopping leaves what is in place" || bad "keep = yes"
dpid=
[ $fail = 0 ] || { echo "--- daemon log"; sed 's/^/  /' "$tmp/log"; }
exit $fail
