#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `portcullis compare`: golden text, JSON and Markdown outputs, exit
# statuses, REV:PATH read from git (includes at the same revision) in a
# throwaway repository, and the shipped examples against their previous
# revisions in the project's own history.
#
#   run.sh PORTCULLIS SRCDIR [--regenerate]
#
# For each NAME.old.policy / NAME.new.policy: NAME.txt, NAME.json and
# NAME.md are the expected outputs (--regenerate rewrites them: review the
# diff, each line is a claim about what the change means).
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$1 src=$(cd "$2" && pwd) regen=${3:-}
case $pc in /*) ;; */*) pc=$PWD/$pc ;; esac
cd "$(dirname "$0")" || exit 99
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-compare.XXXXXX") || exit 99
# compare's temporary trees go here too, apart from other runs' in /tmp
mkdir "$tmp/t" || exit 99
export TMPDIR="$tmp/t"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

for old in *.old.policy; do
	name=${old%.old.policy}
	for fmt in txt json md; do
		case $fmt in txt) opt= ;; json) opt=--json ;; md) opt=--markdown ;; esac
		"$pc" compare $opt "$old" "$name.new.policy" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ $rc -gt 1 ] || [ -s "$tmp/err" ]; then
			bad "$name $fmt: exit $rc"; cat "$tmp/err"; continue
		fi
		if [ "$regen" = --regenerate ]; then
			cp "$tmp/out" "$name.$fmt"
			echo "regenerated $name.$fmt"
		fi
		if cmp -s "$tmp/out" "$name.$fmt"; then ok; else
			bad "$name $fmt differs from $name.$fmt:"; diff -u "$name.$fmt" "$tmp/out"
		fi
		# exit 0 exactly when no region was printed
		if grep -q 'no change in meaning\|"changed": false' "$tmp/out"; then want=0; else want=1; fi
		[ $rc = $want ] && ok || bad "$name $fmt: exit $rc, expected $want"
	done
done
# the refactoring means the same
"$pc" compare refactor.old.policy refactor.new.policy >/dev/null 2>&1 && ok ||
	bad "refactor: a refactoring shows as a change"

# interface lists and `on not` are modelled: a name dropped from a list,
# or from a negation, is a change
printf 'table t\nallow in on { eth0, eth1 } port 22/tcp\n' >"$tmp/l.old.policy"
printf 'table t\nallow in on eth0 port 22/tcp\n' >"$tmp/l.new.policy"
"$pc" compare "$tmp/l.old.policy" "$tmp/l.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^- in on eth1 tcp' "$tmp/out" && ok ||
	{ bad "a name dropped from an interface list is no change (exit $rc)"; cat "$tmp/out"; }
printf 'table t\nallow in on not eth0 port 22/tcp\n' >"$tmp/n.old.policy"
printf 'table t\nallow in on not { eth0 } port 22/tcp\nallow in on eth0 port 22/tcp\n' >"$tmp/n.new.policy"
"$pc" compare "$tmp/n.old.policy" "$tmp/n.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^+ in on eth0 tcp' "$tmp/out" && ! grep -q 'eth1\|wlan0\|ens3' "$tmp/out" && ok ||
	{ bad "on not: the named interface is not the only change (exit $rc)"; cat "$tmp/out"; }

# source ports are modelled (issue 14): narrowing a range is a change of
# exactly the ports dropped, shown on the source; the same rule means the same
printf 'table t\nallow in source-port 1024-2047 port 22/tcp\n' >"$tmp/s.old.policy"
printf 'table t\nallow in source-port 1024-2000 port 22/tcp\n' >"$tmp/s.new.policy"
"$pc" compare "$tmp/s.old.policy" "$tmp/s.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^- in tcp any:2001-2047 -> any:22 ' "$tmp/out" && [ "$(grep -c '^[-+~]' "$tmp/out")" = 1 ] && ok ||
	{ bad "a source-port range narrowed is not exactly that change (exit $rc)"; cat "$tmp/out"; }
"$pc" compare --json "$tmp/s.old.policy" "$tmp/s.new.policy" >"$tmp/out" 2>&1
tr -d ' \n' <"$tmp/out" | grep -q '"source_ports":\[2001,2047\]' && ok ||
	{ bad "compare --json lacks the source ports"; cat "$tmp/out"; }
