#!/bin/sh
# SPDX-License-Identifier: MIT
# pf-syntax: every pf output in the tree (a file with a "# pf dialect: D"
# line: tests/golden, examples, ...) against pf.conf(5)'s grammar of its
# dialect (pfconf_check.py: there is no pfctl on Linux), and the
# checker's own cases (cases/good-DIALECT.conf accepted, cases/bad-*.conf
# rejected: by the dialect in the name, or by both).
#
# Then what the program writes now for every policy of tests/golden and
# examples, in both dialects (with NAME.pf.args), where it succeeds: the
# committed files could be stale.
#
#   run.sh SRCDIR [PORTCULLIS]
set -u
top=$1 pc=${2:-}
: "${PORTCULLIS_DATADIR:=$top/data}"
export PORTCULLIS_DATADIR
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
if [ -n "$pc" ]; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-pfsyntax.XXXXXX") || exit 99
	trap 'rm -rf "$tmp"' EXIT
	for policy in "$top"/tests/golden/*.policy "$top"/examples/*/*.policy; do
		name=$(basename "$policy" .policy)
		args=
		[ -f "${policy%.policy}.pf.args" ] && args=$(cat "${policy%.policy}.pf.args")
		for d in openbsd freebsd; do
			# shellcheck disable=SC2086
			(cd "$(dirname "$policy")" &&
				"$pc" generate -b pf -O pf-dialect=$d $args "$name.policy") \
				>"$tmp/out" 2>/dev/null || continue
			python3 "$check" --dialect $d "$tmp/out" >"$tmp/errors" ||
				{ sed "s|^$tmp/out|$policy ($d)|" "$tmp/errors"; fail=$((fail + 1)); }
			n=$((n + 1))
		done
	done
fi
[ $fail = 0 ] || { echo "pf-syntax: $fail failed"; exit 1; }
echo "ok: $n pf files and cases"
