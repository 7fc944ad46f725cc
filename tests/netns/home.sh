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
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR

portcullis= probe= backend= registry=
usage() {
	echo "usage: $0 --portcullis PROG --probe PROG --backend nft|iptables|apply [--registry FILE] POLICY" >&2
	exit 99
}
while [ $# -gt 1 ]; do
	case $1 in
	--portcullis) portcullis=$2; shift 2 ;;
	--probe) probe=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--registry) registry=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# = 1 ] && [ -n "$portcullis" ] && [ -n "$probe" ] || usage
policy=$1
case $backend in nft|iptables|apply) ;; *) usage ;; esac

skip() { echo "SKIP: $*" >&2; exit 77; }
setup_fail() { echo "ERROR: $*" >&2; exit 99; }

[ "$(id -u)" = 0 ] || skip "the namespace tests need root (they create network namespaces)"
command -v ip >/dev/null || skip "iproute2's ip is not installed"
case $backend in
nft) command -v nft >/dev/null || skip "nft is not installed" ;;
iptables) command -v iptables-restore >/dev/null && command -v ip6tables-restore >/dev/null ||
	skip "iptables-restore / ip6tables-restore are not installed" ;;
esac

fw=pch-$$-fw cl=pch-$$-lan sv=pch-$$-wan vp=pch-$$-vpn
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-home.XXXXXX") || setup_fail "mktemp"
export PORTCULLIS_RUNDIR="$tmp/run"
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$fw" 2>/dev/null
	ip netns del "$cl" 2>/dev/null
	ip netns del "$sv" 2>/dev/null
	ip netns del "$vp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

ip netns add "$fw" 2>"$tmp/err" || skip "cannot create network namespaces: $(cat "$tmp/err")"
ip netns add "$cl" || setup_fail "ip netns add $cl"
ip netns add "$sv" || setup_fail "ip netns add $sv"
ip netns add "$vp" || setup_fail "ip netns add $vp"
in_fw() { ip netns exec "$fw" "$@"; }
in_cl() { ip netns exec "$cl" "$@"; }
in_sv() { ip netns exec "$sv" "$@"; }
link() { # PEER-NETNS ROUTER-IF PEER-IF ROUTER4 PEER4 ROUTER6 PEER6
	ip -n "$fw" link add "$2" type veth peer name "$3" netns "$1" &&
	ip -n "$fw" addr add "$4/24" dev "$2" &&
	ip -n "$fw" addr add "$6/64" dev "$2" nodad &&
	ip -n "$1" addr add "$5/24" dev "$3" &&
	ip -n "$1" addr add "$7/64" dev "$3" nodad &&
	ip -n "$fw" link set "$2" up && ip -n "$1" link set "$3" up &&
	ip -n "$1" link set lo up &&
	ip -n "$1" route add default via "$4" &&
	ip -n "$1" -6 route add default via "$6"
}
{
	ip -n "$fw" link set lo up &&
	link "$cl" lan0 eth0 192.0.2.1 192.0.2.80 2001:db8:1::1 2001:db8:1::80 &&
	link "$sv" wan0 eth0 198.51.100.1 198.51.100.2 2001:db8:2::1 2001:db8:2::2 &&
	link "$vp" wg0 eth0 203.0.113.1 203.0.113.2 2001:db8:3::1 2001:db8:3::2 &&
	in_fw sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' &&
	in_fw sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
} || setup_fail "network setup"

