#!/bin/sh
# `hosts NAME = file "PATH"` at size: the real-world-shaped policy of
# gen_shapes.py with its blocklist of N entries in a file; times `check`
# (read, parse, merge, lint) and `generate` for each backend, with the peak
# memory of each run, and `apply` in a throwaway network namespace when
# root.
#   bench_hostsfile.sh PORTCULLIS [N]      (default 1000000)
set -u
pc=$(realpath "$1") n=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
: "${PORTCULLIS_DATADIR:=$here/../data}"
export PORTCULLIS_DATADIR
dir=$(mktemp -d "${TMPDIR:-/tmp}/pc-hostsfile.XXXXXX")
trap 'rm -rf "$dir"; [ -n "${ns:-}" ] && ip netns del "$ns" 2>/dev/null' EXIT
python3 "$here/gen_shapes.py" realworld --blocklist "$n" --blocklist-file "$dir" >/dev/null || exit 1
pol="$dir/realworld.policy"
echo "entries: $n; list: $(wc -c <"$dir/blocklist.txt") bytes; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
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
	ns=pc-bench-hf-$$
	ip netns add "$ns"
	one "apply (new table)" ip netns exec "$ns" "$pc" apply "$pol"
	one "apply (replace)" ip netns exec "$ns" "$pc" apply "$pol"
else
	echo "apply: skipped (needs root)"
fi
