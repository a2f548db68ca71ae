#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# icount.sh BUILD_DIR - instructions per alloc+free pair of the core in user
# space, from callgrind (deterministic), with and without the always-on
# bad-free checks. Two run lengths per figure; the difference divided by
# the extra pairs leaves only the per-pair cost.
set -euo pipefail
dir=$1
ir() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_pair() { # binary mode size n1 n2 [rounds1 rounds2]
	local b=$1 mode=$2 size=$3 a c
	if [ "$mode" = pair ]; then
		a=$(ir "$b" pair "$size" "$4")
		c=$(ir "$b" pair "$size" "$5")
		echo $(((c - a) / ($5 - $4)))
	else
		a=$(ir "$b" batch "$size" 1000 "$4")
		c=$(ir "$b" batch "$size" 1000 "$5")
		echo $(((c - a) / (($5 - $4) * 1000)))
	fi
}
printf '%-40s %8s %10s\n' "instructions per alloc+free pair" checked unchecked
for size in 16 64 256; do
	printf '%-40s %8s %10s\n' "single pair, $size B" \
		"$(per_pair "$dir/core_bench" pair $size 1000 11000)" \
		"$(per_pair "$dir/core_bench_unchecked" pair $size 1000 11000)"
	printf '%-40s %8s %10s\n' "1000 allocs then LIFO frees, $size B" \
		"$(per_pair "$dir/core_bench" batch $size 1 11)" \
		"$(per_pair "$dir/core_bench_unchecked" batch $size 1 11)"
done
obj() { # mode
	local a c
	a=$(ir "$dir/obj_bench" "$1" 1000)
	c=$(ir "$dir/obj_bench" "$1" 11000)
	echo $(((c - a) / 10000))
}
echo
printf '%-40s %8s\n' "instructions per new+put, 64-byte object" ""
printf '%-40s %8s\n' "pym_obj_new + pym_obj_put, free-list hits" "$(obj cache)"
printf '%-40s %8s\n' "pym_obj_new + pym_obj_put, no free list" "$(obj nocache)"
printf '%-40s %8s\n' "malloc + refcount + free (kmalloc + kref)" "$(obj kref)"
