/* SPDX-License-Identifier: GPL-2.0 */
/*
 * magazine.h - a stack of free blocks of one size class in front of a core:
 * the per-CPU layer's data structure (pcpu.c in the kernel, one per CPU,
 * heap and class; uheap.c in user space, one per heap and class).
 *
 * Portable like core.h, and unlocked: the kernel runs these with
 * interrupts off on the local CPU and takes the core's lock only in
 * pym_mag_refill() and pym_mag_flush().
 *
 * A cached block is free for the user but allocated for the core. So that
 * the always-on checks still see it free, its first word holds a marker,
 * its address XOR a secret; a free finding the marker is a double free.
 * The marker is cleared before the block is handed out, so the secret
 * never reaches a caller.
 */
#ifndef _PYM_MAGAZINE_H
#define _PYM_MAGAZINE_H

#include "core.h"

#define PYM_MAG_MAX		32

struct pym_mag {
	unsigned int n;
	unsigned int cap;		/* pym_mag_cap() of the class */
	void *blocks[PYM_MAG_MAX];
};

/* At most 2 KiB of blocks per class, between 4 and PYM_MAG_MAX of them. */
static inline unsigned int pym_mag_cap(unsigned int cls)
{
	unsigned int n = 2048U / pym_class_size(cls);

	return n < 4 ? 4 : n > PYM_MAG_MAX ? PYM_MAG_MAX : n;
}

static __always_inline unsigned long
pym_mag_marker(const void *p, unsigned long secret)
{
	return (unsigned long)p ^ secret;
}

static __always_inline bool pym_mag_cached(const void *p, unsigned long secret)
{
	return *(const unsigned long *)p == pym_mag_marker(p, secret);
}

/* The block for the next allocation, marker cleared, or NULL if empty. */
static __always_inline void *pym_mag_pop(struct pym_mag *mag)
{
	void *p;

	if (unlikely(!mag->n))
		return NULL;
	p = mag->blocks[--mag->n];
	*(unsigned long *)p = 0;
	return p;
}

/* Room for one more block? The caller flushes first when not. */
static __always_inline bool pym_mag_full(const struct pym_mag *mag)
{
	return mag->n == mag->cap;
}

/* Cache p, an allocated block that is not cached already. */
static __always_inline void pym_mag_push(struct pym_mag *mag, void *p,
					 unsigned long secret)
{
	*(unsigned long *)p = pym_mag_marker(p, secret);
	mag->blocks[mag->n++] = p;
}

/*
 * Refill an empty magazine from the core (under the core's lock): half
 * its capacity plus one, so that an alloc/free cycle at the boundary does
 * not flush what it just took. Returns a block, marker-free, or NULL when
 * the core needs an arena.
 */
static __always_inline void *pym_mag_refill(struct pym_core *core,
					    struct pym_mag *mag,
					    unsigned int cls)
{
	mag->n = pym_core_alloc_bulk(core, cls, mag->cap / 2 + 1, mag->blocks);
	return mag->n ? mag->blocks[--mag->n] : NULL;
}

/*
 * Give the n oldest blocks back to the core (under the core's lock); the
 * newer ones stay, cache-hot. arena_of finds a cached block's arena.
 */
static __always_inline void
pym_mag_flush(struct pym_core *core, struct pym_mag *mag, unsigned int n,
	      struct pym_arena *(*arena_of)(const void *p),
	      struct pym_arena **release)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pym_core_free(core, arena_of(mag->blocks[i]), mag->blocks[i],
			      false, release);
	memmove(mag->blocks, mag->blocks + n, (mag->n - n) * sizeof(void *));
	mag->n -= n;
}

#endif /* _PYM_MAGAZINE_H */
