# SPDX-License-Identifier: GPL-2.0
# Microbenchmarks: the table pym_bench.ko computes while it loads.
sleep 2	# let boot-time work settle: the clock counts it too
# insmod, unlike modprobe, does not read module.param= from the command
# line (PYM_BENCH_APPEND): pass them on.
params() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1\.//p" | tr '\n' ' '; }
insmod /lib/pym/pymalloc.ko $(params pymalloc) || exit 1
insmod /lib/pym/pym_bench.ko $(params pym_bench) || exit 1
echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, cmdline: $(cat /proc/cmdline)"
if [ -f /bin/kmalloc-trace.txt ] && ! grep -q 'pym_bench.quick=1' /proc/cmdline; then
	# Dense IDs for pointers: the module then needs no hash table.
	awk '$1 == "a" { if (!($2 in id)) id[$2] = n++; print "a", id[$2], $3; next }
	     $1 == "f" && ($2 in id) { print "f", id[$2] }' /bin/kmalloc-trace.txt \
		> /sys/kernel/debug/pym_bench/trace
	echo run > /sys/kernel/debug/pym_bench/replay
fi
cat /sys/kernel/debug/pym_bench/results
rmmod pym_bench
rmmod pymalloc
