#!/bin/sh
# No source or build directory is compiled into the program (reproducible
# builds: the same sources built in two directories give the same binary).
#   paths.sh PORTCULLIS SOURCE_ROOT BUILD_ROOT
set -u
prog=$1
fail=0
for dir in "$2" "$3"; do
	dir=$(cd "$dir" && pwd -P) || exit 99
	if grep -c -F -- "$dir" "$prog" >/dev/null; then
		echo "FAIL: $prog contains $dir:" >&2
		strings -a "$prog" | grep -F -- "$dir" | sort -u | head -5 >&2
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "ok: neither $2 nor $3 in $prog"
exit $fail
