#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make Debian's own kernels available for testing: 6.1, 6.12 and 6.12's
# PREEMPT_RT and cloud flavours. Install the newest linux-headers of each series (the
# module build tree) and extract the matching unsigned vmlinuz into the
# cache. Prints one line per kernel:
#   <name> <KDIR> <vmlinuz>
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for series in '6\.1\.0-[0-9]+' '6\.12\.[0-9]+\+deb12' '6\.12\.[0-9]+\+deb12-rt' \
	'6\.12\.[0-9]+\+deb12-cloud'; do
	abi=$(pym_newest_package "linux-headers-(${series}-amd64)")
	[ -n "$abi" ] || die "no linux-headers package matches ${series}-amd64 in the archive"
	pym_need_packages "linux-headers-$abi"
	kdir="/lib/modules/$abi/build"
	[ -f "$kdir/Module.symvers" ] || die "$kdir has no Module.symvers"
	img="$PYM_CACHE/distro/$abi/vmlinuz"
	if [ ! -f "$img" ]; then
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download "linux-image-$abi-unsigned" >/dev/null 2>&1) ||
			die "could not download linux-image-$abi-unsigned"
		dpkg-deb --fsys-tarfile "$tmp"/linux-image-*.deb |
			tar -x -C "$tmp" "./boot/vmlinuz-$abi"
		mkdir -p "$(dirname "$img")"
		mv "$tmp/boot/vmlinuz-$abi" "$img"
		rm -rf "$tmp"
	fi
	case "$abi" in
	6.1.*) name=debian-6.1 ;;
	*-rt-*) name=debian-6.12-rt ;;
	*-cloud-*) name=debian-6.12-cloud ;;
	*) name=debian-6.12 ;;
	esac
	echo "$name $kdir $img"
done
