#!/bin/bash
# mplace resolve and explain against fixture machines: the acceptance cases
# of the foundation, exit codes, JSON shape, and the other output forms.
# Usage: resolve.sh MPLACE SOURCE_DIR
set -u
m=$1 src=$2 topo=$src/tests/data/topo
fails=0 n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

t() { # name, expected exit status, command... ; stdout in $tmp/out, stderr in $tmp/err
	local name=$1 want=$2; shift 2
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $name: exit $got, want $want"; sed 's/^/  stderr: /' "$tmp/err"; fails=$((fails + 1)); return 1
	fi
	return 0
}
py() { # name, python assertion over j (stdout parsed as JSON) and err (stderr text)
	local name=$1 expr=$2
	if ! python3 -c "
import json, sys
j = json.load(open('$tmp/out'))
err = open('$tmp/err').read()
assert $expr, (j if not isinstance(j, dict) else {k: j[k] for k in j if k != 'trace'})
" 2>"$tmp/pyerr"; then
		echo "FAIL: $name: $expr"; tail -3 "$tmp/pyerr"; fails=$((fails + 1))
	fi
}
has() { # name, file, fixed string
	if ! grep -qF -- "$3" "$2"; then
		echo "FAIL: $1: no '$3' in:"; sed 's/^/  /' "$2"; fails=$((fails + 1))
	fi
}

# the DRAM nodes of the CXL machine, weighted by HMAT bandwidth
t cxl-fast 0 "$m" resolve --sysfs-root "$topo/2s-cxl" --no-config 'interleave:tier:fast weights=auto' --json &&
	py cxl-fast "j['mode'] == 'weighted-interleave' and j['nodes'] == [0, 1] and j['weights'] == {'0': 1, '1': 1} and j['strict'] is False and j['warnings'] == []"
# over every node the weights follow bandwidth: DRAM 4, CXL 1 (100 vs 25 GB/s in the fixture)
t cxl-all 0 "$m" resolve --sysfs-root "$topo/2s-cxl" --cgroup / --no-config 'interleave:all weights=auto' --json &&
	py cxl-all "j['nodes'] == [0, 1, 2, 3] and j['weights'] == {'0': 4, '1': 4, '2': 1, '3': 1}"
t one-node 0 "$m" resolve --sysfs-root "$topo/1n" --no-config 'interleave:tier:fast weights=auto' --json &&
	py one-node "j['nodes'] == [0]"
# a strict policy naming a node that is not there: exit 1, the node named, nothing on stdout
t strict-5 1 "$m" resolve --sysfs-root "$topo/2s" --no-config 'bind:5 strict'
has strict-5 "$tmp/err" "mplace: error: node 5 does not exist"
[ -s "$tmp/out" ] && { echo "FAIL: strict-5: stdout not empty"; fails=$((fails + 1)); }
# the same without strict falls back and warns
t nonstrict-5 0 "$m" resolve --sysfs-root "$topo/2s" --cgroup / --no-config 'bind:5' --json &&
	py nonstrict-5 "j['nodes'] == [0] and any('node 5' in w for w in j['warnings'])"
# the JSON has every documented member
t json-shape 0 "$m" resolve --sysfs-root "$topo/2s-cxl" --cgroup / --no-config 'bind:0-1 order=2M' --json &&
	py json-shape "all(k in j for k in ('mode','nodes','strict','weights','order','fallback','warnings','trace')) and j['order'] == '2M' and j['fallback'] == [2, 3]"
# without --cgroup, the recorded process's own cgroup applies (db.service: mems 0-1),
# and the nodes it refuses are named with the reason
t own-cgroup 0 "$m" resolve --sysfs-root "$topo/2s-cxl" --no-config 'interleave:all' --json &&
	py own-cgroup "j['nodes'] == [0, 1] and any('nodes 2-3 are outside' in w and 'cpuset.mems of /system.slice/db.service' in w for w in j['warnings'])"
# a cgroup v1 cpuset (a docker container on the two-socket machine) restricts to node 1
t v1-cgroup 1 "$m" resolve --sysfs-root "$topo/2s" --no-config 'bind:0 strict'
has v1-cgroup "$tmp/err" "node 0 is outside the allowed nodes 1 (cpuset.mems of /docker/4f1c)"
# a configuration: the cgroup's allow refuses node 2, and the error names where it was set
cat >"$tmp/c.conf" <<'CONF'
[system]
policy = interleave:all

[cgroup /db.slice]
allow = 0-1

[exe /usr/bin/postgres]
heap = bind:tier:fast
CONF
t conf-heap 0 "$m" resolve --sysfs-root "$topo/2s-cxl" --config "$tmp/c.conf" --cgroup /db.slice/pg.service --exe /usr/bin/postgres --kind heap --json &&
	py conf-heap "j['mode'] == 'bind' and j['nodes'] == [0, 1] and j['allowed'] == [0, 1] and [s['scope'] for s in j['trace'] if s['scope'] != 'resolve'] == ['system', 'cgroup /db.slice', 'exe /usr/bin/postgres']"
t conf-refuse 1 "$m" resolve --sysfs-root "$topo/2s-cxl" --config "$tmp/c.conf" --cgroup /db.slice/pg.service 'bind:2 strict'
has conf-refuse "$tmp/err" "node 2 is outside the allowed nodes 0-1 (set by cgroup /db.slice at $tmp/c.conf:5:9)"
t explain 0 "$m" explain --sysfs-root "$topo/2s-cxl" --config "$tmp/c.conf" --cgroup /db.slice/pg.service --exe /usr/bin/postgres --kind heap
has explain "$tmp/out" "2. cgroup /db.slice  ($tmp/c.conf:5:9)"
has explain "$tmp/out" "narrows allowed nodes to 0-1"
has explain "$tmp/out" "result: bind:0-1"
# other forms
t as-numactl 0 "$m" resolve --sysfs-root "$topo/2s" --cgroup / --no-config 'bind:0-1' --as numactl
has as-numactl "$tmp/out" "--membind=0-1"
t as-systemd-pm 1 "$m" resolve --sysfs-root "$topo/2s" --no-config 'prefer-many:0-1' --as systemd
t as-oci 0 "$m" resolve --sysfs-root "$topo/2s" --cgroup / --no-config 'interleave:0-1 static' --as oci &&
	py as-oci "j['mode'] == 'MPOL_INTERLEAVE' and j['nodes'] == '0-1' and 'MPOL_F_STATIC_NODES' in j.get('flags', [])"
# usage errors exit 2; a policy that does not parse exits 1 with its column
t usage 2 "$m" resolve --bogus
t usage-as 2 "$m" resolve --as nope
t bad-policy 1 "$m" resolve --sysfs-root "$topo/2s" --no-config 'bind:0-1 strct'
has bad-policy "$tmp/err" "policy:10:"
t no-root 1 "$m" resolve --sysfs-root "$tmp/nonexistent" --no-config bind:0

echo "$((n - fails)) of $n cases passed"
[ $fails = 0 ]
