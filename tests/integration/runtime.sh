#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace-runtime's logic on this host, with a stand-in for the real runtime
# that records its arguments (the system guest's containers test runs Debian's
# crun and runc): arguments passed through exactly, a bundle without
# annotations untouched, one with annotations rewritten (agent mount,
# LD_PRELOAD first, the compiled policies and their source, cpu.mems), bad
# annotations refused before the runtime runs, the runtime chosen by
# MPLACE_RUNTIME or by the name mplace-runtime-NAME.
# Usage: runtime.sh MPLACE
set -u
mplace=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
ln -s "$(realpath "$mplace")" "$tmp/mplace-runtime"
ln -s "$(realpath "$mplace")" "$tmp/mplace-runtime-fake"
printf '#!/bin/sh\nprintf "%%s\\n" "$0" "$@" >"%s/args"\nenv >"%s/env"\nexit 7\n' "$tmp" "$tmp" >"$tmp/fake"
chmod +x "$tmp/fake"
export PATH=$tmp:$PATH
mkdir "$tmp/b"
plain='{"ociVersion": "1.0.2",  "process": {"args": ["/usr/bin/python3"], "env": ["PATH=/usr/bin"]}, "annotations": {"org.example": "x"}}'
printf '%s' "$plain" >"$tmp/b/config.json"

# ---- pass-through
MPLACE_RUNTIME=fake "$tmp/mplace-runtime" --root /r --log=/l create --bundle "$tmp/b" --pid-file p 'id 1'
r=$?
want=$(printf '%s\n' "$tmp/fake" --root /r --log=/l create --bundle "$tmp/b" --pid-file p 'id 1')
[ $r = 7 ] && [ "$(cat "$tmp/args")" = "$want" ] && ok "the runtime's arguments and exit status, exactly" ||
	bad "exit $r, args: $(cat "$tmp/args")"
[ "$(cat "$tmp/b/config.json")" = "$plain" ] && ok "no annotation of ours: config.json untouched" || bad "rewritten"
"$tmp/mplace-runtime-fake" state x
[ "$(head -1 "$tmp/args")" = "$tmp/fake" ] && ok "mplace-runtime-NAME runs NAME" ||
	bad "runtime by name: $(head -1 "$tmp/args")"

# ---- annotations
printf '%s\n' '{"process": {"args": ["/usr/bin/python3"], "env": ["PATH=/usr/bin", "LD_PRELOAD=/lib/other.so"]},' \
	'"annotations": {"io.mplace.heap": "bind:0", "io.mplace.allow": "0"}, "linux": {"cgroupsPath": "/c1"}}' \
	>"$tmp/b/config.json"
(cd "$tmp/b" && MPLACE_RUNTIME=fake LD_PRELOAD= "$tmp/mplace-runtime" create c1)
grep -qE '^(MPLACE_AGENT_|LD_PRELOAD=.)' "$tmp/env" && bad "the runtime itself got the container's agent: $(grep -E '^(MPLACE|LD_)' "$tmp/env")" ||
	ok "the runtime runs with the environment the wrapper was given, not the container's"
check='
import json, sys
c = json.load(open(sys.argv[1]))
env = dict(e.split("=", 1) for e in c["process"]["env"])
assert env["LD_PRELOAD"] == "/.mplace/libmplace-preload.so /lib/other.so", env["LD_PRELOAD"]
assert env["MPLACE_AGENT_HEAP"].startswith("mplace-compiled/1 mode=bind "), env
assert env["MPLACE_AGENT_SOURCE_HEAP"].startswith("bind:0") and env["MPLACE_AGENT_SOURCE_HEAP"].endswith("(container annotations)"), env["MPLACE_AGENT_SOURCE_HEAP"]
m = [m for m in c["mounts"] if m["destination"] == "/.mplace/libmplace-preload.so"]
assert len(m) == 1 and m[0]["source"].endswith("libmplace-preload.so") and "ro" in m[0]["options"], m
assert c["linux"]["resources"]["cpu"]["mems"] == "0", c["linux"]
assert c["linux"]["cgroupsPath"] == "/c1"
'
if out=$(python3 -c "$check" "$tmp/b/config.json" 2>&1); then
	ok "annotated (bundle = current directory): agent mounted read-only, LD_PRELOAD first, heap policy and its source, cpu.mems"
else
	bad "annotated config.json: $out"
fi

# ---- refused before the runtime runs
for a in '"io.mplace.hep": "bind:0"' '"io.mplace.heap": "bnd:0"' '"io.mplace.allow": "0-x"' '"io.mplace.heap": ""' \
	'"io.mplace.allow": "99", "io.mplace.heap": "bind:0 strict"'; do
	printf '{"process": {"args": ["/bin/true"]}, "annotations": {%s}}' "$a" >"$tmp/b/config.json"
	cp "$tmp/b/config.json" "$tmp/before.json"
	rm -f "$tmp/args"
	out=$(MPLACE_RUNTIME=fake "$tmp/mplace-runtime" run -b "$tmp/b" x 2>&1)
	r=$?
	key=$(sed 's/^"\([^"]*\)".*/\1/' <<<"$a")
	if [ $r != 0 ] && [ $r != 7 ] && [ ! -e "$tmp/args" ] && grep -q "$key" <<<"$out" &&
		cmp -s "$tmp/b/config.json" "$tmp/before.json"; then
		ok "refused (exit $r), the runtime not run, config.json untouched: $(head -1 <<<"$out")"
	else
		bad "{$a}: exit $r, runtime ran: $([ -e "$tmp/args" ] && echo yes || echo no): $out"
	fi
done
exit $fail
