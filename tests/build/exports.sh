#!/bin/sh
# The program exports to plugins exactly the functions that the public
# headers (include/portcullis/*.h) declare: no libnftnl, libmnl or libcsv
# symbol a plugin could interpose on, no internal pc_ function.
#   exports.sh PORTCULLIS INCLUDE_DIR
set -u
prog=$1
inc=$2
command -v nm >/dev/null || { echo "SKIP: no nm" >&2; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-exports.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
# defined dynamic symbols; name@VERSION ones are the C library's
# (copy-relocated stdout, optarg, ...), not ours
nm -D --defined-only "$prog" | awk '{ print $3 }' | grep -v '@' | sort >"$tmp/exported" || exit 99
# functions the headers declare (not static inline)
cat "$inc"/*.h | grep -E '^[a-z].*\bpc_[a-z0-9_]+\(' | grep -v '^static' |
	grep -oE '\bpc_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || { echo "FAIL: no declarations found in $inc" >&2; exit 1; }
fail=0
if grep -E '^(nftnl_|mnl_|csv_)' "$tmp/exported" >&2; then
	echo "FAIL: library symbols exported (above)" >&2
	fail=1
fi
if ! diff -u "$tmp/declared" "$tmp/exported" >&2; then
	echo "FAIL: exported symbols (+) differ from the public headers' functions (-)" >&2
	echo "      (core/portcullis.dynlist lists what is exported)" >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "ok: $(wc -l <"$tmp/exported") symbols exported, all declared in $inc"
exit $fail
