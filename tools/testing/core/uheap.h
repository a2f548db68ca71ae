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
 * a depot shared by the CPUs, then the core: magazine.h's policy, the
 * kernel's.
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
void *uheap_alloc_core(struct uheap *h, unsigned int cls);
int uheap_free_slow(struct uheap *h, void *p, struct pym_arena *a);
int uheap_free_core(struct uheap *h, struct pym_arena *a, void *p);
int uheap_free_mag(struct uheap *h, struct pym_arena *a, void *p);
unsigned int uheap_check(struct uheap *h);
/* pym_core_age(), the arenas it gives back freed. */
unsigned int uheap_age(struct uheap *h, bool forget);

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
	pym_cpu_offset = cpu * sizeof(h->cpu_mags[0]);
}

/* The current CPU's magazine of cls is empty: the kernel's policy. */
static inline void *uheap_refill(struct uheap *h, unsigned int cls)
{
	return pym_mag_refill(&h->mags[cls], &h->depots[cls], &h->core, cls,
			      h->secret);
}

/* As heap.c: a fast path that calls nothing, the rest out of line. */
static inline void *uheap_alloc(struct uheap *h, size_t size)
{
	unsigned int cls = pym_size_class(size);
	void *p;

	if (unlikely(size - 1 >= PYM_SMALL_THRESHOLD))
		return uheap_alloc_slow(h, size);
	if (!h->cached) {
		p = pym_core_alloc_fast(&h->core, cls);
		return likely(p) ? p : uheap_alloc_core(h, cls);
	}
	p = pym_mag_pop(&h->mags[cls]);
	return likely(p) ? p : uheap_alloc_slow(h, size);
}

void uheap_flush(struct uheap *h, struct pym_mag *mag, unsigned int n,
		 struct pym_arena **release);

/*
 * 0, or the refusal: PYM_BLOCK_* for blocks, -1 for another heap's. As
 * heap.c: the common free calls nothing; the rest goes out of line.
 */
static inline int uheap_free(struct uheap *h, void *p)
{
	struct pym_arena *a = uheap_arena_of(p);
	struct pym_pool *pool;
	struct pym_mag *mag;

	if (unlikely(!a || a->core != &h->core))
		return uheap_free_slow(h, p, a);
	if (!h->cached)
		return pym_core_free_fast(&h->core, a, p) ? 0 : uheap_free_core(h, a, p);
	pool = pym_pool_of(a, p);
	mag = &h->mags[pool->cls];
	if (unlikely(pym_block_check(a, p) != PYM_BLOCK_OK ||
		     pym_mag_cached(p, h->secret) ||
		     pym_mag_full(mag)))
		return uheap_free_mag(h, a, p);
	pym_mag_push(mag, p, h->secret);
	return 0;
}

/* struct pym_out printing to stdout with a "# " prefix, TAP style. */
extern struct pym_out uheap_stdout;

extern unsigned int uheap_link_reports;

#endif /* _UHEAP_H */
