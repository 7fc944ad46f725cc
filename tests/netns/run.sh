#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Real packets through a generated ruleset.
#
#   run.sh --portcullis PROG --probe PROG --backend nft|iptables|apply
#          [--registry FILE] [--generate-opt OPT]... [--ruleset FILE]
#          [--no-oracle] POLICY PROBES
#
# Creates three network namespaces joined by two veth pairs, the firewall
# routing between the other two:
#
#   client    pccl0  192.0.2.2/24     2001:db8::2/64     (routes via the firewall)
#   firewall  pcfw0  192.0.2.1/24     2001:db8::1/64     (the ruleset is loaded here)
#             pcfw1  198.51.100.1/24  2001:db8:1::1/64
#   server    pcsv0  198.51.100.2/24  2001:db8:1::2/64   (routes via the firewall)
#
# loads `portcullis generate -b nft` (nft -f) or `-b iptables` / `-b ip6tables`
# (iptables-restore / ip6tables-restore) of POLICY on the firewall, or
# programs it with `portcullis apply` (netlink; backend "apply"), starts
# responders everywhere and runs every probe of the PROBES table:
#
#   DIRECTION PROTO FAMILY PORT EXPECTED [SPORT]      # comment
#
#   DIRECTION  in   client -> firewall
#              out  firewall -> client (the answer must come back in)
#              lo   firewall -> its own 127.0.0.1 / ::1
#              fwd  client -> server, forwarded by the firewall
#              rfwd server -> client, forwarded by the firewall (the
#                   reverse pair of interfaces: in on pcfw1, out on pcfw0)
#   PROTO      tcp | udp | icmp (an echo request: icmp or icmpv6 by FAMILY;
#              PORT is then written '-')
#   FAMILY     4 | 6
#   EXPECTED   accepted | rejected | dropped
#   SPORT      tcp and udp: the source port to send from (default: one of
#              47000-48999 per probe; source-port rules, issue 14)
#
# Each observed result must equal EXPECTED and what `portcullis explain`
# predicts for the flow: its first packet's verdict (allow -> accepted,
# deny -> dropped, reject -> rejected), provided the answer, and for IPv6
# the neighbour discovery both need, are allowed too (otherwise dropped).
# Neighbour caches are flushed before every IPv6 probe, so every IPv6 probe
# needs neighbour discovery to pass the ruleset.
#
# --generate-opt OPT is passed on to `portcullis generate` (repeatable).
# --ruleset FILE loads FILE (nft syntax) instead of generating one.
# --other-table FILE loads FILE (nft syntax: one table of another tool,
# e.g. a stand-in for Docker's) before the policy; it must still be there,
# untouched, after the policy is loaded. Its accepts cannot undo a drop of
# the policy's table (a drop in any base chain is final), so explain stays
# the oracle as long as the other table accepts only.
# --no-oracle skips the explain prediction.
# Exit: 0 all probes as expected, 1 a mismatch, 77 skipped (not root, no
# `ip netns`, or the backend's tool missing), 99 setup failure.

set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR

portcullis= probe= backend= registry= ruleset= oracle=1 other=
genopts=()
timeout_ms=${PC_PROBE_TIMEOUT_MS:-300}

usage() {
	echo "usage: $0 --portcullis PROG --probe PROG --backend nft|iptables|apply [--registry FILE] [--generate-opt OPT]... [--ruleset FILE] [--no-oracle] POLICY PROBES" >&2
	exit 99
}

while [ $# -gt 0 ]; do
	case $1 in
	--portcullis) portcullis=$2; shift 2 ;;
	--probe) probe=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--registry) registry=$2; shift 2 ;;
	--generate-opt) genopts+=("$2"); shift 2 ;;
	--ruleset) ruleset=$2; shift 2 ;;
	--other-table) other=$2; shift 2 ;;
	--no-oracle) oracle=0; shift ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || usage
policy=$1 probes=$2
[ -n "$portcullis" ] && [ -n "$probe" ] || usage
case $backend in nft|iptables|apply) ;; *) usage ;; esac

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
elif [ "$backend" = iptables ]; then
	command -v iptables-restore >/dev/null && command -v ip6tables-restore >/dev/null ||
		skip "iptables-restore / ip6tables-restore are not installed"
