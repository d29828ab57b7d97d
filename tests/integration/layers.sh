#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The layers of lib/ and who may call what (doc/design.md, "Layers"), as
# grep can check it:
#  - the memory-policy system calls are issued in lib/kernel/sys.c only, and
#    sys.h is included only by the door (kernel/place.c) and the machine's
#    readers (machine/probe.c, machine/procmem.c): never by tools/ or agent/;
#  - tools/, agent/ and daemon/ make no memory-policy system call of their own;
#  - each folder of lib/ includes only the layers below it.
# Usage: layers.sh SOURCE_DIR
set -u
cd "$1" || exit 1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# 1. sys.h: the door and the readers, nowhere else in the product
allowed="lib/kernel/place.c lib/kernel/sys.c lib/machine/probe.c lib/machine/procmem.c"
got=$(grep -rlE '#include "(kernel/)?sys\.h"' lib tools agent daemon examples | sort | tr '\n' ' ')
[ "$got" = "$(tr ' ' '\n' <<<"$allowed" | sort | tr '\n' ' ')" ] &&
	ok "sys.h is included only by: $allowed" || bad "sys.h is included by: $got"

# 2. the raw wrappers are called only there (sys.c defines them)
got=$(grep -rlE --include='*.c' '\bmp_sys_[a-z_]+\(' lib tools agent daemon examples | sort | tr '\n' ' ')
[ "$got" = "$(tr ' ' '\n' <<<"$allowed" | sort | tr '\n' ' ')" ] &&
	ok "mp_sys_* is called only by the door and the readers" || bad "mp_sys_* is called by: $got"

# 3. no memory-policy system call made another way
got=$(grep -rnE 'SYS_(mbind|set_mempolicy|get_mempolicy|migrate_pages|move_pages|set_mempolicy_home_node)|__NR_(mbind|set_mempolicy|get_mempolicy|migrate_pages|move_pages)|#include <numaif\.h>|#include <numa\.h>' \
	lib tools agent daemon examples | grep -v '^lib/kernel/sys\.c:')
[ -z "$got" ] && ok "no memory-policy system call outside lib/kernel/sys.c" || bad "raw memory-policy calls: $got"

# 4. each layer includes only the layers below it
layer_ok() { # folder, allowed includes: folders with a slash, or headers (regex alternation)
	local bad_inc
	bad_inc=$(grep -HnoE '#include "[a-z]+/[a-z_]+\.h"' lib/"$1"/*.[ch] | grep -vE "#include \"($2)")
	[ -z "$bad_inc" ] && ok "lib/$1 includes only $2" || bad "lib/$1 reaches above itself: $bad_inc"
}
layer_ok basic 'basic/'
# core resolves against a description of the machine (topo.h's types and
# pure queries), never one it reads itself
layer_ok core 'basic/|core/|machine/topo\.h'
layer_ok machine 'basic/|core/|machine/|kernel/sys\.h'
layer_ok kernel 'basic/|core/|kernel/|machine/topo\.h'
layer_ok alloc 'basic/|core/|alloc/|kernel/place\.h|machine/topo\.h'
layer_ok wire 'basic/|core/|wire/'
for f in lib/core/*.c; do
	calls=$(grep -oE '\bmp_(topo|features|probe|cgroup|live)_[a-z_]+\(' "$f" | sort -u |
		grep -vE 'mp_topo_(distance|index|device|node|local_node_of)\(' | tr '\n' ' ')
	[ -z "$calls" ] || bad "$f reads the machine: $calls"
done
ok "lib/core uses the machine as data only (topo.h's pure queries)"

# 5. the pure core: no system call headers, no syscall()
got=$(grep -nE '<sys/(mman|syscall)\.h>|\bsyscall\(' lib/core/*.[ch] lib/basic/*.[ch])
[ -z "$got" ] && ok "lib/core and lib/basic make no system call" || bad "system calls in the core: $got"
exit $fail
