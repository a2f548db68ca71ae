#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot the debug test kernel in QEMU, load pymalloc and the
# example client from samples/, run a short workload through the exported
# API and print the debugfs statistics an operator would read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="$PYM_ROOT/build/demo"
rm -rf "$out"
mkdir -p "$out"
pym_need_packages build-essential qemu-system-x86 busybox-static cpio gzip
eval "$(bash "$PYM_ROOT/scripts/testkernel.sh")"
pym_build_modules "$out" "$KDIR" || die "module build failed, see $out/build.log"
mkdir -p "$out/bin"
make -s -C "$PYM_ROOT/tools/pymstat" OUT="$out/bin" STATIC=1 || die "pymstat did not build"
bash "$PYM_ROOT/scripts/initramfs.sh" "$out/initramfs.cpio.gz" demo "$out/modules" "$out/bin"
log "demo: booting the test kernel (QEMU, TCG, 4 CPUs)..."
rc=0
PYM_TIMEOUT=300 bash "$PYM_ROOT/scripts/qemu.sh" "$KERNEL" "$out/initramfs.cpio.gz" "$out" || rc=$?
pym_suite_output "$out/results.log" demo
if ! grep -q '^PYM-SUITE-END demo rc=0' "$out/results.log"; then
	tail -n 30 "$out/console.log" >&2
	die "demo did not complete (qemu status $rc); console log: $out/console.log"
fi
