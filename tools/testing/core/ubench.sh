#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ubench.sh BUILD_DIR - the user-space comparison: instructions per
# operation from callgrind (two run lengths, difference divided by the
# extra operations) and wall ns per operation, for pymalloc's core, glibc,
# jemalloc, mimalloc, tcmalloc and CPython 3.11's PyObject_Malloc.
set -uo pipefail
dir=$1
lib=/usr/lib/x86_64-linux-gnu
declare -A preload=(
	[glibc]=""
	[jemalloc]="$lib/libjemalloc.so.2"
	[mimalloc]="$lib/libmimalloc.so.2"
	[tcmalloc]="$lib/libtcmalloc_minimal.so.4"
)
ir() { # preload args...
	local pre=$1
	shift
	LD_PRELOAD=$pre valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_op() { # alloc preload workload
	local a c
	a=$(ir "$2" "$dir/ubench" "$1" "$3" 10000)
	c=$(ir "$2" "$dir/ubench" "$1" "$3" 110000)
	[ -n "$a" ] && [ -n "$c" ] && echo $(((c - a) / 100000)) || echo "-"
}
wall() {
	LD_PRELOAD=$2 "$dir/ubench" "$1" "$3" 3000000 wall 2>/dev/null || echo "-"
}
workloads="pair16 pair64 pair256 lifo64 fifo64 random"
printf '%-10s' "instr/op"
for w in $workloads; do printf ' %8s' "$w"; done
printf '   | wall ns/op:'
for w in $workloads; do printf ' %8s' "$w"; done
echo
row() { # name alloc preload
	printf '%-10s' "$1"
	for w in $workloads; do printf ' %8s' "$(per_op "$2" "$3" "$w")"; done
	printf '   |            '
	for w in $workloads; do printf ' %8s' "$(wall "$2" "$3" "$w")"; done
	echo
}
row pymalloc pymalloc ""
row pym-core pymalloc-core ""
for name in glibc jemalloc mimalloc tcmalloc; do
	p=${preload[$name]}
	if [ -n "$p" ] && [ ! -e "$p" ]; then
		echo "$name: not installed ($p)"
		continue
	fi
	row "$name" malloc "$p"
done
row cpython cpython ""
