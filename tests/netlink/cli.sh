#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Root suite: `portcullis apply`, `diff`, `confirm` and the lockout guard,
# driven through the command line. Every case runs in a network namespace
# of its own (`unshare -n`), whose nftables ruleset starts empty.
#
#   cli.sh PORTCULLIS SRCDIR [CASE...]
#
# Exit: 0 all passed, 1 a failure, 77 skipped (not root / no nft / no unshare).

set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR

prog=${1:?usage: cli.sh PORTCULLIS SRCDIR [CASE...]}
src=${2:?usage: cli.sh PORTCULLIS SRCDIR [CASE...]}
shift 2
here=$src/tests/netlink

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: apply/diff/confirm tests need root (network namespaces, nf_tables)" >&2
	exit 77
fi
for tool in nft unshare setpriv ip python3; do
	if ! command -v $tool >/dev/null; then
		echo "SKIP: $tool is not installed" >&2
		exit 77
	fi
done

work=$(mktemp -d /tmp/pc-cli-XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# A 2,000-rule policy like bench/bench_packets.sh's (documentation
# addresses): the optimiser folds it into two large verdict maps.
big_policy() {
	echo "table pcbig"
	echo "default in deny"
	for i in $(seq 0 1999); do
		if [ $((i % 2)) = 0 ]; then v=allow; else v=deny; fi
		case $((i % 4)) in
		0) from=192.0.2.$((i / 4 % 256)) ;;
		1) from=198.51.100.$((i / 4 % 256)) ;;
		2) from=203.0.113.$((i / 4 % 256)) ;;
		*) from=2001:db8:$(printf %x $i)::/48 ;;
		esac
		echo "$v in port $((10000 + i))/udp from $from"
	done
}

