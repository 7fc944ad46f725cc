#!/bin/sh
# SPDX-License-Identifier: MIT
# CPU nanoseconds per 64-byte UDP packet to 127.0.0.1:PORT (issue 15), with
# no ruleset and with the nft output of each PORTCULLIS for POLICY (loaded
# with nft -f), each in a throwaway network namespace, ROUNDS times in turn:
#
#   sudo bench/bench_packet_cpu.sh PACKET_CPU POLICY PORT ROUNDS PORTCULLIS...
#
# PACKET_CPU is build/bench/packet_cpu. The extra cost of a ruleset is its
# figure minus none's; the figures are one process's CPU time, which the
# load of a shared machine disturbs far less than bench_packets.sh's
# packet rates (bench/README.md, branch busy).
set -eu
tool=$(realpath "$1") policy=$2 port=$3 rounds=$4
shift 4
[ "$(id -u)" = 0 ] || { echo "bench_packet_cpu: needs root (network namespaces)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for pc in "$@"; do
	i=$((i + 1))
	"$pc" generate -o "$tmp/$i.nft" "$policy" 2>/dev/null
done
r=0
while [ $r -lt "$rounds" ]; do
	r=$((r + 1))
	printf 'round %d: none %s' $r "$(unshare -n sh -c 'ip link set lo up; "$0" "$1"' "$tool" "$port")"
	i=0
	for pc in "$@"; do
		i=$((i + 1))
		printf ', %s %s' "$pc" "$(unshare -n sh -c 'ip link set lo up; nft -f "$2" && "$0" "$1"' "$tool" "$port" "$tmp/$i.nft")"
	done
	echo
done
