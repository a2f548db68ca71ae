// SPDX-License-Identifier: GPL-2.0
/*
 * preload.c - the core as a program's malloc, for LD_PRELOAD: how it
 * behaves under real programs rather than under benchmarks.
 *
 *   LD_PRELOAD=libpympreload.so PROGRAM...
 *
 * Requests of up to 512 bytes, rounded up to 16 as malloc's alignment
 * wants, come from one heap with one CPU's magazines and the depot in
 * front of its core, as a kernel heap has; the rest, and what asks for
 * more alignment, from glibc. One lock serialises the heap. Environment:
 *
 *   PYM_KEEP_ADAPTIVE=1  the adaptive kept-arena policy, the core aged
 *                        every second of wall time, as a kernel heap's
 *                        idle work does (default: keep_empty_arenas=1)
 *   PYM_PRELOAD_STATS=F  at exit, append a line to F: the program's pid,
 *                        allocations served, arenas obtained, the peak
 *                        of arenas, and whether pym_core_check() was ok
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uheap.h"

#include "libc_alloc.h"

#define SMALL_MAX	PYM_SMALL_THRESHOLD
#define AGE_CHECK	1024	/* calls between looks at the clock */

static struct uheap heap;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside;	/* in the heap: uheap.c's own mallocs go to glibc */
static int ready, adaptive;
static unsigned long served, calls;
static struct timespec last_age;

static void take(void)
{
	pthread_mutex_lock(&lock);
	inside = 1;
	if (!ready) {
		uheap_init_cached(&heap, 1);
		adaptive = getenv("PYM_KEEP_ADAPTIVE") &&
			   !strcmp(getenv("PYM_KEEP_ADAPTIVE"), "1");
		heap.core.keep_adaptive = adaptive;
		clock_gettime(CLOCK_MONOTONIC, &last_age);
		ready = 1;
	}
}

static void give(void)
{
	struct timespec now;

	if (adaptive && ++calls % AGE_CHECK == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > last_age.tv_sec) {
			uheap_age(&heap, false);
			last_age = now;
		}
	}
	inside = 0;
	pthread_mutex_unlock(&lock);
}

static void before_fork(void)
{
	pthread_mutex_lock(&lock);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void preload_init(void)
{
	pthread_atfork(before_fork, after_fork, after_fork);
}

__attribute__((destructor)) static void preload_report(void)
{
	const char *path = getenv("PYM_PRELOAD_STATS");
	unsigned int bad;
	FILE *f;

	if (!path || !ready)
		return;
	take();
	bad = uheap_check(&heap);
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "%d served %lu obtained %llu peak %llu check %s\n",
			(int)getpid(), served,
			(unsigned long long)heap.core.cnt[PYM_STAT_ARENAS_ALLOCATED],
			(unsigned long long)heap.core.cnt[PYM_STAT_ARENAS_HIGHWATER],
			bad ? "FAILED" : "ok");
		fclose(f);
	}
	give();
}

static struct pym_arena *ours(const void *p)
{
	struct pym_arena *a = p ? uheap_arena_of(p) : NULL;

	return a && a->core == &heap.core ? a : NULL;
}

void *malloc(size_t size)
{
	void *p;

	if (inside || size > SMALL_MAX)
		return __libc_malloc(size);
	take();
	p = uheap_alloc(&heap, size ? (size + 15) & ~15UL : 16);
	served++;
	give();
	return p;
}

void free(void *p)
{
	if (!p)
		return;
	if (inside) {
		__libc_free(p);
		return;
	}
	take();
	if (ours(p))
		uheap_free(&heap, p);
	else
		__libc_free(p);
	give();
}

void *calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	if (inside || bytes > SMALL_MAX)
		return __libc_calloc(n, size);
	p = malloc(bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* Usable bytes of one of our blocks. */
static size_t block_size(struct pym_arena *a, const void *p)
{
	return pym_class_size(pym_pool_of(a, p)->cls);
}

void *realloc(void *p, size_t size)
{
	struct pym_arena *a;
	size_t old;
	void *q;

	if (inside)
		return __libc_realloc(p, size);
	if (!p)
		return malloc(size);
	take();
	a = ours(p);
	give();
	if (!a)
		return __libc_realloc(p, size);
	if (!size) {
		free(p);
		return NULL;
	}
	old = block_size(a, p);
	if (size && size <= old)
		return p;
	q = malloc(size);
	if (q) {
		memcpy(q, p, old < size ? old : size);
		free(p);
	}
	return q;
}

size_t malloc_usable_size(void *p)
{
	struct pym_arena *a;

	if (!p)
		return 0;
	take();
	a = ours(p);
	give();
	/* glibc's chunk header: size and flags in the word before. */
	return a ? block_size(a, p) :
		   (((size_t *)p)[-1] & ~7UL) - (((size_t *)p)[-1] & 2 ? 16 : 8);
}

void *memalign(size_t align, size_t size)
{
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	return __libc_memalign(align, size);
}

/* POSIX's convention: the error number itself, positive. */
int posix_memalign(void **out, size_t align, size_t size)
{
	int err = EINVAL;
	void *p;

	if (align < sizeof(void *) || align & (align - 1))
		return err;
	p = __libc_memalign(align, size);
	err = ENOMEM;
	if (!p)
		return err;
	*out = p;
	return 0;
}

void *valloc(size_t size)
{
	return __libc_memalign(sysconf(_SC_PAGESIZE), size);
}