cp "$here"/*.policy "$work"/
big_policy >"$work/big.policy"
chmod 644 "$work"/*.policy
export PORTCULLIS_RUNDIR=$work/run
unset SSH_CONNECTION

# Each case: a function run as `unshare -n bash -c` with these helpers.
helpers=$(cat <<'EOF'
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() { # WANT CMD...
	local want=$1; shift
	"$@" >"$W/out" 2>"$W/err"
	local got=$?
	[ "$got" = "$want" ] || { cat "$W/out" "$W/err" >&2; fail "'$*' exited $got, want $want"; }
}
grep_err() { grep -qF -- "$1" "$W/err" || { cat "$W/err" >&2; fail "stderr lacks: $1"; }; }
grep_out() { grep -qF -- "$1" "$W/out" || { cat "$W/out" >&2; fail "stdout lacks: $1"; }; }
# Waits (without a time limit of its own; meson's timeout applies) until
# a pending confirmation appears / is gone.
wait_pending() { while [ ! -e "$PORTCULLIS_RUNDIR/pending" ]; do sleep 0.05; done; }
wait_settled() { while [ -e "$PORTCULLIS_RUNDIR/pending" ]; do sleep 0.1; done; }
# The state a rollback restores: the table's contents and the set of tables
# (a replaced table is listed after the others: its position is not state).
snapshot() { nft list table inet pcweb 2>&1; nft list tables | sort; }
# No table at all (an nft that fails is no evidence of that).
no_tables() {
	nft list tables >"$W/tables" || fail "nft list tables"
	[ ! -s "$W/tables" ] || { cat "$W/tables" >&2; fail "$1"; }
}
EOF
)

case_apply_equals_nft() {
	# The same with one rule per policy line: apply --no-optimize and
	# generate --no-optimize agree too; and without the dispatch (=).
	for pol in "$W"/web.policy "$W"/maps.policy "$SRC"/tests/netns/fold.policy \
		   "$SRC"/tests/netns/foldkeys.policy "$SRC"/tests/netns/busy.policy \
		   "$SRC"/tests/netns/narrow.policy \
		   "$W"/big.policy "$W"/dispatch.policy "$SRC"/policies/*.policy \
		   -"$W"/maps.policy -"$W"/big.policy ="$W"/maps.policy ="$W"/dispatch.policy; do
		opt=
		case $pol in -*) pol=${pol#-}; opt=--no-optimize ;; =*) pol=${pol#=}; opt=--no-dispatch ;; esac
		nft flush ruleset
		$P generate $opt "$pol" >"$W/gen.nft" 2>/dev/null || fail "generate $opt $pol"
		nft -f "$W/gen.nft" || fail "nft -f $pol"
		nft list ruleset >"$W/by-nft"
		expect_status 0 $P diff $opt "$pol"
		grep_out "matches"
		nft flush ruleset
		expect_status 0 $P apply $opt "$pol"
		grep_err "applied table inet"
		nft list ruleset >"$W/by-apply"
		cmp -s "$W/by-nft" "$W/by-apply" || { diff -u "$W/by-nft" "$W/by-apply" >&2; fail "apply != nft -f for $opt $pol"; }
		expect_status 0 $P diff $opt "$pol"
		grep_out "matches"
		# Re-applying over either leaves one table with the same contents.
		expect_status 0 $P apply $opt "$pol"
		nft -f "$W/gen.nft" || fail "nft -f over apply"
		expect_status 0 $P apply $opt "$pol"
		nft list ruleset >"$W/again"
		cmp -s "$W/by-nft" "$W/again" || fail "re-apply changed $opt $pol"
		[ "$(nft list tables | wc -l)" = 1 ] || fail "more than one table"
	done
	# The policies that must fold do: apply installed verdict maps, or a
	# dispatch (maps.policy: a port level of single ports, a hash map, as
	# nft makes it, and one with ranges, an interval map).
	for pol in maps big; do
		$P generate --no-dispatch "$W/$pol.policy" 2>/dev/null | grep -q "vmap @input_v4_" ||
			fail "$pol.policy has no verdict map"
	done
	$P generate "$W/maps.policy" 2>/dev/null | grep -q "meta nfproto . meta l4proto vmap" ||
		fail "maps.policy has no dispatch"
	# Map keys over interfaces and ICMP types (issue 15): every key form
	# (without the dispatch, which takes the port rules of a long stretch)
	$P generate --no-dispatch "$SRC"/tests/netns/foldkeys.policy >"$W/keys.nft" 2>/dev/null ||
		fail "generate foldkeys.policy"
	# (a map of one interface is matched on it before the lookup)
	for key in "iifname . ip saddr . meta l4proto . th dport vmap" \
		   "iifname \"pcfw0\" ip saddr . icmp type vmap" \
		   "iifname . ip6 saddr . ip6 daddr . icmpv6 type vmap" \
		   "oifname \"pcfw0\" ip6 saddr . ip6 daddr . icmpv6 type vmap" \
		   "oifname . ip saddr . ip daddr . meta l4proto . th dport vmap"; do
		grep -qF "$key" "$W/keys.nft" || fail "foldkeys.policy has no map keyed $key"
	done
}

# Verdict maps (without the dispatch, which would take their rules into
# class chains): diff after apply and after nft -f finds nothing, finds an
# element added or removed by hand, and tells an optimised table from a
# plain one; dry run and confirm / rollback keep maps as they were.
case_maps() {
	pol=$W/maps.policy
	$P generate --no-dispatch "$pol" >"$W/gen.nft" 2>/dev/null || fail "generate"
	map=$(awk '$1 == "map" && $2 ~ /^input_v4_/ { print $2; exit }' "$W/gen.nft")
	[ -n "$map" ] || fail "maps.policy has no input_v4 map"
	# The first element of the map, as a key: "ADDR . PROTO . PORT".
	key=$(awk -v m="$map" '$1 == "map" { inmap = ($2 == m) }
		inmap && / : (accept|drop),?$/ { sub(/^[ \t]+/, ""); sub(/ comment .*/, ""); print; exit }' "$W/gen.nft")
	[ -n "$key" ] || fail "no element in $map"
	expect_status 0 $P apply --no-dispatch "$pol"
	expect_status 0 $P diff --no-dispatch "$pol"
	grep_out "matches"
	nft add element inet pcmaps "$map" '{ 192.0.2.250 . tcp . 65000 : accept }' || fail "add element"
	expect_status 1 $P diff --no-dispatch "$pol"
	grep_out "~ map $map differs"
	grep_out "+ elements not in the policy: 192.0.2.250 . tcp . 65000 : accept"
	nft -f "$W/gen.nft" || fail "nft -f"
	expect_status 0 $P diff --no-dispatch "$pol"
	nft delete element inet pcmaps "$map" "{ $key }" || fail "delete element $key"
	expect_status 1 $P diff --no-dispatch "$pol"
	grep_out "- elements missing from the kernel: $key : "
	expect_status 0 $P apply --no-dispatch "$pol"
	expect_status 0 $P diff --no-dispatch "$pol"
	# The optimised table is not the one-rule-per-line one, and back.
	expect_status 1 $P diff --no-optimize "$pol"
	grep_out "+ map $map (not in the policy)"
	expect_status 0 $P apply --no-optimize "$pol"
	expect_status 0 $P diff --no-optimize "$pol"
	expect_status 1 $P diff --no-dispatch "$pol"
	grep_out "- map $map (missing from the kernel)"
	# Dry run over a table with maps changes nothing.
	expect_status 0 $P apply --no-dispatch "$pol"
	nft list ruleset >"$W/before"
	expect_status 0 $P apply --dry-run --no-optimize "$pol"
	grep_err "dry run"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "dry run changed the ruleset"
	# Rolled back to the maps, and from the maps to the plain rules.
	expect_status 1 $P apply --confirm 1 --no-optimize "$pol" </dev/null
	grep_err "not confirmed: rolled back"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || { diff -u "$W/before" "$W/after" >&2; fail "maps not rolled back"; }
	expect_status 0 $P diff --no-dispatch "$pol"
	expect_status 0 $P apply --no-optimize "$pol"
	nft list ruleset >"$W/before"
	expect_status 1 $P apply --confirm 1 --no-dispatch "$pol" </dev/null
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "plain rules not rolled back"
	# Confirmed: the maps stay.
	$P apply --confirm 60 --no-dispatch "$pol" </dev/null >"$W/apply.out" 2>&1 &
	pid=$!
	wait_pending
	expect_status 0 $P confirm
	wait $pid || { cat "$W/apply.out" >&2; fail "apply --confirm exited $?"; }
	wait_settled
	expect_status 0 $P diff --no-dispatch "$pol"
}

