// SPDX-License-Identifier: GPL-2.0
/*
 * core_bench.c - workloads for instruction counting under callgrind.
 *
 *   core_bench pair SIZE N      N alloc+free pairs of SIZE bytes
 *   core_bench batch SIZE N R   R rounds: N allocations, then N frees (LIFO)
 *
 * icount.sh runs each at two lengths and divides the difference, so setup
 * and process start-up cancel out.
 */
#include <stdio.h>
#include <stdlib.h>

#include "uheap.h"

static struct uheap h;

/* Calls, as kernel callers call pym_alloc() and pym_free() (see ubench.c). */
static noinline void *bench_alloc(size_t size)
{
	return uheap_alloc(&h, size);
}

static noinline void bench_free(void *p)
{
	uheap_free(&h, p);
}

int main(int argc, char **argv)
{
	unsigned long i, r, n, rounds, size;
	void **v;

	if (argc < 4)
		return 2;
	size = strtoul(argv[2], NULL, 0);
	n = strtoul(argv[3], NULL, 0);
	rounds = argc > 4 ? strtoul(argv[4], NULL, 0) : 1;
	uheap_init(&h, 1);
	/* Warm: the arena and the class's pool exist before measuring. */
	bench_free(bench_alloc(size));
	if (argv[1][0] == 'p') {
		for (i = 0; i < n; i++)
			bench_free(bench_alloc(size));
	} else {
		v = malloc(n * sizeof(*v));
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < n; i++)
				v[i] = bench_alloc(size);
			for (i = n; i-- > 0;)
				bench_free(v[i]);
		}
		free(v);
	}
	uheap_destroy(&h);
	return 0;
}
