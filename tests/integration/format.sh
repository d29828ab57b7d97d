#!/bin/bash
# Every C source and header is formatted as .clang-format says (kernel style
# at 120 columns), so style is checked, not argued.
# Usage: format.sh SOURCE_DIR
set -u
src=$1
command -v clang-format >/dev/null || { echo "SKIP: clang-format is not installed (scripts/deps installs it)"; exit 77; }
cd "$src" || exit 1
mapfile -t files < <(find include lib tools agent tests bench fuzz examples -name '*.[ch]' | sort)
if ! out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
	echo "FAIL: not formatted (run: clang-format -i FILE):"
	grep -E '^[^ ].*: error:' <<<"$out" | cut -d: -f1 | sort -u | sed 's/^/  /'
	exit 1
fi
echo "ok: ${#files[@]} files formatted as .clang-format says"
