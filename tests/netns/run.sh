#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Real packets through a generated ruleset.
#
#   run.sh --portcullis PROG --probe PROG --backend nft|iptables
#          [--registry FILE] [--ruleset FILE] [--no-oracle] POLICY PROBES
#
# Creates two network namespaces joined by a veth pair:
#
#   firewall  pcfw0  192.0.2.1/24  2001:db8::1/64   (the ruleset is loaded here)
#   client    pccl0  192.0.2.2/24  2001:db8::2/64
#
# loads `portcullis generate -b nft` (nft -f) or `-b iptables` / `-b ip6tables`
# (iptables-restore / ip6tables-restore) of POLICY on the firewall side, starts
# responders on both sides and runs every probe of the PROBES table:
#
#   DIRECTION PROTO FAMILY PORT EXPECTED      # comment
#
#   DIRECTION  in   client -> firewall
#              out  firewall -> client (the answer must come back in)
#              lo   firewall -> its own 127.0.0.1 / ::1
#   PROTO      tcp | udp
#   FAMILY     4 | 6
#   EXPECTED   accepted | rejected | dropped
#
# Each observed result must equal EXPECTED and what `portcullis explain`
# predicts for the flow: its first packet's verdict (allow -> accepted,
# deny -> dropped, reject -> rejected), provided the answer, and for IPv6
# the neighbour discovery both need, are allowed too (otherwise dropped).
# Neighbour caches are flushed before every probe, so every IPv6 probe needs
# neighbour discovery to pass the ruleset.
#
# --ruleset FILE loads FILE (nft syntax) instead of generating one.
# --no-oracle skips the explain prediction.
# Exit: 0 all probes as expected, 1 a mismatch, 77 skipped (not root, no
# `ip netns`, or the backend's tool missing), 99 setup failure.

set -u

portcullis= probe= backend= registry= ruleset= oracle=1
timeout_ms=${PC_PROBE_TIMEOUT_MS:-300}

usage() {
	echo "usage: $0 --portcullis PROG --probe PROG --backend nft|iptables [--registry FILE] [--ruleset FILE] [--no-oracle] POLICY PROBES" >&2
	exit 99
}

while [ $# -gt 0 ]; do
	case $1 in
	--portcullis) portcullis=$2; shift 2 ;;
	--probe) probe=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--registry) registry=$2; shift 2 ;;
	--ruleset) ruleset=$2; shift 2 ;;
	--no-oracle) oracle=0; shift ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || usage
policy=$1 probes=$2
[ -n "$portcullis" ] && [ -n "$probe" ] || usage
case $backend in nft|iptables) ;; *) usage ;; esac

skip() {
	echo "SKIP: $*" >&2
	exit 77
}
setup_fail() {
	echo "ERROR: $*" >&2
	exit 99
}

[ "$(id -u)" = 0 ] || skip "the namespace tests need root (they create network namespaces)"
command -v ip >/dev/null || skip "iproute2's ip is not installed"
if [ "$backend" = nft ]; then
	command -v nft >/dev/null || skip "nft is not installed"
else
	command -v iptables-restore >/dev/null && command -v ip6tables-restore >/dev/null ||
		skip "iptables-restore / ip6tables-restore are not installed"
fi

fw=pc-$$-fw
cl=pc-$$-cl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-netns.XXXXXX") || setup_fail "mktemp"
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$fw" 2>/dev/null
	ip netns del "$cl" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

ip netns add "$fw" 2>"$tmp/err" || skip "cannot create network namespaces: $(cat "$tmp/err")"
ip netns add "$cl" || setup_fail "ip netns add $cl"

in_fw() { ip netns exec "$fw" "$@"; }
in_cl() { ip netns exec "$cl" "$@"; }

{
	ip -n "$fw" link set lo up &&
	ip -n "$cl" link set lo up &&
	ip -n "$fw" link add pcfw0 type veth peer name pccl0 netns "$cl" &&
	ip -n "$fw" addr add 192.0.2.1/24 dev pcfw0 &&
	ip -n "$fw" addr add 2001:db8::1/64 dev pcfw0 nodad &&
	ip -n "$cl" addr add 192.0.2.2/24 dev pccl0 &&
	ip -n "$cl" addr add 2001:db8::2/64 dev pccl0 nodad &&
	ip -n "$fw" link set pcfw0 up &&
	ip -n "$cl" link set pccl0 up
} || setup_fail "network setup"

# ---- the ruleset ----------------------------------------------------------
regopt=()
[ -n "$registry" ] && regopt=(--registry "$registry")

if [ -n "$ruleset" ]; then
	in_fw nft -f "$ruleset" || setup_fail "nft -f $ruleset"
	echo "# loaded $ruleset"
