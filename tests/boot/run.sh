#!/bin/bash
# SPDX-License-Identifier: MIT
# Root suite: the last-known-good state of `apply` and `portcullis boot`,
# each case in a network namespace of its own (`unshare -n`):
#   - apply saves what it applied; boot of a good policy applies it and
#     saves it, and lifts a lockdown;
#   - broken policy (parse error, unknown name): boot applies the
#     last-known-good ruleset, says why, exits non-zero;
#   - kernel refusal (another process owns the policy's table): the same;
#   - no saved state: the documented lockdown (deny in, except established
#     traffic, loopback, essential ICMP and SSH);
#   - the last-known-good refused too: the lockdown.
# Usage: run.sh PORTCULLIS SRCDIR OWNER_HELPER [CASE...]
set -u
: "${PORTCULLIS_DATADIR:=$(cd "$(dirname "$0")/../../data" && pwd)}"
export PORTCULLIS_DATADIR
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2 owner=$3
shift 3
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: boot tests need root (network namespaces, nf_tables)" >&2
	exit 77
fi
for tool in nft unshare; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed" >&2; exit 77; }
done
work=$(mktemp -d /tmp/pc-boot-XXXXXX)
trap 'rm -rf "$work"' EXIT
export PORTCULLIS_RUNDIR=$work/run
unset SSH_CONNECTION

cat >"$work/good.policy" <<'P'
table pcgood
default in deny
allow in service https
P
cat >"$work/other.policy" <<'P'
table pcother
default in deny
allow in service imap
P
printf 'table pcgood\ndefault in deny\nallow in service https\nallow in oops\n' >"$work/syntax.policy"
printf 'table pcgood\ndefault in deny\nallow in service no-such-service-at-all\n' >"$work/unknown.policy"

CASE_HELPERS='
P='"$prog"'
W='"$work"'
OWNER='"$owner"'
fail() { echo "FAIL: $*" >&2; echo "--- stderr:" >&2; cat "$W/err" >&2; echo "--- ruleset:" >&2; nft list ruleset >&2; exit 1; }
run() { "$@" >"$W/out" 2>"$W/err"; echo $? >"$W/status"; }
expect_status() { want=$1; shift; run "$@"; got=$(cat "$W/status"); [ "$got" = "$want" ] || fail "$* exited $got, not $want"; }
expect_nonzero() { run "$@"; [ "$(cat "$W/status")" != 0 ] || fail "$* exited 0"; }
grep_err() { grep -q -- "$1" "$W/err" || fail "stderr lacks: $1"; }
has_table() { nft list table inet "$1" >/dev/null 2>&1 || fail "no table inet $1"; }
no_table() { nft list table inet "$1" >/dev/null 2>&1 && fail "table inet $1 is there"; true; }
lockdown_ok() {
	has_table portcullis_lockdown
	r=$(nft list table inet portcullis_lockdown)
	for w in "policy drop" "ct state established,related accept" "iifname \"lo\" accept" \
		"tcp dport 22 accept" "icmpv6 type"; do
		echo "$r" | grep -q -- "$w" || fail "the lockdown lacks: $w"
	done
}
'

run_case() {
	name=$1
	rm -rf "$work/state" "$work/run"
	mkdir -p "$work/state"
	export PORTCULLIS_STATE_DIR=$work/state
	if unshare -n bash -c "$CASE_HELPERS
$(declare -f "case_$name")
case_$name"; then
		echo "ok: $name"
	else
		echo "not ok: $name"
		failed=1
	fi
}

case_apply_saves() {
	expect_status 0 $P apply "$W/good.policy"
	[ -s "$W/state/last-good.nft" ] || fail "apply saved no last-known-good"
	grep -q 'table inet pcgood' "$W/state/last-good.nft" || fail "last-good.nft is not the applied table"
	# --dry-run saves nothing
	rm -f "$W/state/last-good.nft"
	expect_status 0 $P apply --dry-run "$W/good.policy"
	[ -e "$W/state/last-good.nft" ] && fail "a dry run saved a last-known-good"
	# --state-dir wins over the environment
	mkdir "$W/state2"
	expect_status 0 $P apply --state-dir "$W/state2" "$W/good.policy"
	[ -s "$W/state2/last-good.nft" ] || fail "--state-dir not used"
	true
}

