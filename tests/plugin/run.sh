#!/bin/sh
# SPDX-License-Identifier: MIT
# The plugin loader with a real external backend (examples/plugin) and the
# plugins it must reject: wrong ABI, duplicate name, no symbol, not an ELF,
# unsafe ownership or permissions; and when plugins are not loaded at all.
# usage: run.sh PORTCULLIS GOOD_DIR BAD_DIR POLICY
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
prog=$1 good=$2 bad=$3 policy=$4
umask 022
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
# The report escapes Markdown in the policy's path (a build directory such
# as Debian's obj-x86_64-linux-gnu has underscores): read a copy whose path
# (mktemp's letters and digits) needs none, so the lines below match anywhere.
cp "$policy" "$tmp/review.policy" || exit 99
policy=$tmp/review.policy
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

# Backend options: the plugin declares `title`, gets it, and lists it; an
# option it does not declare, or -O without NAME=VALUE, is a usage error.
PORTCULLIS_PLUGIN_PATH=$good "$prog" backends >"$tmp/list.out" 2>"$tmp/list.err"
grep -q '^  *-O title=VALUE  the report' "$tmp/list.out" || fail "the plugin's option is not listed"
PORTCULLIS_PLUGIN_PATH=$good "$prog" generate -b review -O 'title=Ops review' "$policy" \
	>"$tmp/title.out" 2>"$tmp/title.err" || fail "generate -b review -O title=... exited $?"
grep -q '^# Ops review: table `review`' "$tmp/title.out" || fail "the title option did not reach the plugin"
PORTCULLIS_PLUGIN_PATH=$good "$prog" generate -b review -O pf-dialect=freebsd "$policy" \
	>"$tmp/opt.out" 2>"$tmp/opt.err"
rc=$?
[ "$rc" = 2 ] || fail "an option the plugin does not declare exited $rc, want 2"
grep -q "unknown option 'pf-dialect' for backend 'review'" "$tmp/opt.err" ||
	fail "no message naming the option and the backend"
[ -s "$tmp/opt.out" ] && fail "output despite an unknown option"
PORTCULLIS_PLUGIN_PATH=$good "$prog" generate -b review -O title "$policy" \
	>"$tmp/opt.out" 2>"$tmp/opt.err"
rc=$?
[ "$rc" = 2 ] || fail "-O without NAME=VALUE exited $rc, want 2"

# Rejected plugins: each with its reason; exit 1; the good one still works.
mkdir "$tmp/bad"
cp "$bad"/bad_abi.so "$bad"/dup_review.so "$bad"/no_symbol.so "$bad"/short_size.so "$tmp/bad/"
echo "not an ELF file" >"$tmp/bad/broken.so"
PORTCULLIS_PLUGIN_PATH=$good:$tmp/bad "$prog" backends >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
[ "$rc" = 1 ] || fail "backends with bad plugins exited $rc, want 1"
grep -q "error: plugin $tmp/bad/bad_abi.so: rejected: built for backend ABI 1, this program has ABI 3" \
	"$tmp/bad.err" || fail "wrong ABI not rejected"
grep -q "error: plugin $tmp/bad/short_size.so: rejected: its struct pc_backend has 8 bytes, fewer than ABI 3's" \
	"$tmp/bad.err" || fail "a too short struct pc_backend not rejected"
grep -q '^short' "$tmp/bad.out" && fail "the too short plugin is listed"
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

# Built-in backends load no plugin: the marker plugin's constructor would
# create $marker. `backends` does load it (the marker works).
mkdir "$tmp/mark"
cp "$bad/marker.so" "$tmp/mark/"
marker=$tmp/marker
export PC_TEST_PLUGIN_MARKER=$marker
PORTCULLIS_PLUGIN_PATH=$tmp/mark "$prog" backends >"$tmp/mark.out" 2>"$tmp/mark.err"
[ -e "$marker" ] || fail "backends did not load the marker plugin"
for b in nft iptables ip6tables pf; do
	rm -f "$marker"
	PORTCULLIS_PLUGIN_PATH=$tmp/mark:$tmp/bad "$prog" generate -b "$b" "$policy" \
		>"$tmp/builtin.out" 2>"$tmp/builtin.err" || fail "generate -b $b exited $?"
	[ -e "$marker" ] && fail "generate -b $b loaded a plugin"
	[ -s "$tmp/builtin.err" ] && fail "generate -b $b looked at the plugins"
done
rm -f "$marker"
PORTCULLIS_PLUGIN_PATH=$tmp/mark:$tmp/bad "$prog" generate -b iptables -o "$tmp/x.v4" \
	-b pf -o "$tmp/x.pf" "$policy" >"$tmp/builtin.out" 2>"$tmp/builtin.err" ||
	fail "generate -b iptables -b pf exited $?"
