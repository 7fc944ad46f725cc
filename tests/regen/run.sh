#!/bin/sh
# SPDX-License-Identifier: MIT
# The regenerate modes of the golden tests refuse to turn a case that used
# to succeed into an expected error unless asked twice (--accept-errors),
# and never keep a system error (exit 3) as expected output.
# Each runner works on a copy of a few of its cases in a scratch tree,
# driven by a stand-in for portcullis that fails (like a regression would)
# when given one chosen argument and runs the real program otherwise.
# usage: run.sh PORTCULLIS SRCDIR
set -u
real=$1 src=$2
case $real in /*) ;; *) real=$PWD/$real ;; esac
case $src in /*) ;; *) src=$PWD/$src ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-regen.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# PC_FAIL_ARG: the argument that makes the stand-in fail with PC_FAIL_STATUS.
cat >"$tmp/pc" <<EOP
#!/bin/sh
for a in "\$@"; do
	if [ "\$a" = "\${PC_FAIL_ARG:-}" ]; then
		echo "\$a:1:1: error: simulated regression" >&2
		exit "\${PC_FAIL_STATUS:-1}"
	fi
done
exec "$real" "\$@"
EOP
chmod +x "$tmp/pc"
pc=$tmp/pc

# expect STATUS LOG CMD...: runs CMD (output in LOG), checks its status.
expect() {
	want=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1
	got=$?
	[ "$got" = "$want" ] && ok || { bad "$* exited $got, want $want:"; cat "$log"; }
}
same() { cmp -s "$1" "$2" && ok || bad "$3"; }
absent() { [ ! -e "$1" ] && ok || bad "$2"; }

# tests/golden/run.sh: web.v4 (iptables) would become web.v4.err.
g=$tmp/golden
mkdir "$g"
cp "$src"/tests/golden/run.sh "$src"/tests/golden/web.* "$g"/
PC_FAIL_ARG=iptables expect 1 "$tmp/log" sh "$g/run.sh" --regenerate "$pc"
grep -q "REFUSED: web.v4 used to succeed" "$tmp/log" && ok || bad "golden: no REFUSED line"
grep -q "simulated regression" "$tmp/log" && ok || bad "golden: the error is not shown"
same "$g/web.v4" "$src/tests/golden/web.v4" "golden: refused web.v4 changed"
absent "$g/web.v4.err" "golden: refused web.v4.err written"
same "$g/web.v6" "$src/tests/golden/web.v6" "golden: the other files are not regenerated"
PC_FAIL_ARG=iptables PC_FAIL_STATUS=3 expect 1 "$tmp/log" sh "$g/run.sh" --regenerate --accept-errors "$pc"
same "$g/web.v4" "$src/tests/golden/web.v4" "golden: exit 3 removed web.v4"
absent "$g/web.v4.err" "golden: exit 3 kept as web.v4.err"
expect 2 "$tmp/log" sh "$g/run.sh" --accept-errors "$pc"
PC_FAIL_ARG=iptables expect 0 "$tmp/log" sh "$g/run.sh" --regenerate --accept-errors "$pc"
absent "$g/web.v4" "golden: --accept-errors kept web.v4"
grep -q "simulated regression" "$g/web.v4.err" 2>/dev/null && ok || bad "golden: --accept-errors wrote no web.v4.err"
# an expected error that is still one is no refusal
PC_FAIL_ARG=iptables expect 0 "$tmp/log" sh "$g/run.sh" --regenerate "$pc"

# tests/policy/run.sh: ok-example's diagnostics would gain an error.
p=$tmp/tests/policy
mkdir -p "$p/cases" "$tmp/data"
ln -s "$src/data/service-names-port-numbers.csv" "$tmp/data/"
cp "$src"/tests/policy/run.sh "$p"/
cp "$src"/tests/policy/cases/ok-example.* "$src"/tests/policy/cases/err-address.* "$p/cases/"
PC_FAIL_ARG=ok-example.policy expect 1 "$tmp/log" sh "$p/run.sh" "$pc" --regenerate
grep -q "REFUSED ok-example" "$tmp/log" && ok || bad "policy: no REFUSED line"
same "$p/cases/ok-example.expected" "$src/tests/policy/cases/ok-example.expected" \
	"policy: refused ok-example.expected changed"
# a case that had errors already may change them
PC_FAIL_ARG=err-address.policy expect 0 "$tmp/log" sh "$p/run.sh" "$pc" --regenerate
grep -q "simulated regression" "$p/cases/err-address.expected" && ok || bad "policy: err-address not regenerated"
expect 2 "$tmp/log" sh "$p/run.sh" "$pc" --accept-errors
PC_FAIL_ARG=ok-example.policy expect 0 "$tmp/log" sh "$p/run.sh" "$pc" --regenerate --accept-errors
grep -q "simulated regression" "$p/cases/ok-example.expected" && ok || bad "policy: --accept-errors did not write"

# tests/examples/run.sh: examples/web/web.pf would become web.pf.err.
e=$tmp/ex
mkdir -p "$e/tests/examples" "$e/examples/web"
cp "$src"/tests/examples/run.sh "$e/tests/examples/"
cp "$src"/examples/web/web.* "$e/examples/web/"
PC_FAIL_ARG=pf expect 1 "$tmp/log" sh "$e/tests/examples/run.sh" "$pc" --regenerate
grep -q "REFUSED examples/web/web.pf" "$tmp/log" && ok || bad "examples: no REFUSED line"
same "$e/examples/web/web.pf" "$src/examples/web/web.pf" "examples: refused web.pf changed"
absent "$e/examples/web/web.pf.err" "examples: refused web.pf.err written"
PC_FAIL_ARG=pf PC_FAIL_STATUS=3 expect 1 "$tmp/log" sh "$e/tests/examples/run.sh" "$pc" --regenerate --accept-errors
absent "$e/examples/web/web.pf.err" "examples: exit 3 kept as web.pf.err"
same "$e/examples/web/web.pf" "$src/examples/web/web.pf" "examples: exit 3 changed web.pf"
PC_FAIL_ARG=pf expect 0 "$tmp/log" sh "$e/tests/examples/run.sh" "$pc" --regenerate --accept-errors
absent "$e/examples/web/web.pf" "examples: --accept-errors kept web.pf"
[ -s "$e/examples/web/web.pf.err" ] && ok || bad "examples: --accept-errors wrote no web.pf.err"

# tests/explain/run.sh: a failing explain never becomes bare.expected.
x=$tmp/explain
mkdir "$x"
cp "$src"/tests/explain/* "$x"/
PC_FAIL_ARG=bare.policy expect 1 "$tmp/log" sh "$x/run.sh" "$pc" "$src/data/service-names-port-numbers.csv" --regenerate
grep -q "REFUSED: bare.expected" "$tmp/log" && ok || bad "explain: no REFUSED line"
same "$x/bare.expected" "$src/tests/explain/bare.expected" "explain: bare.expected overwritten by a failing run"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