fi

fw=pc-$$-fw
cl=pc-$$-cl
sv=pc-$$-sv
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-netns.XXXXXX") || setup_fail "mktemp"
# apply takes the lock of its run directory: a run directory of its own, so
# that apply tests running at the same time (other builds) do not meet there
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
	ip -n "$fw" link set lo up &&
	ip -n "$cl" link set lo up &&
	ip -n "$fw" link add pcfw0 type veth peer name pccl0 netns "$cl" &&
	ip -n "$fw" addr add 192.0.2.1/24 dev pcfw0 &&
	ip -n "$fw" addr add 2001:db8::1/64 dev pcfw0 nodad &&
	ip -n "$cl" addr add 192.0.2.2/24 dev pccl0 &&
	ip -n "$cl" addr add 2001:db8::2/64 dev pccl0 nodad &&
	ip -n "$fw" link set pcfw0 up &&
	ip -n "$cl" link set pccl0 up &&
	ip -n "$sv" link set lo up &&
	ip -n "$fw" link add pcfw1 type veth peer name pcsv0 netns "$sv" &&
	ip -n "$fw" addr add 198.51.100.1/24 dev pcfw1 &&
	ip -n "$fw" addr add 2001:db8:1::1/64 dev pcfw1 nodad &&
	ip -n "$sv" addr add 198.51.100.2/24 dev pcsv0 &&
	ip -n "$sv" addr add 2001:db8:1::2/64 dev pcsv0 nodad &&
	ip -n "$fw" link set pcfw1 up &&
	ip -n "$sv" link set pcsv0 up &&
	ip -n "$cl" route add default via 192.0.2.1 &&
	ip -n "$cl" -6 route add default via 2001:db8::1 &&
	ip -n "$sv" route add default via 198.51.100.1 &&
	ip -n "$sv" -6 route add default via 2001:db8:1::1 &&
	in_fw sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' &&
	in_fw sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' &&
	in_fw sh -c 'echo 0 0 >/proc/sys/net/ipv4/ping_group_range' &&
	in_cl sh -c 'echo 0 0 >/proc/sys/net/ipv4/ping_group_range' &&
	in_sv sh -c 'echo 0 0 >/proc/sys/net/ipv4/ping_group_range'
} || setup_fail "network setup"

# ---- the probe table ------------------------------------------------------
declare -a P_DIR P_PROTO P_FAM P_PORT P_EXP P_LINE P_SPORT
fw_tcp=() fw_udp=() cl_tcp=() cl_udp=() sv_tcp=() sv_udp=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%%#*}
	read -r dir proto fam port exp extra <<<"$line"
	[ -z "${dir:-}" ] && continue
	case "$dir/$proto/$fam" in
	in/tcp/[46] | in/udp/[46] | in/icmp/[46] | out/tcp/[46] | out/udp/[46] | out/icmp/[46] | \
	lo/tcp/[46] | lo/udp/[46] | lo/icmp/[46] | fwd/tcp/[46] | fwd/udp/[46] | fwd/icmp/[46] | \
	rfwd/tcp/[46] | rfwd/udp/[46] | rfwd/icmp/[46]) ;;
	*) setup_fail "$probes:$lineno: bad probe '$line'" ;;
	esac
	case $exp in accepted|rejected|dropped) ;; *) setup_fail "$probes:$lineno: bad result '$exp'" ;; esac
	if [ "$proto" = icmp ]; then
		[ "$port" = - ] && [ -z "${extra:-}" ] || setup_fail "$probes:$lineno: bad probe '$line' (icmp takes '-' for PORT)"
	else
		[[ $port =~ ^[0-9]+$ ]] && [ "$port" -le 65535 ] &&
			{ [ -z "${extra:-}" ] || { [[ $extra =~ ^[0-9]+$ ]] && [ "$extra" -ge 1 ] && [ "$extra" -le 65535 ]; }; } ||
			setup_fail "$probes:$lineno: bad probe '$line'"
	fi
	P_DIR+=("$dir") P_PROTO+=("$proto") P_FAM+=("$fam") P_PORT+=("$port") P_EXP+=("$exp") P_LINE+=("$lineno")
	P_SPORT+=("${extra:-}")
	case $dir/$proto in
	*/icmp) ;; # the kernel answers echo requests
	out/tcp | rfwd/tcp) cl_tcp+=("$port") ;;
	out/udp | rfwd/udp) cl_udp+=("$port") ;;
	fwd/tcp) sv_tcp+=("$port") ;;
	fwd/udp) sv_udp+=("$port") ;;
	*/tcp) fw_tcp+=("$port") ;;
	*/udp) fw_udp+=("$port") ;;
	esac
