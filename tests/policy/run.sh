#!/bin/sh
# Golden tests of the policy language: every cases/NAME.policy is checked
# with `portcullis check --dump`; exit status, stderr and stdout must equal
# cases/NAME.expected byte for byte.
#
#   run.sh PORTCULLIS                 compare
#   run.sh PORTCULLIS --regenerate    rewrite the .expected files (review the diff!)
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$(realpath "$1")
regen=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
registry="$here/../../data/service-names-port-numbers.csv"
cd "$here/cases" || exit 1
fail=0 pass=0
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.err" "$tmp.out"' EXIT
for p in *.policy; do
	name=${p%.policy}
	"$pc" check --dump --registry "$registry" "$p" >"$tmp.out" 2>"$tmp.err"
	status=$?
	{
		echo "exit: $status"
		echo "--- stderr"
		cat "$tmp.err"
		echo "--- stdout"
		cat "$tmp.out"
	} >"$tmp"
	if [ "$regen" = "--regenerate" ]; then
		cp "$tmp" "$name.expected"
		continue
	fi
	if [ ! -f "$name.expected" ]; then
		echo "FAIL $name: no $name.expected (run with --regenerate)"
		fail=$((fail + 1))
	elif ! diff -u "$name.expected" "$tmp" >"$tmp.diff" 2>&1; then
		echo "FAIL $name"
		cat "$tmp.diff"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
	rm -f "$tmp.diff"
	case $name in
	err-*) [ "$status" = 1 ] || { echo "FAIL $name: exit $status, want 1"; fail=$((fail + 1)); } ;;
	ok-*|warn-*) [ "$status" = 0 ] || { echo "FAIL $name: exit $status, want 0"; fail=$((fail + 1)); } ;;
	esac
done
[ "$regen" = "--regenerate" ] && { echo "regenerated"; exit 0; }
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
