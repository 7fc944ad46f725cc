#!/bin/sh
# Golden tests of the policy language: every cases/NAME.policy is checked
# with `portcullis check --dump`; exit status, stderr and stdout must equal
# cases/NAME.expected byte for byte. The name says what the case is:
# err-* exits 1 with errors, warn-* exits 0 with warnings only, ok-* exits
# 0 silently.
#
#   run.sh PORTCULLIS                 compare
#   run.sh PORTCULLIS --regenerate    rewrite the .expected files (review the diff!)
#   run.sh PORTCULLIS --regenerate --accept-errors
#
# --regenerate refuses to give a case whose diagnostics had no error its
# first `error:` (a policy that was accepted and now is not): the file
# stays, the new diagnostics are shown and the exit status is 1. Asked
# again with --accept-errors, it writes them.
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
here=$(cd "$(dirname "$0")" && pwd)
registry="$here/../../data/service-names-port-numbers.csv"
cd "$here/cases" || exit 1
fail=0 pass=0 refused=0
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.err" "$tmp.out"' EXIT
# The stderr part of an expected file.
stderr_of() {
	sed -n '/^--- stderr$/,/^--- stdout$/p' "$1"
}
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
		if [ -f "$name.expected" ] && [ -z "$accept" ] &&
		   ! stderr_of "$name.expected" | grep -q 'error:' &&
		   stderr_of "$tmp" | grep -q 'error:'; then
			echo "REFUSED $name: it had no error and now has:"
			cat "$tmp.err"
			refused=$((refused + 1))
			continue
		fi
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
	# The name states the intent, which a regenerated file could lose.
	case $name in
	err-*)
		[ "$status" = 1 ] && grep -q ': error: ' "$tmp.err" ||
			{ echo "FAIL $name: exit $status, want 1 with errors"; fail=$((fail + 1)); } ;;
	warn-*)
		[ "$status" = 0 ] && grep -q ': warning: ' "$tmp.err" && ! grep -q 'error:' "$tmp.err" ||
			{ echo "FAIL $name: exit $status, want 0 with warnings and no error"; fail=$((fail + 1)); } ;;
	ok-*)
		[ "$status" = 0 ] && [ ! -s "$tmp.err" ] ||
			{ echo "FAIL $name: exit $status, want 0 and no diagnostics"; fail=$((fail + 1)); } ;;
	*)
		echo "FAIL $name: the name must start with err-, warn- or ok-"; fail=$((fail + 1)) ;;
	esac
done
if [ "$regen" = "--regenerate" ]; then
	[ $refused = 0 ] && { echo "regenerated"; exit 0; }
	echo "$refused cases refused; if intended: $0 PORTCULLIS --regenerate --accept-errors"
	exit 1
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