# The dispatch (issue 15): diff after apply and after nft -f finds
# nothing, finds a jump changed by hand, tells a dispatched table from one
# without; dry run and rollback keep the class chains and their jumps.
case_dispatch() {
	pol=$W/dispatch.policy
	$P generate --dispatch "$pol" >"$W/gen.nft" 2>/dev/null || fail "generate"
	grep -q 'meta nfproto . meta l4proto vmap' "$W/gen.nft" || fail "no dispatch in the text"
	expect_status 0 $P apply --dispatch "$pol"
	nft list chain inet pcnldisp input_d1_ipv4_tcp >/dev/null || fail "no port-level chain"
	expect_status 0 $P diff --dispatch "$pol"
	grep_out "matches"
	expect_status 1 $P diff --no-dispatch "$pol"
	grep_out "+ chain input_c1 (not in the policy)"
	nft -f "$W/gen.nft" || fail "nft -f"
	expect_status 0 $P diff --dispatch "$pol"
	# one jump of the port level changed by hand: udp 53 to another class
	nft flush chain inet pcnldisp input_d1_ipv4_udp || fail "flush"
	nft add rule inet pcnldisp input_d1_ipv4_udp 'udp dport vmap { 53 : jump input_c12 }' || fail "add rule"
	expect_status 1 $P diff --dispatch "$pol"
	grep_out "input_d1_ipv4_udp"
	expect_status 0 $P apply --dispatch "$pol"
	nft list ruleset >"$W/before"
	expect_status 0 $P apply --dry-run --no-dispatch "$pol"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "dry run changed the ruleset"
	# rolled back to the dispatch, and from the dispatch to its absence
	expect_status 1 $P apply --confirm 1 --no-dispatch "$pol" </dev/null
	grep_err "not confirmed: rolled back"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || { diff -u "$W/before" "$W/after" >&2; fail "dispatch not rolled back"; }
	expect_status 0 $P diff --dispatch "$pol"
	expect_status 0 $P apply --no-dispatch "$pol"
	nft list ruleset >"$W/before"
	expect_status 1 $P apply --confirm 1 --dispatch "$pol" </dev/null
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "rules without dispatch not rolled back"
	expect_status 0 $P diff --no-dispatch "$pol"
}

case_other_tables() {
	nft add table ip keep || fail "add table"
	nft add chain ip keep c '{ type filter hook input priority 10; }' || fail "add chain"
	nft add rule ip keep c tcp dport 7 drop || fail "add rule"
	# (a table that failed to list would compare equal to itself)
	nft list table ip keep >"$W/before" || fail "list table ip keep"
	grep -q "tcp dport 7 drop" "$W/before" || fail "no rule in table ip keep"
	expect_status 0 $P apply "$W/web.policy"
	expect_status 0 $P apply "$W/closed.policy"
	nft list table ip keep >"$W/after" || fail "table ip keep is gone"
	cmp -s "$W/before" "$W/after" || fail "another table changed"
}

case_dry_run() {
	expect_status 0 $P apply --dry-run "$W/web.policy"
	grep_err "dry run"
	no_tables "dry run created a table"
	expect_status 0 $P apply "$W/closed.policy"
	nft list ruleset >"$W/before"
	expect_status 0 $P apply --dry-run "$W/web.policy"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "dry run changed the ruleset"
}

