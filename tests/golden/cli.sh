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

# -o writes each output straight into a temporary file beside FILE (issue
# 15): a FILE that already holds it is left alone (same inode and time
# stamp), one that differs (longer, shorter) is replaced, and no temporary
# file stays either way. dynamic.policy: a body without a final newline.
mkdir "$tmp/same"
expect 0 "$prog" generate -b nft -o "$tmp/same/d.nft" -b pf -o "$tmp/same/d.pf" dynamic.policy
cmp -s "$tmp/same/d.nft" dynamic.nft || fail "-o nft of dynamic.policy differs from the golden"
cmp -s "$tmp/same/d.pf" dynamic.pf || fail "-o pf of dynamic.policy differs from the golden"
three() {
	expect 0 "$prog" generate -b nft -o "$tmp/same/r.nft" -b iptables -o "$tmp/same/r.v4" \
		-b pf -o "$tmp/same/r.pf" web.policy
}
three
touch -d '2000-01-01 00:00:00' "$tmp/same/r.nft"
before=$(stat -c '%i %Y' "$tmp/same/r.nft")
echo "# edited" >>"$tmp/same/r.v4"
truncate -s 100 "$tmp/same/r.pf"
three
[ "$(stat -c '%i %Y' "$tmp/same/r.nft")" = "$before" ] || fail "an identical -o FILE was rewritten"
cmp -s "$tmp/same/r.nft" web.nft || fail "-o nft differs from the golden"
cmp -s "$tmp/same/r.v4" web.v4 || fail "a longer -o FILE was not replaced"
cmp -s "$tmp/same/r.pf" web.pf || fail "a shorter -o FILE was not replaced"
[ "$(ls "$tmp/same" | wc -l)" = 5 ] || fail "temporary files left beside -o FILE: $(ls "$tmp/same")"

# A failed run leaves -o FILE as it was: a policy error ...
printf 'table t\nallow in service no-such-service-name\n' >"$tmp/bad.policy"
expect 1 "$prog" generate -b iptables -o "$tmp/rules.v4" "$tmp/bad.policy"
grep -q "bad.policy:2:.*error" "$tmp/err" || fail "no located error for a bad policy"
cmp -s "$tmp/rules.v4" "$tmp/edited" || fail "failed run changed the output file"
# ... and a feature the backend cannot express
expect 1 "$prog" generate -b pf -o "$tmp/rules.v4" features.policy
grep -q "^features.policy:17:1: error: backend 'pf' cannot express one rate limit" "$tmp/err" ||
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

# -o FILE: what it replaces, and how (issue 10).
mkdir "$tmp/o" "$tmp/o/sub"
# Not a regular file: an error naming the file, nothing written (a FIFO
# must not block the run: timeout).
mkfifo "$tmp/o/fifo"
expect 3 timeout 20 "$prog" generate -b iptables -o "$tmp/o/fifo" web.policy
grep -q "cannot write $tmp/o/fifo: it is a FIFO" "$tmp/err" || fail "FIFO target: no error naming it"
[ -p "$tmp/o/fifo" ] || fail "FIFO target replaced"
expect 3 timeout 20 "$prog" generate -b iptables -o "$tmp/o/fifo" --check web.policy
grep -q "cannot write $tmp/o/fifo: it is a FIFO" "$tmp/err" || fail "--check of a FIFO: no error"
expect 3 "$prog" generate -b iptables -o "$tmp/o/sub" web.policy
grep -q "cannot write $tmp/o/sub: it is a directory" "$tmp/err" || fail "directory target: no error naming it"
ln -s fifo "$tmp/o/fifo-link"
expect 3 timeout 20 "$prog" generate -b iptables -o "$tmp/o/fifo-link" web.policy
grep -q "cannot write $tmp/o/fifo-link: it is a FIFO" "$tmp/err" || fail "link to a FIFO: no error"
if [ "$(id -u)" = 0 ] && mknod "$tmp/o/null" c 1 3 2>/dev/null; then
	expect 3 "$prog" generate -b iptables -o "$tmp/o/null" web.policy
	grep -q "cannot write $tmp/o/null: it is a device node" "$tmp/err" || fail "device target: no error"
	[ -c "$tmp/o/null" ] || fail "device node replaced"
else
	echo "SKIP: device-node target (mknod needs root and CAP_MKNOD)"
fi
ls "$tmp/o" | grep -q '\.tmp\.' && fail "temporary files left behind"

# A new file honours the umask.
(umask 027 && exec "$prog" generate -b iptables -o "$tmp/o/new027" web.policy) ||
	fail "generate under umask 027 failed"
[ "$(stat -c %a "$tmp/o/new027")" = 640 ] || fail "new file under umask 027 is $(stat -c %a "$tmp/o/new027"), want 640"
(umask 002 && exec "$prog" generate -b iptables -o "$tmp/o/new002" web.policy) ||
	fail "generate under umask 002 failed"
