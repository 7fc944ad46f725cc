#!/bin/sh
# Work bounded by the size of the input: policies of a few hundred bytes that
# would expand to gigabytes must be checked in a small address space and a
# few CPU seconds (limits, not timings: a slow machine passes as well).
#
#   bounded.sh PORTCULLIS
set -u
pc=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# run NAME WANT-EXIT WANT-STDERR-PATTERN POLICY: check POLICY under the limits
# ($mem KiB or 256 MiB of address space, $cpu or 20 seconds of CPU)
run() {
	name=$1 want=$2 pattern=$3 policy=$4
	(ulimit -v "${mem:-262144}"; ulimit -t "${cpu:-20}"; "$pc" check "$policy") >"$tmp/out" 2>"$tmp/err"
	status=$?
	if [ "$status" != "$want" ] || { [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; }; then
		echo "FAIL $name: exit $status (want $want), stderr:"
		head -c 2000 "$tmp/err"
		fail=1
	else
		echo "ok $name"
	fi
}

# 26 levels of hosts groups, each twice the one before: 2^26 addresses if
# copied, two when each group holds its addresses once
{
	echo 'hosts g1 = { 192.0.2.1, 192.0.2.2 }'
	i=2
	while [ $i -le 26 ]; do
		echo "hosts g$i = { \$g$((i - 1)), \$g$((i - 1)) }"
		i=$((i + 1))
	done
	echo 'allow in service ssh from $g26'
} >"$tmp/hosts.policy"
run hosts-doubling 0 '' "$tmp/hosts.policy"

# the same with services groups, mixing transports on the way
{
	echo 'services s1 = { ssh, http, port 8000-8100 }'
	i=2
	while [ $i -le 26 ]; do
		echo "services s$i = { \$s$((i - 1)), \$s$((i - 1))/tcp }"
		i=$((i + 1))
	done
	echo 'allow in service $s26'
	echo 'allow in service { $s26, $s25, $s26 }/tcp'
} >"$tmp/services.policy"
run services-doubling 0 '' "$tmp/services.policy"

# a group of 1000 addresses listed 200000 times in one rule: one copy, not 200000
{
	# 1000 addresses
	awk 'BEGIN { printf "hosts many = {"
		for (i = 0; i < 250; i++)
			printf "\n 192.0.2.%d, 198.51.100.%d, 203.0.113.%d, 2001:db8::%x", i, i, i, i
		print " }" }'
	printf 'allow in service ssh from {'
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf(i % 100 ? " $many" : "\n $many") }'
	echo ' }'
} >"$tmp/wide.policy"
run wide-list 0 '' "$tmp/wide.policy"

# 100000 groups, each made of the one before (2.7 MB): looking a name up
# must not scan every group defined so far (10 s of CPU when it did; 0.1 s
# when it does not)
awk 'BEGIN { print "hosts g0 = { 192.0.2.1 }"
	for (i = 1; i < 100000; i++) printf "hosts g%d = { $g%d }\n", i, i - 1
	print "allow in from $g99999" }' >"$tmp/groups.policy"
mem=524288 cpu=3 run many-groups 0 '' "$tmp/groups.policy"
mem= cpu=

# 30000 rules, each with a warning its own line silences: finding a
# warning's line must not scan the policy from its start (about 12 s of CPU
# when it did; 0.1 s when each source has a line index)
awk 'BEGIN { for (i = 0; i < 30000; i++)
	printf "allow in port 44444/udp from 2001:db8::%x  # portcullis: ignore unassigned-port\n", i }' \
	>"$tmp/silenced.policy"
cpu=2 run many-silenced 0 '' "$tmp/silenced.policy"
cpu=

# includes: a diamond is refused (each file once), and the number of files is capped
mkdir "$tmp/inc"
i=0
while [ $i -lt 300 ]; do
	echo "include \"inc/f$i.policy\"" >>"$tmp/many.policy"
	echo "# file $i" >"$tmp/inc/f$i.policy"
	i=$((i + 1))
done
run include-count 1 'error: more than 256 files included' "$tmp/many.policy"

# 20 levels of files each including the next one twice: 2^20 parses if allowed
i=0
while [ $i -lt 20 ]; do
	printf 'include "d%d.policy"\ninclude "d%d.policy"\n' $((i + 1)) $((i + 1)) >"$tmp/inc/d$i.policy"
	i=$((i + 1))
done
echo 'allow in service ssh' >"$tmp/inc/d20.policy"
echo 'include "inc/d0.policy"' >"$tmp/diamond.policy"
run include-diamond 1 'is already included' "$tmp/diamond.policy"

exit $fail
