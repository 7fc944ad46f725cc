#!/bin/bash
# SPDX-License-Identifier: MIT
# generate -b BACKEND -o 'DIR/%n.EXT' POLICY...: many policies in one run.
#   - every output is byte-identical to a run of its policy alone;
#   - the files the policies share are opened (read and parsed) once;
#   - all or nothing: one policy with an error, no file written;
#   - where a fresh parse of a shared file would fail (included twice,
#     through another file), the policy reports what it reports alone;
#   - --check, usage errors (no %n, two policies of one name).
# Usage: run.sh PORTCULLIS
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
P=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # STATUS CMD...: runs CMD (stdout $T/stdout, stderr $T/err)
	local want=$1 got
	shift
	"$@" >"$T/stdout" 2>"$T/err"
	got=$?
	[ "$got" = "$want" ] || { fail "$* exited $got, not $want"; sed 's/^/  err: /' "$T/err" | head -20; }
}

mkdir -p "$T/shared" "$T/hosts" "$T/out"
printf 'hosts admins = { 192.0.2.0/26, 2001:db8:100::/48 }\nhosts unused = { 198.51.100.9 }\ndefault in deny\nallow in service ssh/tcp from $admins\n' >"$T/shared/base.policy"
printf 'include "clients.policy"\nallow in service { http, https } from $clients\n' >"$T/shared/web.policy"
printf 'hosts clients = { 198.51.100.0/24, 203.0.113.0/24, 2001:db8:200::/48 }\n' >"$T/shared/clients.policy"
for h in alpha beta gamma; do
	printf 'table %s\ninclude "../shared/base.policy"\ninclude "../shared/web.policy"\nallow in service imap from 192.0.2.%d\n' \
		"$h" "${#h}" >"$T/hosts/$h.policy"
done

# Identical to single runs, for two backends at once.
expect 0 "$P" generate -b nft -o "$T/out/%n.nft" -b iptables -o "$T/out/%n.v4" "$T"/hosts/*.policy
for h in alpha beta gamma; do
	"$P" generate "$T/hosts/$h.policy" 2>/dev/null | cmp -s - "$T/out/$h.nft" || fail "$h.nft differs from a single run"
	"$P" generate -b iptables "$T/hosts/$h.policy" 2>/dev/null | cmp -s - "$T/out/$h.v4" ||
		fail "$h.v4 differs from a single run"
done
# a shared file's warning is given once per run, not once per host
[ "$(grep -c "group 'unused'" "$T/err")" = 1 ] || { fail "the shared warning is not given exactly once"; cat "$T/err"; }

# The shared files are opened once in the run (read, parsed once).
if command -v strace >/dev/null; then
	strace -f -e trace=open,openat -o "$T/strace" "$P" generate -b nft -o "$T/out/%n.nft" \
		"$T"/hosts/*.policy 2>/dev/null
	for f in base web clients; do
		n=$(grep -c "shared/$f.policy\"" "$T/strace")
		[ "$n" = 1 ] || fail "shared/$f.policy opened $n times, not once"
	done
else
	echo "note: no strace: that shared files are read once is not checked"
fi

# --check: up to date, then stale after a shared file changes; nothing written.
expect 0 "$P" generate -b nft -o "$T/out/%n.nft" --check "$T"/hosts/*.policy
cp "$T/out/beta.nft" "$T/beta.before"
printf 'hosts clients = { 198.51.100.0/24 }\n' >"$T/shared/clients.policy"
expect 1 "$P" generate -b nft -o "$T/out/%n.nft" --check "$T"/hosts/*.policy
cmp -s "$T/beta.before" "$T/out/beta.nft" || fail "--check wrote a file"
grep -q 'is out of date' "$T/err" || fail "--check does not say which file is stale"

# All or nothing: one policy with an error, no file is changed.
printf 'table delta\ninclude "../shared/base.policy"\nallow in service no-such-service\n' >"$T/hosts/delta.policy"
expect 1 "$P" generate -b nft -o "$T/out/%n.nft" "$T"/hosts/*.policy
grep -q "delta.policy:3:.*error" "$T/err" || fail "the error is not reported at its line"
cmp -s "$T/beta.before" "$T/out/beta.nft" || fail "a failed run changed beta.nft"
[ -e "$T/out/delta.nft" ] && fail "a failed run wrote delta.nft"
rm "$T/hosts/delta.policy"

# A shared file a fresh parse would refuse: web.policy (cached by alpha)
# includes clients.policy, which epsilon has already included itself.
mkdir "$T/dup"
printf 'table alpha\ninclude "../shared/web.policy"\n' >"$T/dup/a.policy"
printf 'table eps\ninclude "../shared/clients.policy"\ninclude "../shared/web.policy"\n' >"$T/dup/b.policy"
"$P" generate "$T/dup/b.policy" >/dev/null 2>"$T/alone.err"
alone=$?
expect "$alone" "$P" generate -b nft -o "$T/dup/%n.nft" "$T/dup/a.policy" "$T/dup/b.policy"
[ "$alone" = 1 ] || fail "b.policy alone exited $alone, not 1"
grep -q "already included" "$T/err" || fail "the cached include hid 'already included'"
grep "error" "$T/alone.err" | while read -r line; do
	grep -qF -- "$line" "$T/err" || echo "FAIL: alone, not in the many-policy run: $line"
done | grep . && fails=$((fails + 1))

# Usage: several policies need %n in every -o; one name, one file.
expect 2 "$P" generate -b nft -o "$T/out/all.nft" "$T"/hosts/*.policy
expect 2 "$P" generate "$T"/hosts/alpha.policy "$T"/hosts/beta.policy
expect 2 "$P" generate -b nft -o "$T/out/%n.nft" -b pf -o "$T/out/x.pf" "$T"/hosts/*.policy
mkdir "$T/other"
cp "$T/hosts/alpha.policy" "$T/other/alpha.policy"
expect 2 "$P" generate -b nft -o "$T/out/%n.nft" "$T/hosts/alpha.policy" "$T/other/alpha.policy"
grep -q 'same file' "$T/err" || fail "two policies of one name: not said"

# The dispatch (issue 15) in files as on stdout: -o writes its outputs
# straight into the file, by another path than stdout's.
for d in --dispatch --no-dispatch; do
	expect 0 "$P" generate $d -o "$T/out/disp.nft" "$(dirname "$0")/../netns/dispatch.policy"
	"$P" generate $d "$(dirname "$0")/../netns/dispatch.policy" 2>/dev/null | cmp -s - "$T/out/disp.nft" ||
		fail "generate $d -o differs from generate $d"
done
grep -q "meta nfproto . meta l4proto vmap" <("$P" generate --dispatch "$(dirname "$0")/../netns/dispatch.policy" 2>/dev/null) ||
	fail "generate --dispatch: no dispatch"

[ $fails = 0 ] && echo "generate many: ok"
exit $((fails > 0))
