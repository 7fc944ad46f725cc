#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Re-apply (issue 15): `apply` over its own table sends only what differs.
#
#   reapply.sh PORTCULLIS PROBE
#
# A client (192.0.2.2) and a firewall (192.0.2.1) joined by a veth pair.
# The firewall's policy counts (option counters); the client's probes to
# 22/tcp go through the input chain's rule of line 9. Then:
#   1. apply of the same policy again: nothing changes, not even a handle;
#   2. a one-line change in the output chain (a port), changed groups (a
#      hash set, an interval set) and a changed rule of a verdict map in
#      the forward chain: the input chain stays as it was, its rule keeps
#      its handle and what it counted; the output chain's changed rule is
#      new (another handle), the rule before it stays (same handle), the
#      sets hold the new addresses, the map the new port;
#   3. the table equals the one a fresh apply of the changed policy makes
#      in a new namespace, and the one `nft -f` of its output makes
#      (`nft list ruleset`, counters aside), and `diff` finds nothing;
#   4. `apply --confirm 1` of the first policy, not confirmed, rolls back
#      to exactly that table, counters included;
#   5. a new group (its set comes between others in the listing) and a
#      rule using it: the table still lists as a fresh apply's does.
# Exit: 0 as expected, 1 a mismatch, 77 skipped (not root, no ip or nft),
# 99 setup failure.
set -u
pc=$1 probe=$2
. "$(dirname "$0")/pair.sh"
command -v nft >/dev/null || skip "nft is not installed"
pair_setup ra
fresh=pc-ra-fresh-$$ text=pc-ra-text-$$
trap 'pair_cleanup; ip netns del "$fresh" 2>/dev/null; ip netns del "$text" 2>/dev/null' EXIT

# One file, rewritten: the rules' comments name it, and a rule must read
# the same to stay.
policy=$tmp/reapply.policy
cat >"$tmp/p1" <<'POL'
table reap
option counters
default in deny
default out allow
default forward deny
hosts client = { 192.0.2.2 }
hosts blocked = { 198.51.100.1 }
hosts nets = { 198.51.100.16/28 }
allow in port 22/tcp from $client
deny out to $blocked
deny out port 9999/tcp
deny out to $nets
allow forward port 7000/tcp from 203.0.113.1
allow forward port 7001/tcp from 203.0.113.2
allow forward port 7002/tcp from 203.0.113.3
allow forward port 7003/tcp from 203.0.113.4
allow forward port 7004/tcp from 203.0.113.5
allow forward port 7005/tcp from 203.0.113.6
allow forward port 7006/tcp from 203.0.113.7
allow forward port 7007/tcp from 203.0.113.8
# (a group in step 5)
# (a rule in step 5)
POL
# a hash set's element, a rule, an interval set's element, a verdict
# map's element
sed -e 's/198\.51\.100\.1 /198.51.100.2 /' -e 's/9999/9998/' -e 's/\.16\/28/.32\/27/' \
	-e 's/7003/7013/' "$tmp/p1" >"$tmp/p2"

fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
fw_nft() { ip netns exec "$fw" nft "$@"; }
apply_fw() {
	ip netns exec "$fw" "$pc" apply "$@" "$policy" 2>"$tmp/err" ||
		{ cat "$tmp/err"; echo "FAIL apply $*"; exit 1; }
}
# "HANDLE PACKETS" of the rule whose comment names line $1 of the policy
rule_of() {
	fw_nft -a list table inet reap |
		awk -v w="reapply.policy:$1\"" 'index($0, w) {
			for (i = 1; i < NF; i++) {
				if ($i == "packets") p = $(i + 1)
				if ($i == "handle") h = $(i + 1)
			}
			print h, p; exit }'
}
# the ruleset without what counters counted
listing() { ip netns exec "$1" nft list ruleset | sed 's/packets [0-9]* bytes [0-9]*/packets - bytes -/'; }

cp "$tmp/p1" "$policy"
apply_fw
for _ in 1 2 3; do
	ip netns exec "$cl" "$probe" tcp 192.0.2.1 22 300 >/dev/null
done
read -r h_in p_in <<<"$(rule_of 9)"
read -r h_out _ <<<"$(rule_of 11)"
read -r h_next _ <<<"$(rule_of 10)"
[ -n "$h_in" ] && [ -n "$h_out" ] || { fw_nft -a list ruleset; echo "rules of lines 9 and 11 not found"; exit 99; }
[ "${p_in:-0}" -gt 0 ] || { fw_nft list ruleset; echo "the probes were not counted"; exit 99; }

