// SPDX-License-Identifier: GPL-2.0
/*
 * large.c - the blocks kmalloc serves for pymalloc: those above
 * PYM_SMALL_MAX, and small ones when no arena could be had (the
 * fallback, alloc.c), with pymalloc's record.
 *
 * pymalloc keeps a record of each such block it hands out, so that its
 * functions accept exactly the blocks it handed out and still holds: an
 * interior, double or foreign pointer is refused like a bad small one, and
 * never reaches kfree(). kmalloc aligns every block of a power-of-two size
 * to that size, and every block above 512 bytes to at least 1 KiB (its
 * caches there are powers of two, then whole pages); fallback blocks are
 * asked for in powers of two from PYM_LARGE_SLOT bytes. So the record is
 * one bit per 64-byte slot of the direct map, in a bitmap per 256 KiB
 * region found through a map like the arena map (arenamap.c). Recording
 * and forgetting a block are one atomic bit operation each, no lock, and a
 * free takes the bit with test_and_clear_bit() before kfree(), so that of
 * two frees of the same block exactly one frees it. A region's 512-byte
 * bitmap is made when a first block lands there and kept until pymalloc is
 * unloaded: at most one per 256 KiB of memory, none freed and made again
 * under alloc/free churn. No pointer to a block is stored, so kmemleak
 * still reports a block its owner leaks.
 */
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "internal.h"

#define PYM_LARGE_SLOTS		(PYM_ARENA_SIZE / PYM_LARGE_SLOT)

struct pym_large_region {
	DECLARE_BITMAP(live, PYM_LARGE_SLOTS);
};

static struct pym_map pym_large;

static __always_inline unsigned int large_slot(const void *p)
{
	return ((unsigned long)p & (PYM_ARENA_SIZE - 1)) / PYM_LARGE_SLOT;
}

static __always_inline bool large_aligned(const void *p)
{
	return IS_ALIGNED((unsigned long)p, PYM_LARGE_SLOT);
}

/*
 * Does p, which is no live block, look like a pointer into one? Blocks
 * start at a multiple of a power of two from one slot up: small ones at
 * their size, large ones at 1 KiB or more. A slot-aligned p is taken for
 * a block freed already, and a block more than 1 KiB before p is not
 * looked for: such p are called double frees, refused all the same.
 */
static bool large_interior(struct pym_large_region *r, const void *p)
{
	unsigned long align, start;

	if (IS_ALIGNED((unsigned long)p, PYM_LARGE_SLOT))
		return false;
	for (align = PYM_LARGE_SLOT; align <= SZ_1K; align *= 2) {
		start = ALIGN_DOWN((unsigned long)p, align);
		if (test_bit(large_slot((void *)start), r->live))
			return true;
	}
	return false;
}

/* p's region, made with gfp if need be; NULL if it could not be. */
static struct pym_large_region *large_region(const void *p, gfp_t gfp)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p), *fresh;

	if (likely(r))
		return r;
	fresh = kzalloc(sizeof(*fresh), gfp);
	if (!fresh)
		return NULL;
	r = pym_map_install(&pym_large, p, fresh, gfp);
	if (r != fresh)
		kfree(fresh);
	return r;
}

/*
 * A kmalloc block of size > PYM_SMALL_MAX, or of a power of two from
 * PYM_LARGE_SLOT, recorded; NULL if either failed.
 */
void *pym_large_alloc(size_t size, gfp_t gfp)
{
	struct pym_large_region *r;
	void *p;

	/*
	 * All of what kmalloc gives is the caller's: pym_size() says so, and
	 * ksize() no longer tells KASAN.
	 */
	p = kmalloc(kmalloc_size_roundup(size), gfp);
	if (!p)
		return NULL;
	if (WARN_ONCE(!large_aligned(p),
		      "pymalloc: kmalloc(%zu) returned %p, not %u-byte aligned\n",
		      size, p, PYM_LARGE_SLOT))
		r = NULL;
	else
		r = large_region(p, gfp & ~__GFP_ZERO);
	if (unlikely(!r)) {
		kfree(p);
		return NULL;
	}
	set_bit(large_slot(p), r->live);
	return p;
}

/*
 * p lies in no arena: free it if it is a large block pymalloc holds.
 * Otherwise nothing is touched and the figure naming the refusal returned.
 */
enum pym_stat pym_large_free(const void *p)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p);

	if (likely(r && large_aligned(p) &&
		   test_and_clear_bit(large_slot(p), r->live))) {
		kfree(p);
		return PYM_STAT_NR;
	}
	if (r && large_interior(r, p))
		return PYM_STAT_INTERIOR_FREES;
	return virt_addr_valid(p) ? PYM_STAT_DOUBLE_FREES :
	       PYM_STAT_FOREIGN_FREES;
}

/*
 * What pym_large_free() would say of p, which lies in no arena, without
 * freeing it: PYM_STAT_NR for a large block pymalloc holds.
 */
enum pym_stat pym_large_check(const void *p)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p);

	if (r && large_aligned(p) && test_bit(large_slot(p), r->live))
		return PYM_STAT_NR;
	if (r && large_interior(r, p))
		return PYM_STAT_INTERIOR_FREES;
	return virt_addr_valid(p) ? PYM_STAT_DOUBLE_FREES :
	       PYM_STAT_FOREIGN_FREES;
}

/* Usable size of a kmalloc block pymalloc holds, or 0. */
size_t pym_large_size(const void *p)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p);

	return r && large_aligned(p) && test_bit(large_slot(p), r->live) ?
	       ksize(p) : 0;
}

/* kmalloc blocks still live now belong to no one: their records go. */
void pym_large_exit(void)
{
	pym_map_exit(&pym_large);
}