"$pc" compare "$tmp/s.old.policy" "$tmp/s.old.policy" >/dev/null 2>&1 && ok ||
	bad "a source-port rule against itself changed"
printf 'table t\nexpect deny in port 22/tcp from 192.0.2.9\ndeny in source-port 1024-65535 from 192.0.2.9\nallow in port 22/tcp\n' >"$tmp/e.policy"
"$pc" check "$tmp/e.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'expect' "$tmp/out" && ok ||
	{ bad "an expect broken below source port 1024 holds (exit $rc)"; cat "$tmp/out"; }

# `from not`: the rest of the family; dropping it opens just the named prefix
printf 'table t\nallow in port 22/tcp from not 192.0.2.0/24\n' >"$tmp/f.old.policy"
printf 'table t\nallow in port 22/tcp\n' >"$tmp/f.new.policy"
"$pc" compare "$tmp/f.old.policy" "$tmp/f.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && [ "$(grep -c . "$tmp/out")" = 1 ] && grep -q '^+ in tcp 192.0.2.0/24 -> any:22 ' "$tmp/out" && ok ||
	{ bad "from not: not exactly the named prefix (exit $rc)"; cat "$tmp/out"; }

# `out on`: the leaving interface is a dimension of forwarded packets
printf 'table t\ndefault forward deny\nallow forward on eth0 out on { eth1, wg* } port 22/tcp\n' >"$tmp/f.old.policy"
printf 'table t\ndefault forward deny\nallow forward on eth0 out on eth1 port 22/tcp\n' >"$tmp/f.new.policy"
"$pc" compare "$tmp/f.old.policy" "$tmp/f.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && [ "$(grep -c . "$tmp/out")" = 1 ] && grep -q '^- forward on eth0 out on wg\* tcp any -> any:22 ' "$tmp/out" && ok ||
	{ bad "out on: not exactly the dropped leaving interface (exit $rc)"; cat "$tmp/out"; }

# dynamic sets and limits: a change that matters only for members of the
# set, or over the rate, says so
printf 'table t\nhosts bl = dynamic\ndeny in from $bl\nallow in port 22/tcp limit 5/second burst 10\n' >"$tmp/f.old.policy"
printf 'table t\nhosts bl = dynamic\nallow in port 22/tcp limit 5/second burst 10\ndeny in from $bl\n' >"$tmp/f.new.policy"
"$pc" compare "$tmp/f.old.policy" "$tmp/f.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && [ "$(grep -c . "$tmp/out")" = 1 ] &&
	grep -q '^+ in tcp any -> any:22 src in @bl under the rate of OLD .*f.old.policy:4  allow' "$tmp/out" && ok ||
	{ bad "dynamic set and limit: not exactly members under the rate (exit $rc)"; cat "$tmp/out"; }

# a bucket per source is a condition of the packet, as a rule's one bucket
# is: over the rate, the limited line no longer decides
printf 'table t\nallow in port 22/tcp limit 5/second per source\ndeny in port 22/tcp\n' >"$tmp/p.old.policy"
printf 'table t\nallow in port 22/tcp\n' >"$tmp/p.new.policy"
"$pc" compare "$tmp/p.old.policy" "$tmp/p.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && [ "$(grep -c '^[-+~]' "$tmp/out")" = 1 ] &&
	grep -q '^+ in tcp any -> any:22 .*over the per-source rate of OLD .*p.old.policy:2  allow' "$tmp/out" && ok ||
	{ bad "limit per source: not exactly the packets over the rate (exit $rc)"; cat "$tmp/out"; }
"$pc" compare "$tmp/p.old.policy" "$tmp/p.old.policy" >/dev/null 2>&1 && ok ||
	bad "a per-source limit against itself changed"
printf 'table t\nallow in port 22/tcp limit 5/second\ndeny in port 22/tcp\n' >"$tmp/p.new.policy"
"$pc" compare "$tmp/p.old.policy" "$tmp/p.new.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && ok || { bad "a bucket per source and one per rule compared as the same (exit $rc)"; cat "$tmp/out"; }

