#!/bin/bash
# SPDX-License-Identifier: MIT
#
# sets (issue 14): a `hosts NAME = file` list of 100,000 entries blocks
# and allows the right probes, through apply and through nft -f.
#
#   hostsfile.sh PORTCULLIS PROBE
#
# A client (192.0.2.2, 2001:db8::2) and a firewall (192.0.2.1,
# 2001:db8::1). The list holds 99,996 IPv6 hosts of 2001:db8:1::/48 that
# no probe uses, the client's IPv4 address and its IPv6 neighbours on
# either side (2001:db8::1 and the range 2001:db8::3-2001:db8::ffff); the
# hosts are every other address, so that none merge into intervals; so
# the client is dropped on IPv4 and accepted on IPv6, where the list
# stops one address short of it on both sides.
# Exit: 0 as expected, 1 a mismatch, 77 skipped, 99 setup failure.
set -u
pc=$1 probe=$2
. "$(dirname "$0")/pair.sh"
command -v nft >/dev/null || skip "nft is not installed"
pair_setup h v6

{
	echo "# 100,000 entries"
	echo "192.0.2.2"
	echo "2001:db8::1"
	echo "2001:db8::3-2001:db8::ffff   # the client's other neighbours"
	awk 'BEGIN { for (i = 0; i < 99997; i++) printf "2001:db8:1::%x:%x\n", int(i / 32768) + 1, (i % 32768) * 2 }'
} >"$tmp/list.txt"
[ "$(grep -vc '^#' "$tmp/list.txt")" = 100000 ] || { echo "list is not 100,000 entries" >&2; exit 99; }
cat >"$tmp/hf.policy" <<'POL'
table hf
hosts blocklist = file "list.txt"
deny in from $blocklist
allow in service ssh/tcp
POL

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
start=$(date +%s%N)
ip netns exec "$fw" "$pc" apply "$tmp/hf.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
echo "apply of 100,000 entries: $(( ($(date +%s%N) - start) / 1000000 )) ms"
for _ in $(seq 10); do
	[ "$(ip netns exec "$cl" "$probe" tcp 2001:db8::1 22 500)" = accepted ] && break
done
expect "apply" 192.0.2.1 dropped
expect "apply" 2001:db8::1 accepted
ip netns exec "$fw" nft delete table inet hf
"$pc" generate -o "$tmp/hf.nft" "$tmp/hf.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
ip netns exec "$fw" nft -f "$tmp/hf.nft" || { echo "FAIL nft -f"; exit 1; }
expect "nft -f" 192.0.2.1 dropped
expect "nft -f" 2001:db8::1 accepted
exit $fail
