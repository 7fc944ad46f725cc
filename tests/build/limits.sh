#!/bin/sh
# The program works under the resource limits a service unit sets
# (LimitAS=, LimitDATA=): `generate` and `check` of every shipped example
# under a 64 MB address space, and under a 64 MB data segment.
#   limits.sh PORTCULLIS
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
prog=$1
case $prog in /*) ;; *) prog=$(pwd)/$prog ;; esac
examples=$(cd "$(dirname "$0")/../../examples" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/pc-limits.XXXXXX") || exit 99
trap 'rm -rf "$out"' EXIT
fail=0
n=0
for policy in "$examples"/*/*.policy; do
	for limit in "-v 65536" "-d 65536"; do
		for cmd in generate check; do
			n=$((n + 1))
			# shellcheck disable=SC2086
			# from the example's own directory, as examples/ are generated
			# (a long absolute path would not fit nft's 128-byte comments)
			( cd "${policy%/*}" && ulimit $limit &&
				exec "$prog" $cmd "${policy##*/}" ) >"$out/stdout" 2>"$out/stderr"
			st=$?
			if [ $st -ne 0 ]; then
				echo "FAIL: ulimit $limit; portcullis $cmd $policy: exit $st" >&2
				sed 's/^/  /' "$out/stderr" >&2
				fail=1
			fi
		done
	done
done
[ $fail -eq 0 ] && echo "ok: $n runs under ulimit -v 65536 / -d 65536"
exit $fail
