#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pathcount.sh: how many instructions one call of pym_alloc, pym_free,
# kmalloc and kfree executes in make bench's pair loop (8-byte pairs), on
# Debian's 6.12 kernel, stepped through with gdb on QEMU's gdbstub. Writes
# each call's instructions to build/pathcount/<function>.txt, so that the
# instruction counts make bench reports can be read line by line. Run
# make bench first: this uses the modules it built.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench="$PYM_ROOT/build/bench"
out="$PYM_ROOT/build/pathcount"
[ -f "$bench/modules/pym_bench.ko" ] || die "run make bench first (no $bench/modules)"
pym_need_packages gdb qemu-system-x86 busybox-static cpio gzip
read -r _ _ img < <(bash "$PYM_ROOT/scripts/distro.sh" | grep '^debian-6.12 ')
rm -rf "$out"
mkdir -p "$out"
bash "$PYM_ROOT/scripts/initramfs.sh" "$out/initramfs.cpio.gz" pathcount \
	"$bench/modules" "$bench/bin"
PYM_SMP=1 PYM_MEM=4G PYM_QEMU_EXTRA="-gdb tcp:127.0.0.1:1234" PYM_TIMEOUT=600 \
	bash "$PYM_ROOT/scripts/qemu.sh" "$img" "$out/initramfs.cpio.gz" \
	"$out/guest" nokaslr &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
for _ in $(seq 120); do
	grep -q PYM-PATHCOUNT-READY "$out/guest/console.log" 2>/dev/null && break
	sleep 1
done
grep -q PYM-PATHCOUNT-READY "$out/guest/console.log" || die "guest never got ready"
addr() {
	tr -d '\r' <"$out/guest/console.log" | awk -v f="$1" '$3 == f { print $1; exit }'
}
# Skip enough calls to be inside the pair loop, past its first refills.
funcs="pym_alloc=$(addr pym_alloc):2000 pym_free=$(addr pym_free):10"
funcs="$funcs kmalloc=$(addr __kmalloc_noprof):2000 kfree=$(addr kfree):10"
PYM_PATHCOUNT_FUNCS="$funcs" PYM_PATHCOUNT_OUT="$out" \
	timeout 500 gdb -batch -x "$PYM_ROOT/scripts/pathcount.py" 2>&1 |
	grep -E 'instructions$' || die "gdb failed"
log "pathcount: instruction listings in $out"