# apply writes the last-good copy while the kernel works (cli/state.c):
# a transaction the kernel refuses leaves the saved one as it was, and no
# temporary file beside it
case_apply_refused_keeps() {
	expect_status 0 $P apply "$W/other.policy"
	cp "$W/state/last-good.nft" "$W/saved.nft"
	rm -f "$W/hold"; mkfifo "$W/hold"
	"$OWNER" pcgood <"$W/hold" >"$W/owner.out" &
	exec 9>"$W/hold"
	while ! grep -q ready "$W/owner.out"; do sleep 0.05; done
	expect_nonzero $P apply --force "$W/good.policy"
	grep_err "kernel refused"
	exec 9>&-
	wait
	cmp -s "$W/state/last-good.nft" "$W/saved.nft" ||
		fail "a refused apply changed last-good.nft"
	[ "$(ls -A "$W/state")" = last-good.nft ] ||
		fail "a refused apply left files in the state directory: $(ls -A "$W/state")"
	true
}

case_boot_good() {
	expect_status 0 $P boot "$W/good.policy"
	has_table pcgood
	no_table portcullis_lockdown
	[ -s "$W/state/last-good.nft" ] || fail "boot saved no last-known-good"
}

case_broken_policy() {
	expect_status 0 $P boot "$W/other.policy"
	nft delete table inet pcother     # as after a reboot
	for bad in syntax unknown; do
		expect_nonzero $P boot "$W/$bad.policy"
		grep_err "$W/$bad.policy:"
		grep_err "last-known-good"
		has_table pcother
		no_table pcgood
		no_table portcullis_lockdown
	done
	# a missing policy file is broken too
	expect_nonzero $P boot "$W/none.policy"
	grep_err "last-known-good"
	has_table pcother
}

case_kernel_refusal() {
	expect_status 0 $P boot "$W/other.policy"
	nft delete table inet pcother
	rm -f "$W/hold"; mkfifo "$W/hold"
	"$OWNER" pcgood <"$W/hold" >"$W/owner.out" &
	exec 9>"$W/hold"
	while ! grep -q ready "$W/owner.out"; do sleep 0.05; done
	expect_nonzero $P boot "$W/good.policy"
	grep_err "kernel refused"
	grep_err "last-known-good"
	has_table pcother
	no_table portcullis_lockdown
	exec 9>&-
	wait
}

case_no_state() {
	expect_nonzero $P boot "$W/syntax.policy"
	grep_err "$W/syntax.policy:"
	grep_err "lockdown"
	lockdown_ok
	no_table pcgood
	# the good policy lifts the lockdown
	expect_status 0 $P boot "$W/good.policy"
	has_table pcgood
	no_table portcullis_lockdown
}

case_last_good_refused() {
	expect_status 0 $P boot "$W/good.policy"
	nft delete table inet pcgood
	rm -f "$W/hold"; mkfifo "$W/hold"
	"$OWNER" pcgood <"$W/hold" >"$W/owner.out" &
	exec 9>"$W/hold"
	while ! grep -q ready "$W/owner.out"; do sleep 0.05; done
	# the policy and the last-known-good are both table pcgood, which
	# another process owns: the kernel refuses both
	expect_nonzero $P boot "$W/good.policy"
	grep_err "lockdown"
	lockdown_ok
	exec 9>&-
	wait
}

case_pending_confirm() {
	# a reload while an `apply --confirm` awaits confirmation changes nothing
	expect_status 0 $P boot "$W/other.policy"
	$P apply --confirm 30 "$W/good.policy" </dev/null >"$W/confirm.out" 2>&1 &
	while ! grep -q "unless confirmed" "$W/confirm.out"; do sleep 0.05; done
	expect_status 3 $P boot "$W/other.policy"
	grep_err "awaits confirmation"
	has_table pcgood
	no_table portcullis_lockdown
	$P confirm 2>/dev/null || fail "confirm"
	wait $! || fail "the confirmed apply exited non-zero"
	grep -q "table inet pcgood" "$W/state/last-good.nft" || fail "a confirmed apply saved no last-known-good"
}

failed=0
cases=${*:-apply_saves apply_refused_keeps boot_good broken_policy kernel_refusal no_state last_good_refused pending_confirm}
for c in $cases; do
	run_case "$c"
done
exit $failed
