/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpu.h - the fast paths of the per-CPU magazines (pcpu.c), inline.
 */
#ifndef _PYM_PCPU_H
#define _PYM_PCPU_H

#include <linux/percpu.h>

#include "core.h"

#define PYM_MAG_MAX		32

/* A CPU's stack of free blocks of one class of one heap. */
struct pym_mag {
	unsigned int n;
	unsigned int cap;		/* pym_mag_cap() of the class */
	void *blocks[PYM_MAG_MAX];
};

struct pym_pcpu {
	struct pym_mag mags[PYM_NR_CLASSES];
};

struct pym_heap;

extern unsigned long pym_mag_secret;

unsigned int pym_mag_cap(unsigned int cls);
void *pym_mag_refill(struct pym_heap *heap, struct pym_mag *mag,
		     unsigned int cls);
void pym_mag_overflow(struct pym_heap *heap, struct pym_mag *mag,
		      struct pym_arena **release);

/* What a cached block holds in its first word: see pcpu.c. */
static __always_inline unsigned long pym_mag_marker(const void *p)
{
	return (unsigned long)p ^ pym_mag_secret;
}

static __always_inline bool pym_mag_cached(const void *p)
{
	return *(const unsigned long *)p == pym_mag_marker(p);
}

static __always_inline void *pym_mag_alloc(struct pym_heap *heap,
					   struct pym_pcpu __percpu *pcpu,
					   unsigned int cls)
{
	struct pym_mag *mag;
	unsigned long flags;
	void *p;

	local_irq_save(flags);
	mag = &this_cpu_ptr(pcpu)->mags[cls];
	if (likely(mag->n))
		p = mag->blocks[--mag->n];
	else
		p = pym_mag_refill(heap, mag, cls);
	local_irq_restore(flags);
	if (likely(p))
		*(unsigned long *)p = 0;
	return p;
}

/* Cache p, an allocated block of heap; interrupts are off. */
static __always_inline void pym_mag_push(struct pym_heap *heap,
					 struct pym_pcpu __percpu *pcpu,
					 unsigned int cls, void *p,
					 struct pym_arena **release)
{
	struct pym_mag *mag = &this_cpu_ptr(pcpu)->mags[cls];

	*(unsigned long *)p = pym_mag_marker(p);
	if (unlikely(mag->n == mag->cap))
		pym_mag_overflow(heap, mag, release);
	mag->blocks[mag->n++] = p;
}

#endif /* _PYM_PCPU_H */