# apply and diff load the policy as check does: the same warnings.
case_warnings() {
	expect_status 0 $P check "$W/warn.policy"
	grep -F 'warning:' "$W/err" >"$W/check.warnings"
	[ -s "$W/check.warnings" ] || fail "warn.policy gives check no warning"
	expect_status 0 $P apply --dry-run "$W/warn.policy"
	grep -F 'warning:' "$W/err" >"$W/apply.warnings"
	diff -u "$W/check.warnings" "$W/apply.warnings" || fail "apply --dry-run warns otherwise than check"
	expect_status 0 $P apply "$W/warn.policy"
	expect_status 0 $P diff "$W/warn.policy"
	grep -F 'warning:' "$W/err" >"$W/diff.warnings"
	diff -u "$W/check.warnings" "$W/diff.warnings" || fail "diff warns otherwise than check"
}

case_diff() {
	expect_status 1 $P diff "$W/web.policy"
	grep_out "table inet pcweb does not exist"
	expect_status 0 $P apply "$W/web.policy"
	expect_status 0 $P diff "$W/web.policy"
	nft add rule inet pcweb input tcp dport 9999 accept || fail "add rule"
	expect_status 1 $P diff "$W/web.policy"
	grep_out "+ input: [ "
	expect_status 0 $P apply "$W/web.policy"
	# A policy rule deleted by hand is reported with its line.
	h=$(nft -a list chain inet pcweb input | awk '/web.policy:13/ { print $NF; exit }')
	[ -n "$h" ] || fail "no rule of web.policy:13 in chain input"
	nft delete rule inet pcweb input handle "$h" || fail "delete rule $h"
	expect_status 1 $P diff "$W/web.policy"
	grep_out '- input: ip saddr @admins_v4 tcp dport 22 limit name "input_limit_1" log prefix "ssh " accept comment "'
	expect_status 0 $P apply "$W/web.policy"
	nft add element inet pcweb admins_v4 '{ 203.0.113.9 }' || fail "add element"
	expect_status 1 $P diff "$W/web.policy"
	grep_out "~ set admins_v4 differs"
	expect_status 0 $P apply "$W/web.policy"
	nft add chain inet pcweb output '{ policy drop; }' || fail "change chain policy"
	expect_status 1 $P diff "$W/web.policy"
	grep_out "~ chain output differs"
	expect_status 0 $P apply "$W/web.policy"
	# A dormant table filters nothing: not a match.
	nft add table inet pcweb '{ flags dormant; }'
	expect_status 1 $P diff "$W/web.policy"
	grep_out "~ table flags differ (dormant: the table filters nothing)"
	grep_out "  + flags dormant"
	expect_status 0 $P apply "$W/web.policy"
	expect_status 0 $P diff "$W/web.policy"
	# Named objects, sets and chains added by hand.
	nft add counter inet pcweb handmade
	nft add quota inet pcweb handquota '{ over 10 mbytes }'
	nft add set inet pcweb handset '{ type ipv4_addr; }'
	nft add chain inet pcweb handchain
	expect_status 1 $P diff "$W/web.policy"
	grep_out "+ counter handmade (not in the policy)"
	grep_out "+ quota handquota (not in the policy)"
	grep_out "+ set handset (not in the policy)"
	grep_out "+ chain handchain (not in the policy)"
	expect_status 0 $P apply "$W/web.policy"
	if ip link add pcv0 type veth peer name pcv1 2>/dev/null &&
	   nft add flowtable inet pcweb handft '{ hook ingress priority 0; devices = { pcv0 }; }' 2>/dev/null; then
		expect_status 1 $P diff "$W/web.policy"
		grep_out "+ flowtable handft (not in the policy)"
		expect_status 0 $P apply "$W/web.policy"
	else
		echo "note: this kernel has no flowtables: diff of a flowtable not tested" >&2
	fi
	nft delete table inet pcweb || fail "delete table"
	expect_status 1 $P diff "$W/web.policy"
	grep_out "does not exist"
}

case_kernel_refuses() {
	# Another process owns the table (NFT_TABLE_F_OWNER): the kernel
	# refuses to replace it, and nothing changes.
	# meson builds the helper and sets PC_OWNER_HELPER; by hand, set it too
	[ -n "${OWNER:-}" ] || fail "PC_OWNER_HELPER is not set: the owner helper is needed"
	mkfifo "$W/hold"
	"$OWNER" pcweb <"$W/hold" >"$W/owner.out" &
	exec 9>"$W/hold"
	while ! grep -q ready "$W/owner.out"; do sleep 0.05; done
	nft add table ip other
	nft list ruleset >"$W/before"
	# (it has no ownership comment either: --force gets past that check)
	expect_status 1 $P apply "$W/web.policy"
	expect_status 3 $P apply --force "$W/web.policy"
	grep_err "error: the kernel refused the table inet pcweb: Operation not permitted"
	grep_err "nothing changed"
	expect_status 3 $P apply --force --dry-run "$W/web.policy"
	expect_status 3 $P apply --force --confirm 5 "$W/web.policy" </dev/null
	grep_err "another program owns this table"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "the ruleset changed"
	exec 9>&-
	wait
	expect_status 0 $P apply --force "$W/web.policy"
}

