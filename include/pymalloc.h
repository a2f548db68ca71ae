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

/* Largest request served from pools; larger ones go to kmalloc. */
#define PYM_SMALL_MAX	512

struct pym_heap;

/* pym_heap_create() flags */
#define PYM_HEAP_NOCACHE	0x1	/* no per-CPU magazines */

/**
 * struct pym_stats - figures of one heap, as returned by pym_heap_stats()
 * @arenas_allocated: arenas ever obtained from the page allocator
 * @arenas_reclaimed: arenas given back to the page allocator
 * @arenas_highwater: largest number of arenas held at once
 * @arenas_current: arenas held now (each PYM_ARENA_BYTES)
 * @pools_used: pools holding at least one allocated block
 * @pools_empty: empty pools inside the current arenas
 * @blocks_in_use: allocated blocks
 * @bytes_in_use: sum of the block sizes of the allocated blocks
 * @bytes_available: bytes of free blocks inside used pools
 * @alloc_failures: allocations that failed for want of an arena
 * @invalid_frees: foreign, interior and double frees refused
 * @bytes_quantization: pool tails too small to hold a block
 * @bytes_metadata: arena descriptors, kept outside the arenas
 */
struct pym_stats {
	u64 arenas_allocated;
	u64 arenas_reclaimed;
	u64 arenas_highwater;
	u64 arenas_current;
	u64 pools_used;
	u64 pools_empty;
	u64 blocks_in_use;
	u64 bytes_in_use;
	u64 bytes_available;
	u64 alloc_failures;
	u64 invalid_frees;
	u64 bytes_quantization;
	u64 bytes_metadata;
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

#endif /* _PYMALLOC_H */
