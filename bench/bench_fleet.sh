#!/bin/bash
# SPDX-License-Identifier: MIT
# Many policies in one run: `portcullis generate -b nft -o 'DIR/%n.nft'
# POLICY...` over fleets of host policies (bench/gen_fleet.py: each host
# includes three shared profiles and a 500-entry group). Prints the best
# wall time of RUNS runs per fleet size, and the time per host.
# Usage: bench_fleet.sh PORTCULLIS [RUNS [SIZE...]]    (default 5, 250 500 1000)
set -eu
prog=$1
runs=${2:-5}
shift $(($# >= 2 ? 2 : 1))
sizes=${*:-250 500 1000}
here=$(cd "$(dirname "$0")" && pwd)
: "${PORTCULLIS_DATADIR:=$here/../data}"
export PORTCULLIS_DATADIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-6s %10s %12s\n' hosts "best ms" "ms per host"
for n in $sizes; do
	python3 "$here/gen_fleet.py" "$tmp/fleet$n" "$n"
	mkdir -p "$tmp/out$n"
	best=
	for _ in $(seq "$runs"); do
		rm -f "$tmp/out$n"/*.nft
		t0=$(date +%s%N)
		"$prog" generate -b nft -o "$tmp/out$n/%n.nft" "$tmp/fleet$n"/hosts/*.policy
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000 ))
		if [ -z "$best" ] || [ $ms -lt $best ]; then best=$ms; fi
	done
	[ "$(ls "$tmp/out$n" | wc -l)" = "$n" ] || { echo "bench_fleet: $n outputs expected" >&2; exit 1; }
	awk -v n=$n -v us=$best 'BEGIN { printf "%-6d %10.1f %12.3f\n", n, us / 1000, us / 1000 / n }'
done
