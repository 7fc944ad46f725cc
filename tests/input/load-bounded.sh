#!/bin/sh
# Loading a policy does not hold the syntax tree of every rule at once
# (issue 15): each statement is resolved as it is parsed and its tree
# freed, and equal token texts share one copy. A 30,000-term
# Capirca-shaped policy (bench/gen_shapes.py) peaks at about 30 MB in
# `check --no-lint` that way; with the whole tree alive until the last
# statement is resolved it took about 51 MB (measured 2026-12-07). The
# bound is a peak resident size, not a time.
#
#   load-bounded.sh PORTCULLIS SOURCE-ROOT
set -u
pc=$(realpath "$1")
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bound_kib=42000

python3 "$root/bench/gen_shapes.py" capirca --terms 30000 --seed 1 "$tmp/c" >/dev/null ||
	{ echo "FAIL: gen_shapes.py"; exit 1; }

# peak RSS (KiB) of the command, after its exit status
peak() {
	python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

set -- $(peak "$pc" check --no-lint "$tmp/c/capirca.policy")
if [ "$1" != 0 ] || [ "$2" -gt "$bound_kib" ]; then
	echo "FAIL: check --no-lint: exit $1, peak $2 KiB (at most $bound_kib)"
	fail=1
else
	echo "ok: check --no-lint, 30,000 terms: peak $2 KiB (at most $bound_kib)"
fi
exit $fail
