#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The installed tree is enough to build against: 'meson install' into a
# temporary DESTDIR, then every program in examples/ is compiled with nothing
# but what 'pkg-config --cflags --libs mplace' says (PKG_CONFIG_SYSROOT_DIR
# pointing into that tree), and run against the installed libmplace.so.
# Usage: installed.sh BUILD_DIR SOURCE_DIR     (CC: the compiler command)
set -u
build=$1 src=$2
cc=${CC:-cc}
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
if [ -n "${MPLACE_SANITIZED:-}" ]; then
	# a library built with -fsanitize needs its runtime in the program too,
	# which no flags from mplace.pc give (nor should they)
	echo "SKIP: a $MPLACE_SANITIZED build's library is not one a plain program can link"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

if ! meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$tmp/install.log" 2>&1; then
	bad "meson install --destdir failed:"; cat "$tmp/install.log"; exit 1
fi
mapfile -t pcs < <(find "$root" -name mplace.pc)
if [ ${#pcs[@]} != 1 ]; then
	bad "expected one mplace.pc in the installed tree, found ${#pcs[@]}: ${pcs[*]}"; exit 1
fi
ok "installed ${pcs[0]#"$root"}"
pcdir=$(dirname "${pcs[0]}")

# Only the installed tree's .pc files.  With a prefix of /usr (a package
# build) its include and library directories look like this machine's
# system ones, which a pkg-config may leave out (pkgconf 1.8 keeps them when
# a sysroot is set, others need telling): inside a sysroot they are not the
# system's.
pc() {
	PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH= \
		PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config "$@"
}
if ! flags=$(pc --cflags --libs mplace); then
	bad "pkg-config --cflags --libs mplace failed"; exit 1
fi
ok "pkg-config --cflags --libs mplace: ${flags//$root/DESTDIR}"
# (--variable gives the sysroot'ed path with pkgconf, the bare one with
# some others)
inroot() { echo "$root${1#"$root"}"; }
libdir=$(inroot "$(pc --variable=libdir mplace)")
[ -f "$(inroot "$(pc --variable=includedir mplace)")/mplace.h" ] ||
	bad "mplace.h is not in the includedir mplace.pc names"
# every -I and -L is inside the installed tree, so nothing of this machine's
# (or of the build tree) is what the examples build against
for f in $flags; do
	case $f in
	-I* | -L*) [[ ${f:2} == "$root"/* ]] || bad "pkg-config gives $f, outside the installed tree" ;;
	esac
done

n=0
for c in "$src"/examples/*.c; do
	name=$(basename "$c" .c)
	n=$((n + 1))
	# shellcheck disable=SC2086 # word splitting of the flags is the point
	if ! $cc -Wall -Wextra -Werror -o "$tmp/$name" "$c" $flags 2>"$tmp/$name.err"; then
		bad "examples/$name.c does not build with mplace.pc's flags:"; cat "$tmp/$name.err"; continue
	fi
	ok "examples/$name.c builds with only mplace.pc's flags"
	lib=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/$name" | awk '$1 ~ /^libmplace\.so/ {print $3}')
	[[ $lib == "$root"/* ]] && ok "$name loads the installed ${lib#"$root"}" ||
		bad "$name loads libmplace from '$lib', not from the installed tree"
	# a small run: the default policy on 8 MiB, every page checked
	if LD_LIBRARY_PATH=$libdir "$tmp/$name" 'interleave:all' 8M >"$tmp/$name.out" 2>&1; then
		ok "$name runs: $(grep '^verified' "$tmp/$name.out")"
	else
		bad "$name failed:"; cat "$tmp/$name.out"
	fi
done
[ $n -gt 0 ] || bad "no program in examples/"
exit $fail
