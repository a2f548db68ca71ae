/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uheap.h - a user-space heap around the allocator core: what heap.c does in
 * the kernel (arena supply, address-to-arena lookup, small/large split),
 * minus locking, so tests, fuzzers and callgrind drive the real core.
 */
#ifndef _UHEAP_H
#define _UHEAP_H

#include "../../../src/core.h"
#include "../../../src/magazine.h"

/* Simulated CPUs, each with magazines of its own (uheap_set_cpu()). */
#define UHEAP_CPUS		2

/*
 * With magazines (uheap_init_cached), a heap is what a kernel heap is on
 * UHEAP_CPUS CPUs that take turns: allocations pop and frees push the
 * current CPU's per-class magazine, which overflows into and refills from
 * a depot shared by the CPUs, then the core, as pcpu.c does.
 */
struct uheap {
	struct pym_core core;
	bool cached;
	unsigned long secret;
	struct pym_mag *mags;		/* the current CPU's, one per class */
	struct pym_mag cpu_mags[UHEAP_CPUS][PYM_NR_CLASSES];
	struct pym_depot depots[PYM_NR_CLASSES];
	unsigned long arena_fail_after;	/* fail arena supply after N, 0 = never */
	unsigned long arenas_supplied;
	unsigned char fresh_pattern;	/* written over new arenas, 0 = none */
};

#define UHEAP_MAP_BITS		10
#define UHEAP_MAP_MASK		(BIT(UHEAP_MAP_BITS) - 1)

/* Arena number -> descriptor, three levels of 10 bits (48-bit addresses). */
extern struct pym_arena **uheap_map[BIT(UHEAP_MAP_BITS)][BIT(UHEAP_MAP_BITS)];

void uheap_init(struct uheap *h, unsigned int keep_empty);
void uheap_init_cached(struct uheap *h, unsigned int keep_empty);
void uheap_destroy(struct uheap *h);
void *uheap_alloc_slow(struct uheap *h, size_t size);
int uheap_free_slow(struct uheap *h, void *p, struct pym_arena *a);
unsigned int uheap_check(struct uheap *h);

static inline struct pym_arena *uheap_arena_of(const void *p)
{
	unsigned long n = (unsigned long)p >> PYM_ARENA_SHIFT;
	struct pym_arena **leaf;

	if (n >> (3 * UHEAP_MAP_BITS))
		return NULL;
	leaf = uheap_map[n >> (2 * UHEAP_MAP_BITS)]
			[(n >> UHEAP_MAP_BITS) & UHEAP_MAP_MASK];
	return leaf ? leaf[n & UHEAP_MAP_MASK] : NULL;
}

static inline void uheap_set_cpu(struct uheap *h, unsigned int cpu)
{
	h->mags = h->cpu_mags[cpu];
}

/* The current CPU's magazine of cls is empty: the depot, then the core. */
static inline void *uheap_refill(struct uheap *h, unsigned int cls)
{
	struct pym_mag *mag = &h->mags[cls];
	void *p;

	p = pym_depot_get(&h->depots[cls], mag, pym_mag_state_cap(mag->state) / 2 + 1);
	return p ? p : pym_mag_refill(&h->core, mag, cls, h->secret);
}

static inline void *uheap_alloc(struct uheap *h, size_t size)
{
	void *p;

	if (likely(size - 1 < PYM_SMALL_THRESHOLD)) {
		unsigned int cls = pym_size_class(size);

		if (h->cached) {
			p = pym_mag_pop(&h->mags[cls]);
			if (likely(p))
				return p;
			p = uheap_refill(h, cls);
		} else {
			p = pym_core_alloc(&h->core, cls);
		}
		if (likely(p))
			return p;
	}
	return uheap_alloc_slow(h, size);
}

void uheap_flush(struct uheap *h, struct pym_mag *mag, unsigned int n,
		 struct pym_arena **release);

/* 0, or the refusal: PYM_BLOCK_* for blocks, -1 for another heap's. */
static inline int uheap_free(struct uheap *h, void *p)
{
	struct pym_arena *a = uheap_arena_of(p), *release = NULL;
	int st;

	if (unlikely(!a || a->core != &h->core))
		return uheap_free_slow(h, p, a);
	if (h->cached) {
		struct pym_pool *pool = pym_pool_of(a, p);
		struct pym_mag *mag;

		st = pym_block_check(pool, (unsigned long)p & (PYM_POOL_SIZE - 1));
		if (likely(st == PYM_BLOCK_OK) &&
		    unlikely(pym_mag_cached(p, h->secret)))
			st = PYM_BLOCK_NOT_ALLOCATED;
		if (unlikely(st != PYM_BLOCK_OK)) {
			h->core.cnt.invalid_frees++;
			return st;
		}
		mag = &h->mags[pool->cls];
		if (unlikely(pym_mag_full(mag))) {
			unsigned int n = pym_mag_state_cap(mag->state) / 2;

			n -= pym_depot_put(&h->depots[pool->cls], mag, n);
			if (n)
				uheap_flush(h, mag, n, &release);
		}
		pym_mag_push(mag, p, h->secret);
	} else {
		st = pym_core_free(&h->core, a, p, false, &release);
	}
	if (unlikely(release))
		uheap_free_slow(h, NULL, release);
	return st;
}

/* struct pym_out printing to stdout with a "# " prefix, TAP style. */
extern struct pym_out uheap_stdout;

#endif /* _UHEAP_H */
