#!/bin/sh
# SPDX-License-Identifier: MIT
# The plugin loader with a real external backend (examples/plugin) and the
# plugins it must reject: wrong ABI, duplicate name, no symbol, not an ELF.
# usage: run.sh PORTCULLIS GOOD_DIR BAD_DIR POLICY
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
prog=$1 good=$2 bad=$3 policy=$4
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.out "$tmp"/*.err; do
		[ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}

# The real plugin, alone: listed with its path, no complaints.
PORTCULLIS_PLUGIN_PATH=$good "$prog" backends >"$tmp/list.out" 2>"$tmp/list.err" ||
	fail "backends exited $?"
grep -q "^review  *$good/review.so  *Markdown review report" "$tmp/list.out" ||
	fail "review plugin not listed with its path"
grep -q "^iptables  *built-in " "$tmp/list.out" || fail "built-ins not listed"
[ -s "$tmp/list.err" ] && fail "unexpected messages"

# A directory listed twice loads each plugin once, silently.
PORTCULLIS_PLUGIN_PATH=$good:$good "$prog" backends >"$tmp/twice.out" 2>"$tmp/twice.err" ||
	fail "backends with a directory listed twice exited $?"
[ "$(grep -c '^review ' "$tmp/twice.out")" = 1 ] || fail "review listed twice"
[ -s "$tmp/twice.err" ] && fail "messages for a directory listed twice"

# It generates its report from a real policy.
PORTCULLIS_PLUGIN_PATH=$good "$prog" generate -b review "$policy" \
	>"$tmp/review.out" 2>"$tmp/review.err" || fail "generate -b review exited $?"
grep -q '^# Firewall review: table `review`' "$tmp/review.out" || fail "no title"
grep -q "^| $policy:5 | allow | tcp 22 | \$admins: 192.0.2.0/24, 2001:db8:100::/48 | anyone |  | \"admins \\\\| ops\" |\$" \
	"$tmp/review.out" || fail "ssh line missing or '|' not escaped"
grep -q "^| $policy:7 | reject | tcp 23 | anyone | anyone |" "$tmp/review.out" ||
	fail "reject line missing"
grep -q '^2 policy rules allow traffic.$' "$tmp/review.out" || fail "summary missing"

# Rejected plugins: each with its reason; exit 1; the good one still works.
mkdir "$tmp/bad"
cp "$bad"/bad_abi.so "$bad"/dup_review.so "$bad"/no_symbol.so "$tmp/bad/"
echo "not an ELF file" >"$tmp/bad/broken.so"
PORTCULLIS_PLUGIN_PATH=$good:$tmp/bad "$prog" backends >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
[ "$rc" = 1 ] || fail "backends with bad plugins exited $rc, want 1"
grep -q "error: plugin $tmp/bad/bad_abi.so: rejected: built for backend ABI 1001, this program has ABI 1" \
	"$tmp/bad.err" || fail "wrong ABI not rejected"
grep -q "error: plugin $tmp/bad/dup_review.so: rejected: duplicate backend name 'review' (already provided by $good/review.so)" \
	"$tmp/bad.err" || fail "duplicate name not rejected"
grep -q "error: plugin $tmp/bad/no_symbol.so: rejected: it does not export 'portcullis_backend'" \
	"$tmp/bad.err" || fail "missing symbol not rejected"
grep -q "error: plugin $tmp/bad/broken.so: cannot load: " "$tmp/bad.err" ||
	fail "unloadable file not reported"
[ "$(grep -c '^review ' "$tmp/bad.out")" = 1 ] || fail "review listed twice"
grep -q '^badabi' "$tmp/bad.out" && fail "the wrong-ABI plugin is listed"

# For generate, a rejected plugin is a warning: the run goes on.
PORTCULLIS_PLUGIN_PATH=$good:$tmp/bad "$prog" generate -b review "$policy" \
	>"$tmp/gen.out" 2>"$tmp/gen.err" || fail "generate with bad plugins around exited $?"
grep -q "warning: plugin $tmp/bad/bad_abi.so: rejected" "$tmp/gen.err" || fail "no warning"
grep -q '^# Firewall review' "$tmp/gen.out" || fail "no report"
# A rejected plugin's name is unknown (usage error).
PORTCULLIS_PLUGIN_PATH=$tmp/bad "$prog" generate -b badabi "$policy" \
	>"$tmp/unknown.out" 2>"$tmp/unknown.err"
rc=$?
[ "$rc" = 2 ] || fail "generate -b badabi exited $rc, want 2"
grep -q "unknown backend 'badabi'" "$tmp/unknown.err" || fail "no unknown-backend message"
echo "ok"
