#!/bin/sh
# `hosts NAME = file "PATH"` at size: the real-world-shaped policy of
# gen_shapes.py with its blocklist of N entries in a file; times `check`
# (read, parse, merge, lint) and `generate` for each backend, with the peak
# memory of each run, and, when root, `apply` and `nft -f` of the same
# generated output side by side in throwaway network namespaces (a new
# table, then replacing it), with their ratio.
#   [MIX=doc|threat|hosts] bench_hostsfile.sh PORTCULLIS [N]   (default 1000000)
# MIX is gen_shapes.py's --blocklist-mix: doc (the default: documentation
# addresses, mostly IPv6), threat (a feed: 92% IPv4 hosts, 6% IPv4
# prefixes, 2% IPv6) or hosts (single addresses only).
set -u
pc=$(realpath "$1") n=${2:-1000000} mix=${MIX:-doc}
here=$(cd "$(dirname "$0")" && pwd)
: "${PORTCULLIS_DATADIR:=$here/../data}"
export PORTCULLIS_DATADIR
dir=$(mktemp -d "${TMPDIR:-/tmp}/pc-hostsfile.XXXXXX")
trap 'rm -rf "$dir"; [ -n "${ns:-}" ] && ip netns del "$ns" 2>/dev/null' EXIT
python3 "$here/gen_shapes.py" realworld --blocklist "$n" --blocklist-file \
	--blocklist-mix "$mix" "$dir" >/dev/null || exit 1
pol="$dir/realworld.policy"
echo "entries: $n ($mix); list: $(wc -c <"$dir/blocklist.txt") bytes; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %8s %10s\n' run "wall s" "peak KB"
one() {
	label=$1; shift
	/usr/bin/time -f "%e %M" -o "$dir/time" "$@" >"$dir/out" 2>/dev/null
	printf '%-28s %8s %10s\n' "$label" $(cat "$dir/time")
}
one "check" "$pc" check "$pol"
for b in nft iptables ip6tables pf; do
	one "generate -b $b" "$pc" generate -b "$b" "$pol"
done
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
	"$pc" generate -o "$dir/out.nft" "$pol" 2>/dev/null || exit 1
	ns=pc-bench-hf-$$
	ip netns add "$ns"
	one "apply (new table)" ip netns exec "$ns" "$pc" apply "$pol"
	a_new=$(cut -d' ' -f1 "$dir/time")
	one "apply (replace)" ip netns exec "$ns" "$pc" apply "$pol"
	a_rep=$(cut -d' ' -f1 "$dir/time")
	ip netns del "$ns"
	ip netns add "$ns"
	one "nft -f (new table)" ip netns exec "$ns" nft -f "$dir/out.nft"
	n_new=$(cut -d' ' -f1 "$dir/time")
	one "nft -f (replace)" ip netns exec "$ns" nft -f "$dir/out.nft"
	n_rep=$(cut -d' ' -f1 "$dir/time")
	awk -v a="$a_new" -v b="$n_new" -v c="$a_rep" -v d="$n_rep" 'BEGIN {
		printf "apply / nft -f: new table %.3f, replace %.3f\n", a / b, c / d }'
else
	echo "apply: skipped (needs root)"
fi
