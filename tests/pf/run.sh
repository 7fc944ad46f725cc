#!/bin/sh
# SPDX-License-Identifier: MIT
# pf-syntax: every pf output in the tree (a file with a "# pf dialect: D"
# line: tests/golden, examples, ...) against pf.conf(5)'s grammar of its
# dialect (pfconf_check.py: there is no pfctl on Linux), and the
# checker's own cases (cases/good-DIALECT.conf accepted, cases/bad-*.conf
# rejected: by the dialect in the name, or by both).
#
#   run.sh SRCDIR
set -u
top=$1
check="$top/tests/pf/pfconf_check.py"
command -v python3 >/dev/null || { echo "SKIP: no python3 for the pf.conf checker"; exit 77; }
fail=0 n=0
for d in openbsd freebsd; do
	python3 "$check" --dialect $d "$top/tests/pf/cases/good-$d.conf" || fail=$((fail + 1))
	n=$((n + 1))
done
for f in "$top"/tests/pf/cases/bad-*.conf; do
	case $f in
	*-freebsd.conf) ds=freebsd ;;
	*-openbsd.conf) ds=openbsd ;;
	*) ds="openbsd freebsd" ;;
	esac
	for d in $ds; do
		python3 "$check" --dialect $d --expect-fail "$f" || fail=$((fail + 1))
		n=$((n + 1))
	done
done
# every generated pf file, by the dialect it names
outputs=$(cd "$top" && git ls-files -co --exclude-standard tests examples 2>/dev/null ||
	find tests examples -type f)
for d in openbsd freebsd; do
	files=$(cd "$top" && echo "$outputs" | while read -r f; do
		[ -f "$f" ] && grep -qx "# pf dialect: $d" "$f" && echo "$f"
	done)
	[ -n "$files" ] || { echo "FAIL: no $d pf output found"; fail=$((fail + 1)); continue; }
	# shellcheck disable=SC2086
	(cd "$top" && python3 "$check" --dialect $d $files) || fail=$((fail + 1))
	n=$((n + $(echo "$files" | wc -l)))
done
[ $fail = 0 ] || { echo "pf-syntax: $fail failed"; exit 1; }
echo "ok: $n pf files and cases"
