#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Version-control integration, in a throwaway repository: the git diff
# driver (scripts/vcs/git-diff-portcullis) shows compare's summary in
# `git diff`; the pre-commit hooks (.pre-commit-hooks.yaml and the scripts
# it names) stop a broken policy and stale generated files; the CI example
# (examples/ci/portcullis-ci.sh) fails on stale outputs and writes the
# --markdown comparison.
#
#   run.sh PORTCULLIS SRCDIR
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$1 src=$(cd "$2" && pwd)
case $pc in /*) ;; */*) pc=$PWD/$pc ;; esac
export PORTCULLIS="$pc"
command -v git >/dev/null 2>&1 || { echo "SKIP: git missing"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-vcs.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# the hooks file names scripts that exist and run
for entry in $(sed -n 's/^ *entry: *//p' "$src/.pre-commit-hooks.yaml"); do
	[ -x "$src/$entry" ] && ok || bad ".pre-commit-hooks.yaml: $entry is not an executable script"
done
[ "$(grep -c '^- id: ' "$src/.pre-commit-hooks.yaml")" = 2 ] && ok || bad "expected 2 hooks"
if python3 -c 'import yaml' 2>/dev/null; then
	python3 -c '
import sys, yaml
hooks = yaml.safe_load(open(sys.argv[1]))
assert [h["id"] for h in hooks] == ["portcullis-check", "portcullis-generated"]
for h in hooks:
    assert set(h) >= {"id", "name", "entry", "language"}, h
' "$src/.pre-commit-hooks.yaml" && ok || bad ".pre-commit-hooks.yaml is not what pre-commit reads"
fi

cd "$tmp" && git init -q repo && cd repo || exit 99
git config user.email t@example.org && git config user.name t
cat >fw.policy <<'P'
table fw
hosts admins = { 192.0.2.0/24 }
default in deny
allow in service ssh/tcp from $admins
P
"$pc" generate -o fw.nft fw.policy || exit 99
git add -A && git commit -qm one

# the diff driver
echo '*.policy diff=portcullis' >.gitattributes
git config diff.portcullis.command "$src/scripts/vcs/git-diff-portcullis"
echo 'allow in port 8080/tcp' >>fw.policy
git diff fw.policy >"$tmp/diff" 2>&1
if grep -q '^+allow in port 8080/tcp$' "$tmp/diff" &&
	grep -q '^  + in tcp any -> any:8080  allow (NEW b/fw.policy:5) was deny (OLD default a/fw.policy:3)$' "$tmp/diff"; then
	ok
else
	bad "git diff through the driver:"; cat "$tmp/diff"
fi
printf 'table fw\nhosts admins = { 192.0.2.0/24 }\n\ndefault in deny  # same meaning\nallow in port 22/tcp from $admins\n' >"$tmp/same"
cp fw.policy "$tmp/changed" && cp "$tmp/same" fw.policy
git diff fw.policy 2>&1 | grep -q '^  no change in meaning$' && ok || bad "the driver on a refactoring"
cp "$tmp/changed" fw.policy

# the pre-commit hook scripts
"$src/scripts/vcs/check-generated" fw.policy 2>"$tmp/err" && bad "stale fw.nft not found" ||
	{ grep -q 'stale generated files of fw.policy' "$tmp/err" && ok || bad "stale message"; }
"$pc" generate -o fw.nft fw.policy
"$src/scripts/vcs/check-generated" fw.policy && ok || bad "fresh fw.nft called stale"
printf 'table fw\nallow in service nosuch\n' >bad.policy
"$src/scripts/vcs/check-policies" fw.policy bad.policy 2>/dev/null && bad "check-policies passed a broken policy" || ok
rm bad.policy
printf 'expect deny in port 8080/tcp\n' >>fw.policy
"$src/scripts/vcs/check-policies" fw.policy 2>"$tmp/err" && bad "check-policies passed a broken expect" ||
	{ grep -q 'expectation broken' "$tmp/err" && ok || bad "broken expect message"; }
cp "$tmp/changed" fw.policy

# the CI example: stale outputs fail, the comment says what changed
git add -A && git commit -qm two
echo 'allow in port 9090/tcp from 198.51.100.0/24' >>fw.policy
git commit -qam three
"$src/examples/ci/portcullis-ci.sh" HEAD~1 "$tmp/comment.md" >/dev/null 2>&1 && bad "CI passed stale outputs" || ok
"$pc" generate -o fw.nft fw.policy && git commit -qam four
"$src/examples/ci/portcullis-ci.sh" HEAD~2 "$tmp/comment.md" >"$tmp/out" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q '^### portcullis compare: opens 1, closes 0, changes 0$' "$tmp/comment.md" &&
	grep -q '^| + | `in tcp 198.51.100.0/24 -> any:9090` | allow (NEW fw.policy:6) | deny (OLD default fw.policy:3) |$' "$tmp/comment.md"; then
	ok
else
	bad "CI example (exit $rc):"; cat "$tmp/out"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
