/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pymalloc - CPython's small-object allocator design (obmalloc) for the
 * kernel. Requests of 1..512 bytes are served from 4 KiB pools of 8-byte
 * size classes carved out of 256 KiB arenas; larger requests go to kmalloc,
 * recorded as pymalloc's, and are freed by pym_free() all the same. Only
 * pointers pymalloc handed out are accepted; anything else is refused and
 * reported.
 *
 * Context: every function here may be called from process, softirq and
 * hardirq context, provided the gfp flags fit the context (GFP_KERNEL may
 * sleep to obtain an arena; GFP_ATOMIC and GFP_NOWAIT never sleep), except
 * pym_heap_create() and pym_heap_destroy(), which sleep. On PREEMPT_RT the
 * rules are kmalloc's there: not with preemption or interrupts disabled,
 * nor under a raw_spinlock_t, nor in a non-threaded interrupt handler.
 *
 * See Documentation/pymalloc.rst.
 */
#ifndef _PYMALLOC_H
#define _PYMALLOC_H

#include <linux/gfp.h>
#include <linux/types.h>

#include <pymalloc_stats.h>

/* Largest request served from pools; larger ones go to kmalloc. */
#define PYM_SMALL_MAX	512

struct pym_heap;

/* pym_heap_create() flags */
#define PYM_HEAP_NOCACHE	0x1	/* no per-CPU magazines */
/*
 * Arenas stay with the heap until it is destroyed: memory that held its
 * blocks serves nothing else meanwhile (Documentation/pymalloc.rst).
 */
#define PYM_HEAP_PINNED		0x2
/*
 * Guards, fills, serial numbers, stacks and a quarantine around every
 * block, checked at free and by "check"; no per-CPU magazines.
 */
#define PYM_HEAP_DEBUG		0x4

/**
 * struct pym_stats - the figures of a heap, as pym_heap_stats() returns them
 * @v: one value per figure, indexed by enum pym_stat (pymalloc_stats.h),
 *     which says what each one counts; the heap's debugfs "stats" file
 *     shows the same figures by name
 */
struct pym_stats {
	u64 v[PYM_STAT_NR];
};

#define PYM_ARENA_BYTES	(256UL << 10)
#define PYM_POOL_BYTES	(4UL << 10)

void *pym_alloc(size_t size, gfp_t gfp);
void *pym_zalloc(size_t size, gfp_t gfp);
void *pym_calloc(size_t n, size_t size, gfp_t gfp);
void *pym_realloc(const void *p, size_t new_size, gfp_t gfp);
void pym_free(const void *p);
size_t pym_size(const void *p);

struct pym_heap *pym_heap_create(const char *name, unsigned int flags);
void pym_heap_destroy(struct pym_heap *heap);
void *pym_heap_alloc(struct pym_heap *heap, size_t size, gfp_t gfp);
int pym_heap_stats(struct pym_heap *heap, struct pym_stats *st);
int pym_heap_check(struct pym_heap *heap);
void pym_heap_shrink(struct pym_heap *heap);

int pym_alloc_bulk(struct pym_heap *heap, size_t size, gfp_t gfp, size_t n,
		   void **p);
void pym_free_bulk(size_t n, void **p);

void pym_free_rcu(const void *p);
void pym_rcu_barrier(void);

#endif /* _PYMALLOC_H */
