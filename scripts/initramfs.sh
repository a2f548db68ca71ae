#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh OUT SUITES MODDIR BINDIR [KEY=VALUE...]
#
# Pack a busybox initramfs that runs the named guest suites
# (scripts/guest/<suite>.sh) with the modules from MODDIR and the test
# programs from BINDIR. KEY=VALUE pairs are exported to the suites.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$1 suites=$2 moddir=$3 bindir=$4
shift 4
pym_need_packages busybox-static cpio gzip
busybox=$(dpkg -L busybox-static | grep -m1 '/bin/busybox$')

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp made it 0700: the guest's unprivileged tests need to reach /bin.
chmod 755 "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,suites,lib/pym}
cp "$busybox" "$root/bin/busybox"
cp "$PYM_ROOT/scripts/guest/init" "$root/init"
chmod +x "$root/init"
for s in $suites; do
	cp "$PYM_ROOT/scripts/guest/$s.sh" "$root/suites/"
done
cp "$moddir"/*.ko "$root/lib/pym/" 2>/dev/null || true
if [ -d "$bindir" ]; then
	cp "$bindir"/* "$root/bin/" 2>/dev/null || true
fi
# Single-quoted for the guest's shell, a quote inside as '\''.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "PYM_SUITES=$(quote "$suites")"
	for kv in "$@"; do
		key=${kv%%=*}
		[[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "initramfs: bad variable name '$key'"
		echo "export $key=$(quote "${kv#*=}")"
	done
} >"$root/etc/pym.conf"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
