#!/bin/sh
# The one-way flow of the pipeline, checked over the sources:
#   - the lexer and the parser never include the registry;
#   - a backend never includes the policy language (parser, AST, resolver,
#     loader), the registry or the command line;
#   - core/ never includes a backend or the command line (the backend
#     table, backends/table.h, is reached from cli/ only);
#   - only cli/ knows exit statuses and argv.
# Includes name their folder ("registry/registry.h"), so a folder is a stage.
# Usage: check.sh SOURCE_ROOT. Prints every breach; exit 1 if any.
set -u
root=${1:?usage: check.sh SOURCE_ROOT}
cd "$root" || exit 2

breach() {
	# $1: what is forbidden; reads grep -n output (FILE:LINE:TEXT) on stdin
	sed "s|^\([^:]*:[0-9]*\):.*|\1: $1|"
}

includes() {
	# $1: an extended regex of the included path; then the files
	pat=$1
	shift
	[ $# -gt 0 ] || return 0
	grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"($pat)" "$@"
}

files() {
	find "$@" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort
}

report=$(
# shellcheck disable=SC2046
includes 'registry/' $(files core/policy -name 'lexer.*' ; ls core/policy/parser.c core/policy/parse_*.c core/policy/parser_internal.h core/policy/ast.h 2>/dev/null) |
	breach "the lexer and parser never include the registry"
includes 'policy/|registry/|cli/' $(files backends) |
	breach "a backend never includes the policy language, the registry or the command line"
includes 'backends/|cli/' $(files core include) |
	breach "core/ reaches a backend only through the backend table, from cli/"

# Exit statuses and argv: only cli/. core/registry/regsnap.c is the
# build-time generator of the registry snapshot, a program of its own.
# shellcheck disable=SC2046
grep -nE '\<(exit|_exit|_Exit|getopt|getopt_long)[[:space:]]*\(|\<(argc|argv|optind|optarg)\>|\<PC_EXIT_[A-Z]+|\<EXIT_(SUCCESS|FAILURE)\>' \
	$(files core backends include | grep -v '^core/registry/regsnap\.c$') |
	grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/?\*|//)' |
	breach "only cli/ knows exit statuses and argv"
)

if [ -n "$report" ]; then
	printf '%s\n' "$report"
	echo "tests/layout/check.sh: the pipeline's one-way flow is broken (README.md, \"Where things are\")" >&2
	exit 1
fi
exit 0
