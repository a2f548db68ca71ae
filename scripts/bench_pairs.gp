# SPDX-License-Identifier: GPL-2.0
# Alloc+free pair cost by size, pymalloc against kmalloc (make bench).
set terminal png size 900,500
set output "build/bench/pairs.png"
set title "alloc+free pair, Debian 6.12 in QEMU (-icount: instructions)"
set xlabel "size (bytes)"
set ylabel "instructions per pair"
set logscale x 2
set key left top
set grid
plot "build/bench/pairs.dat" using ($1 == 1 ? $2 : 1/0):5 with linespoints title "pymalloc, smp 1", \
     "" using ($1 == 1 ? $2 : 1/0):6 with linespoints title "kmalloc, smp 1", \
     "" using ($1 == 4 ? $2 : 1/0):5 with linespoints title "pymalloc, smp 4", \
     "" using ($1 == 4 ? $2 : 1/0):6 with linespoints title "kmalloc, smp 4"
