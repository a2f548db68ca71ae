/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpu.h - the fast paths of the per-CPU magazines (pcpu.c), inline.
 */
#ifndef _PYM_PCPU_H
#define _PYM_PCPU_H

#include <linux/percpu.h>
#include <linux/spinlock.h>

#include "magazine.h"

/* A CPU's magazines, one per class, for one heap. */
struct pym_pcpu {
	struct pym_mag mags[PYM_NR_CLASSES];
};

/* A heap's depot of one class (magazine.h), under a lock of its own. */
struct pym_pcpu_depot {
	spinlock_t lock;		/* protects d */
	struct pym_depot d;
} ____cacheline_aligned_in_smp;

struct pym_heap;

extern unsigned long pym_mag_secret;

void *pym_pcpu_refill(struct pym_heap *heap, struct pym_mag *mag,
		      unsigned int cls);
void pym_pcpu_overflow(struct pym_heap *heap, struct pym_mag *mag,
		       unsigned int cls, struct pym_arena **release);

/* The slow path's pop: interrupts off, refill from the core when empty. */
static __always_inline void *pym_pcpu_alloc(struct pym_heap *heap,
					    struct pym_pcpu __percpu *pcpu,
					    unsigned int cls)
{
	struct pym_mag *mag;
	unsigned long flags;
	void *p;

	local_irq_save(flags);
	mag = &this_cpu_ptr(pcpu)->mags[cls];
	p = pym_mag_pop(mag);
	if (unlikely(!p))
		p = pym_pcpu_refill(heap, mag, cls);
	local_irq_restore(flags);
	return p;
}

/*
 * This CPU's magazine of class cls; preemption is off. Hidden from the
 * optimiser so that blocks[] is indexed off this one address rather than
 * recomputed from the per-CPU base and the class.
 */
static __always_inline struct pym_mag *
pym_pcpu_mag(struct pym_pcpu __percpu *pcpu, unsigned int cls)
{
	struct pym_mag *mag = &this_cpu_ptr(pcpu)->mags[cls];

	OPTIMIZER_HIDE_VAR(mag);
	return mag;
}

/* Cache p, an allocated block of heap; interrupts are off. */
static __always_inline void pym_pcpu_push(struct pym_heap *heap,
					  struct pym_pcpu __percpu *pcpu,
					  unsigned int cls, void *p,
					  struct pym_arena **release)
{
	struct pym_mag *mag = &this_cpu_ptr(pcpu)->mags[cls];

	if (unlikely(pym_mag_full(mag)))
		pym_pcpu_overflow(heap, mag, cls, release);
	pym_mag_push(mag, p, pym_mag_secret);
}

#endif /* _PYM_PCPU_H */
