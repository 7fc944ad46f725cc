#!/bin/sh
# The Debian package: builds with `dpkg-buildpackage -us -uc -b` from a copy
# of the source tree (its own test run included, root suite excluded),
# lintian reports no error, it installs, the installed program finds its
# data with no help (`portcullis lookup ssh`), the unit verifies and is not
# enabled, and a purge leaves nothing behind.
# Usage: package.sh SOURCE_ROOT     (root; about 30 s)
set -u
src=$(cd "$1" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (installs and purges the package)"
for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || skip "$t is missing (scripts/deps installs it)"
done
if dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q 'ok installed'; then
	skip "a portcullis package is installed on this machine; not replacing it"
fi
cd "$src" && dpkg-checkbuilddeps >/dev/null 2>&1 ||
	skip "build dependencies missing: $(dpkg-checkbuilddeps 2>&1)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The tracked and new files as they are now, not the build directories.
mkdir "$tmp/src"
if git -C "$src" rev-parse >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
else
	(cd "$src" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$tmp/src"
fi
# The package's own test run must not see this one's environment.
unset PORTCULLIS_DATADIR MESON_TEST_ITERATION MALLOC_PERTURB_
(cd "$tmp/src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
	{ tail -40 "$tmp/build.log" >&2; fail "dpkg-buildpackage failed"; }
deb=$(ls "$tmp"/portcullis_*_*.deb) || fail "no portcullis .deb built"
devdeb=$(ls "$tmp"/portcullis-dev_*_*.deb) || fail "no portcullis-dev .deb built"
lintian --fail-on error "$tmp"/*.changes >"$tmp/lintian.log" 2>&1 ||
	{ cat "$tmp/lintian.log" >&2; fail "lintian reports errors"; }
grep '^E:' "$tmp/lintian.log" >&2 && fail "lintian reports errors"

# One package test at a time on a machine (dpkg's own lock would fail the
# second one instead of making it wait).
exec 9>/run/lock/portcullis-package-test.lock
flock 9
dpkg -i "$deb" "$devdeb" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; dpkg --purge portcullis-dev portcullis >/dev/null 2>&1; fail "dpkg -i failed"; }
purged=no
cleanup() {
	[ $purged = yes ] || dpkg --purge portcullis-dev portcullis >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
status=0
out=$(cd / && /usr/sbin/portcullis lookup ssh 2>&1) || { echo "$out" >&2; status=1; echo "FAIL: installed lookup ssh" >&2; }
echo "$out" | grep -q '^ssh  *22  *tcp ' || { echo "$out" >&2; status=1; echo "FAIL: lookup ssh shows no 22/tcp" >&2; }
/usr/sbin/portcullis --version | grep -q '^portcullis ' || { status=1; echo "FAIL: --version" >&2; }
unit=/lib/systemd/system/portcullis.service
[ -f $unit ] || { status=1; echo "FAIL: $unit not installed" >&2; }
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify $unit 2>&1 | grep portcullis >&2 &&
		{ status=1; echo "FAIL: systemd-analyze verify complains about the installed unit" >&2; }
fi
ls /etc/systemd/system/*.wants/portcullis.service 2>/dev/null | grep . >&2 &&
	{ status=1; echo "FAIL: the package enabled the unit" >&2; }
for f in /usr/share/bash-completion/completions/portcullis \
	/usr/share/zsh/vendor-completions/_portcullis \
	/usr/share/fish/vendor_completions.d/portcullis.fish \
	/usr/share/man/man8/portcullis.8.gz /usr/include/portcullis/backend.h; do
	[ -f "$f" ] || { status=1; echo "FAIL: $f not installed" >&2; }
done
pkg-config --exists portcullis || { status=1; echo "FAIL: pkg-config portcullis" >&2; }

dpkg --purge portcullis-dev portcullis >"$tmp/purge.log" 2>&1 ||
	{ cat "$tmp/purge.log" >&2; fail "dpkg --purge failed"; }
purged=yes
for f in /usr/sbin/portcullis /usr/share/portcullis $unit /usr/include/portcullis \
	/usr/share/doc/portcullis; do
	[ -e "$f" ] && { status=1; echo "FAIL: $f left after purge" >&2; }
done
dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q 'installed' &&
	{ status=1; echo "FAIL: still known to dpkg after purge" >&2; }
[ -e /etc/portcullis ] && { status=1; echo "FAIL: /etc/portcullis left after purge" >&2; }

# The Ansible role installs the same .deb and applies a policy, in a network
# namespace (the policy file in a temporary directory; the unit not enabled).
if command -v ansible-playbook >/dev/null && [ $status = 0 ]; then
	mkdir -p "$tmp/ans/coll/ansible_collections/portcullis" "$tmp/ans/files" "$tmp/ans/etc"
	ln -s "$src/contrib/ansible" "$tmp/ans/coll/ansible_collections/portcullis/firewall"
	cp "$deb" "$tmp/ans/files/portcullis.deb"
	printf 'table pcrole\ndefault in deny\nallow in service ssh/tcp\n' >"$tmp/ans/files/host.policy"
	cat >"$tmp/ans/role.yml" <<YML
- hosts: localhost
  gather_facts: false
  roles:
    - role: portcullis.firewall.setup
      vars:
        portcullis_package_deb: files/portcullis.deb
        portcullis_policy_src: files/host.policy
        portcullis_policy_dest: $tmp/ans/etc/host.policy
        portcullis_confirm_timeout: 30
        portcullis_enable_unit: false
YML
	ns=pcpkg$$
	ip netns add $ns
	purged=no
	(cd "$tmp/ans" && ANSIBLE_COLLECTIONS_PATH=$tmp/ans/coll ANSIBLE_HOME=$tmp/ans/home \
		ANSIBLE_LOCAL_TEMP=$tmp/ans/home/tmp ANSIBLE_LOCALHOST_WARNING=0 \
		ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_NOCOLOR=1 \
		PORTCULLIS_RUNDIR=$tmp/ans/run \
		ip netns exec $ns ansible-playbook -i localhost, -c local role.yml) >"$tmp/role.log" 2>&1 ||
		{ cat "$tmp/role.log" >&2; status=1; echo "FAIL: the role" >&2; }
	ip netns exec $ns nft list table inet pcrole >/dev/null 2>&1 ||
		{ status=1; echo "FAIL: the role applied no policy" >&2; }
	ip netns del $ns
	dpkg --purge portcullis >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; status=1; }
	purged=yes
	rm -f /var/cache/apt/archives/portcullis-ansible.deb
	[ -e /var/lib/portcullis ] && { status=1; echo "FAIL: /var/lib/portcullis left after purge" >&2; }
fi
[ $status = 0 ] && echo "debian package: built, lintian clean, installed, ran, purged (dpkg, then the Ansible role): ok"
exit $status