# Another tool's table of the same name (Debian's stock `table inet
# filter`) is not replaced unless --force; a table that `nft -f` made of
# portcullis's own output carries the marker and is replaced.
case_ownership() {
	pol=$W/filter.policy
	printf 'table filter\ndefault in deny\nallow in service ssh/tcp\n' >"$pol"
	cat >"$W/stock.nft" <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter;
		tcp dport 7 accept
	}
}
NFT
	nft -f "$W/stock.nft" || fail "nft -f stock"
	nft list ruleset >"$W/before"
	for mode in "" --dry-run "--confirm 5"; do
		expect_status 1 $P apply $mode "$pol" </dev/null
		grep_err "refusing to replace table inet filter: it was not created by portcullis"
		nft list ruleset >"$W/after"
		cmp -s "$W/before" "$W/after" || fail "apply $mode replaced another tool's table"
	done
	[ ! -e "$PORTCULLIS_RUNDIR/pending" ] || fail "a refused apply left a watchdog"
	expect_status 0 $P apply --force "$pol"
	grep_err "warning: replacing table inet filter"
	expect_status 0 $P diff "$pol"
	nft list table inet filter | grep -qF 'comment "managed by portcullis"' ||
		fail "apply left no ownership comment"
	# portcullis's own text output, loaded by nft -f, is ours.
	nft flush ruleset
	$P generate "$pol" >"$W/gen.nft" 2>/dev/null || fail "generate"
	nft -f "$W/gen.nft" || fail "nft -f gen"
	expect_status 0 $P apply "$pol"
	expect_status 0 $P apply --dry-run "$pol"
}

case_permission() {
	expect_status 0 $P apply "$W/web.policy"
	nft list ruleset >"$W/before"
	expect_status 3 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $P apply "$W/closed.policy"
	grep_err "permission denied"
	expect_status 3 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $P diff "$W/web.policy"
	grep_err "permission denied"
	nft list ruleset >"$W/after"
	cmp -s "$W/before" "$W/after" || fail "ruleset changed"
}

case_confirm_timeout() {
	# From no table: the rollback leaves no table.
	expect_status 1 $P apply --confirm 1 "$W/web.policy" </dev/null
	grep_err "not confirmed: rolled back"
	no_tables "rollback left a table"
	# From an earlier table: back to it, byte for byte.
	expect_status 0 $P apply "$W/closed.policy"
	nft add table ip other
	snapshot >"$W/before"
	expect_status 1 $P apply --confirm 1 "$W/web.policy" </dev/null
	snapshot >"$W/after"
	cmp -s "$W/before" "$W/after" || { diff -u "$W/before" "$W/after" >&2; fail "not rolled back"; }
	expect_status 1 $P confirm
	grep_err "no apply awaits confirmation"
}

# apply --confirm rolls back to exactly what was there: a table holding
# every kind of object (data maps, named counters and quotas with their
# values, timed elements, bound chains, dynamic sets...), compared with
# `nft list ruleset` (only the remaining expiry of timed elements may
# differ, and it must not have become permanent).
case_exact_rollback() {
	printf 'table pcall\ndefault in deny\nallow in service ssh/tcp\n' >"$W/pcall.policy"
	ip link add pcv0 type veth peer name pcv1 || fail "cannot create a veth pair"
	nft -f "$SRC/tests/netlink/everything.nft" || fail "nft -f everything.nft"
	# Kinds this kernel may lack (modules): added when it has them.
	if nft add flowtable inet pcall f1 '{ hook ingress priority 0; devices = { pcv0 }; }' 2>/dev/null; then
		nft add rule inet pcall input meta l4proto tcp flow add @f1
	else
		echo "note: this kernel has no flowtables: not in the rollback test" >&2
	fi
	nft add secmark inet pcall sm1 '{ "system_u:object_r:ssh_server_packet_t:s0" }' 2>/dev/null ||
		echo "note: this kernel has no secmark (SELinux): not in the rollback test" >&2
	nft list ruleset >"$W/before"
	expect_status 1 $P apply --force --confirm 2 "$W/pcall.policy" </dev/null
	grep_err "not confirmed: rolled back"
	nft list ruleset >"$W/after"
	grep -q 'expires' "$W/before" || fail "the fixture has no timed elements"
	[ "$(grep -o 'expires [0-9a-z]*' "$W/after" | wc -l)" = \
	  "$(grep -o 'expires [0-9a-z]*' "$W/before" | wc -l)" ] ||
		{ cat "$W/after" >&2; fail "timed elements lost their expiry"; }
	norm() { sed 's/ expires [0-9hms]*//g' "$1"; }
	norm "$W/before" >"$W/before.n"
	norm "$W/after" >"$W/after.n"
	cmp -s "$W/before.n" "$W/after.n" ||
		{ diff -u "$W/before.n" "$W/after.n" >&2; fail "not rolled back exactly"; }
	# From no table: back to no table.
	nft flush ruleset
	expect_status 1 $P apply --confirm 1 "$W/pcall.policy" </dev/null
	[ -z "$(nft list ruleset)" ] || fail "the rollback to no table left something"
}

