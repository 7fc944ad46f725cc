#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `portcullis explain` over real policies.
#
#   run.sh PORTCULLIS REGISTRY [--regenerate]
#
# For each NAME.packets: `explain NAME.policy - < NAME.packets` must print
# NAME.expected exactly (--regenerate rewrites the .expected files: review
# the diff line by line, each line is a claim about the policy's meaning).
# A run that fails or writes to standard error is never expected output:
# --regenerate leaves that .expected file as it is and the test fails.
# Then usage errors, policy errors and the options.
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$1 reg=$2 regen=${3:-}
case $pc in /*) ;; */*) pc=$PWD/$pc ;; esac
case $reg in /*) ;; *) reg=$PWD/$reg ;; esac
cd "$(dirname "$0")" || exit 99
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-explain.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

for packets in *.packets; do
	name=${packets%.packets}
	"$pc" explain --registry "$reg" "$name.policy" - <"$packets" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$regen" = --regenerate ] && [ $rc = 0 ] && [ ! -s "$tmp/err" ]; then
		cp "$tmp/out" "$name.expected"
		echo "regenerated $name.expected"
	elif [ "$regen" = --regenerate ]; then
		echo "REFUSED: $name.expected: explain exited $rc or wrote to standard error"
	fi
	if [ $rc = 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/out" "$name.expected"; then
		ok
	else
		bad "$name: exit $rc, output differs from $name.expected:"
		cat "$tmp/err"
		diff -u "$name.expected" "$tmp/out"
	fi
done

# Packets as arguments print what standard input prints.
"$pc" explain --registry "$reg" edge.policy 'in tcp 192.0.2.0 -> 198.51.100.1:22' \
	'forward tcp 203.0.113.1 -> 192.0.2.5:80' >"$tmp/out" 2>&1
printf 'allow\tedge.policy:15\tin tcp 192.0.2.0 -> 198.51.100.1:22\nreject\tdefault (edge.policy:13)\tforward tcp 203.0.113.1 -> 192.0.2.5:80\n' >"$tmp/want"
cmp -s "$tmp/out" "$tmp/want" && ok || { bad "packets as arguments"; diff -u "$tmp/want" "$tmp/out"; }

# expect_status STATUS STDERR-SUBSTRING ARGS...: exit status and message.
expect_status() {
	want=$1 msg=$2
	shift 2
	"$pc" explain "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc != "$want" ]; then
		bad "explain $*: exit $rc, want $want"
		cat "$tmp/err"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then
		bad "explain $*: stderr lacks '$msg':"
		cat "$tmp/err"
	elif [ "$want" != 0 ] && [ -s "$tmp/out" ]; then
		bad "explain $*: wrote to stdout on failure"
	else
		ok
	fi
}

# Malformed packets: usage errors naming and pointing at the bad part.
expect_status 2 "'tpc': expected a protocol" --registry "$reg" edge.policy 'in tpc 192.0.2.1 -> 192.0.2.2:22'
expect_status 2 "     ^~~" --registry "$reg" edge.policy 'in tpc 192.0.2.1 -> 192.0.2.2:22'
expect_status 2 "argument 2: bad packet" --registry "$reg" edge.policy 'in tcp 192.0.2.1 -> 192.0.2.2:22' 'in tcp 192.0.2.1 -> 192.0.2.2'
expect_status 2 "'65536' is not a port" --registry "$reg" edge.policy 'in tcp 192.0.2.1 -> 192.0.2.2:65536'
expect_status 2 "[ADDRESS]:PORT" --registry "$reg" edge.policy 'in tcp 2001:db8::1 -> 2001:db8::2:22'
expect_status 2 "did you mean 'echo-request'" --registry "$reg" edge.policy 'in icmp 192.0.2.1 -> 192.0.2.2 type echo-requst'
expect_status 2 "different families" --registry "$reg" edge.policy 'in udp 192.0.2.1 -> [2001:db8::2]:53'
expect_status 2 "expected a direction" --registry "$reg" edge.policy 'inbound tcp 192.0.2.1 -> 192.0.2.2:22'
# a bad packet is reported before the policy is even read
expect_status 2 "bad packet" --registry "$reg" missing.policy 'in tcp 192.0.2.1 -> 192.0.2.2'
printf 'in tcp 192.0.2.1 -> 192.0.2.2:22\n\n# comment\nin udp 192.0.2.1 -> 192.0.2.2\n' >"$tmp/packets"
"$pc" explain --registry "$reg" edge.policy - <"$tmp/packets" >"$tmp/out" 2>"$tmp/err"
[ $? = 2 ] && grep -q '<stdin>:4: bad packet' "$tmp/err" && [ ! -s "$tmp/out" ] && ok ||
	{ bad "bad packet on standard input"; cat "$tmp/err"; }
# routers (issue 13): a dnat'ed packet whose verdict depends on an
# interface it does not name is not judged: explain says what each would
# give and asks for it (exit 2, no verdict line), whatever else it prints
expect_status 2 "it names no interface, and a dnat translates it when it comes in by one; name it with 'on IFACE'" \
	--registry "$reg" home.policy 'in tcp 203.0.113.9 -> 192.0.2.1:8080'
expect_status 2 "  on wan0: dnat ../../policies/home-router.policy:28 translates it" \
	--registry "$reg" home.policy 'in tcp 203.0.113.9 -> 192.0.2.1:8080'
expect_status 2 "dnat ../../policies/home-router.policy:28 makes it a forwarded packet, whose verdict depends on the interface it leaves by" \
	--registry "$reg" home.policy 'in on wan0 tcp 203.0.113.9 -> 192.0.2.1:8080'
"$pc" explain --registry "$reg" home.policy 'in on wan0 tcp 203.0.113.9 -> 192.0.2.1:8080' 2>&1 >/dev/null |
	sed 1d >"$tmp/out"
printf '  out on wan0: deny by default (home.policy:7)\n  out on lan0: allow by ../../policies/home-router.policy:29\n  out on another interface: deny by default (home.policy:7)\n' >"$tmp/want"
cmp -s "$tmp/out" "$tmp/want" && ok || { bad "the verdict per leaving interface"; diff -u "$tmp/want" "$tmp/out"; }
"$pc" explain --registry "$reg" home.policy 'in on wan0 tcp 203.0.113.9 -> 192.0.2.1:8080' \
	'in on wan0 tcp 203.0.113.9 -> 192.0.2.1:8081' >"$tmp/out" 2>/dev/null
[ $? = 2 ] && [ "$(cut -f3 "$tmp/out")" = "in on wan0 tcp 203.0.113.9 -> 192.0.2.1:8081" ] && ok ||
	bad "the other packets are judged beside one that must name its interface"
# a forward rule with out on that cannot match the translated packet: no question (nat.packets)
# usage
expect_status 2 "expected a POLICY and at least one PACKET" --registry "$reg" edge.policy
expect_status 2 "expected a POLICY and at least one PACKET"
expect_status 2 "unknown option" --frobnicate edge.policy 'in tcp 192.0.2.1 -> 192.0.2.2:22'
expect_status 2 "" --registry
expect_status 0 "" --help
"$pc" explain --help | grep -q 'DIRECTION \[on IFACE\] PROTO SRC\[:PORT\] -> DST\[:PORT\]' && ok || bad "--help lacks the packet syntax"
# policy errors: status 1 with the policy's diagnostics; unreadable: 3
printf 'allow in service no-such-service-name\n' >"$tmp/broken.policy"
expect_status 1 "broken.policy:1:" --registry "$reg" "$tmp/broken.policy" 'in tcp 192.0.2.1 -> 192.0.2.2:22'
expect_status 3 "" --registry "$reg" "$tmp/missing.policy" 'in tcp 192.0.2.1 -> 192.0.2.2:22'
# --overlay: a site name resolves
printf 'pc-site-svc 4444/tcp\n' >"$tmp/overlay"
printf 'default in deny\nallow in service pc-site-svc\n' >"$tmp/site.policy"
"$pc" explain --registry "$reg" --overlay "$tmp/overlay" "$tmp/site.policy" 'in tcp 192.0.2.1 -> 192.0.2.2:4444' >"$tmp/out" 2>"$tmp/err"
grep -q "^allow	$tmp/site.policy:2	" "$tmp/out" && ok || { bad "--overlay"; cat "$tmp/err" "$tmp/out"; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
