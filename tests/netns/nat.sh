#!/bin/bash
# SPDX-License-Identifier: MIT
#
# NAT with real packets (routers, issue 13).
#
#   nat.sh --portcullis PROG --probe PROG --backend nft|iptables|apply
#          [--registry FILE] POLICY
#
# Three network namespaces, as run.sh makes them: the client (the LAN,
# behind pcfw0: 192.0.2.2, 2001:db8::2), the firewall routing, the server
# (the WAN, behind pcfw1: 198.51.100.2, 2001:db8:1::2). POLICY (nat.policy)
# is loaded on the firewall from `generate -b nft` (nft -f), `-b iptables`
# and `-b ip6tables` (iptables-restore), or with `apply` (netlink; then
# `diff` must find the kernel equal to the policy). Each check compares
# what the packets did with the expectation below AND with what `portcullis
# explain` predicts (the verdict, and the translation it names):
#   - masquerade: the server sees the router's WAN address as the source;
#   - a port forward: the router's WAN port 8080 reaches the inner host
#     (the client) on port 80, which sees the server's own address;
#   - a WAN port that is not forwarded (8081) is rejected by the router;
#   - a LAN port the policy does not forward to (81) is dropped.
# With apply, an unconfirmed `apply --confirm` of other NAT must roll back
# to exactly the policy's. IPv4 and IPv6 each. Exit: 0 as expected, 1 a mismatch, 77 skipped (not
# root, no `ip netns`, the backend's tool missing), 99 setup failure.
. "$(dirname "$0")/router.sh"

router_setup n cl sv
{
	link "$cl" pcfw0 pccl0 192.0.2.1 192.0.2.2 2001:db8::1 2001:db8::2 &&
	link "$sv" pcfw1 pcsv0 198.51.100.1 198.51.100.2 2001:db8:1::1 2001:db8:1::2
} || setup_fail "network setup"

serve "$cl" client 80 81
serve "$sv" server 80
for a in 198.51.100.2 2001:db8:1::2; do link_ready "$cl" "$a"; done
for a in 192.0.2.2 2001:db8::2; do link_ready "$sv" "$a"; done

load_policy
if [ "$backend" = apply ]; then
	# the rollback of an unconfirmed apply restores the NAT chains too
	sed 's/8080/9090/; s/^masquerade.*//' "$policy" >"$tmp/other.policy"
	in_fw env -u SSH_CONNECTION "$portcullis" apply "${regopt[@]}" --confirm 1 "$tmp/other.policy" \
		</dev/null >/dev/null 2>&1
	in_fw "$portcullis" diff "${regopt[@]}" "$policy" >"$tmp/diff" ||
		{ cat "$tmp/diff"; echo "FAIL the rollback of apply --confirm did not restore the policy's NAT"; exit 1; }
	echo "ok   apply --confirm of another NAT, not confirmed: rolled back to the policy's"
fi

T=3000
for fam in 4 6; do
	if [ $fam = 4 ]; then
		cli=192.0.2.2 srv=198.51.100.2 wan=198.51.100.1 d=
	else
		cli=2001:db8::2 srv=2001:db8:1::2 wan=2001:db8:1::1 d=1
	fi
	check "IPv$fam masquerade: the server sees the router's WAN address" "$cl" \
		peer "$srv" 80 $T -- "$wan " \
		"forward on pcfw0 out on pcfw1 tcp $cli -> $(b "$srv" 80)" allow "masquerade"
	check "IPv$fam port forward: WAN port 8080 reaches the inner host's port 80" "$sv" \
		peer "$wan" 8080 $T -- "$srv " \
		"in on pcfw1 out on pcfw0 tcp $srv -> $(b "$wan" 8080)" allow "-> $(b "$cli" 80)"
	check "IPv$fam a WAN port not forwarded (8081) is refused" "$sv" \
		tcp "$wan" 8081 $T -- rejected \
		"in on pcfw1 tcp $srv -> $(b "$wan" 8081)" reject
	check "IPv$fam a LAN port the policy does not forward to (81) is dropped" "$sv" \
		tcp "$cli" 81 1000 -- dropped \
		"forward on pcfw1 out on pcfw0 tcp $srv -> $(b "$cli" 81)" deny
done
echo "$((total - fails)) of $total as expected"
[ $fails = 0 ]
