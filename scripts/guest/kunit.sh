# SPDX-License-Identifier: GPL-2.0
# KUnit suites: they run while pymalloc_kunit.ko loads; each suite's KTAP
# is then read back from debugfs, free of interleaved console output.
insmod /lib/pym/pymalloc.ko || { echo "Bail out! insmod pymalloc.ko failed"; exit 1; }
insmod /lib/pym/pymalloc_kunit.ko || { echo "Bail out! insmod pymalloc_kunit.ko failed"; exit 1; }
n=0
for d in /sys/kernel/debug/kunit/pymalloc*; do
	[ -f "$d/results" ] || continue
	cat "$d/results"
	n=$((n + 1))
done
[ $n -gt 0 ] || echo "# no KUnit suite ran (filtered out?)"
rmmod pymalloc_kunit && rmmod pymalloc
