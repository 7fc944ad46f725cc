#!/bin/sh
# The example plugin built as a third party would: against the headers
# `meson install` puts into a DESTDIR, found through `pkg-config portcullis`
# and nothing of the source tree; then loaded by the program.
#   pkgconfig.sh PORTCULLIS BUILD_DIR SOURCE_DIR
set -u
prog=${1:?usage: pkgconfig.sh PORTCULLIS BUILD_DIR SOURCE_DIR}
build=${2:?}
src=${3:?}
for tool in pkg-config cc meson; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed" >&2; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# only the headers and the .pc file: the program is already built
meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet --tags devel \
	>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; echo "FAIL: meson install" >&2; exit 1; }
pcdir=$(dirname "$(find "$tmp/root" -name portcullis.pc | head -n 1)")
[ -f "$pcdir/portcullis.pc" ] || { echo "FAIL: no portcullis.pc installed" >&2; exit 1; }
# the .pc file names the prefix; the DESTDIR moves it
cflags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$tmp/root pkg-config --cflags portcullis) ||
	{ echo "FAIL: pkg-config --cflags portcullis" >&2; exit 1; }
case $cflags in
*"$src"*) echo "FAIL: the installed flags name the source tree: $cflags" >&2; exit 1 ;;
esac
mkdir "$tmp/plugins"
cp "$src/examples/plugin/review.c" "$tmp/review.c"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags -o "$tmp/plugins/review.so" "$tmp/review.c" ||
	{ echo "FAIL: the example plugin does not build against the installed headers" >&2; exit 1; }
PORTCULLIS_PLUGIN_PATH=$tmp/plugins "$prog" backends >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out" >&2; echo "FAIL: portcullis backends" >&2; exit 1; }
grep -q '^ *review' "$tmp/out" || { cat "$tmp/out" >&2; echo "FAIL: the plugin built with pkg-config is not listed" >&2; exit 1; }
echo "ok: the example plugin builds with pkg-config portcullis and loads"
