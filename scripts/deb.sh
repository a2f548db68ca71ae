#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh OUTDIR - build the pymalloc-dkms Debian package from the files git
# tracks, in OUTDIR, and print the .deb's path. debian/changelog is made
# here from VERSION and CHANGELOG.md's entry for it, dated by the last
# commit, so that the same commit gives the same package.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$(realpath -m "$1")
pym_need_packages dpkg-dev debhelper dh-dkms dkms
cd "$PYM_ROOT"
version=$(cat VERSION)
src="$out/pymalloc-$version"
rm -rf "$out"
mkdir -p "$src"
git ls-files -z Kbuild VERSION dkms.conf src include debian |
	xargs -0 cp --parents -t "$src"
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
{
	echo "pymalloc ($version) unstable; urgency=medium"
	echo
	sed -n "/^## $version\$/,/^## /{/^## /d;s/^- /  * /;s/^  \\([^ *]\\)/    \\1/;/^\$/d;p}" CHANGELOG.md |
		grep -v '^The first versioned' || true
	echo
	echo " -- The pymalloc developers <pymalloc@localhost>  $date"
} >"$src/debian/changelog"
(cd "$src" && dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) ||
	die "dpkg-buildpackage failed, see $out/build.log"
deb="$out/pymalloc-dkms_${version}_all.deb"
[ -f "$deb" ] || die "no $deb after the build, see $out/build.log"
echo "$deb"
