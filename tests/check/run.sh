#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `check --format json|sarif`: valid JSON, SARIF 2.1.0 valid against the
# required structure of the standard (sarif-2.1.0-required.schema.json:
# why not the OASIS schema file is written in it) with python3-jsonschema,
# the file, line and column of each diagnostic as the text format gives
# them, exit statuses as without --format.
#
#   run.sh PORTCULLIS
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
pc=$1
case $pc in /*) ;; */*) pc=$PWD/$pc ;; esac
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../policy/cases" || exit 99
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pc-check-format.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
python3 -c 'import jsonschema' 2>/dev/null ||
	{ echo "SKIP: python3-jsonschema is missing (scripts/deps installs it)"; exit 77; }

n=0
for p in err-expect.policy err-expect-syntax.policy ok-expect.policy warn-*.policy err-address.policy; do
	[ -f "$p" ] || continue
	n=$((n + 1))
	NO_COLOR=1 "$pc" check "$p" >/dev/null 2>"$tmp/text"; want=$?
	for fmt in json sarif; do
		"$pc" check --format $fmt "$p" >"$tmp/out" 2>"$tmp/err"; rc=$?
		[ $rc = $want ] || bad "$p --format $fmt: exit $rc, text format exits $want"
		[ -s "$tmp/err" ] && bad "$p --format $fmt wrote to standard error"
		# the FILE:LINE:COL: SEVERITY: MESSAGE lines the text format prints
		grep -E '^[^ ].*: (error|warning|note): ' "$tmp/text" >"$tmp/want"
		python3 - "$fmt" "$tmp/out" "$here/sarif-2.1.0-required.schema.json" >"$tmp/got" <<'PY' || bad "$p --format $fmt: invalid"
import json, sys, urllib.parse
import jsonschema
fmt, path, schema = sys.argv[1:4]
doc = json.load(open(path))
if fmt == "sarif":
    jsonschema.validate(doc, json.load(open(schema)),
                        format_checker=jsonschema.FormatChecker())
    for r in doc["runs"][0]["results"]:
        locs = r.get("locations")
        if not locs:
            print("portcullis: %s: %s" % (r["level"], r["message"]["text"]))
            continue
        pl = locs[0]["physicalLocation"]
        reg = pl.get("region", {})
        where = urllib.parse.unquote(pl["artifactLocation"]["uri"])
        if "startLine" in reg:
            where += ":%d" % reg["startLine"]
        if "startColumn" in reg:
            where += ":%d" % reg["startColumn"]
        print("%s: %s: %s" % (where, r["level"], r["message"]["text"]))
else:
    assert doc["errors"] == sum(d["severity"] == "error" for d in doc["diagnostics"])
    for d in doc["diagnostics"]:
        where = d.get("file", "portcullis")
        if "line" in d:
            where += ":%d" % d["line"]
        if "column" in d:
            where += ":%d" % d["column"]
        print("%s: %s: %s" % (where, d["severity"], d["message"]))
PY
		if cmp -s "$tmp/want" "$tmp/got"; then ok; else
			bad "$p --format $fmt: diagnostics differ from the text format"; diff "$tmp/want" "$tmp/got"
		fi
	done
done
[ $n -ge 4 ] && ok || bad "only $n policies checked"
# a broken SARIF (line 0) must fail the validation: the check can fail
"$pc" check --format sarif err-expect.policy | sed 's/"startLine": [0-9]*/"startLine": 0/' >"$tmp/broken"
python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
	"$tmp/broken" "$here/sarif-2.1.0-required.schema.json" 2>/dev/null && bad "schema accepts startLine 0" || ok
"$pc" check --format xml ok-expect.policy >/dev/null 2>&1; [ $? = 2 ] && ok || bad "--format xml is not a usage error"
"$pc" check --format json --dump ok-expect.policy >/dev/null 2>&1; [ $? = 2 ] && ok || bad "--format json --dump is not a usage error"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
