#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace-runtime, the OCI runtime wrapper (doc/containers.md), with Debian's
# real crun and runc in the system guest, every page checked from the host:
#  - a container (a root file system made here from the guest's /usr, a
#    python3 program that allocates 64 MiB of heap and 16 MiB of anonymous
#    memory) with io.mplace.heap=bind:3 and io.mplace.allow=2-3: every heap
#    page on node 3, every anonymous page of the container on nodes 2-3, the
#    container cgroup's cpuset.mems 2-3;
#  - mplace show --pid from the host reaches the agent in the container's
#    network namespace and lists its heap as requested and matched;
#  - the same bundle without annotations: config.json byte for byte as the
#    wrapper found it, and no agent in the container;
#  - a bad annotation: creation fails naming it, the real runtime never runs
#    (no container state, no cgroup);
#  - the wrapper's cost on container start, against the bare runtime;
#  - containerd: ctr run with the runc v2 shim running mplace-runtime, an
#    image imported from a tarball made in the test, the same placement.
# Usage: test-containers.sh (in the system guest; MPLACE_BUILD_DIR set)
set -u
build=$MPLACE_BUILD_DIR
mplace=$build/tools/mplace
pages=$build/tests/vm/test-agent-pages
tmp=$(mktemp -d /var/tmp/ct.XXXXXX)
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
wait_for() { # SECONDS COMMAND...
	local n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
# the wrapper is mplace under another name
ln -s "$mplace" "$tmp/mplace-runtime"
wrapper=$tmp/mplace-runtime

# ---- a bundle: the guest's /usr read-only, a program of our own ---------------
mkroot() { # DIR
	mkdir -p "$1"/{proc,dev,sys,tmp,etc,app}
	ln -s usr/bin "$1/bin"
	ln -s usr/lib "$1/lib"
	ln -s usr/lib64 "$1/lib64"
	mkdir -p "$1/usr"
	cat >"$1/app/alloc.py" <<'EOF'
import mmap, sys, time
heap = [bytearray(b"x" * (1 << 20)) for _ in range(64)]
anon = mmap.mmap(-1, 16 << 20)
for off in range(0, len(anon), 4096):
    anon[off] = 1
print("ready", flush=True)
if len(sys.argv) > 1:
    open(sys.argv[1], "w").write("ready\n")
time.sleep(600)
EOF
}
# bundle RUNTIME DIR ANNOTATIONS-JSON: config.json from the runtime's own spec
bundle() {
	mkdir -p "$2"
	mkroot "$2/rootfs"
	(cd "$2" && "$1" spec) || return 1
	python3 - "$2/config.json" "$3" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/usr/bin/python3", "/app/alloc.py"]
c["root"] = {"path": "rootfs", "readonly": True}
c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]})
a = json.loads(sys.argv[2])
if a:
    c["annotations"] = a
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
}
# anon_nodes PID: "node:pages ..." of its anonymous memory, by numa_maps
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

