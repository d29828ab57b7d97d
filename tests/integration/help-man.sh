#!/bin/bash
# Every subcommand's --help and its man page name the same long options, and
# the top-level --help lists the commands its man page describes.
# Usage: help-man.sh MPLACE SOURCE_DIR
set -u
mplace=$1 src=$2
fail=0
opts_help() { "$mplace" "$@" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
opts_man() { sed 's/\\-/-/g' "$1" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
for pair in topo:mplace-topo.1 check:mplace-check.1 resolve:mplace-resolve.1 explain:mplace-resolve.1 show:mplace-show.1 plot:mplace-plot.1 top:mplace-top.1 numactl:mplace-numactl.1 run:mplace-run.1 set:mplace-set.1 status:mplace-status.1 reset:mplace-reset.1; do
	cmd=${pair%%:*} page=$src/doc/man/${pair#*:}
	if [ ! -f "$page" ]; then
		echo "FAIL: no man page $page for '$cmd'"; fail=1; continue
	fi
	d=$(diff <(opts_help "$cmd") <(opts_man "$page"))
	if [ -n "$d" ]; then
		echo "FAIL: 'mplace $cmd --help' (<) and ${page##*/} (>) differ:"; echo "$d"; fail=1
	else
		echo "ok: mplace $cmd --help matches ${page##*/}"
	fi
done
# the daemon, when it is built: mplaced --help and mplaced(8)
mplaced=$(dirname "$mplace")/../daemon/mplaced
if [ -x "$mplaced" ]; then
	d=$(diff <("$mplaced" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u) <(opts_man "$src/doc/man/mplaced.8"))
	if [ -n "$d" ]; then
		echo "FAIL: 'mplaced --help' (<) and mplaced.8 (>) differ:"; echo "$d"; fail=1
	else
		echo "ok: mplaced --help matches mplaced.8"
	fi
fi
cmds_help=$("$mplace" --help | awk '/^Commands:/{on=1;next} on&&/^  [a-z]/{print $1}' | sort)
cmds_man=$(awk '/^\.SH COMMANDS/{on=1;next} /^\.SH/{on=0} on&&/^\.B [a-z]+$/{print $2}' "$src/doc/man/mplace.1" | sort)
if [ "$cmds_help" != "$cmds_man" ]; then
	echo "FAIL: commands in 'mplace --help' and mplace.1 differ:"; diff <(echo "$cmds_help") <(echo "$cmds_man"); fail=1
else
	echo "ok: mplace --help lists the commands of mplace.1"
fi
exit $fail
