/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pymalloc_stats.h - the figures of a heap, defined once.
 *
 * struct pym_stats (pymalloc.h), the heap's debugfs "stats" file and the
 * allocator core all index their figures with this enum; the names in the
 * debugfs file come from one table next to it (src/stats.c). It includes
 * nothing, so that the core, which also builds in user space, shares it.
 */
#ifndef _PYMALLOC_STATS_H
#define _PYMALLOC_STATS_H

/**
 * enum pym_stat - the figures of a heap, indices into struct pym_stats
 * @PYM_STAT_ARENAS_ALLOCATED: arenas ever obtained from the page allocator
 * @PYM_STAT_ARENAS_RECLAIMED: arenas given back to the page allocator
 * @PYM_STAT_ARENAS_HIGHWATER: largest number of arenas held at once
 * @PYM_STAT_ARENAS_CURRENT: arenas held now, PYM_ARENA_BYTES each
 * @PYM_STAT_POOL_INITS: pools set up for a size class
 * @PYM_STAT_ALLOC_FAILURES: allocations that returned NULL for want of memory
 * @PYM_STAT_ARENA_FAILURES: arenas that could not be had from the page
 *	allocator (or failed on purpose, debugfs fail_arena)
 * @PYM_STAT_FALLBACK_ALLOCS: small allocations served by kmalloc because
 *	no arena could be had
 * @PYM_STAT_CORRUPTIONS: damage found: a block of a debug heap with a
 *	guard or the fill of a freed block overwritten (kept out of use), or a
 *	pool's free-list link overwritten (the list rebuilt from the bitmap)
 * @PYM_STAT_DOUBLE_FREES: frees refused: the block was free already, or
 *	never handed out
 * @PYM_STAT_INTERIOR_FREES: frees refused: a pointer into a block
 * @PYM_STAT_FOREIGN_FREES: frees refused: memory pymalloc does not manage
 * @PYM_STAT_SIZE_QUERIES_REFUSED: pym_size() or pym_realloc() of a pointer
 *	that is not an allocated block
 * @PYM_STAT_NR_KEPT: the figures above are counted as events happen; the
 *	ones below are computed when asked for
 * @PYM_STAT_INVALID_FREES: the four kinds of refusal above, summed
 * @PYM_STAT_POOLS_USED: pools holding at least one allocated block
 * @PYM_STAT_POOLS_EMPTY: empty pools inside the arenas held, spares included
 * @PYM_STAT_POOLS_SPARE: empty pools a size class keeps so that a lone
 *	alloc/free pair does not set a pool up each time
 * @PYM_STAT_BLOCKS_IN_USE: allocated blocks
 * @PYM_STAT_BLOCKS_CACHED: free blocks held in the per-CPU magazines and
 *	the depots behind them, ready for the next allocations
 * @PYM_STAT_BYTES_ARENAS: bytes of the arenas held; the sum of the four
 *	figures that follow
 * @PYM_STAT_BYTES_IN_USE: bytes of the allocated blocks
 * @PYM_STAT_BYTES_AVAILABLE: bytes of the free blocks inside used pools
 * @PYM_STAT_BYTES_EMPTY_POOLS: bytes of the empty pools
 * @PYM_STAT_BYTES_QUANTIZATION: pool tails too small to hold a block
 * @PYM_STAT_BYTES_METADATA: arena descriptors, kept outside the arenas, as
 *	charged by the allocator they come from
 * @PYM_STAT_NR: the number of figures
 */
enum pym_stat {
	PYM_STAT_ARENAS_ALLOCATED,
	PYM_STAT_ARENAS_RECLAIMED,
	PYM_STAT_ARENAS_HIGHWATER,
	PYM_STAT_ARENAS_CURRENT,
	PYM_STAT_POOL_INITS,
	PYM_STAT_ALLOC_FAILURES,
	PYM_STAT_ARENA_FAILURES,
	PYM_STAT_FALLBACK_ALLOCS,
	PYM_STAT_CORRUPTIONS,
	PYM_STAT_DOUBLE_FREES,
	PYM_STAT_INTERIOR_FREES,
	PYM_STAT_FOREIGN_FREES,
	PYM_STAT_SIZE_QUERIES_REFUSED,
	PYM_STAT_NR_KEPT,
	PYM_STAT_INVALID_FREES = PYM_STAT_NR_KEPT,
	PYM_STAT_POOLS_USED,
	PYM_STAT_POOLS_EMPTY,
	PYM_STAT_POOLS_SPARE,
	PYM_STAT_BLOCKS_IN_USE,
	PYM_STAT_BLOCKS_CACHED,
	PYM_STAT_BYTES_ARENAS,
	PYM_STAT_BYTES_IN_USE,
	PYM_STAT_BYTES_AVAILABLE,
	PYM_STAT_BYTES_EMPTY_POOLS,
	PYM_STAT_BYTES_QUANTIZATION,
	PYM_STAT_BYTES_METADATA,
	PYM_STAT_NR,
};

#endif /* _PYMALLOC_STATS_H */
