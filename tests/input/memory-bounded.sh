#!/bin/sh
# The memory of big policies (issue 15), as peak resident sizes (not times)
# of a 30,000-term Capirca-shaped policy (bench/gen_shapes.py), measured
# 2026-12-07:
# - loading does not hold the syntax tree of every rule at once: each
#   statement is resolved as it is parsed and its tree freed, and equal
#   token texts share one copy. `check --no-lint` peaks at about 30 MB
#   that way; with the whole tree alive until the last statement it took
#   about 51 MB;
# - generate -b nft -o FILE does not hold the map elements of the whole
#   policy in memory at once: the optimised view is spooled and its pages
#   are given back as the text is written. About 75 MB that way, about
#   150 MB with every element in memory. Also: the spooled output is the
#   one made in memory (stdout), and a spool that cannot be made changes
#   nothing.
#
#   memory-bounded.sh PORTCULLIS SOURCE-ROOT
set -u
pc=$(realpath "$1")
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
load_kib=42000
view_kib=110000

python3 "$root/bench/gen_shapes.py" capirca --terms 30000 --seed 1 "$tmp/c" >/dev/null ||
	{ echo "FAIL: gen_shapes.py"; exit 1; }
mkdir "$tmp/spool"

# peak RSS (KiB) of the command, after its exit status
peak() {
	python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

set -- $(peak "$pc" check --no-lint "$tmp/c/capirca.policy")
if [ "$1" != 0 ] || [ "$2" -gt "$load_kib" ]; then
	echo "FAIL: check --no-lint: exit $1, peak $2 KiB (at most $load_kib)"
	fail=1
else
	echo "ok: check --no-lint, 30,000 terms: peak $2 KiB (at most $load_kib)"
fi

set -- $(TMPDIR="$tmp/spool" peak "$pc" generate --no-lint -b nft -o "$tmp/spooled.nft" \
	"$tmp/c/capirca.policy")
if [ "$1" != 0 ] || [ "$2" -gt "$view_kib" ]; then
	echo "FAIL: generate -b nft -o: exit $1, peak $2 KiB (at most $view_kib)"
	fail=1
else
	echo "ok: generate -b nft -o, 30,000 terms: peak $2 KiB (at most $view_kib)"
fi
# the spool has no name: nothing is left behind
if [ -n "$(ls -A "$tmp/spool")" ]; then
	echo "FAIL: files left in TMPDIR: $(ls -A "$tmp/spool")"
	fail=1
fi
"$pc" generate --no-lint -b nft "$tmp/c/capirca.policy" >"$tmp/memory.nft" 2>/dev/null
if ! cmp -s "$tmp/memory.nft" "$tmp/spooled.nft"; then
	echo "FAIL: the spooled output differs from the one made in memory"
	fail=1
fi
TMPDIR=/nonexistent/dir "$pc" generate --no-lint -b nft -o "$tmp/nospool.nft" \
	"$tmp/c/capirca.policy" 2>/dev/null
if ! cmp -s "$tmp/memory.nft" "$tmp/nospool.nft"; then
	echo "FAIL: without a spool (TMPDIR missing) the output differs"
	fail=1
fi
[ $fail -eq 0 ] && echo "ok: spooled, in memory and without a spool: the same text"
exit $fail
