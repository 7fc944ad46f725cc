#!/bin/sh
# SPDX-License-Identifier: MIT
# `meson install` puts everything in place, and the installed program finds
# its data through the configured paths only: a fresh build configured with
# --prefix of a temporary directory is installed there and run from there
# with PORTCULLIS_DATADIR unset and from another working directory. An
# out-of-tree plugin built against the installed portcullis.pc loads from
# the installed plugin directory.
# Usage: run.sh SOURCE_ROOT            (about 20 s: a second build)
set -u
src=$(cd "$1" && pwd)
for t in meson ninja cc pkg-config; do
	command -v $t >/dev/null || { echo "SKIP: $t is missing"; exit 77; }
done
tmp=$(mktemp -d /tmp/pc-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
p=$tmp/prefix
meson setup "$tmp/build" "$src" --prefix="$p" -Dtests=disabled >"$tmp/setup.log" 2>&1 ||
	{ cat "$tmp/setup.log" >&2; exit 1; }
ninja -C "$tmp/build" portcullis >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; exit 1; }
meson install -C "$tmp/build" --no-rebuild >"$tmp/install.log" 2>&1 || \
	{ tail -30 "$tmp/install.log" >&2; exit 1; }
# meson may build more than the program on install: that is fine.

libdir=$(ls -d "$p"/lib/*-linux-gnu 2>/dev/null || echo "$p/lib")
for f in sbin/portcullis share/man/man8/portcullis.8 share/man/man5/portcullis.policy.5 \
	share/portcullis/service-names-port-numbers.csv share/portcullis/catalog.csv \
	share/portcullis/templates/nft.tmpl share/portcullis/policies/webserver.policy \
	include/portcullis/backend.h include/portcullis/ir.h include/portcullis/diag.h \
	lib/systemd/system/portcullis.service \
	share/bash-completion/completions/portcullis share/zsh/site-functions/_portcullis \
	share/fish/vendor_completions.d/portcullis.fish; do
	case $f in
	*catalog.csv) [ -e "$src/data/catalog.csv" ] || continue ;;
	esac
	[ -f "$p/$f" ] || bad "not installed: $f"
done
[ -f "$libdir/pkgconfig/portcullis.pc" ] || bad "not installed: portcullis.pc"
[ -d "$libdir/portcullis/backends" ] || bad "not installed: the plugin directory"
grep -q "^ExecStart=$p/sbin/portcullis " "$p/lib/systemd/system/portcullis.service" ||
	bad "the unit does not run the installed program"

# The installed program, its data found through the configured paths.
cd /
unset PORTCULLIS_DATADIR PORTCULLIS_REGISTRY PORTCULLIS_OVERLAY PORTCULLIS_PLUGIN_PATH
out=$("$p/sbin/portcullis" lookup --no-default-overlay ssh 2>&1) || bad "installed lookup ssh: $out"
echo "$out" | grep -q '^ssh  *22  *tcp ' || bad "installed lookup ssh shows no 22/tcp: $out"
printf 'table inst\ndefault in deny\nallow in service https\n' >"$tmp/t.policy"
"$p/sbin/portcullis" generate "$tmp/t.policy" >"$tmp/t.nft" 2>"$tmp/t.err" ||
	{ cat "$tmp/t.err" >&2; bad "installed generate"; }
grep -q 'tcp dport 443 accept' "$tmp/t.nft" || bad "generated ruleset lacks https"
"$p/sbin/portcullis" --version >/dev/null || bad "--version"

# A third-party plugin: built against the installed headers and .pc,
# dropped into the installed plugin directory.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
plugindir=$(pkg-config --variable=plugindir portcullis)
[ "$plugindir" = "$libdir/portcullis/backends" ] || bad "pkg-config plugindir is '$plugindir'"
cc -shared -fPIC $(pkg-config --cflags portcullis) -o "$plugindir/review.so" \
	"$src/examples/plugin/review.c" 2>"$tmp/cc.log" || { cat "$tmp/cc.log" >&2; bad "plugin build"; }
"$p/sbin/portcullis" backends 2>&1 | grep -q "^review  *$plugindir/review.so " ||
	bad "the installed plugin directory is not searched"
[ $fail = 0 ] && echo "install: ok"
exit $fail
