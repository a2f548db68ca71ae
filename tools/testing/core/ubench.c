// SPDX-License-Identifier: GPL-2.0
/*
 * ubench.c - the same workloads on the user-space build of the core and on
 * user-space allocators, for callgrind (instructions) and wall time.
 *
 *   ubench ALLOC WORKLOAD N [wall]
 *
 * ALLOC: pymalloc (magazine + core, as one CPU of a kernel heap),
 * pymalloc-core (the core alone), malloc (glibc, or whatever
 * LD_PRELOAD puts in front: jemalloc, mimalloc, tcmalloc), cpython
 * (PyObject_Malloc/PyObject_Free from libpython3.11, no interpreter).
 * WORKLOAD: pair16, pair64, pair256 (alloc+free), lifo64, fifo64 (1000
 * allocations then frees), random (sizes 1..512, live set up to 4096).
 * N is the number of operations; with "wall", prints ns per operation.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "uheap.h"

enum alloc { PYM, PYMCORE, MALLOC, CPYTHON };

static struct uheap heap;
static void *(*py_malloc)(size_t);
static void (*py_free)(void *);
static void *vec[4096];

/*
 * Calls, as the kernel's pym_alloc() and pym_free() are and the other
 * allocators' entry points are: inlined into the loops, pymalloc would
 * count fewer instructions than any caller in the kernel pays.
 */
static noinline void *pym_alloc_call(size_t size)
{
	return uheap_alloc(&heap, size);
}

static noinline void pym_free_call(void *p)
{
	uheap_free(&heap, p);
}

static inline void *u_alloc(enum alloc a, size_t size)
{
	switch (a) {
	case PYM:
	case PYMCORE:
		return pym_alloc_call(size);
	case CPYTHON:
		return py_malloc(size);
	default:
		return malloc(size);
	}
}

static inline void u_free(enum alloc a, void *p)
{
	switch (a) {
	case PYM:
	case PYMCORE:
		pym_free_call(p);
		break;
	case CPYTHON:
		py_free(p);
		break;
	default:
		free(p);
	}
}

static noinline void pair(enum alloc a, size_t size, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *p = u_alloc(a, size);

		WRITE_ONCE(*(char *)p, 1);
		u_free(a, p);
	}
}

static noinline void batch(enum alloc a, int fifo, unsigned long n)
{
	unsigned long r, i;

	for (r = 0; r < n / 1000; r++) {
		for (i = 0; i < 1000; i++)
			vec[i] = u_alloc(a, 64);
		for (i = 0; i < 1000; i++)
			u_free(a, vec[fifo ? i : 999 - i]);
	}
}

static noinline void random_sizes(enum alloc a, unsigned long n)
{
	unsigned long long x = 88172645463325252ULL;
	unsigned long i;

	for (i = 0; i < n; i++) {
		unsigned int k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % 4096;
		if (vec[k]) {
			u_free(a, vec[k]);
			vec[k] = NULL;
		} else {
			vec[k] = u_alloc(a, 1 + (x >> 20) % 512);
		}
	}
	for (i = 0; i < 4096; i++)
		if (vec[i])
			u_free(a, vec[i]);
}

int main(int argc, char **argv)
{
	enum alloc a = PYM;
	struct timespec t0, t1;
	unsigned long n;
	const char *w;

	if (argc < 4)
		return 2;
	if (!strcmp(argv[1], "pymalloc-core")) {
		a = PYMCORE;
	} else if (!strcmp(argv[1], "malloc")) {
		a = MALLOC;
	} else if (!strcmp(argv[1], "cpython")) {
		void *lib = dlopen("libpython3.11.so.1.0", RTLD_NOW);

		if (!lib)
			return 3;
		py_malloc = (void *(*)(size_t))dlsym(lib, "PyObject_Malloc");
		py_free = (void (*)(void *))dlsym(lib, "PyObject_Free");
		if (!py_malloc || !py_free)
			return 3;
		a = CPYTHON;
	}
	w = argv[2];
	n = strtoul(argv[3], NULL, 0);
	if (a == PYMCORE)
		uheap_init(&heap, 1);
	else
		uheap_init_cached(&heap, 1);
	/* Warm: every allocator gets its first arena/page before timing. */
	u_free(a, u_alloc(a, 64));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strncmp(w, "pair", 4))
		pair(a, strtoul(w + 4, NULL, 0), n);
	else if (!strcmp(w, "lifo64") || !strcmp(w, "fifo64"))
		batch(a, w[0] == 'f', n);
	else
		random_sizes(a, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (argc > 4)
		printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 +
				  (t1.tv_nsec - t0.tv_nsec)) / n);
	uheap_destroy(&heap);
	return 0;
}