[ "$(stat -c %a "$tmp/o/new002")" = 664 ] || fail "new file under umask 002 is $(stat -c %a "$tmp/o/new002"), want 664"

# An existing file keeps its mode (and, as root, its owner and group).
echo old >"$tmp/o/kept.v4"
chmod 604 "$tmp/o/kept.v4"
[ "$(id -u)" = 0 ] && chown 65534:65534 "$tmp/o/kept.v4"
want_owner=$(stat -c %u:%g "$tmp/o/kept.v4")
expect 0 "$prog" generate -b iptables -o "$tmp/o/kept.v4" web.policy
cmp -s "$tmp/o/kept.v4" web.v4 || fail "existing file not replaced"
[ "$(stat -c %a "$tmp/o/kept.v4")" = 604 ] || fail "existing file's mode changed to $(stat -c %a "$tmp/o/kept.v4")"
[ "$(stat -c %u:%g "$tmp/o/kept.v4")" = "$want_owner" ] || fail "existing file's owner changed"

# A symbolic link is written through: the link stays, its target (relative
# to the link's directory) is replaced and keeps its mode and owner.
echo old >"$tmp/o/sub/real.v4"
chmod 640 "$tmp/o/sub/real.v4"
[ "$(id -u)" = 0 ] && chown 65534:65534 "$tmp/o/sub/real.v4"
want_owner=$(stat -c %u:%g "$tmp/o/sub/real.v4")
ln -s sub/real.v4 "$tmp/o/link.v4"
ln -s link.v4 "$tmp/o/link2.v4"
expect 0 "$prog" generate -b iptables -o "$tmp/o/link2.v4" web.policy
[ -L "$tmp/o/link.v4" ] && [ -L "$tmp/o/link2.v4" ] || fail "a symbolic link was replaced by a file"
[ "$(readlink "$tmp/o/link.v4")" = sub/real.v4 ] || fail "the link was changed"
cmp -s "$tmp/o/sub/real.v4" web.v4 || fail "the link's target was not written"
[ "$(stat -c %a "$tmp/o/sub/real.v4")" = 640 ] || fail "the link's target changed mode"
[ "$(stat -c %u:%g "$tmp/o/sub/real.v4")" = "$want_owner" ] || fail "the link's target changed owner"
ls "$tmp/o/sub" "$tmp/o" | grep -q '\.tmp\.' && fail "temporary files left behind"
# A dangling link creates its target.
ln -s sub/made.v4 "$tmp/o/dangling.v4"
expect 0 "$prog" generate -b iptables -o "$tmp/o/dangling.v4" web.policy
[ -L "$tmp/o/dangling.v4" ] && cmp -s "$tmp/o/sub/made.v4" web.v4 || fail "dangling link not written through"
# The same file twice is a usage error.
expect 2 "$prog" generate -b iptables -o "$tmp/o/link.v4" -b pf -o "$tmp/o/sub/real.v4" web.policy
grep -q "are the same file" "$tmp/err" || fail "same file twice: no message"

# Several pairs, one write fails after another pair could be written: no
# target changes and no temporary file stays.
echo old >"$tmp/o/a.v4"
cp "$tmp/o/a.v4" "$tmp/o/a.orig"
expect 3 "$prog" generate -b iptables -o "$tmp/o/a.v4" -b pf -o "$tmp/o/no-dir/x.pf" web.policy
grep -q "cannot write $tmp/o/no-dir/x.pf" "$tmp/err" || fail "no error naming the failed file"
cmp -s "$tmp/o/a.v4" "$tmp/o/a.orig" || fail "first pair written although the second failed"
ls "$tmp/o" | grep -q '\.tmp\.' && fail "temporary files left behind after a failed write"
# ... the second target's directory is not writable: read-only (a read-only
# mount as root, who ignores the mode bits) or full.
mkdir "$tmp/o/ro"
echo old >"$tmp/o/ro/x.pf"
if [ "$(id -u)" != 0 ]; then
	chmod 555 "$tmp/o/ro"
	expect 3 "$prog" generate -b iptables -o "$tmp/o/a.v4" -b pf -o "$tmp/o/ro/x.pf" web.policy
	chmod 755 "$tmp/o/ro"
	cmp -s "$tmp/o/a.v4" "$tmp/o/a.orig" || fail "first pair written although the second's directory is read-only"
