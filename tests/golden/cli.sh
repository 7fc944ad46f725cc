#!/bin/sh
# SPDX-License-Identifier: MIT
# `portcullis generate` as a command: -o, --check, --template, errors and
# exit statuses (cli.md), byte-identical output.
# usage: cli.sh PORTCULLIS
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
case $1 in
/*) prog=$1 ;;
*) prog=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")" || exit 99
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect STATUS CMD...: runs CMD (stdout/stderr to $tmp/out, $tmp/err)
expect() {
	want=$1
	shift
	NO_COLOR=1 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	got=$?
	[ "$got" = "$want" ] || { fail "$* exited $got, want $want"; cat "$tmp/err"; }
}

expect 0 "$prog" generate --help
grep -q -- '--pf-dialect' "$tmp/out" || fail "--help does not list --pf-dialect"
expect 0 "$prog" backends --help

# Byte-identical output for every built-in backend (two runs).
for b in nft iptables ip6tables pf; do
	expect 0 "$prog" generate -b "$b" options.policy
	cp "$tmp/out" "$tmp/first"
	expect 0 "$prog" generate -b "$b" options.policy
	cmp -s "$tmp/first" "$tmp/out" || fail "-b $b output differs between runs"
done

# -o writes; --check is 0 when identical, 1 (and writes nothing) otherwise.
expect 0 "$prog" generate -b iptables -o "$tmp/rules.v4" web.policy
cmp -s "$tmp/rules.v4" web.v4 || fail "-o content differs from stdout golden"
[ -s "$tmp/out" ] && fail "-o also wrote to stdout"
expect 0 "$prog" generate -b iptables -o "$tmp/rules.v4" --check web.policy
echo "# edited" >>"$tmp/rules.v4"
cp "$tmp/rules.v4" "$tmp/edited"
expect 1 "$prog" generate -b iptables -o "$tmp/rules.v4" --check web.policy
grep -q "rules.v4 is out of date" "$tmp/err" || fail "--check says nothing"
cmp -s "$tmp/rules.v4" "$tmp/edited" || fail "--check changed the file"
expect 1 "$prog" generate -b iptables -o "$tmp/missing.v4" --check web.policy
[ -e "$tmp/missing.v4" ] && fail "--check created the file"
expect 2 "$prog" generate --check web.policy

# A failed run leaves -o FILE as it was: a policy error ...
printf 'table t\nallow in service no-such-service-name\n' >"$tmp/bad.policy"
expect 1 "$prog" generate -b iptables -o "$tmp/rules.v4" "$tmp/bad.policy"
grep -q "bad.policy:2:.*error" "$tmp/err" || fail "no located error for a bad policy"
cmp -s "$tmp/rules.v4" "$tmp/edited" || fail "failed run changed the output file"
# ... and a feature the backend cannot express
expect 1 "$prog" generate -b pf -o "$tmp/rules.v4" features.policy
grep -q "^features.policy:20:1: error: backend 'pf' cannot express the forward direction" "$tmp/err" ||
	fail "no capability error"
cmp -s "$tmp/rules.v4" "$tmp/edited" || fail "capability error changed the output file"

# Several -b/-o pairs: one reading of the policy, every file or none.
expect 0 "$prog" generate -b iptables -o "$tmp/m.v4" -b ip6tables -o "$tmp/m.v6" \
	-b pf -o "$tmp/m.pf" web.policy
cmp -s "$tmp/m.v4" web.v4 && cmp -s "$tmp/m.v6" web.v6 && cmp -s "$tmp/m.pf" web.pf ||
	fail "-b/-o pairs differ from the goldens"
expect 0 "$prog" generate -b iptables -o "$tmp/m.v4" -b pf -o "$tmp/m.pf" --check web.policy
expect 1 "$prog" generate -b iptables -o "$tmp/n.v4" -b pf -o "$tmp/n.pf" features.policy
[ -e "$tmp/n.v4" ] && fail "a failing backend still let another write its file"
expect 2 "$prog" generate -b iptables -b pf -o "$tmp/m.pf" web.policy
expect 2 "$prog" generate -b iptables -o "$tmp/a" -o "$tmp/b" web.policy

# --template: a site's own skeleton, and an unknown placeholder.
printf '# site {{backend}} {{table}} {{version}}\n{{body}}\n# end\n' >"$tmp/site.tmpl"
expect 0 "$prog" generate -b pf --template "$tmp/site.tmpl" options.policy
head -n 1 "$tmp/out" | grep -q '^# site pf bare [0-9]' || fail "--template not used"
[ "$(tail -n 1 "$tmp/out")" = "# end" ] || fail "--template trailer missing"
printf 'ok\n  {{tabel}}\n{{body}}\n' >"$tmp/typo.tmpl"
expect 1 "$prog" generate -b iptables --template "$tmp/typo.tmpl" options.policy
grep -q "typo.tmpl:2:3: error: unknown template placeholder '{{tabel}}'" "$tmp/err" ||
	fail "no located template error"
expect 3 "$prog" generate --template "$tmp/none.tmpl" options.policy

# Usage errors and system errors.
expect 2 "$prog" generate -b no-such-backend options.policy
grep -q "unknown backend 'no-such-backend'" "$tmp/err" || fail "unknown backend message"
expect 2 "$prog" generate -b pf --pf-dialect netbsd options.policy
expect 2 "$prog" generate
expect 3 "$prog" generate "$tmp/no-such.policy"

[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "ok"