serve() { # NETNS NAME PORTS...
	local ns=$1 name=$2 i pid
	shift 2
	ip netns exec "$ns" "$probe" serve -r "$tmp/$name.ready" tcp "$@" udp 46999 &
	pid=$!
	pids+=("$pid")
	for ((i = 0; i < 500; i++)); do
		[ -e "$tmp/$name.ready" ] && return 0
		kill -0 "$pid" 2>/dev/null || setup_fail "the $name responder failed"
		sleep 0.01
	done
	setup_fail "the $name responder did not start"
}
serve "$cl" lan 80 81
serve "$sv" wan 80
serve "$vp" vpn 80
link_ready() { # NETNS ADDR
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(ip netns exec "$1" "$probe" udp "$2" 46999 200 2>/dev/null)" = accepted ] && return 0
	done
	setup_fail "no connectivity from $1 to $2 before loading the ruleset"
}
for a in 198.51.100.2 2001:db8:2::2 203.0.113.2 2001:db8:3::2; do link_ready "$cl" "$a"; done
for a in 192.0.2.80 2001:db8:1::80 203.0.113.2; do link_ready "$sv" "$a"; done

regopt=()
[ -n "$registry" ] && regopt=(--registry "$registry")
case $backend in
apply)
	in_fw env -u SSH_CONNECTION "$portcullis" apply "${regopt[@]}" "$policy" >/dev/null ||
		setup_fail "portcullis apply $policy"
	in_fw "$portcullis" diff "${regopt[@]}" "$policy" >"$tmp/diff" ||
		{ cat "$tmp/diff"; setup_fail "portcullis diff after apply: the kernel differs from the policy"; }
	;;
nft)
	"$portcullis" generate -b nft "${regopt[@]}" -o "$tmp/rules.nft" "$policy" ||
		setup_fail "portcullis generate -b nft $policy"
	in_fw nft -f "$tmp/rules.nft" || setup_fail "nft -f (generated from $policy)"
	;;
iptables)
	"$portcullis" generate "${regopt[@]}" -b iptables -o "$tmp/rules.v4" \
		-b ip6tables -o "$tmp/rules.v6" "$policy" || setup_fail "portcullis generate -b iptables/ip6tables $policy"
	in_fw iptables-restore --noflush "$tmp/rules.v4" || setup_fail "iptables-restore"
	in_fw ip6tables-restore --noflush "$tmp/rules.v6" || setup_fail "ip6tables-restore"
	;;
esac
echo "# $backend: $policy loaded"

fails=0 total=0
# check WHAT NETNS PROBE-ARGS -- EXPECTED EXPLAIN-PACKET EXPECTED-VERDICT [NAT-TEXT]
#   runs `probe PROBE-ARGS` in NETNS; its output must start with EXPECTED;
#   explain of EXPLAIN-PACKET must give EXPECTED-VERDICT and, if given,
#   name NAT-TEXT (e.g. "masquerade", "-> 192.0.2.80:80").
check() {
	local what=$1 ns=$2 got pred
	shift 2
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	local exp=$1 pkt=$2 verdict=$3 nat=${4:-}
	total=$((total + 1))
	got=$(ip netns exec "$ns" "$probe" "${args[@]}" 2>&1)
	pred=$("$portcullis" explain "${regopt[@]}" "$policy" "$pkt" 2>&1)
	if [[ "$got" != "$exp"* ]]; then
		echo "FAIL $what: observed '$got', expected '$exp'"
		fails=$((fails + 1))
	elif [ "$(printf '%s' "$pred" | cut -f1)" != "$verdict" ] ||
	     { [ -n "$nat" ] && [[ "$pred" != *"$nat"* ]]; }; then
		echo "FAIL $what: observed '$got' as expected, but explain says: $pred (wanted $verdict${nat:+ and '$nat'})"
		fails=$((fails + 1))
	else
		echo "ok   $what: $got (explain: ${pred//$'\t'/ | })"
	fi
}

T=3000
for fam in 4 6; do
	if [ $fam = 4 ]; then
		lan=192.0.2.80 wanh=198.51.100.2 vpn=203.0.113.2 wan=198.51.100.1 d=
	else
		lan=2001:db8:1::80 wanh=2001:db8:2::2 vpn=2001:db8:3::2 wan=2001:db8:2::1 d=1
	fi
	b() { [ -n "$d" ] && echo "[$1]:$2" || echo "$1:$2"; }
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
echo "$((total - fails)) of $total as expected"
[ $fails = 0 ]
