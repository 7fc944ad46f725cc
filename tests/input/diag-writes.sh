#!/bin/sh
# Diagnostics reach stderr in a few write() calls, not one per byte: stderr
# is unbuffered, and 2,000 warnings with their quoted line and caret were
# 14,000 write() calls, most of `apply`'s system time on the benchmark
# policy (issue 15). Counts system calls (strace), no timings.
#
#   diag-writes.sh PORTCULLIS
set -u
pc=$(realpath "$1")
command -v strace >/dev/null || { echo "SKIP: strace(1) not installed" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 300 rules, each on a port the registry has as Unassigned: 300 warnings,
# 200 shown (with the line and a caret), the rest counted
{
	echo "table t"
	echo "default in deny"
	i=0
	while [ $i -lt 300 ]; do
		echo "allow in port $((10000 + i))/tcp from 192.0.2.$((i % 250))"
		i=$((i + 1))
	done
} >"$tmp/p.policy"
strace -f -qq -e trace=write -o "$tmp/trace" "$pc" check "$tmp/p.policy" 2>"$tmp/err"
status=$?
warnings=$(grep -c ': warning: ' "$tmp/err")
carets=$(grep -c '^ *\^' "$tmp/err")
writes=$(grep -c 'write(2,' "$tmp/trace")
echo "exit $status, $warnings warnings, $carets carets, $writes write() calls to stderr"
if [ "$status" != 0 ] || [ "$warnings" -lt 100 ] || [ "$carets" -ne "$warnings" ]; then
	echo "FAIL: expected exit 0 and at least 100 warnings, each with its caret"
	head -c 2000 "$tmp/err"
	exit 1
fi
if [ "$writes" -gt 5 ]; then
	echo "FAIL: $writes write() calls for the diagnostics (want at most 5)"
	exit 1
fi
echo ok