for rt in crun runc; do
	if ! command -v $rt >/dev/null; then
		echo "SKIP: $rt is not installed in the guest"
		continue
	fi
	echo "--- $rt $($rt --version | head -1)"
	b=$tmp/$rt-placed
	bundle $rt "$b" '{"io.mplace.heap": "bind:3", "io.mplace.allow": "2-3"}' || { bad "$rt spec"; continue; }
	id=placed-$rt
	(cd "$b" && MPLACE_RUNTIME=$rt "$wrapper" run "$id" >"$tmp/$id.out" 2>&1) &
	if wait_for 60 grep -q ready "$tmp/$id.out"; then
		pid=$($rt state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
		if out=$("$pages" "$pid" heap=bind:3 2>&1); then
			ok "$rt: every heap page of the container's python3 (pid $pid) on node 3"
		else
			bad "$rt: heap pages"
		fi
		echo "$out" | sed 's/^/  /'
		got=$(anon_nodes "$pid")
		outside=$(tr ' ' '\n' <<<"$got" | grep -vE '^[23]:' | grep -c .)
		[ "$outside" = 0 ] && ok "$rt: every anonymous page on nodes 2-3 ($got)" || bad "$rt: anonymous pages $got"
		cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
		mems=$(cat "/sys/fs/cgroup$cg/cpuset.mems" 2>/dev/null)
		[ "$mems" = 2-3 ] && ok "$rt: the container's cgroup ($cg) has cpuset.mems 2-3" || bad "$rt: cpuset.mems '$mems' of '$cg'"
		show=$("$mplace" show --pid "$pid" --json 2>&1)
		if python3 - "$show" <<'EOF'; then
import json, sys
d = json.loads(sys.argv[1])
heap = [r for r in d["ranges"] if r["kind"] == "heap"]
assert d["agent"] and heap, d.get("agent_state")
assert all(r["requested"].startswith("bind:3") and r["matches"] for r in heap), heap
assert "container annotations" in heap[0]["source"], heap[0]["source"]
EOF
			ok "$rt: mplace show from the host, through the container's network namespace: the heap requested bind:3 (container annotations), matched"
		else
			bad "$rt: show: $(echo "$show" | head -c 600)"
		fi
		$rt kill "$id" KILL
	else
		bad "$rt: the placed container did not get ready: $(tail -5 "$tmp/$id.out")"
	fi
	wait
	$rt delete -f "$id" >/dev/null 2>&1

	# ---- without annotations: untouched
	b=$tmp/$rt-plain
	bundle $rt "$b" '{}' || { bad "$rt spec"; continue; }
	cp "$b/config.json" "$tmp/plain.json"
	id=plain-$rt
	(cd "$b" && MPLACE_RUNTIME=$rt "$wrapper" run "$id" >"$tmp/$id.out" 2>&1) &
	if wait_for 60 grep -q ready "$tmp/$id.out"; then
		pid=$($rt state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
		cmp -s "$b/config.json" "$tmp/plain.json" && ok "$rt: without annotations, config.json byte for byte the same" ||
			bad "$rt: config.json changed"
		grep -q libmplace-preload /proc/$pid/maps && bad "$rt: an agent in the plain container" ||
			ok "$rt: no agent in the plain container"
		$rt kill "$id" KILL
	else
		bad "$rt: the plain container did not get ready: $(tail -5 "$tmp/$id.out")"
	fi
	wait
	$rt delete -f "$id" >/dev/null 2>&1

	# ---- a bad annotation: refused, nothing created
	b=$tmp/$rt-bad
	bundle $rt "$b" '{"io.mplace.heap": "bnd:3"}' || { bad "$rt spec"; continue; }
	id=bad-$rt
	out=$(cd "$b" && MPLACE_RUNTIME=$rt "$wrapper" run "$id" 2>&1)
	r=$?
	case $r:$out in
	[1-9]*:*io.mplace.heap*bnd*) ok "$rt: a bad annotation refused: $(echo "$out" | head -1)" ;;
	*) bad "$rt: bad annotation: exit $r: $out" ;;
	esac
	$rt state "$id" >/dev/null 2>&1 && bad "$rt: the refused container exists" || ok "$rt: no container state left"
	[ -z "$(find /sys/fs/cgroup -name "*$id*" 2>/dev/null)" ] && ok "$rt: no cgroup left" || bad "$rt: cgroup left"

	# ---- the wrapper's cost on start: create+start+delete of /bin/true, 5 each
	t=$tmp/$rt-t
	bundle $rt "$t" '{"io.mplace.heap": "bind:3"}' >/dev/null
	python3 - "$t/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/usr/bin/true"]
json.dump(c, open(sys.argv[1], "w"))
EOF
	cp "$t/config.json" "$t/orig.json"
	bare=0 wrapped=0
	for i in 1 2 3 4 5; do
		cp "$t/orig.json" "$t/config.json"
		s=$(date +%s%N)
		(cd "$t" && $rt run "t$i" >/dev/null 2>&1)
		bare=$((bare + $(date +%s%N) - s))
		$rt delete -f "t$i" >/dev/null 2>&1
		cp "$t/orig.json" "$t/config.json"
		s=$(date +%s%N)
		(cd "$t" && MPLACE_RUNTIME=$rt "$wrapper" run "w$i" >/dev/null 2>&1)
		wrapped=$((wrapped + $(date +%s%N) - s))
		$rt delete -f "w$i" >/dev/null 2>&1
	done
	echo "  $rt: run of /usr/bin/true: bare $((bare / 5000000)) ms, through mplace-runtime $((wrapped / 5000000)) ms" \
		"(ratio $(python3 -c "print('%.2f' % ($wrapped / $bare))"), mean of 5, emulated guest)"
