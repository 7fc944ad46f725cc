#!/bin/bash
# SPDX-License-Identifier: MIT
#
# matches (issue 14): `limit ... per source` gives each source its own
# bucket: one source that floods is throttled, another is not.
#
#   persource.sh PORTCULLIS PROBE nft|iptables|apply
#
# A client with two addresses (192.0.2.2 and 192.0.2.3, the one it sends
# from chosen by its route to the firewall) and a firewall (192.0.2.1)
# whose policy allows 22/tcp at 1/minute, burst 3, per source; the
# default denies. Each new connection costs a token (the rest of its
# packets are established). Loaded with nft -f, iptables-restore or
# apply:
#   1. from .2, 8 connections: the first 3 are accepted, the rest dropped;
#   2. from .3: 3 accepted (its own bucket), then dropped;
#   3. from .2 again: still dropped;
# and explain says what decides under and over the rate.
# Exit: 0 as expected, 1 a mismatch, 77 skipped, 99 setup failure.
set -u
pc=$1 probe=$2 backend=$3
. "$(dirname "$0")/pair.sh"
case $backend in
nft|apply) command -v nft >/dev/null || skip "nft is not installed" ;;
iptables) command -v iptables-restore >/dev/null || skip "iptables-restore is not installed" ;;
*) echo "usage: $0 PORTCULLIS PROBE nft|iptables|apply" >&2; exit 99 ;;
esac
pair_setup s
ip -n "$cl" addr add 192.0.2.3/24 dev pcs0

cat >"$tmp/p.policy" <<'POL'
table persrc
allow in port 22/tcp limit 1/minute burst 3 per source
POL

case $backend in
nft)
	"$pc" generate -b nft "$tmp/p.policy" >"$tmp/out" 2>"$tmp/err" &&
		ip netns exec "$fw" nft -f "$tmp/out" 2>>"$tmp/err" ;;
iptables)
	"$pc" generate -b iptables "$tmp/p.policy" >"$tmp/out" 2>"$tmp/err" &&
		ip netns exec "$fw" iptables-restore <"$tmp/out" 2>>"$tmp/err" ;;
apply)
	ip netns exec "$fw" "$pc" apply "$tmp/p.policy" 2>"$tmp/err" ;;
esac || { echo "loading the policy ($backend) failed:"; cat "$tmp/err"; exit 99; }

ip netns exec "$fw" "$probe" serve -r "$tmp/ready" tcp 22 &
server=$!
for _ in $(seq 50); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || { echo "server did not start" >&2; exit 99; }

from() {   # ADDR: the client sends to the firewall from ADDR
	ip -n "$cl" route replace 192.0.2.1/32 dev pcs0 src "$1" || exit 99
}
fail=0
# WHAT N: N connections, prints how many were accepted before the first drop
# and whether every one after it was dropped too
burst() {
	local got accepted=0 dropped=0 i
	for ((i = 0; i < $2; i++)); do
		got=$(ip netns exec "$cl" "$probe" tcp 192.0.2.1 22 300)
		case $got in
		accepted) [ $dropped = 0 ] && accepted=$((accepted + 1)) || accepted=bad ;;
		dropped) dropped=$((dropped + 1)) ;;
		*) accepted=bad ;;
		esac
	done
	echo "$accepted $dropped"
}
check() {   # WHAT GOT EXPECTED
	if [ "$2" = "$3" ]; then
		echo "ok   $1: $2"
	else
		echo "FAIL $1: accepted/dropped $2, expected $3"
		fail=1
	fi
}

from 192.0.2.2
check "192.0.2.2 floods (8 connections)" "$(burst 192.0.2.2 8)" "3 5"
from 192.0.2.3
check "192.0.2.3 meanwhile (4 connections)" "$(burst 192.0.2.3 4)" "3 1"
from 192.0.2.2
check "192.0.2.2 again (2 connections)" "$(burst 192.0.2.2 2)" "0 2"

# the oracle: under the rate the rule allows, over it the default denies
want="allow	$tmp/p.policy:2 (under 1/minute per source; over it: deny by default)	in tcp 192.0.2.2 -> 192.0.2.1:22"
got=$("$pc" explain "$tmp/p.policy" 'in tcp 192.0.2.2 -> 192.0.2.1:22')
if [ "$got" = "$want" ]; then
	echo "ok   explain: $got"
else
	echo "FAIL explain: $got, expected $want"
	fail=1
fi
exit $fail
