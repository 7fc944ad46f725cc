#!/bin/sh
# SPDX-License-Identifier: MIT
# `portcullis compare` of a one-line change (the first `allow in` rule past
# the middle becomes `deny in`) on the 2,000-rule benchmark policies: plain
# rules (gen_generate_policies.py), Capirca-shaped and real-world-shaped
# with a 100,000-entry blocklist (gen_shapes.py). Prints the best of RUNS
# wall-clock times and the phases (PORTCULLIS_TIMING). Then other kinds of
# one-line change on the Capirca shape: the default, a broad rule inserted
# at the top, one before every term, the first term deleted, a host
# group's member replaced.
#
#   bench_compare.sh PORTCULLIS [RUNS]
set -eu
pc=$(realpath "$1") runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
: "${PORTCULLIS_DATADIR:=$here/../data}"
export PORTCULLIS_DATADIR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-bench-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_generate_policies.py" 2000 "$tmp/plain" "$PORTCULLIS_DATADIR/service-names-port-numbers.csv" >/dev/null
python3 "$here/gen_shapes.py" capirca "$tmp/cap" >/dev/null
python3 "$here/gen_shapes.py" realworld --blocklist 100000 "$tmp/rw" >/dev/null
for f in "$tmp/plain/bench.policy" "$tmp/cap/capirca.policy" "$tmp/rw/realworld.policy"; do
	n=$(wc -l <"$f")
	l=$(grep -n '^allow in' "$f" | awk -F: -v m=$((n / 2)) '$1 >= m { print $1; exit }')
	sed "${l}s/^allow in/deny in/" "$f" >"$tmp/edit.policy"
	best=
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$pc" compare "$f" "$tmp/edit.policy" >"$tmp/out" || [ $? = 1 ]
		t=$(( ($(date +%s%N) - t0) / 1000 ))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
		i=$((i + 1))
	done
	echo "$(basename "$f"): line $l changed; $(wc -l <"$tmp/out") lines; best of $runs: $((best / 1000)).$(printf %03d $((best % 1000))) ms"
	PORTCULLIS_TIMING=1 "$pc" compare "$f" "$tmp/edit.policy" 2>&1 >/dev/null | sed 's/^/  /' || true
done

# best of $runs of `compare $1 $2`, one line: KIND, lines printed, time
kind() {
	best= i=0
	while [ $i -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$pc" compare "$2" "$3" >"$tmp/out" || [ $? = 1 ]
		t=$(( ($(date +%s%N) - t0) / 1000 ))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
		i=$((i + 1))
	done
	echo "capirca.policy, $1: $(wc -l <"$tmp/out") lines; best of $runs: $((best / 1000)).$(printf %03d $((best % 1000))) ms"
}
c=$tmp/cap/capirca.policy
first=$(grep -n '^allow in' "$c" | head -1 | cut -d: -f1)
sed 's/^default in deny/default in allow/' "$c" >"$tmp/k.policy"
kind "default in deny -> allow" "$c" "$tmp/k.policy"
sed "${first}i allow in proto tcp" "$c" >"$tmp/k.policy"
kind "allow in proto tcp inserted first" "$c" "$tmp/k.policy"
sed "${first}i deny in" "$c" >"$tmp/k.policy"
kind "deny in inserted first" "$c" "$tmp/k.policy"
sed "${first}d" "$c" >"$tmp/k.policy"
kind "first term deleted" "$c" "$tmp/k.policy"
sed 's|^hosts site_0 = .*|hosts site_0 = { 0.0.0.0/1, 2001:db8:1000::/48 }|' "$c" >"$tmp/k.policy"
kind "a host group member replaced" "$c" "$tmp/k.policy"