case_confirm_ok() {
	expect_status 0 $P apply "$W/closed.policy"
	$P apply --confirm 60 "$W/web.policy" </dev/null >"$W/apply.out" 2>&1 &
	pid=$!
	wait_pending
	# A second apply is refused while one awaits confirmation.
	expect_status 3 $P apply "$W/closed.policy"
	grep_err "awaits confirmation"
	expect_status 3 $P apply --confirm 5 "$W/closed.policy"
	expect_status 0 $P confirm
	grep_err "confirmed"
	wait $pid || { cat "$W/apply.out" >&2; fail "apply --confirm exited $?"; }
	wait_settled
	expect_status 0 $P diff "$W/web.policy"
	expect_status 0 $P apply "$W/closed.policy"
}

# The wall clock jumps an hour at every read (an NTP step, `date -s`): the
# watchdog's deadline is on the monotonic clock, so it still waits for the
# confirmation instead of rolling back at once.
case_confirm_clock_step() {
	[ -f "$CLOCKSTEP" ] || fail "no clock-step library (PC_CLOCKSTEP=$CLOCKSTEP)"
	expect_status 0 $P apply "$W/closed.policy"
	LD_PRELOAD=$CLOCKSTEP $P apply --confirm 60 "$W/web.policy" </dev/null >"$W/apply.out" 2>&1 &
	pid=$!
	while [ ! -e "$PORTCULLIS_RUNDIR/pending" ] && kill -0 $pid 2>/dev/null; do
		sleep 0.05
	done
	[ -e "$PORTCULLIS_RUNDIR/pending" ] || { cat "$W/apply.out" >&2; fail "rolled back without waiting"; }
	expect_status 0 $P confirm
	grep_err "confirmed"
	wait $pid || { cat "$W/apply.out" >&2; fail "apply --confirm exited $?"; }
	wait_settled
	expect_status 0 $P diff "$W/web.policy"
}

# The applying process goes away (terminal hangup, kill -9): the watchdog
# still rolls back.
case_confirm_signal() {
	for sig in HUP KILL; do
		expect_status 0 $P apply "$W/closed.policy"
		rm -f "$PORTCULLIS_RUNDIR/result"
		snapshot >"$W/before"
		# 10 s: at load 11 the diff below once took the 5 s that were here
		$P apply --confirm 10 "$W/web.policy" </dev/null >/dev/null 2>&1 &
		pid=$!
		wait_pending
		expect_status 0 $P diff "$W/web.policy"
		# Unless the signal ends the applying process, the timeout rolls
		# back as well and the case proves nothing.
		kill -$sig $pid || fail "kill -$sig"
		wait $pid
		st=$?
		[ $st = $((128 + $(kill -l $sig))) ] || fail "apply exited $st, not killed by SIG$sig"
		wait_settled
		snapshot >"$W/after"
		cmp -s "$W/before" "$W/after" || fail "not rolled back after SIG$sig"
		grep -q "^rolled-back table inet pcweb" "$PORTCULLIS_RUNDIR/result" || fail "no rollback result"
	done
}

