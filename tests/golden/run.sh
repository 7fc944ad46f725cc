#!/bin/sh
# SPDX-License-Identifier: MIT
# Golden tests: every NAME.policy here against its expected outputs.
#
#   NAME.nft  nft            NAME.v4  iptables     NAME.v6  ip6tables
#   NAME.pf   pf (openbsd)   NAME.pf-freebsd  pf --pf-dialect freebsd
# NAME.pf.args, if present, holds more options for both pf runs
# (-O ifgroup=WILDCARD:GROUP).
#
# NAME.EXT holds the expected standard output of a successful run;
# NAME.EXT.err instead holds the expected standard error of a run that must
# fail with exit status 1 (a feature the backend cannot express, ...).
# Paths are relative to this directory, so the files name "NAME.policy".
#
# usage: run.sh [--regenerate [--accept-errors]] PORTCULLIS
#   --regenerate  rewrites the expected files from the program's output,
#                 all five for every policy (a check fails on a missing one).
#                 Review the diff before committing it.
#                 A case whose NAME.EXT (a successful run) would become
#                 NAME.EXT.err is refused: the file stays, the error is
#                 shown, and the exit status is 1. A backend that stops
#                 expressing a policy is a regression far more often than
#                 an intended change.
#   --accept-errors  with --regenerate: it is intended, write the .err.
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
regen=0 accept_errors=0
while [ $# -gt 0 ]; do
	case $1 in
	--regenerate) regen=1 ;;
	--accept-errors) accept_errors=1 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] && { [ $accept_errors = 0 ] || [ $regen = 1 ]; } ||
	{ echo "usage: $0 [--regenerate [--accept-errors]] PORTCULLIS" >&2; exit 2; }
case $1 in
/*) prog=$1 ;;
*) prog=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")" || exit 99
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

all_exts="nft v4 v6 pf pf-freebsd"

run_one() { # EXT POLICY -> sets rc, writes $tmp/out $tmp/err
	case $1 in
	nft) opts="-b nft" ;;
	v4) opts="-b iptables" ;;
	v6) opts="-b ip6tables" ;;
	pf) opts="-b pf -O pf-dialect=openbsd" ;;
	pf-freebsd) opts="-b pf -O pf-dialect=freebsd" ;;
	esac
	# NAME.pf.args: more options of the pf backend (-O ifgroup=...)
	case $1 in
	pf*) [ -f "${2%.policy}.pf.args" ] && opts="$opts $(cat "${2%.policy}.pf.args")" ;;
	esac
	# shellcheck disable=SC2086
	NO_COLOR=1 "$prog" generate $opts "$2" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

fails=0 count=0 refused=0
for policy in *.policy; do
	name=${policy%.policy}
	# Every backend, always: a missing file would leave its backend untested.
	for ext in $all_exts; do
		count=$((count + 1))
		if [ $regen = 0 ] && [ ! -e "$name.$ext" ] && [ ! -e "$name.$ext.err" ]; then
			echo "FAIL: $name.$ext: no expected output (run with --regenerate)"
			fails=$((fails + 1))
			continue
		fi
		run_one "$ext" "$policy"
		if [ $regen = 1 ]; then
			# Any other status is a failure of the program, never expected
			# output: the old file stays.
			case $rc in
			0)
				rm -f "$name.$ext.err"
				cp "$tmp/out" "$name.$ext"
				;;
			1)
				if [ -e "$name.$ext" ] && [ $accept_errors = 0 ]; then
					echo "REFUSED: $name.$ext used to succeed and now fails:"
					cat "$tmp/err"
					echo "(if intended: run.sh --regenerate --accept-errors PORTCULLIS)"
					refused=$((refused + 1))
					continue
				fi
				rm -f "$name.$ext"
				cp "$tmp/err" "$name.$ext.err"
				;;
			*) echo "FAIL: $name.$ext: exit status $rc"; cat "$tmp/err"; fails=$((fails + 1)) ;;
			esac
			continue
		fi
		if [ -e "$name.$ext.err" ]; then
			if [ $rc != 1 ]; then
				echo "FAIL: $name.$ext: exit status $rc, expected 1 (errors in $name.$ext.err)"
				fails=$((fails + 1))
			elif ! diff -u "$name.$ext.err" "$tmp/err"; then
				echo "FAIL: $name.$ext: standard error differs (above)"
				fails=$((fails + 1))
			fi
		elif [ $rc != 0 ]; then
			echo "FAIL: $name.$ext: exit status $rc"
			cat "$tmp/err"
			fails=$((fails + 1))
		elif ! diff -u "$name.$ext" "$tmp/out"; then
			echo "FAIL: $name.$ext differs (above); if intended: tests/golden/run.sh --regenerate BUILD/portcullis"
			fails=$((fails + 1))
		fi
	done
done
[ $regen = 1 ] && echo "regenerated $((count - refused - fails)) of $count files; review them with git diff"
[ $refused = 0 ] || { echo "$refused files refused: they would turn a success into an expected error"; exit 1; }
[ $fails = 0 ] || { echo "$fails of $count golden files failed"; exit 1; }
echo "ok: $count golden files"