done <"$probes"
[ ${#P_DIR[@]} -gt 0 ] || setup_fail "$probes: no probes"

# Source ports: 47000 + index (a second try: 48000 + index), never a port a
# responder listens on.
sport_base=47000 retry_offset=1000
[ ${#P_DIR[@]} -le $retry_offset ] || setup_fail "$probes: more than $retry_offset probes"
for p in "${fw_tcp[@]}" "${fw_udp[@]}" "${cl_tcp[@]}" "${cl_udp[@]}" "${sv_tcp[@]}" "${sv_udp[@]}"; do
	{ [ "$p" -ge $sport_base ] && [ "$p" -lt $((sport_base + 2 * retry_offset)) ]; } || [ "$p" = 46999 ] &&
		setup_fail "$probes: port $p collides with the probes' source ports (47000-48999) or 46999"
done

# The source port of probe I (and of its second try with RETRY=1): the
# table's SPORT when it gives one, the same both times.
probe_sport() { # I RETRY
	if [ -n "${P_SPORT[$1]}" ]; then
		echo "${P_SPORT[$1]}"
	else
		echo $((sport_base + $1 + $2 * retry_offset))
	fi
}

uniq_words() { printf '%s\n' "$@" | sort -un | tr '\n' ' '; }

start_responder() { # NETNS NAME TCP-PORTS UDP-PORTS
	local ns=$1 name=$2 tcp=$3 udp=$4 args=() i pid
	[ -n "$tcp" ] && args+=(tcp $tcp)
	[ -n "$udp" ] && args+=(udp $udp)
	[ ${#args[@]} -eq 0 ] && return 0
	# ip netns exec execs the probe: $! is the responder itself.
	ip netns exec "$ns" "$probe" serve -r "$tmp/$name.ready" "${args[@]}" &
	pid=$!
	pids+=("$pid")
	for ((i = 0; i < 500; i++)); do
		[ -e "$tmp/$name.ready" ] && return 0
		kill -0 "$pid" 2>/dev/null || setup_fail "the $name responder failed"
		sleep 0.01
	done
	setup_fail "the $name responder did not start"
}
# Both responders also answer on $ready_port: the link is checked with it.
ready_port=46999
start_responder "$fw" firewall "$(uniq_words "${fw_tcp[@]}")" "$(uniq_words "${fw_udp[@]}" $ready_port)"
start_responder "$cl" client "$(uniq_words "${cl_tcp[@]}")" "$(uniq_words "${cl_udp[@]}" $ready_port)"
start_responder "$sv" server "$(uniq_words "${sv_tcp[@]}")" "$(uniq_words "${sv_udp[@]}" $ready_port)"

# A fresh veth drops what it is given until the kernel has activated it
# (link watch, up to a second): wait until both families pass both ways,
# before any ruleset is loaded.
link_ready() { # NETNS ADDR
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(ip netns exec "$1" "$probe" udp "$2" $ready_port 200 2>/dev/null)" = accepted ] &&
			return 0
	done
	setup_fail "no connectivity from $1 to $2 before loading the ruleset"
}
link_ready "$cl" 192.0.2.1
link_ready "$cl" 2001:db8::1
link_ready "$fw" 192.0.2.2
link_ready "$fw" 2001:db8::2
link_ready "$cl" 198.51.100.2
link_ready "$cl" 2001:db8:1::2

# ---- the ruleset ----------------------------------------------------------
if [ -n "$other" ]; then
	command -v nft >/dev/null || skip "nft is not installed (needed for --other-table)"
	in_fw nft -f "$other" || setup_fail "nft -f $other"
	in_fw nft list ruleset >"$tmp/other.before" || setup_fail "nft list ruleset"
	echo "# loaded the other tool's table $other"
fi
regopt=()
[ -n "$registry" ] && regopt=(--registry "$registry")

if [ -n "$ruleset" ]; then
	in_fw nft -f "$ruleset" || setup_fail "nft -f $ruleset"
	echo "# loaded $ruleset"
elif [ "$backend" = apply ]; then
	# no SSH session here: the lockout guard has nothing to protect
	in_fw env -u SSH_CONNECTION "$portcullis" apply "${regopt[@]}" "${genopts[@]}" "$policy" ||
		setup_fail "portcullis apply $policy"
	echo "# applied ${genopts[*]:+${genopts[*]} }$policy over netlink"
elif [ "$backend" = nft ]; then
	"$portcullis" generate -b nft "${regopt[@]}" "${genopts[@]}" "$policy" >"$tmp/rules.nft" ||
		setup_fail "portcullis generate -b nft $policy"
	in_fw nft -f "$tmp/rules.nft" || setup_fail "nft -f (generated from $policy)"
	echo "# loaded portcullis generate -b nft ${genopts[*]:+${genopts[*]} }$policy"
else
	"$portcullis" generate -b iptables "${regopt[@]}" "${genopts[@]}" "$policy" >"$tmp/rules.v4" ||
		setup_fail "portcullis generate -b iptables $policy"
	"$portcullis" generate -b ip6tables "${regopt[@]}" "${genopts[@]}" "$policy" >"$tmp/rules.v6" ||
		setup_fail "portcullis generate -b ip6tables $policy"
	# First load, as the generated header says.
	in_fw iptables-restore --noflush <"$tmp/rules.v4" || setup_fail "iptables-restore (generated from $policy)"
	in_fw ip6tables-restore --noflush <"$tmp/rules.v6" || setup_fail "ip6tables-restore (generated from $policy)"
	echo "# loaded portcullis generate -b iptables / -b ip6tables ${genopts[*]:+${genopts[*]} }$policy"
fi

# ---- the oracle -----------------------------------------------------------
# Writes "KIND<TAB>PACKET" lines for one probe's flow; KIND is nd (neighbour
# discovery it needs), first (a packet of the attempt itself) or answer.
flow_packets() { # DIR PROTO FAM PORT SPORT
	local dir=$1 proto=$2 fam=$3 port=$4 sport=$5 f c l f1 s fp cp lp sp fs cs ls ss ask ans
	if [ "$fam" = 4 ]; then
		f=192.0.2.1 c=192.0.2.2 l=127.0.0.1 f1=198.51.100.1 s=198.51.100.2
	else
		f=2001:db8::1 c=2001:db8::2 l=::1 f1=2001:db8:1::1 s=2001:db8:1::2
	fi
	if [ "$proto" = icmp ]; then
		# an echo request out, its echo reply back
		[ "$fam" = 6 ] && proto=icmpv6
		fp=$f cp=$c lp=$l sp=$s fs=$f cs=$c ls=$l
		ask=" type echo-request" ans=" type echo-reply"
	elif [ "$fam" = 4 ]; then
		fp=$f:$port cp=$c:$port lp=$l:$port sp=$s:$port fs=$f:$sport cs=$c:$sport ls=$l:$sport
		ask= ans=
	else
		fp=[$f]:$port cp=[$c]:$port lp=[$l]:$port sp=[$s]:$port fs=[$f]:$sport cs=[$c]:$sport ls=[$l]:$sport
		ask= ans=
	fi
	case $dir in
	in)
		if [ "$fam" = 6 ]; then
			printf 'nd\tin on pcfw0 icmpv6 %s -> ff02::1:ff00:1 type nd-neighbor-solicit\n' "$c"
			printf 'nd\tout on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$f" "$c"
		fi
		printf 'first\tin on pcfw0 %s %s -> %s%s\n' "$proto" "$cs" "$fp" "$ask"
		printf 'answer\tout on pcfw0 %s %s -> %s%s state established\n' "$proto" "$f" "$cs" "$ans"
		;;
	out)
		if [ "$fam" = 6 ]; then
			printf 'nd\tout on pcfw0 icmpv6 %s -> ff02::1:ff00:2 type nd-neighbor-solicit\n' "$f"
			printf 'nd\tin on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$c" "$f"
		fi
		printf 'first\tout on pcfw0 %s %s -> %s%s\n' "$proto" "$fs" "$cp" "$ask"
		printf 'answer\tin on pcfw0 %s %s -> %s%s state established\n' "$proto" "$c" "$fs" "$ans"
		;;
	fwd)
		if [ "$fam" = 6 ]; then
			# client <-> firewall on pcfw0, firewall <-> server on pcfw1
			printf 'nd\tin on pcfw0 icmpv6 %s -> ff02::1:ff00:1 type nd-neighbor-solicit\n' "$c"
			printf 'nd\tout on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$f" "$c"
			printf 'nd\tout on pcfw1 icmpv6 %s -> ff02::1:ff00:2 type nd-neighbor-solicit\n' "$f1"
			printf 'nd\tin on pcfw1 icmpv6 %s -> %s type nd-neighbor-advert\n' "$s" "$f1"
			printf 'nd\tin on pcfw1 icmpv6 %s -> ff02::1:ff00:1 type nd-neighbor-solicit\n' "$s"
			printf 'nd\tout on pcfw1 icmpv6 %s -> %s type nd-neighbor-advert\n' "$f1" "$s"
		fi
		printf 'first\tforward on pcfw0 out on pcfw1 %s %s -> %s%s\n' "$proto" "$cs" "$sp" "$ask"
		printf 'answer\tforward on pcfw1 out on pcfw0 %s %s -> %s%s state established\n' "$proto" "$s" "$cs" "$ans"
		;;
	rfwd)
		if [ "$fam" = 6 ]; then
			printf 'nd\tin on pcfw1 icmpv6 %s -> ff02::1:ff00:1 type nd-neighbor-solicit\n' "$s"
			printf 'nd\tout on pcfw1 icmpv6 %s -> %s type nd-neighbor-advert\n' "$f1" "$s"
			printf 'nd\tout on pcfw0 icmpv6 %s -> ff02::1:ff00:2 type nd-neighbor-solicit\n' "$f"
			printf 'nd\tin on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$c" "$f"
			printf 'nd\tin on pcfw0 icmpv6 %s -> ff02::1:ff00:1 type nd-neighbor-solicit\n' "$c"
			printf 'nd\tout on pcfw0 icmpv6 %s -> %s type nd-neighbor-advert\n' "$f" "$c"
		fi
		# the client's answer goes back to the server's source port
		if [ "$proto" = icmp ] || [ "$proto" = icmpv6 ]; then
			ss=$s
		elif [ "$fam" = 4 ]; then
			ss=$s:$sport
		else
			ss=[$s]:$sport
		fi
		printf 'first\tforward on pcfw1 out on pcfw0 %s %s -> %s%s\n' "$proto" "$ss" "$cp" "$ask"
		printf 'answer\tforward on pcfw0 out on pcfw1 %s %s -> %s%s state established\n' "$proto" "$c" "$ss" "$ans"
		;;
	lo)
		printf 'first\tout on lo %s %s -> %s%s\n' "$proto" "$ls" "$lp" "$ask"
		printf 'first\tin on lo %s %s -> %s%s\n' "$proto" "$ls" "$lp" "$ask"
		printf 'answer\tout on lo %s %s -> %s%s state established\n' "$proto" "$l" "$ls" "$ans"
		printf 'answer\tin on lo %s %s -> %s%s state established\n' "$proto" "$l" "$ls" "$ans"
		;;
	esac
}

# Prints the predicted result, then the explain line that decided it: the
# first packet that is not allowed, else the flow's first packet.
predict() { # DIR PROTO FAM PORT SPORT
	local kinds=() pkts=() out verdicts i v
	while IFS=$'\t' read -r kind pkt; do
		kinds+=("$kind") pkts+=("$pkt")
	done < <(flow_packets "$@")
	out=$("$portcullis" explain "${regopt[@]}" "$policy" "${pkts[@]}" 2>"$tmp/explain.err") || {
		echo "error"
		echo "portcullis explain failed: $(cat "$tmp/explain.err")"
		return
	}
	mapfile -t verdicts <<<"$out"
	if [ ${#verdicts[@]} -ne ${#pkts[@]} ]; then
		echo "error"
		echo "portcullis explain printed ${#verdicts[@]} lines for ${#pkts[@]} packets"
		return
	fi
	for ((i = 0; i < ${#pkts[@]}; i++)); do
		v=${verdicts[$i]%%$'\t'*}
		[ "$v" = allow ] && continue
		if [ "${kinds[$i]}" = first ] && [ "$v" = reject ]; then
			echo rejected
		else
			echo dropped
		fi
		echo "${verdicts[$i]}"
		return
	done
	echo accepted
	for ((i = 0; i < ${#pkts[@]}; i++)); do
		if [ "${kinds[$i]}" = first ]; then
			echo "${verdicts[$i]}"
			return
		fi
	done
}

# Every probe's prediction from one explain run: PRED[i] and WHY[i].
declare -a PRED WHY
if [ $oracle = 1 ]; then
	: >"$tmp/flows"
	for ((i = 0; i < ${#P_DIR[@]}; i++)); do
		flow_packets "${P_DIR[$i]}" "${P_PROTO[$i]}" "${P_FAM[$i]}" "${P_PORT[$i]}" \
			"$(probe_sport $i 0)" | sed "s/^/$i\t/" >>"$tmp/flows"
	done
	cut -f3 "$tmp/flows" | "$portcullis" explain "${regopt[@]}" "$policy" - >"$tmp/verdicts" ||
		setup_fail "portcullis explain $policy failed"
	[ "$(wc -l <"$tmp/flows")" = "$(wc -l <"$tmp/verdicts")" ] ||
		setup_fail "portcullis explain printed $(wc -l <"$tmp/verdicts") lines for $(wc -l <"$tmp/flows") packets"
	while IFS=$'\t' read -r i result why; do
		PRED[$i]=$result WHY[$i]=$why
	done < <(paste "$tmp/flows" "$tmp/verdicts" | awk -F'\t' -v n=${#P_DIR[@]} '
		{
			i = $1; kind = $2; v = $4; line = $4 " | " $5 " | " $6
			if (i in res)
				next
			if (v != "allow") {
				res[i] = (kind == "first" && v == "reject") ? "rejected" : "dropped"
				why[i] = line
			} else if (kind == "first" && !(i in first)) {
				first[i] = line
			}
		}
		END {
			for (i = 0; i < n; i++)
				if (i in res)
					print i "\t" res[i] "\t" why[i]
				else
					print i "\taccepted\t" first[i]
		}')
fi

# ---- the probes -----------------------------------------------------------
flush_neighbours() {
	ip -n "$fw" neigh flush dev pcfw0 2>/dev/null
	ip -n "$fw" neigh flush dev pcfw1 2>/dev/null
	ip -n "$cl" neigh flush dev pccl0 2>/dev/null
	ip -n "$sv" neigh flush dev pcsv0 2>/dev/null
}

fails=0
for ((i = 0; i < ${#P_DIR[@]}; i++)); do
	dir=${P_DIR[$i]} proto=${P_PROTO[$i]} fam=${P_FAM[$i]} port=${P_PORT[$i]}
	exp=${P_EXP[$i]} sport=$(probe_sport $i 0)
	[ "$fam" = 6 ] && flush_neighbours
	case $dir/$fam in
	in/4) ns=in_cl dst=192.0.2.1 ;;
	in/6) ns=in_cl dst=2001:db8::1 ;;
	out/4) ns=in_fw dst=192.0.2.2 ;;
	out/6) ns=in_fw dst=2001:db8::2 ;;
	lo/4) ns=in_fw dst=127.0.0.1 ;;
	lo/6) ns=in_fw dst=::1 ;;
	fwd/4) ns=in_cl dst=198.51.100.2 ;;
	fwd/6) ns=in_cl dst=2001:db8:1::2 ;;
	rfwd/4) ns=in_sv dst=192.0.2.2 ;;
	rfwd/6) ns=in_sv dst=2001:db8::2 ;;
	esac
	pport=$port
	[ "$proto" = icmp ] && pport=0
	got=$($ns "$probe" "$proto" "$dst" "$pport" "$timeout_ms" "$sport" 2>"$tmp/probe.err") ||
		got="error ($(cat "$tmp/probe.err"))"
	pred= why=
	if [ $oracle = 1 ]; then
		pred=${PRED[$i]} why=${WHY[$i]}
	fi
	# A "dropped" nobody expected is asked again, with a fresh flow and a
	# long timeout, so that a loaded machine cannot fail the test; a real
	# drop stays dropped.
	if [ "$got" = dropped ] && { [ "$exp" != dropped ] || [ "${pred:-dropped}" != dropped ]; }; then
		flush_neighbours
		got=$($ns "$probe" "$proto" "$dst" "$pport" 3000 "$(probe_sport $i 1)" 2>"$tmp/probe.err") ||
			got="error ($(cat "$tmp/probe.err"))"
		if [ $oracle = 1 ]; then
			mapfile -t pl < <(predict "$dir" "$proto" "$fam" "$port" "$(probe_sport $i 1)")
			pred=${pl[0]} why=${pl[1]//$'\t'/ | }
		fi
	fi
	what="$probes:${P_LINE[$i]}: $dir $proto $fam $port"
	[ -n "$why" ] && why=" (explain: $why)"
	if [ "$got" = "$exp" ] && { [ $oracle = 0 ] || [ "$pred" = "$got" ]; }; then
		echo "ok   $what: $got$why"
	else
		fails=$((fails + 1))
		echo "FAIL $what: observed $got, expected $exp${pred:+, explain predicts $pred}$why"
	fi
done

if [ -n "$other" ]; then
	# the other tool's table, as it was: the policy touched no other table
	in_fw nft list ruleset >"$tmp/other.after"
	for t in $(awk '/^table /{print $2 "/" $3}' "$tmp/other.before"); do
		fam=${t%/*} name=${t#*/}
		grep -q "^table $fam $name " "$other" 2>/dev/null || continue
		diff <(in_fw nft list table "$fam" "$name" 2>&1 | grep -v '^\s*counter\|packets') \
		     <(awk -v h="table $fam $name {" '$0 == h {p=1} p {print} p && /^}/ {p=0}' "$tmp/other.before" | grep -v '^\s*counter\|packets') >/dev/null ||
			{ echo "FAIL the other tool's table $fam $name changed after loading the policy"; fails=$((fails + 1)); }
	done
fi
# The dispatch (issue 15): the table read back compares equal to what
# apply builds, after apply and after nft -f of the --dispatch text alike.
if [ -z "$ruleset" ] && [ "$backend" != iptables ] && [[ " ${genopts[*]} " == *" --dispatch "* ]]; then
	grep -q 'meta nfproto . meta l4proto vmap' <(in_fw nft list table inet "$(awk '$1 == "table" {print $2; exit}' "$policy")") ||
		{ echo "FAIL no dispatch in the kernel ($backend)"; fails=$((fails + 1)); }
	if in_fw "$portcullis" diff "${regopt[@]}" --dispatch "$policy" >"$tmp/diff.out" 2>"$tmp/diff.err"; then
		echo "ok   diff --dispatch after $backend: no drift"
	else
		echo "FAIL diff --dispatch after $backend shows drift:"; cat "$tmp/diff.out" "$tmp/diff.err"
		fails=$((fails + 1))
	fi
fi
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
