# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the pymalloc bench scripts. Sourced, never executed.

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

mkdir -p "$PYM_CACHE"