elif [ "$backend" = nft ]; then
	"$portcullis" generate -b nft "${regopt[@]}" "$policy" >"$tmp/rules.nft" ||
		setup_fail "portcullis generate -b nft $policy"
	in_fw nft -f "$tmp/rules.nft" || setup_fail "nft -f (generated from $policy)"
	echo "# loaded portcullis generate -b nft $policy"
else
	"$portcullis" generate -b iptables "${regopt[@]}" "$policy" >"$tmp/rules.v4" ||
		setup_fail "portcullis generate -b iptables $policy"
	"$portcullis" generate -b ip6tables "${regopt[@]}" "$policy" >"$tmp/rules.v6" ||
		setup_fail "portcullis generate -b ip6tables $policy"
	in_fw iptables-restore <"$tmp/rules.v4" || setup_fail "iptables-restore (generated from $policy)"
	in_fw ip6tables-restore <"$tmp/rules.v6" || setup_fail "ip6tables-restore (generated from $policy)"
	echo "# loaded portcullis generate -b iptables / -b ip6tables $policy"
fi

# ---- the probe table ------------------------------------------------------
declare -a P_DIR P_PROTO P_FAM P_PORT P_EXP P_LINE
fw_tcp=() fw_udp=() cl_tcp=() cl_udp=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%%#*}
	read -r dir proto fam port exp extra <<<"$line"
	[ -z "${dir:-}" ] && continue
	case "$dir/$proto/$fam/$exp" in
	in/tcp/[46]/* | in/udp/[46]/* | out/tcp/[46]/* | out/udp/[46]/* | lo/tcp/[46]/* | lo/udp/[46]/*) ;;
	*) setup_fail "$probes:$lineno: bad probe '$line'" ;;
	esac
	case $exp in accepted|rejected|dropped) ;; *) setup_fail "$probes:$lineno: bad result '$exp'" ;; esac
	[[ $port =~ ^[0-9]+$ ]] && [ "$port" -le 65535 ] && [ -z "${extra:-}" ] ||
		setup_fail "$probes:$lineno: bad probe '$line'"
	P_DIR+=("$dir") P_PROTO+=("$proto") P_FAM+=("$fam") P_PORT+=("$port") P_EXP+=("$exp") P_LINE+=("$lineno")
	if [ "$dir" = out ]; then
		if [ "$proto" = tcp ]; then cl_tcp+=("$port"); else cl_udp+=("$port"); fi
	else
		if [ "$proto" = tcp ]; then fw_tcp+=("$port"); else fw_udp+=("$port"); fi
	fi
done <"$probes"
[ ${#P_DIR[@]} -gt 0 ] || setup_fail "$probes: no probes"

# Source ports: 47000 + index, never a port a responder listens on.
sport_base=47000
for p in "${fw_tcp[@]}" "${fw_udp[@]}" "${cl_tcp[@]}" "${cl_udp[@]}"; do
	[ "$p" -ge $sport_base ] && [ "$p" -lt $((sport_base + ${#P_DIR[@]})) ] &&
		setup_fail "$probes: port $p collides with the probes' source ports"
done

uniq_words() { printf '%s\n' "$@" | sort -un | tr '\n' ' '; }

start_responder() { # NS-FUNC NAME TCP-PORTS UDP-PORTS
	local ns=$1 name=$2 tcp=$3 udp=$4 args=() i
	[ -n "$tcp" ] && args+=(tcp $tcp)
	[ -n "$udp" ] && args+=(udp $udp)
	[ ${#args[@]} -eq 0 ] && return 0
	$ns "$probe" serve -r "$tmp/$name.ready" "${args[@]}" &
	pids+=($!)
	for ((i = 0; i < 500; i++)); do
		[ -e "$tmp/$name.ready" ] && return 0
		kill -0 "$!" 2>/dev/null || setup_fail "the $name responder failed"
		sleep 0.01
	done
	setup_fail "the $name responder did not start"
}
start_responder in_fw firewall "$(uniq_words "${fw_tcp[@]}")" "$(uniq_words "${fw_udp[@]}")"
start_responder in_cl client "$(uniq_words "${cl_tcp[@]}")" "$(uniq_words "${cl_udp[@]}")"

# ---- the oracle -----------------------------------------------------------
# Writes "KIND<TAB>PACKET" lines for one probe's flow; KIND is nd (neighbour
# discovery it needs), first (a packet of the attempt itself) or answer.
flow_packets() { # DIR PROTO FAM PORT SPORT
	local dir=$1 proto=$2 fam=$3 port=$4 sport=$5 f c l
	if [ "$fam" = 4 ]; then
		f=192.0.2.1 c=192.0.2.2 l=127.0.0.1
		fp=$f:$port cp=$c:$port lp=$l:$port fs=$f:$sport cs=$c:$sport ls=$l:$sport
	else
		f=2001:db8::1 c=2001:db8::2 l=::1
		fp=[$f]:$port cp=[$c]:$port lp=[$l]:$port fs=[$f]:$sport cs=[$c]:$sport ls=[$l]:$sport
	fi
	case $dir in
	in)
		if [ "$fam" = 6 ]; then
			printf 'nd\tin on pcfw0 icmpv6 %s -> ff02::1:ff00:1 type nd-neighbor-solicit\n' "$c"
			printf 'nd\tout on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$f" "$c"
		fi
		printf 'first\tin on pcfw0 %s %s -> %s\n' "$proto" "$c" "$fp"
		printf 'answer\tout on pcfw0 %s %s -> %s state established\n' "$proto" "$f" "$cs"
		;;
	out)
		if [ "$fam" = 6 ]; then
			printf 'nd\tout on pcfw0 icmpv6 %s -> ff02::1:ff00:2 type nd-neighbor-solicit\n' "$f"
			printf 'nd\tin on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$c" "$f"
		fi
		printf 'first\tout on pcfw0 %s %s -> %s\n' "$proto" "$f" "$cp"
		printf 'answer\tin on pcfw0 %s %s -> %s state established\n' "$proto" "$c" "$fs"
		;;
	lo)
		printf 'first\tout on lo %s %s -> %s\n' "$proto" "$l" "$lp"
		printf 'first\tin on lo %s %s -> %s\n' "$proto" "$l" "$lp"
		printf 'answer\tout on lo %s %s -> %s state established\n' "$proto" "$l" "$ls"
		printf 'answer\tin on lo %s %s -> %s state established\n' "$proto" "$l" "$ls"
		;;
	esac
}

# Prints the predicted result and the explain lines that decided it.
predict() { # DIR PROTO FAM PORT SPORT
	local kinds=() pkts=() out verdicts i result=accepted why=
	while IFS=$'\t' read -r kind pkt; do
		kinds+=("$kind") pkts+=("$pkt")
	done < <(flow_packets "$@")
	out=$("$portcullis" explain "${regopt[@]}" "$policy" "${pkts[@]}" 2>"$tmp/explain.err") || {
		echo "error"
		echo "  portcullis explain failed: $(cat "$tmp/explain.err")"
		return
	}
	mapfile -t verdicts <<<"$out"
	for ((i = 0; i < ${#pkts[@]}; i++)); do
		local v=${verdicts[$i]%%$'\t'*}
		[ "$v" = allow ] && continue
		if [ "${kinds[$i]}" = first ] && [ "$v" = reject ]; then
			result=rejected
		else
			result=dropped
		fi
		why="  ${verdicts[$i]}"
		break
	done
	echo "$result"
	[ -n "$why" ] && echo "$why"
	for ((i = 0; i < ${#pkts[@]}; i++)); do
		[ "${kinds[$i]}" = first ] && echo "  ${verdicts[$i]}"
	done
}

# ---- the probes -----------------------------------------------------------
fails=0
for ((i = 0; i < ${#P_DIR[@]}; i++)); do
	dir=${P_DIR[$i]} proto=${P_PROTO[$i]} fam=${P_FAM[$i]} port=${P_PORT[$i]}
	exp=${P_EXP[$i]} sport=$((sport_base + i))
	ip -n "$fw" neigh flush dev pcfw0 2>/dev/null
	ip -n "$cl" neigh flush dev pccl0 2>/dev/null
	case $dir/$fam in
	in/4) ns=in_cl dst=192.0.2.1 ;;
	in/6) ns=in_cl dst=2001:db8::1 ;;
	out/4) ns=in_fw dst=192.0.2.2 ;;
	out/6) ns=in_fw dst=2001:db8::2 ;;
	lo/4) ns=in_fw dst=127.0.0.1 ;;
	lo/6) ns=in_fw dst=::1 ;;
	esac
	got=$($ns "$probe" "$proto" "$dst" "$port" "$timeout_ms" "$sport" 2>"$tmp/probe.err") ||
		got="error ($(cat "$tmp/probe.err"))"
	pred=
	if [ $oracle = 1 ]; then
		mapfile -t pl < <(predict "$dir" "$proto" "$fam" "$port" "$sport")
		pred=${pl[0]}
	fi
	what="$probes:${P_LINE[$i]}: $dir $proto $fam $port"
	if [ "$got" = "$exp" ] && { [ $oracle = 0 ] || [ "$pred" = "$got" ]; }; then
		echo "ok   $what: $got"
	else
		fails=$((fails + 1))
		echo "FAIL $what: observed $got, expected $exp${pred:+, explain predicts $pred}"
		[ $oracle = 1 ] && printf '%s\n' "${pl[@]:1}"
	fi
done

total=${#P_DIR[@]}
if [ $fails -gt 0 ]; then
	echo "# $fails of $total probes failed ($backend, $policy)"
	if [ -z "$ruleset" ]; then
		echo "# the ruleset:"
		cat "$tmp"/rules.* 2>/dev/null | sed 's/^/#   /'
	fi
	exit 1
fi
echo "# all $total probes as expected ($backend, $policy)"
exit 0
