# SPDX-License-Identifier: GPL-2.0
# What the scripts under scripts/ share: logging, Debian packages, module
# builds, the kernel's own tools, and reading a guest's results. Sourced,
# never executed.

PYM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYM_CACHE=${PYM_CACHE:-$HOME/.cache/pymalloc}
PYM_JOBS=${PYM_JOBS:-$(nproc)}

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

_pym_apt_updated=
# Install the Debian packages named that are not installed yet. The package
# index is refreshed once per process, only when something is missing.
pym_need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
	fi
	log "installing Debian packages: ${missing[*]}"
	if [ -z "$_pym_apt_updated" ]; then
		apt-get update >"$PYM_CACHE/apt-update.log" 2>&1 ||
			die "apt-get update failed, see $PYM_CACHE/apt-update.log"
		_pym_apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${missing[@]}" >"$PYM_CACHE/apt-install.log" 2>&1 ||
		die "apt-get install ${missing[*]} failed, see $PYM_CACHE/apt-install.log"
}

# Newest package in the archive whose name matches the extended regex $1;
# prints the part matched by the first group.
pym_newest_package() {
	apt-cache pkgnames 2>/dev/null | sed -nE "s/^$1\$/\\1/p" | sort -V | tail -n 1
}

# Copy the module's sources to DIR/src, build them against KDIR, and
# collect every .ko in DIR/modules; the build log is DIR/build.log. Extra
# arguments go to make (W=1). Copies keep builds for several kernels apart.
pym_build_modules() { # dir kdir [make args...]
	local dir=$1 kdir=$2
	shift 2
	rm -rf "$dir/src" "$dir/modules"
	mkdir -p "$dir/src" "$dir/modules"
	(cd "$PYM_ROOT" && cp -r Kbuild Makefile src include samples tests selftests bench "$dir/src/")
	if ! make -C "$dir/src" KDIR="$kdir" "$@" >"$dir/build.log" 2>&1; then
		tail -n 30 "$dir/build.log" >&2
		return 1
	fi
	find "$dir/src" -name '*.ko' -exec cp {} "$dir/modules/" \;
}

# What a guest's suite printed on the results port, between its markers.
pym_suite_output() { # results.log suite
	tr -d '\r' <"$1" | sed -n "/^PYM-SUITE-BEGIN $2\$/,/^PYM-SUITE-END $2 /p" | sed '1d;$d'
}

# The kernel's own tools (checkpatch.pl, kernel-doc, the kselftest headers)
# taken from Debian's linux-source-6.12 without building a kernel; prints
# the directory that has scripts/ and tools/ as in a kernel tree.
pym_kernel_tools() {
	local ver dir
	pym_need_packages linux-source-6.12 xz-utils
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	dir="$PYM_CACHE/kernel-tools-$ver"
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		tar xf /usr/src/linux-source-6.12.tar.xz --strip-components=1 -C "$dir" \
			--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc' \
			'*/tools/testing/selftests/kselftest*.h' ||
			die "could not extract the kernel's tools from linux-source-6.12"
		touch "$dir/.complete"
	fi
	echo "$dir"
}

mkdir -p "$PYM_CACHE"
