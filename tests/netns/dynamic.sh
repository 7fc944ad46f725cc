#!/bin/bash
# SPDX-License-Identifier: MIT
#
# sets (issue 14): a dynamic set keeps its elements across reloads.
#
#   dynamic.sh PORTCULLIS PROBE
#
# A client (192.0.2.2, 2001:db8::2) and a firewall (192.0.2.1, 2001:db8::1)
# joined by a veth pair. The firewall gets a policy whose first rule drops
# the sources of the dynamic set `banned`; then:
#   1. apply (over a table whose `banned` was a static group): the client
#      connects to 22/tcp;
#   2. `nft add element` puts the client in banned_v4 and banned_v6: it is
#      dropped, on both families;
#   3. apply of a changed policy, then nft -f of the regenerated output of
#      the first one: the client is still dropped (the elements stayed) and
#      the change took effect;
#   4. the elements deleted: the client connects again (the rule is live);
#   5. the same with `portcullis set add` / `list` / `del`.
# Exit: 0 as expected, 1 a mismatch, 77 skipped (not root, no ip or nft),
# 99 setup failure.
set -u
pc=$1 probe=$2
. "$(dirname "$0")/pair.sh"
command -v nft >/dev/null || skip "nft is not installed"
pair_setup d v6

cat >"$tmp/p1.policy" <<'POL'
table dyn
hosts banned = dynamic timeout 1h
deny in from $banned
allow in service ssh/tcp
POL
sed 's/^allow in service ssh\/tcp$/allow in port { 22, 80 }\/tcp/' "$tmp/p1.policy" >"$tmp/p2.policy"

ip netns exec "$fw" "$probe" serve -r "$tmp/ready" tcp 22 80 &
server=$!
for _ in $(seq 50); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || { echo "server did not start" >&2; exit 99; }

fail=0
expect() {   # WHAT ADDR PORT EXPECTED
	local got
	got=$(ip netns exec "$cl" "$probe" tcp "$2" "$3" 1000)
	if [ "$got" = "$4" ]; then
		echo "ok   $1: $2 port $3 $got"
	else
		echo "FAIL $1: $2 port $3 $got, expected $4"
		fail=1
	fi
}
fw_nft() { ip netns exec "$fw" nft "$@"; }

# a static group of that name first: apply turns it into the dynamic set
sed 's/^hosts banned = dynamic timeout 1h$/hosts banned = { 198.51.100.9 }/' "$tmp/p1.policy" >"$tmp/p0.policy"
ip netns exec "$fw" "$pc" apply "$tmp/p0.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 99; }
ip netns exec "$fw" "$pc" apply "$tmp/p1.policy" 2>"$tmp/err" || { echo "FAIL apply of a static set turned dynamic:"; cat "$tmp/err"; exit 1; }
# the link and neighbour discovery settle first (up to 5 s)
for _ in $(seq 10); do
	[ "$(ip netns exec "$cl" "$probe" tcp 2001:db8::1 22 500)" = accepted ] && break
done
expect "apply, set empty" 192.0.2.1 22 accepted
expect "apply, set empty" 2001:db8::1 22 accepted
fw_nft add element inet dyn banned_v4 '{ 192.0.2.2 }' || exit 99
fw_nft add element inet dyn banned_v6 '{ 2001:db8::2 }' || exit 99
expect "nft add element" 192.0.2.1 22 dropped
expect "nft add element" 2001:db8::1 22 dropped

ip netns exec "$fw" "$pc" apply "$tmp/p2.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
expect "apply of a changed policy" 192.0.2.1 22 dropped
expect "apply of a changed policy" 2001:db8::1 80 dropped
fw_nft delete element inet dyn banned_v6 '{ 2001:db8::2 }'
expect "apply of a changed policy, v6 element deleted" 2001:db8::1 80 accepted
fw_nft add element inet dyn banned_v6 '{ 2001:db8::2 }'

"$pc" generate -o "$tmp/p1.nft" "$tmp/p1.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 99; }
ip netns exec "$fw" nft -f "$tmp/p1.nft" || { echo "FAIL nft -f of the regenerated output"; exit 1; }
expect "nft -f of the output" 192.0.2.1 22 dropped
expect "nft -f of the output" 2001:db8::1 22 dropped
ip netns exec "$fw" "$pc" diff "$tmp/p1.policy" >"$tmp/diff" ||
	{ echo "FAIL diff sees drift:"; cat "$tmp/diff"; fail=1; }

fw_nft delete element inet dyn banned_v4 '{ 192.0.2.2 }' || fail=1
fw_nft delete element inet dyn banned_v6 '{ 2001:db8::2 }' || fail=1
expect "elements deleted" 192.0.2.1 22 accepted
expect "elements deleted" 2001:db8::1 22 accepted
expect "p1 again: port 80 closed" 192.0.2.1 80 dropped

# the same with portcullis set (netlink)
pcset() { ip netns exec "$fw" "$pc" set "$@"; }
pcset add --table dyn --timeout 10m banned 192.0.2.2 2001:db8::2 || { echo "FAIL set add"; fail=1; }
expect "portcullis set add" 192.0.2.1 22 dropped
expect "portcullis set add" 2001:db8::1 22 dropped
ip netns exec "$fw" "$pc" apply "$tmp/p2.policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
expect "set add, then apply" 192.0.2.1 80 dropped
pcset list --table dyn banned >"$tmp/list" || fail=1
if grep -q '^192\.0\.2\.2 expires [0-9]*s$' "$tmp/list" && grep -q '^2001:db8::2 expires' "$tmp/list"; then
	echo "ok   portcullis set list: $(tr '\n' ' ' <"$tmp/list")"
else
	echo "FAIL portcullis set list:"; cat "$tmp/list"; fail=1
fi
pcset del --table dyn banned 192.0.2.2 2001:db8::2 || { echo "FAIL set del"; fail=1; }
expect "portcullis set del" 192.0.2.1 80 accepted
pcset list --table dyn nosuch 2>/dev/null
[ $? = 1 ] || { echo "FAIL set list of a missing set: want exit 1"; fail=1; }
exit $fail
