#!/bin/sh
# generate -o FILE writes a backend's text as it is made: small policies
# whose output is tens of MB are generated in an address space smaller than
# that output (limits, not timings). A backend that built its whole text in
# memory first needs at least twice it.
#
#   output-bounded.sh PORTCULLIS
set -u
pc=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# run NAME KIB MIN-BYTES BACKEND POLICY: generate -b BACKEND -o FILE under
# KIB of address space; FILE must hold at least MIN-BYTES
run() {
	name=$1 kib=$2 min=$3 backend=$4 policy=$5
	(ulimit -v "$kib"; ulimit -t 60
	 "$pc" generate --no-lint -b "$backend" -o "$tmp/$name.out" "$policy") >"$tmp/out" 2>"$tmp/err"
	status=$?
	size=$(stat -c %s "$tmp/$name.out" 2>/dev/null || echo 0)
	if [ "$status" != 0 ] || [ "$size" -lt "$min" ]; then
		echo "FAIL $name: exit $status, $size bytes written (want 0 and at least $min) in $kib KiB, stderr:"
		head -c 2000 "$tmp/err"
		fail=1
	else
		echo "ok $name ($size bytes in $kib KiB of address space)"
	fi
	rm -f "$tmp/$name.out"
}

# list N FMT STEP: N items FMT (one %x or %d of the index times STEP), 40 a line
list() {
	awk -v n="$1" -v fmt="$2" -v step="$3" 'BEGIN {
		for (i = 0; i < n; i++)
			printf("%s" fmt, i == 0 ? "" : i % 40 ? ", " : ",\n ", i * step)
	}'
}

# One rule, 5,000 IPv6 sources (88 address lists of iptables' 1,000 bytes)
# and 4,000 port ranges (572 multiport matches of 7): 50,000 kernel rules,
# 49 MB of ip6tables-restore input (once held whole: aborted under 64 MB)
{
	printf 'hosts a6 = {\n '
	list 5000 '2001:db8::%x' 2
	printf ' }\nallow in port {\n '
	awk 'BEGIN { for (i = 0; i < 4000; i++)
		printf("%s%d-%d", i == 0 ? "" : i % 40 ? ", " : ",\n ", 1000 + 3 * i, 1001 + 3 * i) }'
	printf ' }/tcp from $a6\n'
} >"$tmp/wide6.policy"
run ip6tables-one-rule 49152 40000000 ip6tables "$tmp/wide6.policy"

# 2,000 rules on a group of 1,000 addresses whose name is a pf keyword, so
# that pf writes it inline in every rule: 30 MB of pf anchor (once held
# whole, and written twice: aborted under 96 MB)
{
	printf 'hosts quick = {\n '
	list 1000 '2001:db8::%x' 2
	printf ' }\n'
	awk 'BEGIN { for (i = 0; i < 2000; i++) printf("allow in port %d/tcp from $quick\n", 1000 + 2 * i) }'
} >"$tmp/inline.policy"
run pf-inline-lists 81920 25000000 pf "$tmp/inline.policy"

# A file system that fills up half-way through the stream: exit 3, the old
# file as it was, no temporary file left (root: a tmpfs of 1 MB in a mount
# namespace of its own).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	mkdir "$tmp/full"
	unshare -m sh -c '
		mount -t tmpfs -o size=1m tmpfs "$1" || exit 77
		echo old >"$1/out.v6"
		"$2" generate --no-lint -b ip6tables -o "$1/out.v6" "$3" 2>"$4/err"
		echo "exit $?" >"$4/status"
		cat "$1/out.v6" >"$4/kept"
		ls -A "$1" >"$4/left"' sh "$tmp/full" "$pc" "$tmp/wide6.policy" "$tmp"
	if [ "$?" = 77 ]; then
		echo "SKIP: full file system (no tmpfs mount)"
	elif [ "$(cat "$tmp/status")" != "exit 3" ] ||
	     ! grep -q "cannot write .*out.v6: No space left on device; no file was changed" "$tmp/err" ||
	     [ "$(cat "$tmp/kept")" != old ] || [ "$(cat "$tmp/left")" != out.v6 ]; then
		echo "FAIL full-file-system: $(cat "$tmp/status"), file now '$(head -c 40 "$tmp/kept")', left: $(cat "$tmp/left"), stderr:"
		head -c 2000 "$tmp/err"
		fail=1
	else
		echo "ok full-file-system"
	fi
else
	echo "SKIP: full file system (needs root and unshare)"
fi

exit $fail
