#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `portcullis apply` of a 2,000-rule policy against `nft -f` of the same
# ruleset (`portcullis generate -b nft`), side by side, alternating, each run
# in a throwaway network namespace (`unshare -n`: an empty ruleset). Not a
# test: it asserts nothing, it prints the numbers.
#
#   bench_apply.sh PORTCULLIS [RULES] [ROUNDS] [--no-optimize | --dispatch | --no-dispatch]
#                                                 (defaults 2000, 21)
#
# Both sides optimise by default (runs of plain rules become verdict maps,
# `generate` and `apply` alike); --no-optimize gives both that option (one
# kernel rule per policy line), --dispatch / --no-dispatch the dispatch
# (issue 15) or not.
#
# Each round times (bash `time`: wall clock, and the user + system CPU time
# of the command, which other load on the machine disturbs less), inside a
# fresh namespace, the whole command:
#   apply:  portcullis apply POLICY   (read the registry, parse, resolve,
#           lower, build the netlink batch, send it, kernel commit)
#   nft:    nft -f FILE               (parse the generated text, evaluate,
#           build the batch, send it, kernel commit)
# and the order of the two alternates from round to round; once in
# namespaces primed by an unrelated table (nf_tables and conntrack set up),
# once in cold ones, and (issue 15) twice over the policy's own table
# already there: a re-apply of the same policy, and of a one-line change
# (the namespace holds the table of the policy with one rule's verdict
# turned, applied untimed first; apply then sends only what differs,
# nft -f replaces the table). Prints per-run milliseconds, the medians and
# the ratios. Needs root; exits 77 otherwise.
#
# POLICY=FILE uses that policy instead of generating one (RULES is then
# ignored), e.g. a shape of gen_shapes.py:
#   bench/gen_shapes.py capirca /tmp/c && POLICY=/tmp/c/capirca.policy \
#       bench/bench_apply.sh build/portcullis 0 5
set -u
prog=${1:?usage: bench_apply.sh PORTCULLIS [RULES] [ROUNDS] [--no-optimize | --dispatch | --no-dispatch]}
rules=${2:-2000}
rounds=${3:-21}
opt=${4:-}
case $opt in
''|--no-optimize|--dispatch|--no-dispatch) ;;
*) echo "usage: bench_apply.sh PORTCULLIS [RULES] [ROUNDS] [--no-optimize | --dispatch | --no-dispatch]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces, nf_tables)" >&2
	exit 77
fi
command -v nft >/dev/null || { echo "SKIP: nft(8) not installed" >&2; exit 77; }

work=$(mktemp -d /tmp/pc-bench-apply-XXXXXX)
trap 'rm -rf "$work"' EXIT

# One rule per line, each its own nft rule: a source address, a port.
policy=$work/bench.policy
if [ -n "${POLICY:-}" ]; then
	# a copy beside it (what it includes is found the same): the one-line
	# change is written over the copy (below), so that its rules keep
	# their FILE:LINE
	policy=$(mktemp "$(dirname "$POLICY")/.bench-apply-XXXXXX.policy") || exit 1
	trap 'rm -rf "$work" "$policy"' EXIT
	cp "$POLICY" "$policy" || exit 1
	rules="$(grep -c '^\(allow\|deny\|reject\) ' "$policy") ($POLICY)"
else
{
	echo "# $rules rules for bench_apply.sh"
	echo "table bench"
	echo "default in deny"
	echo "default out allow"
	for i in $(seq 0 $((rules - 1))); do
		net=$(( i % 3 ))
		case $net in
		0) pfx=192.0.2 ;; 1) pfx=198.51.100 ;; *) pfx=203.0.113 ;;
		esac
		echo "allow in port $(( 10000 + i ))/tcp from $pfx.$(( (i / 3) % 256 ))"
	done
} >"$work/bench.policy"
fi
"$prog" generate $opt "$policy" >"$work/bench.nft" 2>/dev/null || exit 1
# The one-line change: the middle rule's verdict turned (allow <-> deny),
# in place, so that no other line moves (rules carry FILE:LINE). The
# namespace gets it applied from the policy's own path, which then gets
# the policy back.
cp "$policy" "$work/orig.policy"
mid=$(grep -n '^\(allow\|deny\) ' "$policy" | awk -F: '{ l[NR] = $1 } END { print l[int((NR + 1) / 2)] }')
sed "${mid}s/^allow /deny /;t;${mid}s/^deny /allow /" "$policy" >"$work/changed.policy"
nrules=$(grep -c '^[[:space:]]*[^[:space:]].* comment "[^"]*"$' "$work/bench.nft")
nelems=$(grep -c ' : \(accept\|drop\),\?$' "$work/bench.nft")

