#!/bin/sh
# The Ansible collection (contrib/ansible) against localhost in a network
# namespace of its own: apply, idempotence, check and diff mode, drift,
# confirmation over a new connection, rollback of an unconfirmed apply
# (kernel and files), a policy with errors. Then ansible-doc on the module.
# Usage: run.sh PORTCULLIS SOURCE_ROOT          (root)
set -u
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, netlink)"
command -v ansible-playbook >/dev/null || skip "ansible-core is not installed (scripts/deps installs it)"
: "${PORTCULLIS_DATADIR:=$src/data}"
tmp=$(mktemp -d)
ns=pcansible$$
cleanup() { ip netns del $ns 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ip netns add $ns || exit 99
mkdir -p "$tmp/collections/ansible_collections/portcullis" "$tmp/etc" "$tmp/home"
ln -s "$src/contrib/ansible" "$tmp/collections/ansible_collections/portcullis/firewall"
export ANSIBLE_COLLECTIONS_PATH="$tmp/collections" ANSIBLE_HOME="$tmp/home" \
	ANSIBLE_LOCAL_TEMP="$tmp/home/tmp" ANSIBLE_REMOTE_TEMP="$tmp/home/rtmp" \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
	ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
status=0
ip netns exec $ns ansible-playbook -i localhost, -c local "$src/tests/ansible/playbook.yml" \
	-e "prog=$prog dest=$tmp/etc/portcullis.policy state_dir=$tmp/state rundir=$tmp/run datadir=$PORTCULLIS_DATADIR" \
	>"$tmp/play.log" 2>&1 || { cat "$tmp/play.log"; echo "FAIL: ansible-playbook" >&2; status=1; }
grep -q 'failed=0' "$tmp/play.log" || status=1
# The example playbook and the role parse.
(cd "$src/contrib/ansible/playbooks" &&
	ansible-playbook --syntax-check -i inventory.ini site.yml) >"$tmp/syntax.log" 2>&1 ||
	{ cat "$tmp/syntax.log"; echo "FAIL: the example playbook" >&2; status=1; }
# The module's documentation parses, and says what it must.
if ! ansible-doc portcullis.firewall.portcullis >"$tmp/doc.log" 2>&1 ||
	grep -q '^\[WARNING\]\|^ERROR' "$tmp/doc.log"; then
	cat "$tmp/doc.log"; echo "FAIL: ansible-doc" >&2; status=1
fi
for w in confirm_timeout 'Supports check mode and diff mode'; do
	ansible-doc --json portcullis.firewall.portcullis | grep -q "$w" ||
		{ echo "FAIL: ansible-doc lacks $w" >&2; status=1; }
done
[ $status = 0 ] && { grep -E '^localhost' "$tmp/play.log"; echo "ansible collection: ok"; }
exit $status
