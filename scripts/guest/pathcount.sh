# SPDX-License-Identifier: GPL-2.0
# For scripts/pathcount.sh: publish the addresses to trace, give the host
# time to attach gdb, then run the benchmarks whose calls it steps through.
insmod /lib/pym/pymalloc.ko || exit 1
grep -wE 'pym_alloc|pym_free|__kmalloc_noprof|kfree' /proc/kallsyms >/dev/console
echo PYM-PATHCOUNT-READY >/dev/console
sleep 30
insmod /lib/pym/pym_bench.ko
