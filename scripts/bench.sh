#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: in-kernel microbenchmarks (bench/pym_bench.c) on Debian's
# production 6.12 kernel in QEMU, pymalloc against kmalloc (and a dedicated
# kmem_cache where the size is fixed) in the same boot, at -smp 1 and
# -smp 4. Each configuration boots twice: once timed by the emulated clock
# (wall ns/op; host noise moves it), once under -icount shift=0,sleep=off,
# where the guest clock counts instructions (deterministic). Writes
# build/bench/results.csv and, when gnuplot is there, build/bench/pairs.png.
# PYM_BENCH_SMP (default "1 4") and PYM_BENCH_MODES (default "wall icount")
# narrow a run down while working on one figure; PYM_BENCH_USER=0 skips
# the user-space part.
# Then the same workloads in user space (tools/testing/core/ubench.sh):
# pymalloc's core against glibc, jemalloc, mimalloc, tcmalloc and CPython.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="$PYM_ROOT/build/bench"
rm -rf "$out"
mkdir -p "$out/src" "$out/modules"
pym_need_packages build-essential qemu-system-x86 busybox-static cpio gzip python3
if ! dpkg-query -W -f='${Status}' gnuplot-nox 2>/dev/null | grep -q 'ok installed'; then
	pym_need_packages gnuplot-nox || log "bench: no gnuplot, no chart"
fi
read -r _ kdir img < <(bash "$PYM_ROOT/scripts/distro.sh" | grep '^debian-6.12 ')
(cd "$PYM_ROOT" && cp -r Kbuild Makefile src include samples tests selftests bench "$out/src/")
make -C "$out/src" KDIR="$kdir" >"$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log"; die "module build failed"; }
find "$out/src" -name '*.ko' -exec cp {} "$out/modules/" \;
mkdir -p "$out/bin"
xz -dc "$PYM_ROOT/tools/testing/core/data/debian-6.12-boot.kmalloc.xz" >"$out/bin/kmalloc-trace.txt"
bash "$PYM_ROOT/scripts/initramfs.sh" "$out/initramfs.cpio.gz" bench "$out/modules" "$out/bin"
for smp in ${PYM_BENCH_SMP:-1 4}; do
	for mode in ${PYM_BENCH_MODES:-wall icount}; do
		extra=""
		[ $mode = icount ] && extra="-icount shift=0,sleep=off"
		# Under TCG the distro kernel has, rarely, died while booting
		# (an int3 left by text patching, a double fault in cmpxchg16b):
		# a boot that printed no results gets one more try, logged.
		again=""
		for try in 1 2; do
			log "bench: smp $smp, $mode$again"
			PYM_SMP=$smp PYM_MEM=4G PYM_QEMU_EXTRA="$extra" PYM_TIMEOUT=1800 \
				bash "$PYM_ROOT/scripts/qemu.sh" "$img" "$out/initramfs.cpio.gz" \
				"$out/smp$smp-$mode" ||
				die "smp $smp $mode run failed, see $out/smp$smp-$mode/console.log"
			sed -n '/^PYM-SUITE-BEGIN bench/,/^PYM-SUITE-END/p' \
				"$out/smp$smp-$mode/results.log" | sed '1d;$d' | tr -d '\r' \
				>"$out/smp$smp-$mode.txt"
			[ -s "$out/smp$smp-$mode.txt" ] && break
			tail -n 5 "$out/smp$smp-$mode/console.log" >&2
			again=" (again: boot $try printed no results)"
		done
		[ -s "$out/smp$smp-$mode.txt" ] ||
			die "smp $smp $mode printed no results twice, see $out/smp$smp-$mode/console.log"
	done
done
python3 "$PYM_ROOT/scripts/bench_report.py" "$out" ${PYM_BENCH_SMP:-1 4}
if command -v gnuplot >/dev/null; then
	(cd "$PYM_ROOT" && gnuplot scripts/bench_pairs.gp) >/dev/null 2>&1 &&
		log "bench: chart in $out/pairs.png" || log "bench: gnuplot failed"
fi

[ "${PYM_BENCH_USER:-1}" = 0 ] && exit 0
echo
echo "== user space: magazine + core, and the core alone, against user-space allocators"
pym_need_packages valgrind libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libpython3.11
make -s -C "$PYM_ROOT/tools/testing/core" OUT="$out/user" ubench | tee "$out/user.txt"
