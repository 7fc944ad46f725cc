#!/bin/sh
# `portcullis lookup`: output and exit statuses over the shipped registry.
# usage: lookup.sh PORTCULLIS SOURCE_ROOT
set -u
# run from the build tree, the program finds data/ only through this
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
PC=$1
DATA=$2/tests/data/registry
# no `trap ... EXIT`: dash leaks it, and this script must stay clean when
# meson runs it under valgrind (--wrapper)
TMP=$(mktemp -d)
# hermetic: no site overlay, the registry found from the build tree
unset PORTCULLIS_REGISTRY PORTCULLIS_OVERLAY
fails=0

# run NAME EXPECTED_STATUS ARGS...: output in $TMP/out, $TMP/err
run() {
	name=$1 want=$2
	shift 2
	"$PC" lookup --no-default-overlay "$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, expected $want"
		sed 's/^/  out: /' "$TMP/out"
		sed 's/^/  err: /' "$TMP/err"
		fails=$((fails + 1))
		return 1
	fi
	return 0
}

# has NAME FILE REGEX: FILE has a line matching the extended REGEX
has() {
	if ! grep -Eq -- "$3" "$TMP/$2"; then
		echo "FAIL $1: no line matching '$3' in $2:"
		sed 's/^/  /' "$TMP/$2"
		fails=$((fails + 1))
	fi
}

hasnt() {
	if grep -Eq -- "$3" "$TMP/$2"; then
		echo "FAIL $1: unexpected line matching '$3' in $2"
		fails=$((fails + 1))
	fi
}

run ssh 0 ssh
has ssh out '^ssh: 4 entries$'
has ssh out '^NAME +PORT +PROTO +STATUS +DESCRIPTION$'
has ssh out '^ssh +22 +tcp +assigned +The Secure Shell \(SSH\) Protocol$'
has ssh out '^ssh +22 +sctp +assigned +SSH$'
has ssh out '^ssh +- +tcp +assigned +SSH Remote Login Protocol$'

run SSH 0 SSH
has SSH out '^SSH: 4 entries$'
has SSH out '^ssh +22 +udp '

run 443 0 443
has 443 out '^443: system port \(0-1023\), 3 entries$'
has 443 out '^https +443 +tcp +assigned '
has 443 out '^https +443 +sctp '
hasnt 443 out '^https +- '

run 443/udp 0 443/udp
has 443/udp out '^443/udp: system port \(0-1023\), 1 entry$'
has 443/udp out '^https +443 +udp +assigned +http protocol over TLS/SSL$'

run 6010/tcp 0 6010/tcp
has 6010/tcp out '^6010/tcp: user port \(1024-49151\), 1 entry$'
has 6010/tcp out '^x11 +6000-6063 +tcp +assigned, unauthorized use reported +X Window System \[Known Unauthorized Use on port 6003\]$'

run sql-net 0 sql-net
has sql-net out '^sql-net: 4 entries$'
for p in 66 150; do
	has sql-net out "^sql-net +$p +tcp "
	has sql-net out "^sql-net +$p +udp "
done
has sql-net out '^  opens by default: 66/tcp, 66/udp, 150/tcp, 150/udp \(registry: no practice entry'

# the catalog: http-alt is what admins mean by it, not the registry's three ports
run http-alt 0 http-alt
has http-alt out '^http-alt: 1 entry$'
has http-alt out '^  opens by default: 8080/tcp \(catalog\)$'
run catalog 0 prometheus dns smb ssh redis ipsec 8384/tcp
has catalog out '^prometheus +9090 +tcp '
has catalog out '^  source: https://prometheus.io/'
has catalog out '^dns: 2 entries \(alias of domain\)$'
has catalog out '^  opens by default: 53/tcp, 53/udp \(practice: '
has catalog out '^smb: 2 entries \(alias of microsoft-ds\)$'
has catalog out '^  opens by default: 445/tcp \(practice: '
has catalog out '^  opens by default: 22/tcp \(practice: '
has catalog out '^  aliases: sftp, scp, sftp-ssh$'
has catalog out '^  trap \(from any source\): safer: '
has catalog out "^  also needs IP protocol 50 \(esp\), which is no port: 'proto esp'$"
has catalog out '^in the catalog: syncthing-gui$'
run wrong-transport 1 wireguard/tcp
has wrong-transport err "^portcullis: lookup: service 'wireguard' has no tcp entry$"
run meaning 1 node_exportr
has meaning err "did you mean 'node_exporter' or 'node-exporter'?"

run dynamic 0 dynamic
has dynamic out '^dynamic: ports 49152-65535, RFC 6335 dynamic ports'
has dynamic out '^0 registry entries in the range'
[ "$(wc -l <"$TMP/out")" -lt 5 ] || { echo "FAIL dynamic: too long"; fails=$((fails + 1)); }

run system 0 system
has system out '^system: ports 0-1023'
has system out '^[0-9]+ registry entries in the range: [0-9]+ assigned, [0-9]+ reserved, [0-9]+ unassigned, [0-9]+ de-assigned$'

run de-assigned 0 2/tcp
has de-assigned out '^- +2 +tcp +de-assigned +Reserved \(De-assigned on 2025-02-13, previously compressnet by \[Bernie_Volz\]\)$'

