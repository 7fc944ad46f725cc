# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Sourced by the router namespace tests (home.sh, hosts.sh, nat.sh): the options,
# the skip rules, a router namespace $fw with one namespace per peer
# joined by veth pairs, responders, loading the policy on the router with
# each backend, and check(), which compares a probe's result with the
# expectation and with `portcullis explain` as the oracle.
#
#   TEST --portcullis PROG --probe PROG --backend nft|iptables|apply
#        [--registry FILE] POLICY
#
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
regopt=()
[ -n "$registry" ] && regopt=(--registry "$registry")

skip() { echo "SKIP: $*" >&2; exit 77; }
setup_fail() { echo "ERROR: $*" >&2; exit 99; }

[ "$(id -u)" = 0 ] || skip "the namespace tests need root (they create network namespaces)"
command -v ip >/dev/null || skip "iproute2's ip is not installed"
case $backend in
nft) command -v nft >/dev/null || skip "nft is not installed" ;;
iptables) command -v iptables-restore >/dev/null && command -v ip6tables-restore >/dev/null ||
	skip "iptables-restore / ip6tables-restore are not installed" ;;
esac

# router_setup TAG VAR...: the router's namespace $fw (pcTAG-PID-fw) and
# one more per VAR, its name stored in that variable; $tmp; forwarding on.
nses=() pids=()
router_cleanup() {
	local p ns
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ns in "${nses[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
router_setup() {
	local tag=$1 var
	shift
	fw=pc$tag-$$-fw
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-$tag.XXXXXX") || setup_fail "mktemp"
	export PORTCULLIS_RUNDIR="$tmp/run"
	trap router_cleanup EXIT
	trap 'exit 99' INT TERM HUP
	ip netns add "$fw" 2>"$tmp/err" || skip "cannot create network namespaces: $(cat "$tmp/err")"
	nses+=("$fw")
	for var; do
		printf -v "$var" '%s' "pc$tag-$$-$var"
		ip netns add "${!var}" || setup_fail "ip netns add ${!var}"
		nses+=("${!var}")
	done
	ip -n "$fw" link set lo up &&
	ip netns exec "$fw" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' &&
	ip netns exec "$fw" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' ||
		setup_fail "router setup"
}
in_fw() { ip netns exec "$fw" "$@"; }

# link PEER-NETNS ROUTER-IF PEER-IF ROUTER4 PEER4 ROUTER6 PEER6 [LEN4]:
# a veth pair, IPv4 /LEN4 (default 24) and IPv6 /64, the peer's default
# routes through the router.
link() {
	local len=${8:-24}
	ip -n "$fw" link add "$2" type veth peer name "$3" netns "$1" &&
	ip -n "$fw" addr add "$4/$len" dev "$2" &&
	ip -n "$fw" addr add "$6/64" dev "$2" nodad &&
	ip -n "$1" addr add "$5/$len" dev "$3" &&
	ip -n "$1" addr add "$7/64" dev "$3" nodad &&
	ip -n "$fw" link set "$2" up && ip -n "$1" link set "$3" up &&
	ip -n "$1" link set lo up &&
	ip -n "$1" route add default via "$4" &&
	ip -n "$1" -6 route add default via "$6"
}

# serve NETNS NAME PORTS...: TCP responders on PORTS and UDP 46999.
serve() {
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
# link_ready NETNS ADDR: NETNS reaches ADDR's UDP responder (no ruleset yet).
link_ready() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(ip netns exec "$1" "$probe" udp "$2" 46999 200 2>/dev/null)" = accepted ] && return 0
	done
	setup_fail "no connectivity from $1 to $2 before loading the ruleset"
}

# load_policy: POLICY on the router through the backend.
load_policy() {
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
}

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
# b ADDR PORT: ADDR:PORT, IPv6 addresses in brackets.
b() { [[ $1 == *:* ]] && echo "[$1]:$2" || echo "$1:$2"; }
# summary: the count; the exit status of the test.
summary() {
	echo "$((total - fails)) of $total as expected"
	[ $fails = 0 ]
}
