#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms.sh DEB OUT KERNELRELEASE KDIR MODDIR
#
# Build pymalloc.ko as a user of the pymalloc-dkms package would get it:
# DKMS, from the sources the package installs, against the installed
# linux-headers of KERNELRELEASE, in trees under OUT rather than the
# system's. Then build the example client samples/pym_cache.c the way an
# outside module does: the package's headers and the Module.symvers DKMS
# keeps. Both replace their counterparts in MODDIR, so that the guest
# loads them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

deb=$1 out=$2 kver=$3 kdir=$4 moddir=$5
pym_need_packages dkms xz-utils
rm -rf "$out"
mkdir -p "$out/root" "$out/tree" "$out/client"
dpkg-deb -x "$deb" "$out/root"
version=$(dpkg-deb -f "$deb" Version)
srcdir="$out/root/usr/src/pymalloc-$version"
[ -f "$srcdir/dkms.conf" ] || die "dkms: the package has no $srcdir/dkms.conf"
[ -f "$srcdir/include/pymalloc.h" ] || die "dkms: the package has no headers in $srcdir/include"
trees=(--sourcetree "$out/root/usr/src" --dkmstree "$out/tree")
dkms add -m pymalloc -v "$version" "${trees[@]}" >"$out/dkms.log" 2>&1 &&
	dkms build -m pymalloc -v "$version" -k "$kver" --kernelsourcedir "$kdir" \
		"${trees[@]}" >>"$out/dkms.log" 2>&1 ||
	die "dkms build against $kver failed, see $out/dkms.log"
built="$out/tree/pymalloc/$version/$kver/$(uname -m)"
ko=$(find "$built/module" -name 'pymalloc.ko*' | head -n 1)
[ -n "$ko" ] || die "dkms: no pymalloc.ko under $built/module"
case "$ko" in
*.xz) xz -dc "$ko" >"$moddir/pymalloc.ko" ;;
*.zst) zstd -dcq "$ko" >"$moddir/pymalloc.ko" ;;
*.gz) gzip -dc "$ko" >"$moddir/pymalloc.ko" ;;
*) cp "$ko" "$moddir/pymalloc.ko" ;;
esac
modinfo -F version "$moddir/pymalloc.ko" | grep -qx "$version" ||
	die "dkms: the module built says version $(modinfo -F version "$moddir/pymalloc.ko"), not $version"

cp "$PYM_ROOT/samples/pym_cache.c" "$out/client/"
cat >"$out/client/Kbuild" <<KBUILD
obj-m := pym_cache.o
ccflags-y := -I$srcdir/include
KBUILD
make -C "$kdir" M="$out/client" KBUILD_EXTRA_SYMBOLS="$built/Module.symvers" \
	modules >"$out/client.log" 2>&1 ||
	die "the client module did not build against the package, see $out/client.log"
if grep -E 'WARNING|warning:' "$out/client.log" >&2; then
	die "the client module built with warnings against the package"
fi
cp "$out/client/pym_cache.ko" "$moddir/pym_cache.ko"
