#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Unit suite (no root, no kernel): the netlink batch `apply` sends for the
# sample policies, decoded back with libnftnl by nl_decode, against the
# dumps in tests/netlink/decode/. Each message decodes to one line, and
# each set, element and rule message is followed by the policy location a
# kernel refusal of it is reported at.
#
#   decode.sh NL_DECODE SRCDIR [--regenerate]
#     --regenerate  rewrites the dumps from the program's output: review
#                   the diff, an encoding change must be on purpose
set -u
dec=${1:?usage: decode.sh NL_DECODE SRCDIR [--regenerate]}
src=${2:?usage: decode.sh NL_DECODE SRCDIR [--regenerate]}
dec=$(realpath "$dec")
regen=0
[ "${3:-}" = --regenerate ] && regen=1
dir=$src/tests/netlink
out=$(mktemp -d /tmp/pc-decode-XXXXXX)
trap 'rm -rf "$out"' EXIT

fails=0
# NAME POLICY [--no-optimize | --no-dispatch]: policies named relative to tests/netlink, so
# that the locations in the dumps do not depend on where the tree is.
while read -r name policy opt; do
	[ -n "$name" ] || continue
	(cd "$dir" && "$dec" $opt "$policy") >"$out/$name.batch" 2>"$out/$name.err" ||
		{ cat "$out/$name.err"; echo "FAIL: nl_decode $opt $policy"; fails=$((fails + 1)); continue; }
	if grep -q UNDECODABLE "$out/$name.batch"; then
		echo "FAIL: $name: a message libnftnl cannot decode"; fails=$((fails + 1))
	fi
	if [ $regen = 1 ]; then
		cp "$out/$name.batch" "$dir/decode/$name.batch"
	elif ! diff -u "$dir/decode/$name.batch" "$out/$name.batch"; then
		echo "FAIL: $name.batch differs (above); if intended: tests/netlink/decode.sh BUILD/tests/netlink/nl_decode . --regenerate"
		fails=$((fails + 1))
	fi
done <<'LIST'
web web.policy
matches matches.policy
maps maps.policy
maps-no-optimize maps.policy --no-optimize
dispatch dispatch.policy
dispatch-no-dispatch dispatch.policy --no-dispatch
keys ../netns/foldkeys.policy --no-dispatch
narrow ../netns/narrow.policy
LIST
[ $regen = 1 ] && echo "regenerated the dumps in $dir/decode; review them with git diff"
echo "$((8 - fails)) passed, $fails failed"
[ $fails = 0 ]
