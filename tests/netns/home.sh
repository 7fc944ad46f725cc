#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The home router of examples/home-router (policies/home-router.policy)
# with real packets (routers, issue 13).
#
#   home.sh --portcullis PROG --probe PROG --backend nft|iptables|apply
#           [--registry FILE] POLICY
#
# Four network namespaces: the router, with the interfaces the profile
# names, lan0 (192.0.2.1, 2001:db8:1::1), wan0 (198.51.100.1,
# 2001:db8:2::1) and wg0 (a veth standing for WireGuard: 203.0.113.1,
# 2001:db8:3::1); a LAN host, the web server of the port forward
# (192.0.2.80, 2001:db8:1::80); a host on the internet (198.51.100.2,
# 2001:db8:2::2); a VPN peer (203.0.113.2, 2001:db8:3::2). POLICY is loaded
# on the router as nat.sh does; every check compares the packets with the
# expectation and with `portcullis explain`:
#   - LAN to WAN is allowed and masqueraded (the internet host sees the
#     router's WAN address);
#   - the port forward (WAN port 8080 to the web server's 80);
#   - VPN to LAN is allowed, not masqueraded;
#   - WAN to LAN, LAN to VPN and VPN to WAN are dropped.
# Exit: 0 as expected, 1 a mismatch, 77 skipped, 99 setup failure.
# router_setup names the namespaces by indirection (printf -v):
# shellcheck source=tests/netns/router.sh disable=SC2154
. "$(dirname "$0")/router.sh"

router_setup h cl sv vp
{
	link "$cl" lan0 eth0 192.0.2.1 192.0.2.80 2001:db8:1::1 2001:db8:1::80 &&
	link "$sv" wan0 eth0 198.51.100.1 198.51.100.2 2001:db8:2::1 2001:db8:2::2 &&
	link "$vp" wg0 eth0 203.0.113.1 203.0.113.2 2001:db8:3::1 2001:db8:3::2
} || setup_fail "network setup"

serve "$cl" lan 80 81
serve "$sv" wan 80
serve "$vp" vpn 80
for a in 198.51.100.2 2001:db8:2::2 203.0.113.2 2001:db8:3::2; do link_ready "$cl" "$a"; done
for a in 192.0.2.80 2001:db8:1::80 203.0.113.2; do link_ready "$sv" "$a"; done

load_policy

T=3000
for fam in 4 6; do
	if [ $fam = 4 ]; then
		lan=192.0.2.80 wanh=198.51.100.2 vpn=203.0.113.2 wan=198.51.100.1
	else
		lan=2001:db8:1::80 wanh=2001:db8:2::2 vpn=2001:db8:3::2 wan=2001:db8:2::1
	fi
	check "IPv$fam LAN to WAN, masqueraded: the internet host sees the router's WAN address" "$cl" \
		peer "$wanh" 80 $T -- "$wan " \
		"forward on lan0 out on wan0 tcp $lan -> $(b "$wanh" 80)" allow "masquerade"
	check "IPv$fam VPN to LAN: allowed, the LAN host sees the VPN peer" "$vp" \
		peer "$lan" 80 $T -- "$vpn " \
		"forward on wg0 out on lan0 tcp $vpn -> $(b "$lan" 80)" allow
	check "IPv$fam WAN to LAN is dropped" "$sv" \
		tcp "$lan" 81 1000 -- dropped \
		"forward on wan0 out on lan0 tcp $wanh -> $(b "$lan" 81)" deny
	check "IPv$fam LAN to VPN is dropped" "$cl" \
		tcp "$vpn" 80 1000 -- dropped \
		"forward on lan0 out on wg0 tcp $lan -> $(b "$vpn" 80)" deny
	check "IPv$fam VPN to WAN is dropped" "$vp" \
		tcp "$wanh" 80 1000 -- dropped \
		"forward on wg0 out on wan0 tcp $vpn -> $(b "$wanh" 80)" deny
done
check "IPv4 port forward: WAN port 8080 reaches the web server's 80" "$sv" \
	peer 198.51.100.1 8080 $T -- "198.51.100.2 " \
	"in on wan0 out on lan0 tcp 198.51.100.2 -> 198.51.100.1:8080" allow "-> 192.0.2.80:80"
summary
