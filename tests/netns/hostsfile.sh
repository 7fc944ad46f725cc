#!/bin/bash
# SPDX-License-Identifier: MIT
#
# sets (issue 14): `hosts NAME = file` lists block and allow the right
# probes, through apply and through nft -f: a mixed list of 100,000
# entries, whose large groups are split into a hash set of single
# addresses and an interval set of prefixes and ranges, and a list of
# single addresses only (hash sets).
#
#   hostsfile.sh PORTCULLIS PROBE
#
# A client (192.0.2.2, 2001:db8::2) and a firewall (192.0.2.1,
# 2001:db8::1).
#   mixed (100,000): 192.0.2.0/30 (the client's IPv4 address, in the
#     prefix part), 1,100 IPv4 hosts of 127.1.0.0/16 that no probe uses;
#     the client's IPv6 neighbours on either side (2001:db8::1 and the
#     range 2001:db8::3-2001:db8::ffff) and 98,897 IPv6 hosts of
#     2001:db8:1::/48 that no probe uses: both families split; the client
#     is dropped on IPv4 and accepted on IPv6, where the list stops one
#     address short of it on both sides.
#   hosts (10,000): the client's IPv4 address, its IPv6 neighbours
#     2001:db8::1 and 2001:db8::3 and 9,997 IPv6 hosts of 2001:db8:1::/48:
#     hash sets only; the client is dropped on IPv4, accepted on IPv6.
# Hosts are every other address, so that none touch.
# Exit: 0 as expected, 1 a mismatch, 77 skipped, 99 setup failure.
set -u
pc=$1 probe=$2
. "$(dirname "$0")/pair.sh"
command -v nft >/dev/null || skip "nft is not installed"
pair_setup h v6

v6hosts() {   # N: IPv6 hosts of 2001:db8:1::/48, every other address
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "2001:db8:1::%x:%x\n", int(i / 32768) + 1, (i % 32768) * 2 }'
}
{
	echo "# mixed: 100,000 entries"
	echo "192.0.2.0/30   # the client"
	awk 'BEGIN { for (i = 0; i < 1100; i++) printf "127.1.%d.%d\n", int(i / 127), (i % 127) * 2 + 1 }'
	echo "2001:db8::1"
	echo "2001:db8::3-2001:db8::ffff   # the client's other neighbours"
	v6hosts 98897
} >"$tmp/mixed.txt"
{
	echo "# hosts: 10,000 entries"
	echo "192.0.2.2"
	echo "2001:db8::1"
	echo "2001:db8::3"
	v6hosts 9997
} >"$tmp/hosts.txt"
[ "$(grep -vc '^#' "$tmp/mixed.txt")" = 100000 ] || { echo "mixed list is not 100,000 entries" >&2; exit 99; }
[ "$(grep -vc '^#' "$tmp/hosts.txt")" = 10000 ] || { echo "host list is not 10,000 entries" >&2; exit 99; }
for list in mixed hosts; do
	cat >"$tmp/$list.policy" <<POL
table hf
option counters
hosts blocklist = file "$list.txt"
deny in from \$blocklist
allow in service ssh/tcp
POL
done

ip netns exec "$fw" "$probe" serve -r "$tmp/ready" tcp 22 &
server=$!
for _ in $(seq 50); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || { echo "server did not start" >&2; exit 99; }

fail=0
expect() {   # WHAT ADDR EXPECTED
	local got
	got=$(ip netns exec "$cl" "$probe" tcp "$2" 22 1000)
	if [ "$got" = "$3" ]; then
		echo "ok   $1: $2 $got"
	else
		echo "FAIL $1: $2 $got, expected $3"
		fail=1
	fi
}
# the form of each set the kernel holds: SET hash|interval|none
expect_set() {
	local got=none
	if ip netns exec "$fw" nft list set inet hf "$2" >"$tmp/set" 2>/dev/null; then
		got=hash
		grep -q 'flags interval' "$tmp/set" && got=interval
	fi
	if [ "$got" = "$3" ]; then
		echo "ok   $1: set $2 $got"
	else
		echo "FAIL $1: set $2 $got, expected $3"
		fail=1
	fi
}
check() {   # WHAT LIST
	for _ in $(seq 10); do
		[ "$(ip netns exec "$cl" "$probe" tcp 2001:db8::1 22 500)" = accepted ] && break
	done
	expect "$1" 192.0.2.1 dropped
	expect "$1" 2001:db8::1 accepted
	if [ "$2" = mixed ]; then
		expect_set "$1" blocklist_v4 hash
		expect_set "$1" blocklist_v4_nets interval
		expect_set "$1" blocklist_v6 hash
		expect_set "$1" blocklist_v6_nets interval
	else
		expect_set "$1" blocklist_v4 hash
		expect_set "$1" blocklist_v6 hash
		expect_set "$1" blocklist_v6_nets none
	fi
}
for list in mixed hosts; do
	start=$(date +%s%N)
	ip netns exec "$fw" "$pc" apply "$tmp/$list.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
	echo "apply of the $list list: $(( ($(date +%s%N) - start) / 1000000 )) ms"
	check "$list, apply" "$list"
	# the deny line counts the dropped IPv4 probe (in the interval part
	# of the mixed list), whichever of its nft rules dropped it, and diff
	# finds the live sets and rules as the policy makes them
	ip netns exec "$fw" "$pc" stats "$tmp/$list.policy" >"$tmp/stats" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
	got=$(awk -v l="$tmp/$list.policy:4" '$1 == l { print $2 }' "$tmp/stats")
	if [ "${got:-0}" -ge 1 ] 2>/dev/null; then
		echo "ok   $list, stats: the deny line counted $got packets"
	else
		echo "FAIL $list, stats: the deny line counted '${got}'"; cat "$tmp/stats"; fail=1
	fi
	if ip netns exec "$fw" "$pc" diff "$tmp/$list.policy" >"$tmp/diff" 2>&1; then
		echo "ok   $list, diff: no drift"
	else
		echo "FAIL $list, diff:"; cat "$tmp/diff"; fail=1
	fi
	ip netns exec "$fw" nft delete table inet hf
	"$pc" generate -o "$tmp/hf.nft" "$tmp/$list.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
	ip netns exec "$fw" nft -f "$tmp/hf.nft" || { echo "FAIL nft -f"; exit 1; }
	check "$list, nft -f" "$list"
	ip netns exec "$fw" nft delete table inet hf
done
exit $fail
