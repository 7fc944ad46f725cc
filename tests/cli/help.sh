#!/bin/sh
# Every command answers `COMMAND --help` with exit 0, a usage line on
# standard output and nothing on standard error; unknown commands and
# prefixes are usage errors.
# The commands are those portcullis(8) documents (its COMMANDS section):
# `portcullis --help` must list exactly those, so that a list the test
# cannot read, or a command missing from either, fails instead of leaving
# commands unchecked.
# usage: help.sh PORTCULLIS SRCDIR
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$1 man=$2/doc/portcullis.8
fail=0 pass=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# no `trap ... EXIT`: dash leaks it, and this test runs under valgrind
# with the unit suite (meson test --setup valgrind)
tmp=$(mktemp -d) || exit 99

awk '/^\.SH/ { on = ($2 == "COMMANDS"); next }
	on && prev == ".TP" && $1 == ".B" { print $2 }
	{ prev = $0 }' "$man" | sort >"$tmp/documented"
"$pc" --help >"$tmp/help" 2>&1 || bad "--help exited $?"
awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' \
	"$tmp/help" | sort >"$tmp/listed"
# a floor, so that a man page whose layout the awk above no longer reads
# cannot make both lists empty and equal
[ "$(wc -l <"$tmp/documented")" -ge 8 ] ||
	{ echo "FAIL: fewer than 8 commands read from $man"; rm -rf "$tmp"; exit 1; }
if cmp -s "$tmp/documented" "$tmp/listed"; then
	pass=$((pass + 1))
else
	bad "commands in portcullis(8) (-) and in --help (+) differ:"
	diff -u "$tmp/documented" "$tmp/listed"
fi
for c in $(sort -u "$tmp/documented" "$tmp/listed"); do
	"$pc" "$c" --help >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc != 0 ]; then
		bad "portcullis $c --help exited $rc"
	elif ! grep -q "^usage: portcullis $c\( \|\$\)" "$tmp/out"; then
		bad "portcullis $c --help: no 'usage: portcullis $c' line on standard output"
	elif [ -s "$tmp/err" ]; then
		bad "portcullis $c --help wrote to standard error"
	else
		pass=$((pass + 1))
	fi
done
"$pc" --version | grep -q '^portcullis [0-9]' && pass=$((pass + 1)) || bad "--version"
# no prefix matching: "gen" is not "generate"
"$pc" gen >/dev/null 2>&1; [ $? = 2 ] && pass=$((pass + 1)) || bad "prefix 'gen' accepted"
"$pc" >/dev/null 2>&1; [ $? = 2 ] && pass=$((pass + 1)) || bad "no command is not a usage error"
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
