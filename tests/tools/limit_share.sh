#!/bin/sh
# SPDX-License-Identifier: MIT
# One token bucket per policy rule, on every backend: a limited rule over
# tcp and udp becomes two kernel rules (and a reject of any protocol a TCP
# reset and an ICMP rule); all of them must draw from one bucket. Packets
# over loopback in a fresh network namespace, loaded with nft -f of the
# nft output, with iptables-restore, and with `portcullis apply`. The
# limits are 4/day (burst 5), so exactly 5 new flows pass per rule however
# long the test takes; one bucket per kernel rule lets 10 through.
# Needs root; skips otherwise.
# usage: limit_share.sh PORTCULLIS
set -u
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for unshare -n, nft and iptables-restore" >&2
	exit 77
fi
for t in unshare nft iptables-restore python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done
case $1 in
/*) prog=$1 ;;
*) prog=$(pwd)/$1 ;;
esac
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/share.policy" <<'EOP'
table share
option filter-loopback
default in deny
default out allow
# tcp and udp: two kernel rules, one bucket
allow in port 7000 limit 4/day
# a TCP reset rule and an ICMP rule, one bucket
reject in port 7001 limit 4/day
# any protocol: the reset rule and the ICMP rule of nft, one bucket
reject in from 127.0.0.2 limit 4/day
EOP
"$prog" generate -b nft "$tmp/share.policy" >"$tmp/share.nft" || exit 1
"$prog" generate -b iptables "$tmp/share.policy" >"$tmp/share.v4" || exit 1

# Prints how many of 8 UDP datagrams and then 8 TCP connections to PORT
# (each a new flow) were answered: accepted or rejected, not dropped.
cat >"$tmp/flood.py" <<'EOP'
import errno, socket, sys
port, src, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
passed = 0
if mode == 'allow':
    srv_u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv_u.bind(('127.0.0.1', port))
    srv_u.settimeout(0.3)
    srv_t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv_t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv_t.bind(('127.0.0.1', port))
    srv_t.listen(16)
for _ in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.connect(('127.0.0.1', port))
    s.send(b'x')
    if mode == 'allow':
        try:
            srv_u.recv(16)
            passed += 1
        except socket.timeout:
            pass
    else:
        s.settimeout(0.3)
        try:
            s.recv(16)
        except ConnectionRefusedError:
            passed += 1
        except socket.timeout:
            pass
    s.close()
for _ in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(0.3)
    try:
        s.connect(('127.0.0.1', port))
        if mode == 'allow':
            passed += 1
    except ConnectionRefusedError:
        if mode != 'allow':
            passed += 1
    except (socket.timeout, OSError):
        pass
    s.close()
print(passed)
EOP

unshare -n sh -u -c '
	prog=$1 tmp=$2
	ip link set lo up
	ip addr add 127.0.0.2/8 dev lo 2>/dev/null
	fails=0
	check() { # WHAT PORT SRC MODE
		n=$(python3 "$tmp/flood.py" "$2" "$3" "$4")
		if [ "$n" = 5 ]; then
			echo "ok   $1: 5 of 16 new flows passed the limit of 4/day (burst 5)"
		else
			echo "FAIL $1: $n of 16 new flows passed, one bucket of 5 lets 5 through" >&2
			fails=$((fails + 1))
		fi
	}
	run() { # LOADER
		check "$1, allow tcp+udp" 7000 127.0.0.1 allow
		check "$1, reject tcp+udp" 7001 127.0.0.1 reject
		check "$1, reject any protocol" 7002 127.0.0.2 reject
	}
	nft -f "$tmp/share.nft" || exit 99
	run "nft -f"
	nft delete table inet share
	env -u SSH_CONNECTION "$prog" apply "$tmp/share.policy" || exit 99
	run "portcullis apply"
	nft delete table inet share
	iptables-restore --noflush "$tmp/share.v4" || exit 99
	run "iptables-restore"
	[ $fails = 0 ]
' sh "$prog" "$tmp" || exit 1
echo ok