# issue 16: NAT is modelled: a policy with NAT against itself is no change;
# a port forward's target is judged by forward, and so is an expectation
# over the packets the dnat translates (its witness names the dnat)
"$pc" compare portfwd.new.policy portfwd.new.policy >"$tmp/out" 2>&1 && ok ||
	{ bad "NAT against itself is a change"; cat "$tmp/out"; }
printf 'table t\ndefault in deny\ndefault forward deny\nallow forward to 192.0.2.10 port 22/tcp\ndnat on eth0 port 2222/tcp -> 192.0.2.10:22\nexpect deny in port 2222/tcp\n' >"$tmp/x.policy"
"$pc" check "$tmp/x.policy" >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "x.policy:6:1: error: expectation broken: 'in on eth0 out on [a-z0-9]* tcp .*:2222' gets allow from .*x.policy:4 after dnat .*x.policy:5, not deny" "$tmp/out" && ok ||
	{ bad "an expectation over a dnat's packets is not judged on the translated packet (exit $rc)"; cat "$tmp/out"; }
sed 's/^expect deny in port 2222.tcp/expect allow in on eth0 port 2222\/tcp family ipv4/' "$tmp/x.policy" >"$tmp/y.policy"
"$pc" check "$tmp/y.policy" >"$tmp/out" 2>&1 && ok ||
	{ bad "an expectation the translated packets keep is refused"; cat "$tmp/out"; }

# forward's limit judges the packets a dnat forwards coming in: there it
# counts as never exceeded, said once, however many families and sides
printf 'table t\ndefault forward deny\nallow forward to 192.0.2.10 port 22/tcp limit 5/second\ndnat on eth0 port 2222/tcp -> 192.0.2.10:22\n' >"$tmp/l1.policy"
sed 's/2222/2223/' "$tmp/l1.policy" >"$tmp/l2.policy"
"$pc" compare "$tmp/l1.policy" "$tmp/l2.policy" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q '^+ in on eth0 tcp any -> any:2223 ipv4  allow (NEW .*l2.policy:3 after dnat .*l2.policy:4) was deny (default)$' "$tmp/out" &&
	grep -q '^portcullis: compare: note: in: 1 rate limits count as never exceeded' "$tmp/err" && ok ||
	{ bad "forward's limit after a dnat (exit $rc)"; cat "$tmp/out" "$tmp/err"; }

# more pieces of dnat'ed packets than compare models: an error naming the
# dnat, never a partial answer
{
	printf 'table t\ndefault forward deny\n'
	i=1
	while [ $i -le 460 ]; do
		echo "allow forward proto tcp from 198.51.100.$((i % 250))/32"
		i=$((i + 1))
	done
	i=1
	while [ $i -le 460 ]; do
		echo "dnat on eth0 port $((20000 + i))/tcp -> 192.0.2.$((i % 250))"
		i=$((i + 1))
	done
} >"$tmp/big.policy"
"$pc" compare "$tmp/big.policy" "$tmp/big.policy" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && [ ! -s "$tmp/out" ] &&
	grep -q 'OLD .*big.policy:[0-9]*: compare models at most 200000 pieces of the packets dnat rules translate' "$tmp/err" && ok ||
	{ bad "too many dnat pieces are not refused by name (exit $rc)"; cat "$tmp/out" "$tmp/err"; }

# usage errors exit 2, unreadable files 3, policy errors 1
"$pc" compare web.old.policy >/dev/null 2>&1; [ $? = 2 ] && ok || bad "one argument is not a usage error"
"$pc" compare --json --markdown web.old.policy web.new.policy >/dev/null 2>&1; [ $? = 2 ] && ok ||
	bad "--json --markdown is not a usage error"
"$pc" compare web.old.policy "$tmp/missing.policy" >/dev/null 2>&1; [ $? = 3 ] && ok ||
	bad "a missing file is not exit 3"
printf 'table t\nallow in service nosuchname\n' >"$tmp/bad.policy"
"$pc" compare web.old.policy "$tmp/bad.policy" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q "bad.policy:2:.*error:" "$tmp/err" && ok ||
	bad "a policy error is not FILE:LINE:COL: error: with exit 1 (exit $rc)"

