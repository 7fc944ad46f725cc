#!/bin/sh
# SPDX-License-Identifier: MIT
# The real tools read the iptables / ip6tables outputs: for every *.v4
# and *.v6 file in the directories given and their subdirectories
# (tests/golden, examples),
# inside a fresh network namespace:
#   - iptables-restore --test (nft and legacy variants),
#   - a first load with --noflush, then the documented reload (twice),
#   - exactly one jump from INPUT, FORWARD and OUTPUT remains (and, with a
#     *nat table, from PREROUTING and POSTROUTING), the chains hold exactly
#     the file's rules (an address list is one kernel rule per address),
#     and rules of another tool survive.
# Needs root (unshare -n); skips otherwise.
# usage: restore.sh DIR...
set -u
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for unshare -n and iptables-restore" >&2
	exit 77
fi
for t in unshare iptables-restore ip6tables-restore iptables-legacy-restore ip6tables-legacy-restore; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done
fails=0 count=0

check_file() { # FILE FAMILY(4|6)
	f=$1
	if [ "$2" = 4 ]; then ipt=iptables; else ipt=ip6tables; fi
	table=$(sed -n 's/^:\(.*\)-in - \[0:0\]$/\1/p' "$f")
	[ -n "$table" ] || { echo "FAIL: $f: no TABLE-in chain"; return 1; }
	# dynamic sets (issue 14): the ipsets the header says to create first
	if grep -q '^#   ipset create ' "$f" && ! command -v ipset >/dev/null; then
		echo "SKIP: $f: needs ipset (scripts/deps installs it)"
		return 0
	fi
	unshare -n sh -eu -c '
		f=$1 ipt=$2 table=$3
		sed -n "s/^#   \(ipset create .*\)\$/\1/p" "$f" | sh -eu
		for variant in "" -legacy; do
			$ipt$variant-restore --test "$f"
			# another tool was here first
			$ipt$variant -A INPUT -p udp --dport 9 -j ACCEPT
			$ipt$variant-restore --noflush "$f"
			for i in 1 2; do
				grep -v "^-A \(INPUT\|FORWARD\|OUTPUT\|PREROUTING\|POSTROUTING\) " "$f" |
					$ipt$variant-restore --noflush
			done
			for c in INPUT:in FORWARD:fwd OUTPUT:out; do
				n=$($ipt$variant -S "${c%%:*}" | grep -c -- "-j $table-${c#*:}\$" || true)
				[ "$n" = 1 ] || { echo "$variant ${c%%:*}: $n jumps" >&2; exit 1; }
			done
			if grep -q "^\*nat" "$f"; then
				for c in PREROUTING:pre POSTROUTING:post; do
					n=$($ipt$variant -t nat -S "${c%%:*}" | grep -c -- "-j $table-${c#*:}\$" || true)
					[ "$n" = 1 ] || { echo "$variant nat ${c%%:*}: $n jumps" >&2; exit 1; }
				done
			fi
			$ipt$variant -C INPUT -p udp --dport 9 -j ACCEPT
			for tc in $(awk -v t="$table" '\''/^\*/ {tb = substr($1, 2)} $1 ~ "^:" t "-" {print tb ":" substr($1, 2)}'\'' "$f"); do
				tb=${tc%%:*} c=${tc#*:}
				# -s/-d lists become one kernel rule per address pair
				want=$(awk -v c="$c" '\''$1 == "-A" && $2 == c {
					n = 1
					for (i = 3; i < NF; i++)
						if ($i == "-s" || $i == "-d")
							n *= split($(i + 1), a, ",")
					total += n
				} END { print total + 0 }'\'' "$f")
				have=$($ipt$variant -t "$tb" -S "$c" | grep -c "^-A " || true)
				[ "$want" = "$have" ] || { echo "$variant $c: $have rules, file has $want" >&2; exit 1; }
			done
		done
	' sh "$f" "$ipt" "$table"
}

for dir in "$@"; do
for f in "$dir"/*.v4 "$dir"/*.v6 "$dir"/*/*.v4 "$dir"/*/*.v6; do
	[ -e "$f" ] || continue
	count=$((count + 1))
	case $f in
	*.v4) fam=4 ;;
	*) fam=6 ;;
	esac
	if ! check_file "$f" "$fam"; then
		echo "FAIL: $f"
		fails=$((fails + 1))
	fi
done
done
[ $count -gt 0 ] || { echo "FAIL: no .v4/.v6 files in $*"; exit 1; }
[ $fails = 0 ] || { echo "$fails of $count files failed"; exit 1; }
echo "ok: $count files load with iptables-restore / ip6tables-restore (nft and legacy)"
