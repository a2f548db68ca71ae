#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build, or reuse, the debug test kernel: Debian's linux-source-6.12 on top of
# tinyconfig plus config/debug.config. The build is cached under $PYM_CACHE,
# keyed by the source package version and a hash of the config fragment and
# the recipe number below, so a warm run costs a few seconds. Prints exactly two lines:
#   KDIR=<build tree with Module.symvers>
#   KERNEL=<bzImage>
# Everything else goes to stderr or to the build log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pym_need_packages linux-source-6.12 build-essential bc bison flex libelf-dev \
	libssl-dev cpio xz-utils kmod

src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || die "$tarball missing although linux-source-6.12 is installed"
frag="$PYM_ROOT/config/debug.config"
# Bump when the build recipe below changes in a way that changes the kernel.
recipe=1
key=$( (echo "recipe $recipe"; cat "$frag") | sha256sum | cut -c1-12)
base="$PYM_CACHE/kernel"
dir="$base/debug-$src_ver-$key"
mkdir -p "$base"

exec 9>"$base/.lock"
flock 9

verify_config() {
	local line sym bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$1" || { log "config: wanted $line, got: $(grep "^${line%%=*}=" "$1" || echo 'not set')"; bad=1; }
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			if grep -q "^$sym=" "$1"; then log "config: wanted $sym off"; bad=1; fi
			;;
		esac
	done <"$frag"
	return $bad
}

build() {
	local tmp="$dir.tmp" blog="$dir.log"
	rm -rf "$tmp"
	mkdir -p "$tmp/src"
	log "testkernel: building linux-source $src_ver (config $key), log in $blog"
	tar xf "$tarball" --strip-components=1 -C "$tmp/src"
	make -C "$tmp/src" tinyconfig >"$blog" 2>&1
	(cd "$tmp/src" && scripts/kconfig/merge_config.sh -m .config "$frag") >>"$blog" 2>&1
	make -C "$tmp/src" olddefconfig >>"$blog" 2>&1
	verify_config "$tmp/src/.config" || die "config fragment not honoured by Kconfig (see above)"
	if ! make -C "$tmp/src" -j"$PYM_JOBS" all >>"$blog" 2>&1; then
		log "testkernel: build failed, retrying once (tail of log follows)"
		tail -n 20 "$blog" >&2
		make -C "$tmp/src" -j"$PYM_JOBS" all >>"$blog" 2>&1 ||
			{ tail -n 40 "$blog" >&2; die "kernel build failed twice, see $blog"; }
	fi
	[ -f "$tmp/src/Module.symvers" ] || die "kernel built without Module.symvers"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	touch "$dir/.complete"
	# Older builds of other versions or configs are only dead weight.
	find "$base" -mindepth 1 -maxdepth 1 -name 'debug-*' ! -name "debug-$src_ver-$key*" \
		-exec rm -rf {} + 2>/dev/null || true
}

[ -f "$dir/.complete" ] || build
echo "KDIR=$dir/src"
echo "KERNEL=$dir/src/arch/x86/boot/bzImage"
