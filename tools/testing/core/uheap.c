// SPDX-License-Identifier: GPL-2.0
/*
 * uheap.c - user-space arena supply and arena map for the core.
 *
 * The kernel finds an arena through the struct page of its address; user
 * space has no such thing, so a three-level radix tree over the arena
 * number plays that part, as in CPython 3.10's address_in_range(). Nodes
 * are never freed while the process runs, so a lookup never reads freed
 * memory, only a NULL leaf.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "uheap.h"

struct pym_arena **uheap_map[BIT(UHEAP_MAP_BITS)][BIT(UHEAP_MAP_BITS)];
void (*pym_mag_race_hook)(void *mag);
unsigned long pym_cpu_offset;

/* Nodes are never freed, so a lookup never reads freed memory. */
static struct pym_arena **map_slot(const void *p)
{
	unsigned long n = (unsigned long)p >> PYM_ARENA_SHIFT;
	struct pym_arena ***leaf = &uheap_map[n >> (2 * UHEAP_MAP_BITS)]
				   [(n >> UHEAP_MAP_BITS) & UHEAP_MAP_MASK];

	if (!*leaf)
		*leaf = calloc(BIT(UHEAP_MAP_BITS), sizeof(**leaf));
	return &(*leaf)[n & UHEAP_MAP_MASK];
}

static void print_stdout(struct pym_out *out, const char *fmt, ...)
{
	va_list ap;

	(void)out;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

struct pym_out uheap_stdout = { .print = print_stdout };

void uheap_init(struct uheap *h, unsigned int keep_empty)
{
	memset(h, 0, sizeof(*h));
	pym_core_init(&h->core, keep_empty, sizeof(struct pym_arena));
	h->core.secret = 0x9e3779b97f4a7c15UL;
}

void uheap_init_cached(struct uheap *h, unsigned int keep_empty)
{
	unsigned int c, cpu;

	uheap_init(h, keep_empty);
	h->cached = true;
	h->secret = (unsigned long)random() << 32 ^ (unsigned long)random() ^
		    (unsigned long)h;
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		for (cpu = 0; cpu < UHEAP_CPUS; cpu++)
			pym_mag_init(&h->cpu_mags[cpu][c], c, cpu);
		pym_depot_init(&h->depots[c], c);
	}
	uheap_set_cpu(h, 0);
}

void uheap_flush(struct uheap *h, struct pym_mag *mag, unsigned int n,
		 struct pym_arena **release)
{
	pym_mag_flush(&h->core, mag, n, uheap_arena_of, release);
}

static void release_arenas(struct pym_arena *a)
{
	while (a) {
		struct pym_arena *next = a->release_next;

		*map_slot(a->base) = NULL;
		free(a->base);
		free(a);
		a = next;
	}
}

unsigned int uheap_link_reports;

void pym_core_report_link(struct pym_core *core, struct pym_pool *pool,
			  const void *b, unsigned long link)
{
	uheap_link_reports++;
}

static int add_arena(struct uheap *h)
{
	struct pym_arena *a;
	void *base;

	if (h->arena_fail_after && h->arenas_supplied >= h->arena_fail_after) {
		h->core.cnt[PYM_STAT_ARENA_FAILURES]++;
		h->core.cnt[PYM_STAT_ALLOC_FAILURES]++;
		return -1;
	}
	base = aligned_alloc(PYM_ARENA_SIZE, PYM_ARENA_SIZE);
	a = malloc(sizeof(*a));
	if (!base || !a) {
		free(base);
		free(a);
		h->core.cnt[PYM_STAT_ARENA_FAILURES]++;
		h->core.cnt[PYM_STAT_ALLOC_FAILURES]++;
		return -1;
	}
	if (h->fresh_pattern)
		memset(base, h->fresh_pattern, PYM_ARENA_SIZE);
	pym_core_add_arena(&h->core, a, base, 0);
	*map_slot(base) = a;
	h->arenas_supplied++;
	return 0;
}

/* An uncached heap's small allocation that pym_core_alloc_fast() missed. */
void *uheap_alloc_core(struct uheap *h, unsigned int cls)
{
	void *p;

	while (!(p = pym_core_alloc_slow(&h->core, cls)))
		if (add_arena(h))
			return NULL;
	return p;
}

void *uheap_alloc_slow(struct uheap *h, size_t size)
{
	unsigned int cls;
	void *p;

	if (size == 0 || size > PYM_SMALL_THRESHOLD)
		return malloc(size ? size : 1);
	cls = pym_size_class(size);
	if (!h->cached)
		return uheap_alloc_core(h, cls);
	while (!(p = uheap_refill(h, cls)))
		if (add_arena(h))
			return NULL;
	return p;
}

/*
 * Blocks of h that uheap_free()'s fast path did not take, uncached and
 * cached heaps apart: each saves only the registers it needs.
 */
int uheap_free_core(struct uheap *h, struct pym_arena *a, void *p)
{
	struct pym_arena *release = NULL;
	int st = pym_core_free(&h->core, a, p, false, &release);

	if (release)
		release_arenas(release);
	return st;
}

int uheap_free_mag(struct uheap *h, struct pym_arena *a, void *p)
{
	struct pym_pool *pool = pym_pool_of(a, p);
	struct pym_arena *release = NULL;
	struct pym_mag *mag;
	int st;

	st = pym_block_check(a, p);
	if (st == PYM_BLOCK_OK && pym_mag_cached(p, h->secret))
		st = PYM_BLOCK_NOT_ALLOCATED;
	if (st != PYM_BLOCK_OK) {
		h->core.cnt[pym_refusal_stat(st)]++;
		return st;
	}
	mag = &h->mags[pool->cls];
	if (pym_mag_full(mag))
		pym_mag_overflow(mag, &h->depots[pool->cls], &h->core,
				 uheap_arena_of, &release);
	pym_mag_push(mag, p, h->secret);
	if (release)
		release_arenas(release);
	return 0;
}

/*
 * Everything uheap_free()'s fast path leaves: h's blocks it did not take,
 * another heap's (refused), and foreign pointers, which are malloc's.
 */
int uheap_free_slow(struct uheap *h, void *p, struct pym_arena *a)
{
	if (a && a->core == &h->core)
		return h->cached ? uheap_free_mag(h, a, p) :
				   uheap_free_core(h, a, p);
	if (a)
		return -1;
	free(p);
	return 0;
}

unsigned int uheap_check(struct uheap *h)
{
	return pym_core_check(&h->core, &uheap_stdout);
}

unsigned int uheap_age(struct uheap *h, bool forget)
{
	struct pym_arena *release = NULL;
	unsigned int n = pym_core_age(&h->core, forget, &release);

	release_arenas(release);
	return n;
}

void uheap_destroy(struct uheap *h)
{
	struct pym_arena *release = NULL;
	unsigned int c, cpu;

	for (c = 0; h->cached && c < PYM_NR_CLASSES; c++) {
		for (cpu = 0; cpu < UHEAP_CPUS; cpu++) {
			struct pym_mag *mag = &h->cpu_mags[cpu][c];

			uheap_flush(h, mag, pym_mag_len(mag), &release);
		}
		pym_lock(&h->depots[c].lock);
		pym_lock(&h->core.lock);
		pym_depot_flush(&h->core, &h->depots[c], uheap_arena_of, &release);
		pym_unlock(&h->core.lock);
		pym_unlock(&h->depots[c].lock);
	}

	pym_core_trim(&h->core, &release);
	release_arenas(release);
}
