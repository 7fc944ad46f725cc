# SPDX-License-Identifier: MIT
#
# Sourced by the single-pair namespace tests (dynamic.sh, hostsfile.sh,
# stats.sh): the skip rules, and a client and a firewall namespace joined
# by a veth pair, removed on exit.
#
#   pair_setup TAG [v6]
#
# makes $fw and $cl (pc-TAG-fw-PID, pc-TAG-cl-PID) and $tmp; the client is
# 192.0.2.2 (and 2001:db8::2 with v6), the firewall 192.0.2.1
# (2001:db8::1); their interfaces are pcTAG0 (client) and pcTAG1. A test
# that starts a server in the background sets $server to its pid.
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
skip() { echo "SKIP: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "the namespace tests need root (they create network namespaces)"
command -v ip >/dev/null || skip "iproute2's ip is not installed"

pair_cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	ip netns del "$fw" 2>/dev/null
	ip netns del "$cl" 2>/dev/null
	rm -rf "$tmp"
}

pair_setup() {
	fw=pc-$1-fw-$$ cl=pc-$1-cl-$$ tmp=$(mktemp -d) server=
	trap pair_cleanup EXIT
	ip netns add "$fw" 2>"$tmp/err" || skip "cannot create network namespaces: $(cat "$tmp/err")"
	ip netns add "$cl" || exit 99
	ip link add "pc${1}0" netns "$cl" type veth peer name "pc${1}1" netns "$fw" || exit 99
	ip -n "$cl" addr add 192.0.2.2/24 dev "pc${1}0"
	ip -n "$fw" addr add 192.0.2.1/24 dev "pc${1}1"
	if [ "${2:-}" = v6 ]; then
		ip -n "$cl" addr add 2001:db8::2/64 dev "pc${1}0" nodad
		ip -n "$fw" addr add 2001:db8::1/64 dev "pc${1}1" nodad
	fi
	for ns in "$cl" "$fw"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$cl" link set "pc${1}0" up
	ip -n "$fw" link set "pc${1}1" up
}
