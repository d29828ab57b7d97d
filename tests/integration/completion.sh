#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mplace's bash completion, driven as bash drives it (COMP_WORDS, COMP_CWORD,
# COMP_LINE, COMP_POINT set, the function called, COMPREPLY read): every
# subcommand of 'mplace --help' and every option of 'mplace CMD --help' is
# offered, and so are pids for --pid, the kinds of memory, policy modes and
# node-set terms, numactl's node lists, and the command after 'run --'.
# Usage: completion.sh MPLACE SOURCE_DIR
set -u
mplace=$1 src=$2
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
helpers=/usr/share/bash-completion/bash_completion
if [ ! -r "$helpers" ]; then
	echo "SKIP: bash-completion is not installed (scripts/deps installs it), and mplace's completion uses its helpers"
	exit 77
fi
# shellcheck source=/dev/null
. "$helpers"
# shellcheck source=../../tools/completion/mplace
. "$src/tools/completion/mplace"
# outside a completion bash refuses compopt; what it would set is not checked
compopt() { :; }

# complete LINE: the words as bash splits them with its default
# COMP_WORDBREAKS (at blanks; '=' and ':' are words of their own), the
# cursor at the end; COMPREPLY as the function leaves it, one per line, in
# $reply
complete_line() {
	local line=$1 w=() word= c i
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		case $c in
		' ') [ -z "$word" ] || w+=("$word"); word= ;;
		= | :) [ -z "$word" ] || w+=("$word"); w+=("$c"); word= ;;
		*) word+=$c ;;
		esac
	done
	w+=("$word")
	COMP_WORDS=("${w[@]}") COMP_CWORD=$((${#w[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line}
	COMPREPLY=()
	_mplace mplace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	reply=$(printf '%s\n' "${COMPREPLY[@]}")
}
# expect LINE WORD...: each WORD is among the completions of LINE
expect() {
	local line=$1 missing=() wd
	shift
	complete_line "$line"
	for wd in "$@"; do
		grep -qxF -- "$wd" <<<"$reply" || missing+=("$wd")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		bad "'$line<TAB>' does not offer: ${missing[*]} (offers: $(echo $reply))"
		return 1
	fi
}

# the subcommands, as 'mplace --help' lists them
mapfile -t cmds < <("$mplace" --help | awk '/^Commands:/{on=1;next} on&&/^  [a-z]/{print $1}')
[ ${#cmds[@]} -gt 5 ] || bad "found only ${#cmds[@]} commands in 'mplace --help'"
expect 'mplace ' "${cmds[@]}" --help --version && ok "'mplace <TAB>' offers all ${#cmds[@]} commands"

# every long option of each subcommand's --help (numactl's '--opt=' offered
# as such)
for cmd in "${cmds[@]}"; do
	mapfile -t opts < <("$mplace" "$cmd" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	[ ${#opts[@]} -gt 0 ] || { bad "'mplace $cmd --help' lists no option"; continue; }
	complete_line "mplace $cmd --"
	reply=$(sed 's/=$//' <<<"$reply")
	missing=()
	for o in "${opts[@]}"; do
		grep -qxF -- "$o" <<<"$reply" || missing+=("$o")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		bad "'mplace $cmd --<TAB>' lacks: ${missing[*]}"
	else
		ok "'mplace $cmd --<TAB>' offers its ${#opts[@]} options"
	fi
	# and nothing its --help does not have
	extra=$(comm -13 <(printf '%s\n' "${opts[@]}") <(grep -- '^--' <<<"$reply" | sort -u))
	[ -z "$extra" ] || bad "'mplace $cmd --<TAB>' offers options its --help does not list: $(echo $extra)"
done

# pids: this shell's among them, and only numbers
for line in 'mplace show --pid ' 'mplace set --pid ' 'mplace resolve --pid '; do
	expect "$line" "$$" && ! grep -qv '^[0-9]*$' <<<"$reply" && ok "'$line<TAB>' offers pids" ||
		bad "'$line<TAB>' offers more than pids"
done
# the kinds of memory
expect 'mplace resolve --kind ' heap stack text data anon file: shm shm: hugetlb mlocked kernel &&
	ok "'mplace resolve --kind <TAB>' offers the kinds of memory"
expect 'mplace resolve --as ' mplace numactl systemd oci mpol && ok "'--as <TAB>' offers the forms"
# policy modes, then node-set terms after the mode's colon, then after a comma
expect 'mplace run --heap ' default local bind: interleave: weighted-interleave: split: prefer-many: hbw gfp:dma32 &&
	ok "'mplace run --heap <TAB>' offers the modes and presets"
expect 'mplace run --heap inter' interleave: && ok "'--heap inter<TAB>' completes the mode"
terms=(all cpuset local cpu-nodes gpu-nodes tier:fast tier:slow best:bandwidth best:latency best:capacity near near:pci: dist\<= +)
nodes=()
for n in /sys/devices/system/node/node[0-9]*; do [ -d "$n" ] && nodes+=("${n##*/node}"); done
expect 'mplace run --heap bind:' "${terms[@]}" "${nodes[@]}" &&
	ok "'--heap bind:<TAB>' offers the node-set terms and the ${#nodes[@]} nodes"
expect 'mplace run --heap interleave:0,' 0,tier:fast 0,all && ok "'--heap interleave:0,<TAB>' offers terms after the comma"
expect 'mplace run --heap bind:tier:' fast slow && ok "'--heap bind:tier:<TAB>' offers the tiers"
expect 'mplace set --pid 1 he' heap= && ok "'mplace set --pid 1 he<TAB>' offers heap="
expect 'mplace set --pid 1 heap=bi' bind: && ok "'mplace set --pid 1 heap=bi<TAB>' offers bind:"
expect 'mplace numactl --membind=' all "${nodes[@]}" && ok "'mplace numactl --membind=<TAB>' offers node lists"
expect 'mplace run -m ' all && ok "'mplace run -m <TAB>' offers node lists"
expect 'mplace run -- ech' echo && ok "'mplace run -- ech<TAB>' completes the command"
expect 'mplace run --policy local -- ech' echo && ok "... after options too"
exit $fail
