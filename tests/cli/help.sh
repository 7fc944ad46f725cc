#!/bin/sh
# Every command listed by `portcullis --help` answers `COMMAND --help` with
# exit 0 and a usage line; unknown commands and prefixes are usage errors.
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$1
fail=0 pass=0
cmds=$("$pc" --help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
[ -n "$cmds" ] || { echo "FAIL: no commands in --help"; exit 1; }
for c in $cmds; do
	if out=$("$pc" "$c" --help 2>&1) && echo "$out" | grep -q "usage: portcullis $c"; then
		pass=$((pass + 1))
	else
		echo "FAIL: portcullis $c --help"
		fail=$((fail + 1))
	fi
done
"$pc" --version | grep -q '^portcullis [0-9]' && pass=$((pass + 1)) || { echo "FAIL: --version"; fail=$((fail + 1)); }
# no prefix matching: "gen" is not "generate"
"$pc" gen >/dev/null 2>&1; [ $? = 2 ] && pass=$((pass + 1)) || { echo "FAIL: prefix 'gen' accepted"; fail=$((fail + 1)); }
"$pc" >/dev/null 2>&1; [ $? = 2 ] && pass=$((pass + 1)) || { echo "FAIL: no command is not a usage error"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ $fail = 0 ]
