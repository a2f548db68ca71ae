#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: in-kernel microbenchmarks on Debian's production 6.12 kernel
# in QEMU, pymalloc against kmalloc in the same boot; once timed by the
# emulated clock (wall ns/op), once under -icount shift=0,sleep=off, where
# the guest clock counts instructions (deterministic). Results go to
# build/bench/results.csv and the table is printed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="$PYM_ROOT/build/bench"
rm -rf "$out"
mkdir -p "$out/src" "$out/modules"
pym_need_packages build-essential qemu-system-x86 busybox-static cpio gzip
read -r _ kdir img < <(bash "$PYM_ROOT/scripts/distro.sh" | grep '^debian-6.12 ')
(cd "$PYM_ROOT" && cp -r Kbuild Makefile src include samples tests selftests bench "$out/src/")
make -C "$out/src" KDIR="$kdir" >"$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log"; die "module build failed"; }
find "$out/src" -name '*.ko' -exec cp {} "$out/modules/" \;
bash "$PYM_ROOT/scripts/initramfs.sh" "$out/initramfs.cpio.gz" bench "$out/modules" /nonexistent
for mode in wall icount; do
	extra=""
	[ $mode = icount ] && extra="-icount shift=0,sleep=off"
	log "bench: $mode run (smp ${PYM_SMP:-1})"
	PYM_SMP=${PYM_SMP:-1} PYM_QEMU_EXTRA="$extra" PYM_TIMEOUT=900 \
		bash "$PYM_ROOT/scripts/qemu.sh" "$img" "$out/initramfs.cpio.gz" "$out/$mode" ||
		die "$mode run failed, see $out/$mode/console.log"
	sed -n '/^PYM-SUITE-BEGIN bench/,/^PYM-SUITE-END/p' "$out/$mode/results.log" |
		sed '1d;$d' | tr -d '\r' >"$out/$mode.txt"
done
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
def load(mode):
    rows = {}
    for line in open('%s/%s.txt' % (out, mode)):
        if line.startswith('#') or not line.strip():
            continue
        w, a, v = line.split()
        rows[(w, a)] = float(v)
    return rows
wall, ins = load('wall'), load('icount')
print(open('%s/wall.txt' % out).readline().strip())
print('%-20s %-18s %12s %14s' % ('workload', 'allocator', 'wall ns/op', 'instructions'))
with open('%s/results.csv' % out, 'w') as csv:
    csv.write('workload,allocator,wall_ns_per_op,instructions_per_op\n')
    for (w, a), v in wall.items():
        i = ins.get((w, a), float('nan'))
        print('%-20s %-18s %12.1f %14.0f' % (w, a, v, i))
        csv.write('%s,%s,%.2f,%.0f\n' % (w, a, v, i))
PY