[ -e "$marker" ] && fail "generate with two built-in backends loaded a plugin"
# ... but asking for a plugin by name loads them.
PORTCULLIS_PLUGIN_PATH=$tmp/mark:$good "$prog" generate -b iptables -o "$tmp/y.v4" \
	-b review -o "$tmp/y.md" "$policy" >"$tmp/mixed.out" 2>"$tmp/mixed.err" ||
	fail "generate -b iptables -b review exited $?"
[ -e "$marker" ] || fail "generate -b review did not load the plugins"

# Unsafe plugin files and directories are refused before dlopen (the marker
# stays absent), with the file and the reason.
# refused CASE DIR MESSAGE: `backends` exits 1 naming MESSAGE, opens nothing
refused() {
	rm -f "$marker"
	PORTCULLIS_PLUGIN_PATH=$2 "$prog" backends >"$tmp/$1.out" 2>"$tmp/$1.err"
	rc=$?
	[ "$rc" = 1 ] || fail "$1: backends exited $rc, want 1"
	grep -qF -- "$3" "$tmp/$1.err" || fail "$1: no message '$3'"
	[ -e "$marker" ] && fail "$1: the plugin was loaded"
}
mkdir "$tmp/gw" "$tmp/ww" "$tmp/gwdir" "$tmp/wwdir"
cp "$bad/marker.so" "$tmp/gw/"
chmod g+w "$tmp/gw/marker.so"
refused gw "$tmp/gw" "error: plugin $tmp/gw/marker.so: refused: it is group-writable"
cp "$bad/marker.so" "$tmp/ww/"
chmod o+w "$tmp/ww/marker.so"
refused ww "$tmp/ww" "error: plugin $tmp/ww/marker.so: refused: it is world-writable"
cp "$bad/marker.so" "$tmp/gwdir/"
chmod g+w "$tmp/gwdir"
refused gwdir "$tmp/gwdir" "error: plugin directory $tmp/gwdir: refused: it is group-writable"
cp "$bad/marker.so" "$tmp/wwdir/"
chmod 1777 "$tmp/wwdir"
refused wwdir "$tmp/wwdir" "error: plugin directory $tmp/wwdir: refused: it is world-writable"
if [ "$(id -u)" = 0 ]; then
	mkdir "$tmp/owned" "$tmp/owneddir"
	cp "$bad/marker.so" "$tmp/owned/"
	chown 65534 "$tmp/owned/marker.so"
	refused owned "$tmp/owned" \
		"error: plugin $tmp/owned/marker.so: refused: it is owned by uid 65534, neither root nor the invoking user"
	cp "$bad/marker.so" "$tmp/owneddir/"
	chown 65534 "$tmp/owneddir"
	refused owneddir "$tmp/owneddir" \
		"error: plugin directory $tmp/owneddir: refused: it is owned by uid 65534"
else
	echo "SKIP: plugins owned by another user (needs root for chown)" >&2
fi
# For generate, the refusal is a warning, and the refused backend is unknown.
mkdir "$tmp/gwreview"
cp "$good/review.so" "$tmp/gwreview/"
chmod g+w "$tmp/gwreview/review.so"
PORTCULLIS_PLUGIN_PATH=$tmp/gwreview "$prog" generate -b review "$policy" \
	>"$tmp/gwgen.out" 2>"$tmp/gwgen.err"
rc=$?
[ "$rc" = 2 ] || fail "generate -b review (group-writable) exited $rc, want 2"
grep -qF "warning: plugin $tmp/gwreview/review.so: refused: it is group-writable" "$tmp/gwgen.err" ||
	fail "generate: no warning for a refused plugin"

# A relative PORTCULLIS_PLUGIN_PATH entry is ignored, with a warning.
rm -f "$marker"
(cd "$tmp" && PORTCULLIS_PLUGIN_PATH=mark "$prog" backends) >"$tmp/rel.out" 2>"$tmp/rel.err" ||
	fail "backends with a relative path entry exited $?"
grep -qF "warning: PORTCULLIS_PLUGIN_PATH: 'mark' is not an absolute path; ignored" "$tmp/rel.err" ||
	fail "no warning for a relative path entry"
[ -e "$marker" ] && fail "a relative PORTCULLIS_PLUGIN_PATH entry was searched"
(cd "$tmp" && PORTCULLIS_PLUGIN_PATH=mark:$good "$prog" backends) >"$tmp/rel.out" 2>"$tmp/rel.err" ||
	fail "backends with a relative and an absolute entry exited $?"
grep -q '^review ' "$tmp/rel.out" || fail "the absolute entry after a relative one was not searched"
echo "ok"