run no-transport 0 boe-cms 585
has no-transport out '^boe-cms +6400 +any +assigned +Business Objects CMS contact port$'
has no-transport out '^- +585 +any +de-assigned +De-registered \(Use of 585 is not recommended, use 993 instead\)$'

run several 0 ssh 22
has several out '^ssh: 4 entries$'
has several out '^22: system port'

run unknown 1 shh
has unknown err "unknown service name 'shh'; did you mean 'ssh'"
run unknown-among-known 1 ssh nosuchservicename https
has unknown-among-known out '^ssh: 4 entries$'
has unknown-among-known out '^https: 4 entries$'

run unreadable 3 --registry "$TMP/missing.csv" ssh
has unreadable err 'missing.csv: error: cannot read registry: No such file or directory'
run garbage 1 --registry "$DATA/random.bin" ssh
has garbage err 'random.bin: error: not a service registry'
run html 1 --registry "$DATA/page.html" ssh
run bad-port 1 --registry "$DATA/bad-port.csv" ssh
has bad-port err '^.*bad-port.csv:3:8: error: bad port .70000.$'
run bad-overlay 3 --overlay "$TMP/missing" ssh

run overlay 0 --registry "$DATA/services" --overlay "$DATA/overlay.services" myapp ssh www
has overlay out '^myapp +8443 +tcp +assigned, site overlay +My application$'
has overlay out '^ssh +2222 +tcp '
has overlay out '^www: 2 entries \(alias of http\)$'
PORTCULLIS_OVERLAY="$DATA/overlay.services" run overlay-env 0 myapp
has overlay-env out '^myapp +8443 +tcp '
# x11-range is a name of that file only (IANA's registry has none): its
# answer shows that the variable was read
PORTCULLIS_REGISTRY="$DATA/services" run registry-env 0 x11-range
has registry-env out '^x11-range: 1 entry \(alias of x11\)$'

# python3 is always there: meson runs on it
run json 0 --json ssh 6010/tcp dynamic
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"]
assert d["date"] == "2026-02-13", d["date"]
assert [x["type"] for x in r] == ["name", "port", "class"], r
assert len(r[0]["entries"]) == 4 and r[0]["entries"][0]["port"] == 22
assert r[1]["entries"][0]["name"] == "x11" and r[1]["entries"][0]["port_high"] == 6063
assert r[1]["entries"][0]["unauthorized_use"] == "Known Unauthorized Use on port 6003"
assert r[2]["entries"] == 0 and r[2]["low"] == 49152
' "$TMP/out" || { echo "FAIL json"; fails=$((fails + 1)); }
# multi-line notes and quotes come out escaped
run json-escape 0 --json jnx-kcsync udt_os
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert "\n" in d["results"][0]["entries"][0]["notes"]
assert "\"udt-os\"" in d["results"][1]["entries"][0]["notes"]
' "$TMP/out" || { echo "FAIL json-escape"; fails=$((fails + 1)); }
run json-catalog 0 --json dns prometheus
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
dns, prom = d["results"]
assert dns["alias_of"] == "domain" and dns["origin"] == "registry", dns
assert dns["default_transports"] == ["tcp", "udp"] and dns["default_transports_why"] == "practice"
assert dns["opens_by_default"] == ["53/tcp", "53/udp"] and dns["alias_source"].startswith("https://")
assert prom["origin"] == "catalog" and prom["opens_by_default"] == ["9090/tcp"]
assert prom["source"].startswith("https://prometheus.io/") and prom["alias_of"] is None
' "$TMP/out" || { echo "FAIL json-catalog"; fails=$((fails + 1)); }
run json-unknown 1 --json shh
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["results"][0]["type"] == "unknown" and "ssh" in d["results"][0]["suggestions"]
' "$TMP/out" || { echo "FAIL json-unknown"; fails=$((fails + 1)); }

run help 0 --help
has help out '^usage: portcullis lookup'
run no-query 2
run bad-option 2 --frobnicate ssh
run big-port 2 70000
run bad-transport 2 443/tpc

# --names: every name of the registry (aliases too), the catalog and the
# overlays, lower case, sorted, once each: what shell completion offers.
run names 0 --names
has names out '^ssh$'
has names-catalog out '^node-exporter$'
has names-registry out '^www-http$'
hasnt names-upper out '[A-Z]'
sort -c "$TMP/out" 2>/dev/null || { echo "FAIL names: not sorted"; fails=$((fails + 1)); }
[ -z "$(uniq -d "$TMP/out")" ] || { echo "FAIL names: duplicates"; fails=$((fails + 1)); }
printf 'zz-site-app 8443/tcp\n' >"$TMP/site"
run names-overlay 0 --names --overlay "$TMP/site"
has names-overlay out '^zz-site-app$'
run names-with-query 2 --names ssh

# --version: the program, the registry's date, the catalog's revision.
"$PC" --version >"$TMP/out" 2>"$TMP/err" || { echo "FAIL version: exit $?"; fails=$((fails + 1)); }
has version out '^portcullis [0-9]+\.[0-9]+\.[0-9]+$'
has version-registry out '^registry: .*service-names-port-numbers\.csv \([0-9]{4}-[0-9]{2}-[0-9]{2}\)$'
has version-catalog out '^catalog: .*catalog\.csv \([0-9]+ names\), revision [0-9a-f]{16}$'

rm -rf "$TMP"
if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "lookup: all checks passed"