# expect is proven by every command that reads a policy: generate writes nothing
cases=../policy/cases
echo keep >"$tmp/out.nft"
"$pc" generate -o "$tmp/out.nft" "$cases/err-expect.policy" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && [ "$(cat "$tmp/out.nft")" = keep ] &&
	grep -q "err-expect.policy:8:1: error: expectation broken: 'in on eth0 tcp 198.51.100.7 -> 192.0.2.2:22' gets allow from .*err-expect.policy:6, not deny" "$tmp/err" &&
	ok || { bad "generate of a broken expect (exit $rc)"; cat "$tmp/err"; }
"$pc" explain "$cases/err-expect.policy" 'in tcp 192.0.2.5 -> 198.51.100.1:22' >/dev/null 2>&1; [ $? = 1 ] && ok ||
	bad "explain of a broken expect is not exit 1"
"$pc" generate "$cases/ok-expect.policy" >/dev/null 2>&1 && ok || bad "generate of kept expectations failed"

# REV:PATH in a throwaway repository; the include is read at the same revision
if command -v git >/dev/null 2>&1; then
	repo=$tmp/repo
	mkdir -p "$repo/fw" && cd "$repo" || exit 99
	git init -q . && git config user.email t@example.org && git config user.name t
	printf 'hosts admins = { 192.0.2.0/24 }\n' >fw/groups.inc
	printf 'table fw\ninclude "groups.inc"\ndefault in deny\nallow in port 22/tcp from $admins\n' >fw/fw.policy
	git add -A && git commit -qm one
	printf 'hosts admins = { 192.0.2.0/25 }\n' >fw/groups.inc
	git commit -qam two
	"$pc" compare HEAD~1:fw/fw.policy HEAD:fw/fw.policy >"$tmp/out" 2>&1; rc=$?
	if [ $rc = 1 ] && grep -q '^- in tcp 192.0.2.128/25 -> any:22  deny (NEW default fw/fw.policy:3) was allow (OLD fw/fw.policy:4)$' "$tmp/out"; then
		ok
	else
		bad "REV:PATH with an include at the same revision (exit $rc):"; cat "$tmp/out"
	fi
	# ./PATH is relative to the current directory, as git show takes it
	(cd fw && "$pc" compare HEAD:./fw.policy fw.policy) >"$tmp/out" 2>&1; rc=$?
	[ $rc = 0 ] && ok || { bad "HEAD:./fw.policy against the work tree (exit $rc)"; cat "$tmp/out"; }
	"$pc" compare HEAD~1:fw/fw.policy HEAD~1:fw/fw.policy >/dev/null 2>&1 && ok ||
		bad "a revision against itself changed"
	"$pc" compare HEAD:fw/nosuch.policy fw/fw.policy >/dev/null 2>"$tmp/err"; rc=$?
	[ $rc = 3 ] && grep -q 'no such file in git' "$tmp/err" && ok || bad "missing REV:PATH is not exit 3 ($rc)"
	ls "$TMPDIR"/portcullis-* >/dev/null 2>&1 && bad "temporary trees left in \$TMPDIR" || ok
	cd "$OLDPWD" || exit 99

	# the shipped examples against each of their previous revisions
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		cd "$src" || exit 99
		n=0
		for p in examples/*/*.policy; do
			for rev in $(git log --format=%h -n 5 -- "$p"); do
				git cat-file -e "$rev:$p" 2>/dev/null || continue
				"$pc" compare "$rev:$p" "$p" >"$tmp/out" 2>"$tmp/err"; rc=$?
				n=$((n + 1))
				# a feature compare does not model is refused, naming it
				grep -q 'compare does not model ' "$tmp/err" && [ $rc = 1 ] && continue
				if [ $rc -gt 1 ] || { [ $rc = 1 ] && ! grep -q '^[-+~] ' "$tmp/out"; }; then
					bad "compare $rev:$p $p: exit $rc"; cat "$tmp/err"
				fi
			done
		done
		[ $n -gt 0 ] && ok || bad "no example revisions compared"
		echo "compared $n example revisions with their current files"
		cd "$OLDPWD" || exit 99
	else
		echo "SKIP: $src is not a git checkout: examples against their history not compared"
	fi
else
	echo "SKIP: git missing: REV:PATH not tested"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