case_lockout() {
	ip link add pcd0 type veth peer name pcd1 || fail "cannot create a veth pair"
	ip addr add 198.51.100.1/24 dev pcd0
	ip addr add 2001:db8:1::1/64 dev pcd0 nodad
	ip link set pcd0 up
	export SSH_CONNECTION="192.0.2.5 50000 198.51.100.1 22"
	expect_status 1 $P apply "$W/closed.policy"
	grep_err "refusing: this policy would drop new SSH connections from 192.0.2.5 to 198.51.100.1 port 22"
	grep_err "--force"
	no_tables "refused apply installed a table"
	expect_status 0 $P apply "$W/sshalt.policy"
	expect_status 0 $P apply "$W/web.policy"
	# sshd on another port: the policy allows only 22.
	SSH_CONNECTION="192.0.2.5 50000 198.51.100.1 2222" expect_status 1 $P apply "$W/sshalt.policy"
	grep_err "port 2222"
	# A client outside the allowed sources, over IPv6.
	SSH_CONNECTION="2001:db8:ffff::5 50000 2001:db8:1::1 22" expect_status 0 $P apply "$W/sshalt.policy"
	SSH_CONNECTION="203.0.113.5 50000 198.51.100.1 22" expect_status 1 $P apply "$W/sshalt.policy"
	grep_err "203.0.113.5"
	# web.policy rejects (default in reject) and says where it is decided.
	SSH_CONNECTION="203.0.113.200 50000 198.51.100.1 22" expect_status 1 $P apply "$W/web.policy"
	grep_err "would drop"
	SSH_CONNECTION="198.51.100.9 50000 198.51.100.1 22" expect_status 1 $P apply "$W/web.policy"
	grep_err "would reject new SSH connections"
	expect_status 0 $P apply --force "$W/closed.policy"
	grep_err "warning: this policy would drop"
	expect_status 1 $P diff "$W/web.policy"
	expect_status 0 $P diff "$W/closed.policy"
}

# The lockout guard without SSH_CONNECTION (sudo drops it) or with garbage
# in it: the client is found through the sshd ancestor's socket, and an
# unidentified client fails closed. The "sshd" is python renamed (prctl),
# listening on 198.51.100.1:22 with a connection from 192.0.2.5 accepted.
case_lockout_proc() {
	unset SSH_CONNECTION SSH_CLIENT SSH_TTY
	ip link set lo up
	ip link add pcd0 type veth peer name pcd1 || fail "cannot create a veth pair"
	ip addr add 198.51.100.1/24 dev pcd0
	ip addr add 192.0.2.5/32 dev pcd0
	ip link set pcd0 up
	cat >"$W/sshd.py" <<'PY'
import ctypes, os, signal, socket, subprocess, sys
ctypes.CDLL(None).prctl(15, b"sshd", 0, 0, 0)   # PR_SET_NAME: comm is "sshd"
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.51.100.1", 22))
srv.listen(1)
cli = socket.socket()
cli.bind(("192.0.2.5", 0))
cli.connect(("198.51.100.1", 22))
conn, peer = srv.accept()
if sys.argv[1] == "serve":          # stay, as a listening sshd, until killed
    open(sys.argv[2], "w").close()
    signal.pause()
# run the command as a grandchild, through a shell (as sudo would)
env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
with open(sys.argv[2], "w") as out, open(sys.argv[3], "w") as err:
    rc = subprocess.call(["sh", "-c", '"$@"; echo $? >"$0"', sys.argv[4]] + sys.argv[5:],
                         stdout=out, stderr=err, env=env)
sys.exit(rc)
PY
	# in_sshd WANT CMD...: CMD runs under the fake sshd, its session's grandchild
	in_sshd() {
		local want=$1; shift
		python3 "$W/sshd.py" run "$W/out" "$W/err" "$W/rc" "$@" || fail "fake sshd failed"
		[ "$(cat "$W/rc")" = "$want" ] || { cat "$W/out" "$W/err" >&2; fail "'$*' under sshd exited $(cat "$W/rc"), want $want"; }
	}
	in_sshd 1 $P apply "$W/closed.policy"
	grep_err "refusing: this policy would drop new SSH connections from 192.0.2.5 to 198.51.100.1 port 22 (the connection this runs over (sshd, pid "
	[ -z "$(nft list tables)" ] || fail "refused apply installed a table"
	in_sshd 0 $P apply "$W/sshalt.policy"
	# garbage in SSH_CONNECTION does not hide the real client
	in_sshd 1 env SSH_CONNECTION="203.0.113.1 1 x 22" $P apply "$W/closed.policy"
	grep_err "from 192.0.2.5 to 198.51.100.1 port 22"
	in_sshd 0 $P apply --force "$W/closed.policy"
	grep_err "warning: this policy would drop new SSH connections from 192.0.2.5"
	nft delete table inet pcweb

	# Not under sshd, but an sshd listens here (tmux outlives the session's
	# process tree): any client is possible; --confirm or --force goes on.
	python3 "$W/sshd.py" serve "$W/ready" &
	local sshd=$!
	while [ ! -e "$W/ready" ]; do sleep 0.05; done
	expect_status 1 $P apply "$W/sshalt.policy"
	grep_err "refusing: no SSH client of this session could be identified, and sshd listens here; this policy would drop new SSH connections to "
	grep_err "port 22 from some sources (such as 0.0.0.0, decided by the default of in at "
	grep_err "--confirm SECONDS"
	[ -z "$(nft list tables)" ] || fail "refused apply installed a table"
	expect_status 0 $P apply --force "$W/sshalt.policy"
	grep_err "warning: no SSH client"
	expect_status 1 $P apply --confirm 1 "$W/closed.policy" </dev/null
	grep_err "warning: no SSH client"
	grep_err "rolled back"
	# a policy that lets every source in to port 22 is fine
	printf 'table pcweb\ndefault in deny\nallow in service ssh/tcp\n' >"$W/open.policy"
	expect_status 0 $P apply "$W/open.policy"
	kill $sshd
	wait $sshd 2>/dev/null
	# No sshd at all: nothing to lock out.
	expect_status 0 $P apply "$W/closed.policy"

	# Malformed SSH_CONNECTION and no way to find the client: refused.
	SSH_CONNECTION="192.0.2.5 50000 198.51.100.1" expect_status 1 $P apply "$W/sshalt.policy"
	grep_err "refusing: SSH_CONNECTION '192.0.2.5 50000 198.51.100.1' is malformed; this policy would drop"
	SSH_CONNECTION="192.0.2.5 50000 198.51.100.1" expect_status 0 $P apply "$W/open.policy"
	SSH_TTY=/dev/pts/9 expect_status 1 $P apply "$W/closed.policy"
	grep_err "SSH_CLIENT or SSH_TTY is set"
}