# One timed command in a fresh namespace; prints milliseconds. With
# PRIME=1 the namespace's nf_tables and conntrack are set up first by an
# unrelated table (created and deleted, not timed): that per-namespace
# start-up is the kernel's, the same for both tools, and otherwise part of
# whichever runs first in the namespace.
timed() {
	unshare -n bash -c '
		if [ "$PRIME" = 1 ]; then
			nft -f - <<-EOT || exit 1
			table inet prime {
				chain c {
					type filter hook input priority 0; policy accept;
					ct state established,related accept
					tcp dport 1 limit rate 1/second log prefix "x" accept
				}
			}
			EOT
			nft delete table inet prime || exit 1
		fi
		# the policy'"'"'s own table first: the same policy, or the changed one
		if [ "$PRIME" = 2 ]; then
			"$PROG" apply $OPT "$POLICY" >/dev/null 2>&1 || exit 1
		elif [ "$PRIME" = 3 ]; then
			cp "$POLICY_CHANGED" "$POLICY" &&
			"$PROG" apply $OPT "$POLICY" >/dev/null 2>&1 &&
			cp "$POLICY_ORIG" "$POLICY" || exit 1
		fi
		TIMEFORMAT="%3R %3U %3S"
		{ time "$@" >/dev/null 2>&1 || exit 1; } 2>&1' bash "$@"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Warm up (module loading, page cache).
PRIME=0 timed "$prog" apply $opt "$policy" >/dev/null
PRIME=0 timed nft -f "$work/bench.nft" >/dev/null

# Prints "WALL CPU" in milliseconds from "REAL USER SYS" in seconds.
ms() { awk '{ printf "%.0f %.0f\n", $1 * 1000, ($2 + $3) * 1000 }'; }

run_rounds() { # LABEL
	: >"$work/apply"
	: >"$work/nft"
	echo "== $1 (wall-clock ms; CPU ms = user + system of the command)"
	printf '%5s %10s %10s %10s %10s\n' round 'apply' 'apply cpu' 'nft -f' 'nft cpu'
	for r in $(seq 1 "$rounds"); do
		if [ $((r % 2)) = 1 ]; then
			a=$(timed "$prog" apply $opt "$policy" | ms) || { echo "apply failed" >&2; exit 1; }
			n=$(timed nft -f "$work/bench.nft" | ms) || { echo "nft -f failed" >&2; exit 1; }
		else
			n=$(timed nft -f "$work/bench.nft" | ms) || { echo "nft -f failed" >&2; exit 1; }
			a=$(timed "$prog" apply $opt "$policy" | ms) || { echo "apply failed" >&2; exit 1; }
		fi
		echo "$a" >>"$work/apply"
		echo "$n" >>"$work/nft"
		printf '%5d %10s %10s %10s %10s\n' "$r" $a $n
	done
	aw=$(cut -d' ' -f1 "$work/apply" | median)
	ac=$(cut -d' ' -f2 "$work/apply" | median)
	nw=$(cut -d' ' -f1 "$work/nft" | median)
	nc=$(cut -d' ' -f2 "$work/nft" | median)
	awk -v l="$1" -v aw="$aw" -v ac="$ac" -v nw="$nw" -v nc="$nc" 'BEGIN {
		printf "%s: median wall apply %d ms, nft -f %d ms, ratio %.3f; median CPU apply %d ms, nft -f %d ms, ratio %.3f (target <= 0.5)\n",
			l, aw, nw, aw / nw, ac, nc, ac / nc
	}' | tee -a "$work/summary"
}

export PROG=$prog OPT=$opt POLICY=$policy POLICY_CHANGED=$work/changed.policy POLICY_ORIG=$work/orig.policy
export PRIME=1
run_rounds "primed namespaces"
export PRIME=0
run_rounds "cold namespaces"
export PRIME=2
run_rounds "re-apply, same policy"
export PRIME=3
run_rounds "re-apply, one line changed"
echo
echo "policy rules: $rules, ${opt:-optimised}: nft rules (with the built-in ones): $nrules, verdict map elements: $nelems, rounds: $rounds"
cat "$work/summary"
