#!/bin/sh
# portcullis.service passes `systemd-analyze verify`, with its ExecStart
# pointed at the built program (verify checks that the binary exists), and
# keeps the properties the boot path relies on.
# Usage: verify.sh UNIT PORTCULLIS
set -u
unit=$1
prog=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/portcullis |\1$prog |" "$unit" >"$tmp/portcullis.service"
fail=0
# --man=no: the man pages are checked once installed (the package test).
out=$(systemd-analyze verify --man=no "$tmp/portcullis.service" 2>&1)
# verify also reports unrelated units of the machine; only ours counts.
if printf '%s\n' "$out" | grep 'portcullis.service'; then
	echo "FAIL: systemd-analyze verify complains about the unit" >&2
	fail=1
fi
# The sandbox stays tight: systemd's exposure score at most 3.0 (2.2 when
# written; 10 is an unsandboxed root service).
if ! systemd-analyze security --offline=yes --threshold=30 "$tmp/portcullis.service" \
	>"$tmp/security.log" 2>&1; then
	tail -3 "$tmp/security.log" >&2
	echo "FAIL: systemd-analyze security rates the unit above 3.0" >&2
	fail=1
fi
for want in 'Type=oneshot' 'RemainAfterExit=yes' 'DefaultDependencies=no' \
	'Before=network-pre.target shutdown.target' 'Wants=network-pre.target' \
	'CapabilityBoundingSet=CAP_NET_ADMIN' 'RestrictAddressFamilies=AF_NETLINK AF_UNIX' \
	'ProtectSystem=strict' 'ReadWritePaths=/var/lib/portcullis' 'WantedBy=sysinit.target'; do
	grep -qx -- "$want" "$unit" || { echo "FAIL: the unit lacks $want" >&2; fail=1; }
done
grep -q '^ExecReload=.*portcullis .*/etc/portcullis/portcullis.policy$' "$unit" ||
	{ echo "FAIL: ExecReload does not re-apply the policy" >&2; fail=1; }
[ $fail = 0 ] && echo "systemd unit: ok"
exit $fail