done

# ---- containerd: ctr run with the runc v2 shim running mplace-runtime, an
# image imported from a tarball made here (OCI layout: one layer with the
# program and the links to /usr, which is bind-mounted from the guest; the
# native snapshotter, since the guest's root is itself an overlay)
if command -v ctr >/dev/null && systemctl start containerd.service 2>/dev/null &&
	wait_for 30 ctr version; then
	echo "--- containerd $(ctr version | sed -n 's/^ *Version: *//p' | tail -1)"
	mkroot "$tmp/img-root"
	python3 - "$tmp/img-root" "$tmp/image.tar" <<'EOF'
import hashlib, io, json, sys, tarfile
root, out = sys.argv[1], sys.argv[2]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    t.add(root, arcname=".")
layer = layer.getvalue()
def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data
ld, lb = blob(layer)
config = json.dumps({"architecture": "amd64", "os": "linux",
    "config": {"Cmd": ["/usr/bin/python3", "/app/alloc.py", "/out/ready"], "Env": ["PATH=/usr/bin"]},
    "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
cd, cb = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cb)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(lb)}]}).encode()
md, mb = blob(manifest)
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": len(mb), "annotations": {"io.containerd.image.name": "docker.io/library/mplace-test:1",
    "org.opencontainers.image.ref.name": "1"}}]}).encode()
with tarfile.open(out, "w") as t:
    for name, data in [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index),
                       ("blobs/sha256/" + ld[7:], lb), ("blobs/sha256/" + cd[7:], cb), ("blobs/sha256/" + md[7:], mb)]:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
EOF
	if ctr images import --snapshotter native "$tmp/image.tar" >"$tmp/import.out" 2>&1; then
		ok "containerd: the image imported from the test's tarball"
	else
		bad "ctr images import: $(cat "$tmp/import.out")"
	fi
	mkdir -p "$tmp/out"
	ctr run -d --null-io --snapshotter native --runc-binary "$wrapper" --annotation io.mplace.heap=bind:3 --annotation io.mplace.allow=2-3 \
		--mount "type=bind,src=/usr,dst=/usr,options=rbind:ro" --mount "type=bind,src=$tmp/out,dst=/out,options=rbind:rw" \
		docker.io/library/mplace-test:1 ctr-placed >"$tmp/ctr.out" 2>&1 || bad "ctr run: $(cat "$tmp/ctr.out")"
	if wait_for 60 test -f "$tmp/out/ready"; then
		pid=$(ctr task ls | awk '$1 == "ctr-placed" { print $2 }')
		if out=$("$pages" "$pid" heap=bind:3 2>&1); then
			ok "containerd: every heap page of the task's python3 (pid $pid) on node 3"
		else
			bad "containerd: heap pages"
		fi
		echo "$out" | sed 's/^/  /'
		got=$(anon_nodes "$pid")
		outside=$(tr ' ' '\n' <<<"$got" | grep -vE '^[23]:' | grep -c .)
		[ "$outside" = 0 ] && ok "containerd: every anonymous page on nodes 2-3 ($got)" || bad "containerd: anonymous pages $got"
	else
		bad "containerd: the task did not get ready: $(cat "$tmp/ctr.out"; ctr task ls)"
	fi
	ctr task kill -s KILL ctr-placed >/dev/null 2>&1
	wait_for 20 sh -c '! ctr task ls | grep -q "^ctr-placed .*RUNNING"'
	ctr task rm -f ctr-placed >/dev/null 2>&1
	ctr container rm ctr-placed >/dev/null 2>&1
else
	echo "SKIP: containerd does not run in the guest"
fi

rm -rf "$tmp"
exit $fail
