#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh KERNEL INITRAMFS OUTDIR [EXTRA_CMDLINE]
#
# Boot a test guest under TCG and wait for it to power off. The console
# (ttyS0) goes to OUTDIR/console.log, the results port (ttyS1) to
# OUTDIR/results.log. A guest still running after $PYM_TIMEOUT seconds is
# killed; the exit status is then 124, as from timeout(1). A guest whose
# init has not said hello on the results port after $PYM_BOOT_TIMEOUT
# seconds (default 300; a boot takes 10 to 60 here) hung while booting,
# as the debug kernel now and then does under TCG on a loaded machine,
# in an interrupt handler before any module is loaded: it is killed and
# the exit status is 125, for the caller to boot again.
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
	${PYM_QEMU_EXTRA:-} </dev/null >"$out/qemu.log" 2>&1 &
guest=$!
boot_deadline=$((SECONDS + ${PYM_BOOT_TIMEOUT:-300}))
while kill -0 $guest 2>/dev/null && ! grep -q "^PYM-GUEST" "$out/results.log"; do
	if [ $SECONDS -ge $boot_deadline ]; then
		echo "qemu.sh: no hello from the guest after ${PYM_BOOT_TIMEOUT:-300} s: boot hung" >>"$out/qemu.log"
		pkill -KILL -P $guest 2>/dev/null
		kill -KILL $guest 2>/dev/null
		{ wait $guest; } 2>/dev/null
		exit 125
	fi
	sleep 2
done
wait $guest
