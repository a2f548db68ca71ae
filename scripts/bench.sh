#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: in-kernel microbenchmarks (bench/pym_bench.c) on Debian's
# production 6.12 kernel in QEMU, pymalloc against kmalloc (and a dedicated
# kmem_cache where the size is fixed) in the same boot, at -smp 1, 4 and 8
# (TCG runs 8 vCPUs on the 2 cores: instruction counts stay meaningful,
# wall times less so). Each configuration boots twice: once timed by the
# emulated clock (wall ns/op; host noise moves it), once under
# -icount shift=0,sleep=off,
# where the guest clock counts instructions (deterministic). Then the same
# workloads in user space (tools/testing/core/ubench.sh): pymalloc's core
# against glibc, jemalloc, mimalloc, tcmalloc and CPython, the core's
# instruction counts and the memory replay.
#
# A full run rewrites Documentation/figures.md, the project's one file of
# figures; it also leaves build/bench/results.csv and, with gnuplot,
# build/bench/pairs.png. PYM_BENCH_SMP (default "1 4 8") and PYM_BENCH_MODES
# (default "wall icount") narrow a run down while working on one figure,
# PYM_BENCH_USER=0 skips user space; a narrowed run only prints.
# PYM_BENCH_KERNEL=debug runs on the debug kernel instead, and
# PYM_BENCH_APPEND adds to the guest's command line: the cost of KASAN
# inside the arenas is
#   PYM_BENCH_KERNEL=debug PYM_BENCH_SMP=1 PYM_BENCH_MODES=icount \
#   PYM_BENCH_USER=0 PYM_BENCH_APPEND="pym_bench.quick=1 pymalloc.kasan_arenas=0"
# against the same with kasan_arenas=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="$PYM_ROOT/build/bench"
rm -rf "$out"
mkdir -p "$out"
pym_need_packages build-essential qemu-system-x86 busybox-static cpio gzip python3
if ! dpkg-query -W -f='${Status}' gnuplot-nox 2>/dev/null | grep -q 'ok installed'; then
	pym_need_packages gnuplot-nox || log "bench: no gnuplot, no chart"
fi
if [ "${PYM_BENCH_KERNEL:-}" = debug ]; then
	# The debug kernel (KASAN, lockdep): slow, so PYM_BENCH_APPEND
	# usually asks for pym_bench.quick=1.
	eval "$(bash "$PYM_ROOT/scripts/testkernel.sh")" || die "no debug kernel"
	kdir=$KDIR img=$KERNEL
else
	read -r _ kdir img < <(bash "$PYM_ROOT/scripts/distro.sh" | grep '^debian-6.12 ')
fi
pym_build_modules "$out" "$kdir" || die "module build failed, see $out/build.log"
mkdir -p "$out/bin"
xz -dc "$PYM_ROOT/tools/testing/core/data/debian-6.12-boot.kmalloc.xz" >"$out/bin/kmalloc-trace.txt"
bash "$PYM_ROOT/scripts/initramfs.sh" "$out/initramfs.cpio.gz" bench "$out/modules" "$out/bin"
# One boot of the bench suite: results in $out/<name>.txt.
boot_bench() { # smp mode name append
	local smp=$1 mode=$2 name=$3 append=$4 extra="" again="" try
	[ "$mode" = icount ] && extra="-icount shift=0,sleep=off"
	# Under TCG the distro kernel has, rarely, died while booting
	# (an int3 left by text patching, a double fault in cmpxchg16b):
	# a boot that printed no results gets one more try, logged.
	for try in 1 2; do
		log "bench: $name$again"
		PYM_SMP=$smp PYM_MEM=4G PYM_QEMU_EXTRA="$extra" PYM_TIMEOUT=1800 \
			bash "$PYM_ROOT/scripts/qemu.sh" "$img" "$out/initramfs.cpio.gz" \
			"$out/$name" "$append" ||
			die "$name run failed, see $out/$name/console.log"
		pym_suite_output "$out/$name/results.log" bench >"$out/$name.txt"
		[ -s "$out/$name.txt" ] && return 0
		tail -n 5 "$out/$name/console.log" >&2
		again=" (again: boot $try printed no results)"
	done
	die "$name printed no results twice, see $out/$name/console.log"
}

for smp in ${PYM_BENCH_SMP:-1 4 8}; do
	for mode in ${PYM_BENCH_MODES:-wall icount}; do
		boot_bench "$smp" "$mode" "smp$smp-$mode" "${PYM_BENCH_APPEND:-}"
	done
done
# What sampling for debugfs callers costs: the same short run, off and on.
if [ -z "${PYM_BENCH_SMP:-}${PYM_BENCH_MODES:-}${PYM_BENCH_KERNEL:-}" ]; then
	# Debian boots with init_on_alloc=1; without it, as other kernels do.
	boot_bench 1 icount init-on-alloc-0 "init_on_alloc=0"
	boot_bench 1 icount sampling-off "pym_bench.quick=1"
	boot_bench 1 icount sampling-on "pym_bench.quick=1 pymalloc.sample_interval=4096"
fi
python3 "$PYM_ROOT/scripts/bench_report.py" "$out" ${PYM_BENCH_SMP:-1 4 8} >"$out/report.txt"
cat "$out/report.txt"
if command -v gnuplot >/dev/null; then
	(cd "$PYM_ROOT" && gnuplot scripts/bench_pairs.gp) >/dev/null 2>&1 &&
		log "bench: chart in $out/pairs.png" || log "bench: gnuplot failed"
fi

[ "${PYM_BENCH_USER:-1}" = 0 ] && exit 0
echo
echo "== user space: magazine + core, and the core alone, against user-space allocators"
pym_need_packages valgrind libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libpython3.11 \
	libpython3.11-testsuite xz-utils
make -s -C "$PYM_ROOT/tools/testing/core" OUT="$out/user" ubench | tee "$out/user.txt"
make -s -C "$PYM_ROOT/tools/testing/core" OUT="$out/user" icount | tee "$out/icount.txt"
make -s -C "$PYM_ROOT/tools/testing/core" OUT="$out/user" memory | tee "$out/memory.txt"
if [ -z "${PYM_BENCH_SMP:-}${PYM_BENCH_MODES:-}" ]; then
	python3 "$PYM_ROOT/scripts/bench_report.py" "$out" 1 4 8 \
		--doc "$PYM_ROOT/Documentation/figures.md" >/dev/null
	log "bench: figures written to Documentation/figures.md"
fi
