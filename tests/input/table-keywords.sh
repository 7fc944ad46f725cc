#!/bin/sh
# Every table name `check` accepts must be accepted by every backend's
# consumer: nft -c -f and iptables-restore/ip6tables-restore --test in a
# network namespace of their own, over every keyword of nft's scanner.
#
#   table-keywords.sh PORTCULLIS WORDLIST
set -u
pc=$(realpath "$1")
words=$2
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: table-keywords needs root (nft -c and iptables-restore --test in a namespace)" >&2
	exit 77
fi
for tool in nft iptables-restore ip6tables-restore unshare; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is missing" >&2; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 refused=0 accepted=0
for w in $(grep -v '^#' "$words") counter log set flush Counter; do
	printf 'table %s\nallow in service ssh/tcp limit 5/minute\nallow in port 80/tcp\n' "$w" >"$tmp/p.policy"
	if ! "$pc" check "$tmp/p.policy" 2>"$tmp/err"; then
		grep -q "error: table name '$w' is an nft keyword\|error: bad table name" "$tmp/err" || {
			echo "FAIL $w: refused for another reason:"; cat "$tmp/err"; fail=1; }
		refused=$((refused + 1))
		continue
	fi
	accepted=$((accepted + 1))
	if ! "$pc" generate -b nft -o "$tmp/p.nft" -b iptables -o "$tmp/p.v4" \
		-b ip6tables -o "$tmp/p.v6" -b pf -o "$tmp/p.pf" "$tmp/p.policy" 2>"$tmp/err"; then
		echo "FAIL $w: check accepts it, generate refuses it:"; cat "$tmp/err"; fail=1
		continue
	fi
	if ! unshare -n sh -c "nft -c -f '$tmp/p.nft' && iptables-restore --test '$tmp/p.v4' && ip6tables-restore --test '$tmp/p.v6'" >"$tmp/err" 2>&1; then
		echo "FAIL $w: check accepts it, but:"; cat "$tmp/err"; fail=1
	fi
done
echo "$accepted names accepted and loaded, $refused refused by check"
exit $fail
