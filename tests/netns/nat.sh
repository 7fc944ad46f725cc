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

fw=pcn-$$-fw cl=pcn-$$-cl sv=pcn-$$-sv
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-nat.XXXXXX") || setup_fail "mktemp"
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
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

ip netns add "$fw" 2>"$tmp/err" || skip "cannot create network namespaces: $(cat "$tmp/err")"
ip netns add "$cl" || setup_fail "ip netns add $cl"
ip netns add "$sv" || setup_fail "ip netns add $sv"
in_fw() { ip netns exec "$fw" "$@"; }
in_cl() { ip netns exec "$cl" "$@"; }
in_sv() { ip netns exec "$sv" "$@"; }
{
	ip -n "$fw" link add pcfw0 type veth peer name pccl0 netns "$cl" &&
	ip -n "$fw" addr add 192.0.2.1/24 dev pcfw0 &&
	ip -n "$fw" addr add 2001:db8::1/64 dev pcfw0 nodad &&
	ip -n "$cl" addr add 192.0.2.2/24 dev pccl0 &&
	ip -n "$cl" addr add 2001:db8::2/64 dev pccl0 nodad &&
	ip -n "$fw" link set pcfw0 up && ip -n "$cl" link set pccl0 up &&
	ip -n "$fw" link add pcfw1 type veth peer name pcsv0 netns "$sv" &&
	ip -n "$fw" addr add 198.51.100.1/24 dev pcfw1 &&
	ip -n "$fw" addr add 2001:db8:1::1/64 dev pcfw1 nodad &&
	ip -n "$sv" addr add 198.51.100.2/24 dev pcsv0 &&
	ip -n "$sv" addr add 2001:db8:1::2/64 dev pcsv0 nodad &&
	ip -n "$fw" link set pcfw1 up && ip -n "$sv" link set pcsv0 up &&
	ip -n "$fw" link set lo up && ip -n "$cl" link set lo up && ip -n "$sv" link set lo up &&
	ip -n "$cl" route add default via 192.0.2.1 &&
	ip -n "$cl" -6 route add default via 2001:db8::1 &&
	ip -n "$sv" route add default via 198.51.100.1 &&
	ip -n "$sv" -6 route add default via 2001:db8:1::1 &&
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
serve "$cl" client 80 81
serve "$sv" server 80
link_ready() { # NETNS ADDR
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(ip netns exec "$1" "$probe" udp "$2" 46999 200 2>/dev/null)" = accepted ] && return 0
	done
	setup_fail "no connectivity from $1 to $2 before loading the ruleset"
}
for a in 198.51.100.2 2001:db8:1::2; do link_ready "$cl" "$a"; done
for a in 192.0.2.2 2001:db8::2; do link_ready "$sv" "$a"; done

regopt=()
[ -n "$registry" ] && regopt=(--registry "$registry")
case $backend in
apply)
	in_fw env -u SSH_CONNECTION "$portcullis" apply "${regopt[@]}" "$policy" >/dev/null ||
		setup_fail "portcullis apply $policy"
	in_fw "$portcullis" diff "${regopt[@]}" "$policy" >"$tmp/diff" ||
		{ cat "$tmp/diff"; setup_fail "portcullis diff after apply: the kernel differs from the policy"; }
	# the rollback of an unconfirmed apply restores the NAT chains too
	sed 's/8080/9090/; s/^masquerade.*//' "$policy" >"$tmp/other.policy"
	in_fw env -u SSH_CONNECTION "$portcullis" apply "${regopt[@]}" --confirm 1 "$tmp/other.policy" \
		</dev/null >/dev/null 2>&1
	in_fw "$portcullis" diff "${regopt[@]}" "$policy" >"$tmp/diff" ||
		{ cat "$tmp/diff"; echo "FAIL the rollback of apply --confirm did not restore the policy's NAT"; exit 1; }
	echo "ok   apply --confirm of another NAT, not confirmed: rolled back to the policy's"
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
#   name NAT-TEXT (e.g. "masquerade", "dnat nat.policy:15: ... -> 192.0.2.2:80").
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
		cli=192.0.2.2 srv=198.51.100.2 wan=198.51.100.1 d=
	else
		cli=2001:db8::2 srv=2001:db8:1::2 wan=2001:db8:1::1 d=1
	fi
	b() { [ -n "$d" ] && echo "[$1]:$2" || echo "$1:$2"; }
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
