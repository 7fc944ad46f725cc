#!/bin/sh
# SPDX-License-Identifier: MIT
# Rate limits in the iptables output count every packet of a rule's match
# in one token bucket, and gate LOG and the verdict together: packets sent
# over loopback in a fresh network namespace, then the kernel's counters.
# The limits are 4/day (burst 5), so exactly 5 packets pass however long
# the test takes. Needs root; skips otherwise.
# usage: limit.sh PORTCULLIS
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for unshare -n and iptables-restore" >&2
	exit 77
fi
for t in unshare iptables-restore iptables-legacy-restore python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done
case $1 in
/*) prog=$1 ;;
*) prog=$(pwd)/$1 ;;
esac
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/lim.policy" <<'EOP'
table lim
option stateless
option filter-loopback
default in deny
default out allow
# two sources: two kernel rules, one bucket
allow in port 7000/udp from { 127.0.0.1, 127.0.0.2 } limit 4/day
# one kernel rule with LOG: the bucket gates LOG and ACCEPT
allow in port 7001/udp limit 4/day log "lim "
EOP
"$prog" generate -b iptables "$tmp/lim.policy" >"$tmp/lim.v4" || exit 1
# the helper chains the two rules jump to
c7000=$(sed -n 's/^-A lim-in .*--dport 7000 .* -j \(lim-[a-z0-9]*\)$/\1/p' "$tmp/lim.v4")
c7001=$(sed -n 's/^-A lim-in .*--dport 7001 .* -j \(lim-[a-z0-9]*\)$/\1/p' "$tmp/lim.v4")
[ -n "$c7000" ] && [ -n "$c7001" ] || { echo "FAIL: no helper chains in:" >&2; cat "$tmp/lim.v4" >&2; exit 1; }

cat >"$tmp/send.py" <<'EOP'
import socket
for src in ('127.0.0.1', '127.0.0.2'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for _ in range(8):
        s.sendto(b'x', ('127.0.0.1', 7000))
        s.sendto(b'x', ('127.0.0.1', 7001))
    s.close()
EOP

unshare -n sh -eu -c '
	f=$1 send=$2 c7000=$3 c7001=$4
	ip link set lo up
	for variant in "" -legacy; do
		iptables$variant-restore --noflush "$f"
		python3 "$send"
		# packets of the rules of chain $1 whose line has $2
		pk() { iptables$variant -L "$1" -v -x -n | awk -v m="$2" "index(\$0, m) { s += \$1 } END { print s + 0 }"; }
		a=$(pk "$c7000" "ACCEPT")
		v=$(pk lim-in "$c7000")
		l=$(pk "$c7001" "LOG")
		b=$(pk "$c7001" "ACCEPT")
		d=$(pk lim-in "default in deny")
		echo "iptables$variant: 7000: $v matched, $a accepted; 7001: $l logged, $b accepted; $d dropped by the default"
		[ "$v" = 16 ] || { echo "FAIL: 16 packets should reach the limit of port 7000" >&2; exit 1; }
		[ "$a" = 5 ] || { echo "FAIL: one bucket of 5 for both sources, got $a" >&2; exit 1; }
		[ "$l" = 5 ] && [ "$b" = 5 ] || { echo "FAIL: LOG and ACCEPT must pass 5 each" >&2; exit 1; }
		[ "$d" = 22 ] || { echo "FAIL: 22 packets should fall to the default, got $d" >&2; exit 1; }
		iptables$variant -F; iptables$variant -X
	done
' sh "$tmp/lim.v4" "$tmp/send.py" "$c7000" "$c7001" || exit 1
echo ok
