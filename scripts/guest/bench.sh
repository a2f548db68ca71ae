# SPDX-License-Identifier: GPL-2.0
# Microbenchmarks: the table pym_bench.ko computes while it loads.
sleep 2	# let boot-time work settle: the clock counts it too
insmod /lib/pym/pymalloc.ko || exit 1
insmod /lib/pym/pym_bench.ko || exit 1
echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, cmdline: $(cat /proc/cmdline)"
cat /sys/kernel/debug/pym_bench/results
rmmod pym_bench
rmmod pymalloc
