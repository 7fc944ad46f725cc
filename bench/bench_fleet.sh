#!/bin/bash
# SPDX-License-Identifier: MIT
# Many policies in one run: `portcullis generate -b nft -o 'DIR/%n.nft'
# POLICY...` over fleets of host policies (bench/gen_fleet.py: each host
# includes three shared profiles and a 500-entry group). Prints the best
# wall time of RUNS runs per fleet size, and the time per host, with the
# outputs on tmpfs (/dev/shm: the program's own cost) and on disk (/tmp:
# plus syncing a thousand new files to the disk before they replace the
# old ones). Every run writes every file anew (the old ones are removed).
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
shm=/dev/shm
[ -d $shm ] && [ -w $shm ] || shm=$tmp
printf '%-6s %12s %12s %12s %12s\n' hosts "tmpfs ms" "per host" "disk ms" "per host"
best_of() { # OUTDIR FLEET
	local best= t0 t1 us
	mkdir -p "$1"
	for _ in $(seq "$runs"); do
		rm -f "$1"/*.nft
		t0=$(date +%s%N)
		"$prog" generate -b nft -o "$1/%n.nft" "$2"/hosts/*.policy
		t1=$(date +%s%N)
		us=$(( (t1 - t0) / 1000 ))
		if [ -z "$best" ] || [ $us -lt $best ]; then best=$us; fi
	done
	echo "$best"
}
for n in $sizes; do
	python3 "$here/gen_fleet.py" "$tmp/fleet$n" "$n"
	out=$(mktemp -d "$shm/pc-fleet-XXXXXX")
	a=$(best_of "$out" "$tmp/fleet$n")
	[ "$(ls "$out" | wc -l)" = "$n" ] || { echo "bench_fleet: $n outputs expected" >&2; exit 1; }
	rm -rf "$out"
	b=$(best_of "$tmp/out$n" "$tmp/fleet$n")
	awk -v n=$n -v a=$a -v b=$b 'BEGIN { printf "%-6d %12.1f %12.3f %12.1f %12.3f\n", n, a / 1000, a / 1000 / n, b / 1000, b / 1000 / n }'
done
