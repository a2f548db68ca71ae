# SPDX-License-Identifier: GPL-2.0
# make demo: an example client (samples/pym_intern.c) on its own heap.
set -e
D=/sys/kernel/debug
insmod /lib/pym/pymalloc.ko sample_interval=64
insmod /lib/pym/pym_intern.ko
echo "== pym_intern: interning 30000 pseudo-random words of 1..60 characters"
echo 30000 > $D/pym_intern/fill
cat $D/pym_intern/stats
echo
echo "== pymstat -o: every heap, then every class in use, by bytes"
pymstat -o
echo
echo "== pymstat --arenas: each arena's 64 pools"
pymstat --arenas --color=never
echo
echo "== $D/pymalloc/intern/callers: who holds the blocks (one allocation in 64 sampled)"
cat $D/pymalloc/intern/callers
echo
echo "== pymstat --slabinfo, for tools that read /proc/slabinfo"
pymstat --slabinfo
echo
echo "== $D/pymalloc/intern/check"
cat $D/pymalloc/intern/check
echo
echo "== after clearing the table: blocks the CPUs cache still pin their arenas"
echo "   (for up to two seconds of idleness, or until memory pressure)"
echo 1 > $D/pym_intern/clear
grep -E '^arenas_(allocated|reclaimed|current)|^bytes_(arenas|in_use)|^blocks_cached' $D/pymalloc/intern/stats
echo
echo "== memory pressure (drop_caches runs the shrinkers): everything goes back"
echo 2 > /proc/sys/vm/drop_caches
grep -E '^arenas_(allocated|reclaimed|current)|^bytes_arenas|^blocks_cached' $D/pymalloc/intern/stats
echo
echo "== pym_cache (samples/pym_cache.c): refcounted records looked up under RCU"
insmod /lib/pym/pym_cache.ko
echo "fill 2000" > $D/pym_cache/ctl
echo "stress 4 20000" > $D/pym_cache/ctl
echo sync > $D/pym_cache/ctl
cat $D/pym_cache/ctl
echo
echo "== $D/pymalloc/types"
cat $D/pymalloc/types
rmmod pym_cache
rmmod pym_intern
rmmod pymalloc
