#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh KERNEL INITRAMFS OUTDIR [EXTRA_CMDLINE]
#
# Boot a test guest under TCG and wait for it to power off. The console
# (ttyS0) goes to OUTDIR/console.log, the results port (ttyS1) to
# OUTDIR/results.log. A guest still running after $PYM_TIMEOUT seconds is
# killed; the exit status is then 124, as from timeout(1).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1 initrd=$2 out=$3 extra=${4:-}
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
mkdir -p "$out"
: >"$out/console.log"
: >"$out/results.log"
timeout -k 10 "${PYM_TIMEOUT:-900}" qemu-system-x86_64 \
	-machine pc -cpu max -smp "${PYM_SMP:-4}" -m "${PYM_MEM:-2G}" \
	-display none -monitor none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=7 panic=-1 oops=panic $extra" \
	-serial "file:$out/console.log" -serial "file:$out/results.log" \
	${PYM_QEMU_EXTRA:-} </dev/null >"$out/qemu.log" 2>&1
