#!/bin/sh
# The names real configurations use (real-names.txt): `allow in service NAME`
# must open exactly the ports and transports listed, through the program as
# shipped (registry, catalog, practice table). One policy, one `check --dump`.
#
#   run.sh PORTCULLIS
set -u
pc=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# NAME WANT... with comments stripped and the wanted words sorted
sed 's/#.*//' "$here/real-names.txt" | awk 'NF >= 2' > "$tmp/table"
awk '{ print "allow in service " $1 }' "$tmp/table" > "$tmp/names.policy"
"$pc" check --dump "$tmp/names.policy" > "$tmp/dump" 2> "$tmp/err" || {
	cat "$tmp/err"
	echo "FAIL: check of the names policy failed"
	exit 1
}
# dump lines "allow ip4+ip6 tcp { 53, 445 } udp 53  # names.policy:N" -> N PORT/PROTO...
awk '/# .*names\.policy:[0-9]+$/ {
	line = $NF; sub(/.*:/, "", line)
	out = ""; proto = ""
	for (i = 3; i < NF; i++) {
		w = $i; gsub(/[{},]/, "", w)
		if (w == "tcp" || w == "udp" || w == "sctp" || w == "dccp") { proto = w; continue }
		if (w ~ /^[0-9]+(-[0-9]+)?$/ && proto != "") out = out " " w "/" proto
	}
	print line out
}' "$tmp/dump" > "$tmp/got"
fail=0 n=0
while read -r name want; do
	n=$((n + 1))
	w=$(printf '%s\n' $want | sort | tr '\n' ' ')
	g=$(awk -v n=$n '$1 == n { for (i = 2; i <= NF; i++) print $i }' "$tmp/got" | sort | tr '\n' ' ')
	if [ "$w" != "$g" ]; then
		echo "FAIL: service $name: want $w, opens ${g:-nothing}"
		fail=$((fail + 1))
	fi
done < "$tmp/table"
echo "$n names, $fail wrong"
[ "$n" -ge 100 ] && [ "$fail" -eq 0 ]
