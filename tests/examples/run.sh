#!/bin/sh
# Drift check of examples/: every examples/DIR/NAME.policy has its generated
# outputs committed beside it (NAME.nft, NAME.v4, NAME.v6, NAME.pf), or,
# where a backend cannot express the policy, the expected error
# (NAME.EXT.err); NAME.pf-freebsd is pf in the FreeBSD dialect, and
# NAME.pf.args, if present, holds more options for both pf outputs (the
# example's recipe: -O ifgroup=WILDCARD:GROUP). The check uses the
# program's own `generate --check`.
#
#   run.sh PORTCULLIS                 fail on any difference
#   run.sh PORTCULLIS --regenerate    rewrite the outputs (review the diff!)
#   run.sh PORTCULLIS --regenerate --accept-errors
#
# --regenerate refuses to replace an output (a backend that expressed the
# policy) by an expected error: the output stays, the error is shown and
# the exit status is 1. Asked again with --accept-errors, it writes the
# NAME.EXT.err. An exit status other than 0 or 1 is never expected output.
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$(realpath "$1")
regen=${2:-} accept=${3:-}
case $regen$accept in
""|--regenerate|--regenerate--accept-errors) ;;
*) echo "usage: $0 PORTCULLIS [--regenerate [--accept-errors]]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
fail=0 pass=0 refused=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

backend() {
	case $1 in
	nft) echo "-b nft" ;;
	v4) echo "-b iptables" ;;
	v6) echo "-b ip6tables" ;;
	pf) echo "-b pf $pfargs" ;;
	pf-freebsd) echo "-b pf --pf-dialect freebsd $pfargs" ;;
	esac
}

for policy in "$top"/examples/*/*.policy; do
	dir=$(dirname "$policy")
	name=$(basename "$policy" .policy)
	cd "$dir" || exit 1
	pfargs=
	[ -f "$name.pf.args" ] && pfargs=$(cat "$name.pf.args")
	for ext in nft v4 v6 pf pf-freebsd; do
		out="$name.$ext"
		# shellcheck disable=SC2046
		if [ "$regen" = "--regenerate" ]; then
			# -o replaces the file only when generate succeeds
			NO_COLOR=1 "$pc" generate $(backend $ext) -o "$out" "$name.policy" 2>"$tmp"
			rc=$?
			case $rc in
			0) rm -f "$out.err" ;;
			1)
				if [ -f "$out" ] && [ -z "$accept" ]; then
					echo "REFUSED examples/$(basename "$dir")/$out: it used to be generated and now fails:"
					cat "$tmp"
					refused=$((refused + 1))
				else
					rm -f "$out"
					cp "$tmp" "$out.err"
				fi
				;;
			*)
				echo "FAIL examples/$(basename "$dir")/$out: exit $rc"
				cat "$tmp"
				fail=$((fail + 1))
				;;
			esac
			continue
		fi
		if [ -f "$out" ]; then
			if NO_COLOR=1 "$pc" generate $(backend $ext) --check -o "$out" "$name.policy" 2>"$tmp"; then
				pass=$((pass + 1))
			else
				echo "FAIL examples/$(basename "$dir")/$out: differs from what generate writes now"
				cat "$tmp"
				fail=$((fail + 1))
			fi
		elif [ -f "$out.err" ]; then
			NO_COLOR=1 "$pc" generate $(backend $ext) "$name.policy" >/dev/null 2>"$tmp"
			rc=$?
			if [ $rc = 1 ] && cmp -s "$tmp" "$out.err"; then
				pass=$((pass + 1))
			else
				echo "FAIL examples/$(basename "$dir")/$out.err: exit $rc, stderr:"
				diff -u "$out.err" "$tmp"
				fail=$((fail + 1))
			fi
		else
			echo "FAIL examples/$(basename "$dir")/$out: missing (run with --regenerate)"
			fail=$((fail + 1))
		fi
	done
done
if [ "$regen" = "--regenerate" ]; then
	[ $refused = 0 ] && [ $fail = 0 ] && { echo regenerated; exit 0; }
	[ $refused = 0 ] || echo "$refused outputs refused; if intended: $0 PORTCULLIS --regenerate --accept-errors"
	exit 1
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
