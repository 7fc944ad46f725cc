#!/bin/sh
# SPDX-License-Identifier: MIT
# Golden tests: every NAME.policy here against its expected outputs.
#
#   NAME.nft  nft            NAME.v4  iptables     NAME.v6  ip6tables
#   NAME.pf   pf (openbsd)   NAME.pf-freebsd  pf --pf-dialect freebsd
#
# NAME.EXT holds the expected standard output of a successful run;
# NAME.EXT.err instead holds the expected standard error of a run that must
# fail with exit status 1 (a feature the backend cannot express, ...).
# Paths are relative to this directory, so the files name "NAME.policy".
#
# usage: run.sh [--regenerate] PORTCULLIS
#   --regenerate  rewrites the expected files from the program's output:
#                 each existing one, and all five for a policy that has none.
#                 Review the diff before committing it.
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
regen=0
if [ "${1:-}" = "--regenerate" ]; then
	regen=1
	shift
fi
[ $# -eq 1 ] || { echo "usage: $0 [--regenerate] PORTCULLIS" >&2; exit 2; }
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
	pf) opts="-b pf --pf-dialect openbsd" ;;
	pf-freebsd) opts="-b pf --pf-dialect freebsd" ;;
	esac
	# shellcheck disable=SC2086
	NO_COLOR=1 "$prog" generate $opts "$2" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

fails=0 count=0
for policy in *.policy; do
	name=${policy%.policy}
	exts=""
	for ext in $all_exts; do
		if [ -e "$name.$ext" ] || [ -e "$name.$ext.err" ]; then
			exts="$exts $ext"
		fi
	done
	if [ -z "$exts" ]; then
		[ $regen = 1 ] || { echo "FAIL: $policy has no expected output (run with --regenerate)"; fails=$((fails + 1)); continue; }
		exts=$all_exts
	fi
	for ext in $exts; do
		count=$((count + 1))
		run_one "$ext" "$policy"
		if [ $regen = 1 ]; then
			rm -f "$name.$ext" "$name.$ext.err"
			case $rc in
			0) cp "$tmp/out" "$name.$ext" ;;
			1) cp "$tmp/err" "$name.$ext.err" ;;
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
[ $regen = 1 ] && echo "regenerated $count files; review them with git diff"
[ $fails = 0 ] || { echo "$fails of $count golden files failed"; exit 1; }
echo "ok: $count golden files"