elif command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	NO_COLOR=1 unshare -m sh -c '
		mount -t tmpfs -o size=64k tmpfs "$1/o/ro" || exit 99
		echo old >"$1/o/ro/x.pf"
		mount -o remount,ro "$1/o/ro" || exit 99
		"$2" generate -b iptables -o "$1/o/a.v4" -b pf -o "$1/o/ro/x.pf" web.policy
		[ $? = 3 ] || exit 1
		cmp -s "$1/o/a.v4" "$1/o/a.orig" || exit 2
		mount -o remount,rw "$1/o/ro" || exit 99
		# full: the filesystem has room for the temporary file, not its bytes
		dd if=/dev/zero of="$1/o/ro/fill" bs=4k 2>/dev/null
		"$2" generate -b iptables -o "$1/o/a.v4" -b pf -o "$1/o/ro/x.pf" web.policy
		[ $? = 3 ] || exit 3
		cmp -s "$1/o/a.v4" "$1/o/a.orig" || exit 4
		[ "$(cat "$1/o/ro/x.pf")" = old ] || exit 5
		ls "$1/o/ro" | grep -q "\.tmp\." && exit 6
		exit 0' sh "$tmp" "$prog" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	case $rc in
	0) ;;
	99) echo "SKIP: cannot mount a tmpfs for the read-only / full directory case" ;;
	*) fail "read-only/full second target: case $rc failed"; cat "$tmp/err" ;;
	esac
else
	echo "SKIP: read-only directory case (root without unshare -m)"
fi

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
grep -q "option 'pf-dialect' of backend 'pf' is openbsd|freebsd, not 'netbsd'" "$tmp/err" ||
	fail "no message for a bad pf dialect"
expect 2 "$prog" generate -b pf -O pf-dialect=netbsd options.policy

# Backend options: --pf-dialect is a spelling of -O pf-dialect; an option the
# chosen backend does not declare is a usage error naming it and the backend.
expect 0 "$prog" generate -b pf --pf-dialect freebsd options.policy
cp "$tmp/out" "$tmp/alias"
expect 0 "$prog" generate -b pf -O pf-dialect=freebsd options.policy
cmp -s "$tmp/alias" "$tmp/out" || fail "--pf-dialect freebsd and -O pf-dialect=freebsd differ"
expect 0 "$prog" generate -b pf -O pf-dialect=openbsd options.policy
cmp -s "$tmp/alias" "$tmp/out" && fail "the pf dialect option changed nothing"
expect 2 "$prog" generate -b nft -O pf-dialect=freebsd options.policy
grep -q "unknown option 'pf-dialect' for backend 'nft'" "$tmp/err" || fail "no unknown-option message"
[ -s "$tmp/out" ] && fail "output despite an unknown option"
# -O ifgroup=WILDCARD:GROUP (issue 13): repeatable or a comma list, the
# group written for the wildcard; a value that is not WILDCARD:GROUP, or a
# group ifconfig or pfctl would not take, is an error naming the option.
expect 0 "$prog" generate -b pf -O 'ifgroup=br-*:dockerbr' routers-ifgroup.policy
cmp -s "$tmp/out" routers-ifgroup.pf || fail "-O ifgroup=br-*:dockerbr differs from routers-ifgroup.pf"
expect 0 "$prog" generate -b pf -O 'ifgroup=veth*:x,br-*:dockerbr' routers-ifgroup.policy
cmp -s "$tmp/out" routers-ifgroup.pf || fail "-O ifgroup with a comma list differs from routers-ifgroup.pf"
expect 0 "$prog" generate -b pf -O 'ifgroup=br-*:other' -O 'ifgroup=wg*:vpn' -O 'ifgroup=br-*:dockerbr' routers-ifgroup.policy
grep -q '^match in on vpn ' "$tmp/out" || fail "-O ifgroup=wg*:vpn not used for wg*"
grep -q 'on { docker0 dockerbr }' "$tmp/out" || fail "the last -O ifgroup for br-* does not win"
grep -q '^#   vpn for "wg\*" (-O ifgroup)' "$tmp/out" || fail "the header does not name the group vpn"
expect 1 "$prog" generate -b pf routers-ifgroup.policy
grep -q "error: backend 'pf': interface wildcard 'br-\*' needs an interface group: use -O ifgroup=br-\*:GROUP" "$tmp/err" ||
	fail "no error for a wildcard without a group"
for bad in 'br-' 'br-*' 'br:x' 'br-*:' 'br-*:grp0' 'br-*:all' 'br-*:a*'; do
	expect 1 "$prog" generate -b pf -O "ifgroup=$bad" routers-ifgroup.policy
	grep -qF "backend 'pf': option ifgroup=$bad" "$tmp/err" || fail "no error for -O ifgroup=$bad"
	[ -s "$tmp/out" ] && fail "output despite -O ifgroup=$bad"
done
expect 2 "$prog" generate -b iptables -O no-such=1 options.policy
grep -q "unknown option 'no-such' for backend 'iptables'" "$tmp/err" || fail "no unknown-option message"
expect 2 "$prog" generate -b pf -O =freebsd options.policy
# with several backends, an option goes to those that declare it
expect 0 "$prog" generate -b nft -o "$tmp/o.nft" -b pf -o "$tmp/o.pf" -O pf-dialect=freebsd options.policy
cmp -s "$tmp/alias" "$tmp/o.pf" || fail "-O did not reach pf among several backends"
expect 2 "$prog" generate
expect 3 "$prog" generate "$tmp/no-such.policy"

[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "ok"