# Real packets: TCP and UDP, IPv4 and IPv6, over loopback (option
# filter-loopback) through the ruleset apply installed: accepted, rejected
# (RST / ICMP(v6) port unreachable) and dropped (no answer within the
# probe's timeout).
case_packets() {
	ip link set lo up
	expect_status 0 $P apply "$W/packets.policy"
	python3 - <<'PY' || fail "packet probes"
import select, socket, sys

def tcp(fam, addr, port):
    srv = socket.socket(fam)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    c = socket.socket(fam)
    c.settimeout(1.5)
    try:
        c.connect((addr, port))
        return "accepted"
    except ConnectionRefusedError:
        return "rejected"
    except socket.timeout:
        return "dropped"
    finally:
        c.close()
        srv.close()

def udp(fam, addr, port):
    srv = socket.socket(fam, socket.SOCK_DGRAM)
    srv.bind((addr, port))
    c = socket.socket(fam, socket.SOCK_DGRAM)
    c.connect((addr, port))
    try:
        c.send(b"probe")
        # the datagram reaches the server, or an ICMP error the client
        ready, _, _ = select.select([srv, c], [], [], 1.5)
        if c in ready:
            try:
                c.recv(64)
            except ConnectionRefusedError:
                return "rejected"
            return "unexpected answer"
        if srv in ready:
            data, peer = srv.recvfrom(64)
            srv.sendto(data, peer)
            c.settimeout(1.5)
            c.recv(64)
            return "accepted"
        return "dropped"
    except socket.timeout:
        return "answer dropped"
    finally:
        c.close()
        srv.close()

want = [(tcp, 18080, "accepted"), (tcp, 18081, "rejected"), (tcp, 18082, "dropped"),
        (udp, 18083, "accepted"), (udp, 18084, "rejected"), (udp, 18085, "dropped")]
bad = 0
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    for fn, port, exp in want:
        got = fn(fam, addr, port)
        print("%s %s %d: %s (want %s)" % (fn.__name__, addr, port, got, exp), file=sys.stderr)
        bad += got != exp
sys.exit(1 if bad else 0)
PY
}

all="apply_equals_nft maps dispatch other_tables ownership dry_run warnings diff kernel_refuses permission confirm_timeout exact_rollback confirm_ok confirm_clock_step confirm_signal lockout lockout_proc packets"
[ $# -gt 0 ] && all="$*"
failed=0
for c in $all; do
	W=$work/$c
	mkdir -p "$W"
	cp "$work"/*.policy "$W"/
	rm -rf "$PORTCULLIS_RUNDIR"
	if W=$W P=$prog SRC=$src OWNER=${PC_OWNER_HELPER:-} CLOCKSTEP=${PC_CLOCKSTEP:-} unshare -n bash -c "$helpers
$(declare -f case_$c)
case_$c"; then
		echo "ok   $c"
	else
		echo "FAIL $c"
		failed=1
	fi
done
exit $failed
