#!/bin/sh
# check.sh passes on the tree, and fails on each kind of breach put into a
# copy of it (a check that cannot fail checks nothing).
set -u
root=${1:?usage: run.sh SOURCE_ROOT}
here=$(dirname "$0")
check="$here/check.sh"

"$check" "$root" || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# $1: a file relative to the root, $2: the line to append, $3: what it breaks
breach() {
	rm -rf "$tmp/src"
	mkdir "$tmp/src"
	(cd "$root" && cp -r cli core backends include "$tmp/src/")
	printf '%s\n' "$2" >>"$tmp/src/$1"
	if "$check" "$tmp/src" >"$tmp/out" 2>&1; then
		echo "FAIL: check.sh accepts $3 ($1: $2)"
		fail=1
	elif ! grep -q "^$1:" "$tmp/out"; then
		echo "FAIL: check.sh does not name $1 for $3:"
		cat "$tmp/out"
		fail=1
	fi
}
breach core/policy/parser.c '#include "registry/registry.h"' "the parser including the registry"
breach core/policy/parse_rule.c '#include "registry/registry.h"' "the parser's rules including the registry"
breach core/policy/parser_internal.h '#include "registry/catalog.h"' "the parser's internal header including the registry"
breach core/policy/lexer.h '#include "registry/catalog.h"' "the lexer including the registry"
breach backends/pf.c '#include "policy/ast.h"' "a backend including the AST"
breach backends/nft/nft.c '#include "policy/policy.h"' "a backend including the policy loader"
breach backends/netlink/nl_read.c '#include "registry/registry.h"' "a backend including the registry"
breach core/ir/eval.c '#include "backends/nft/nft_lower.h"' "core including a backend"
breach core/common/diag.c '#include "cli/cli.h"' "core including cli.h"
breach core/policy/lint.c 'int f(void) { exit(1); }' "core exiting"
breach backends/text.c 'static int g(int argc) { return argc; }' "a backend knowing argv"
breach core/registry/catalog.c 'int h(void) { return PC_EXIT_USAGE; }' "core knowing exit statuses"
[ $fail = 0 ] && echo "layout: the one-way flow holds, and each breach is caught"
exit $fail