# 1. the same policy again
before=$(fw_nft -a list ruleset)
apply_fw
if [ "$(fw_nft -a list ruleset)" = "$before" ]; then
	ok "re-apply of the same policy changes nothing (handles, counters)"
else
	bad "re-apply of the same policy changed the table:"
	diff <(echo "$before") <(fw_nft -a list ruleset)
fi

# 2. a one-line change in the output chain, a changed group
cp "$tmp/p2" "$policy"
apply_fw
read -r h_in2 p_in2 <<<"$(rule_of 9)"
read -r h_out2 _ <<<"$(rule_of 11)"
if [ "$h_in2" = "$h_in" ] && [ "${p_in2:-0}" -ge "$p_in" ]; then
	ok "unchanged input rule kept: handle $h_in, $p_in2 packets counted"
else
	bad "unchanged input rule: handle $h_in -> $h_in2, packets $p_in -> $p_in2"
fi
read -r h_next2 _ <<<"$(rule_of 10)"
if [ -n "$h_out2" ] && [ "$h_out2" != "$h_out" ] &&
   fw_nft list chain inet reap output | grep -q 'dport 9998'; then
	ok "changed output rule replaced: handle $h_out -> $h_out2"
else
	bad "changed output rule: handle $h_out -> $h_out2"
	fw_nft -a list chain inet reap output
fi
if [ -n "$h_next2" ] && [ "$h_next2" = "$h_next" ]; then
	ok "unchanged rule of the changed output chain kept: handle $h_next"
else
	bad "unchanged rule of the changed output chain: handle $h_next -> $h_next2"
fi
if fw_nft list set inet reap blocked_v4 | grep -q '198\.51\.100\.2' &&
   ! fw_nft list set inet reap blocked_v4 | grep -q '198\.51\.100\.1'; then
	ok "changed group: the set holds the new address only"
else
	bad "changed group:"
	fw_nft list set inet reap blocked_v4
fi

if fw_nft list set inet reap nets_v4 | grep -q '198\.51\.100\.32/27' &&
   fw_nft list table inet reap | grep -q '203\.0\.113\.4 \. tcp \. 7013' &&
   ! fw_nft list table inet reap | grep -q '7003'; then
	ok "changed interval set and verdict map hold the new values only"
else
	bad "changed interval set or verdict map:"
	fw_nft list table inet reap
fi

# 3. the same as a fresh apply and as nft -f of the output
same_as_fresh() {   # WHAT
	ip netns del "$fresh" 2>/dev/null
	ip netns del "$text" 2>/dev/null
	ip netns add "$fresh" || exit 99
	ip netns add "$text" || exit 99
	ip netns exec "$fresh" "$pc" apply "$policy" 2>"$tmp/err" || { cat "$tmp/err"; exit 99; }
	"$pc" generate "$policy" >"$tmp/out.nft" 2>/dev/null || exit 99
	ip netns exec "$text" nft -f "$tmp/out.nft" || exit 99
	if [ "$(listing "$fw")" = "$(listing "$fresh")" ] &&
	   [ "$(listing "$fw")" = "$(listing "$text")" ]; then
		ok "$1: the table equals a fresh apply's and nft -f's (counters aside)"
	else
		bad "$1: the table differs from a fresh apply's (<) or nft -f's:"
		diff <(listing "$fresh") <(listing "$fw")
		diff <(listing "$text") <(listing "$fw")
	fi
	if ip netns exec "$fw" "$pc" diff "$policy" >"$tmp/diff" 2>&1; then
		ok "$1: diff finds nothing"
	else
		bad "$1: diff:"
		cat "$tmp/diff"
	fi
}
same_as_fresh "one-line change"

# 4. a re-apply not confirmed rolls back exactly
before=$(fw_nft list ruleset)
cp "$tmp/p1" "$policy"
PORTCULLIS_RUNDIR=$tmp/run ip netns exec "$fw" "$pc" apply --confirm 1 "$policy" \
	</dev/null >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && [ "$(fw_nft list ruleset)" = "$before" ]; then
	ok "an unconfirmed re-apply rolls back to the table as it was, counters included"
else
	bad "unconfirmed re-apply: exit $rc"
	cat "$tmp/err"
	diff <(echo "$before") <(fw_nft list ruleset)
fi
# 5. a set made between others
sed -e 's/^# (a group in step 5)$/hosts extra = { 203.0.113.77 }/' \
	-e 's/^# (a rule in step 5)$/deny out to $extra/' "$tmp/p2" >"$policy"
apply_fw
same_as_fresh "a new group"
exit $fail
