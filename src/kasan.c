// SPDX-License-Identifier: GPL-2.0
/*
 * kasan.c - generic KASAN inside the arenas.
 *
 * KASAN sees an arena as one page allocation, valid from end to end, so
 * without help it misses an overflow into the next block or a use of a
 * freed block. pymalloc keeps the arenas' shadow itself, as SLUB keeps its
 * slabs': a freed block (in a pool, a magazine or a depot) is poisoned as a
 * freed slab object, an allocated block is valid up to the size asked for,
 * and memory no block was carved from yet is a redzone. The caller's bad
 * access is then reported by KASAN itself, with its usual report:
 * "slab-use-after-free" for a freed block, "slab-out-of-bounds" past the
 * size asked for (up to the next 8-byte granule, KASAN's grain; the
 * classes are 8-byte steps, so that is all of the rest of the block).
 *
 * The kernel exports no poisoning function to modules: kasan_poison() and
 * kasan_unpoison() are internal to mm/kasan, and the exported
 * __asan_set_shadow_*() write only the values the compiler's stack
 * instrumentation needs. What <linux/kasan.h> does give modules is
 * kasan_mem_to_shadow() (with the configured KASAN_SHADOW_OFFSET), so
 * this file writes the shadow bytes itself, with the values mm/kasan uses
 * for slab objects. It is built without KASAN instrumentation, as are the
 * files that read or write free blocks (core.c, alloc.c, pcpu.c,
 * check.c): mm/slub.c is built the same way. Blocks kept by the object
 * layer (types' free lists) are allocated blocks to the allocator.
 */
#include <linux/bits.h>
#include <linux/kasan.h>
#include <linux/module.h>
#include <linux/string.h>

#include "kasan.h"

/* mm/kasan/kasan.h: the values its reports name. */
#define PYM_KASAN_SLAB_REDZONE	0xFC	/* "slab-out-of-bounds" */
#define PYM_KASAN_SLAB_FREE	0xFB	/* "slab-use-after-free" */
#define PYM_KASAN_GRANULE	BIT(KASAN_SHADOW_SCALE_SHIFT)

static bool kasan_arenas = true;
module_param(kasan_arenas, bool, 0444);
MODULE_PARM_DESC(kasan_arenas,
		 "on generic KASAN kernels, keep KASAN's view of the arenas: free blocks poisoned, allocated ones valid to the size asked for (default on)");

/* p and size are multiples of the granule: blocks and arenas are. */
static void shadow_fill(const void *p, size_t size, u8 value)
{
	if (!kasan_arenas)
		return;
	memset(kasan_mem_to_shadow(p), value, size >> KASAN_SHADOW_SCALE_SHIFT);
}

/*
 * An allocated block: size bytes valid, the rest of block (at most
 * size rounded up to the granule) a redzone.
 */
void pym_kasan_alloc(const void *p, size_t size, size_t block)
{
	size_t whole = round_down(size, PYM_KASAN_GRANULE);

	if (!kasan_arenas)
		return;
	shadow_fill(p, whole, 0);
	if (whole < size) {
		*(u8 *)kasan_mem_to_shadow(p + whole) = size - whole;
		whole += PYM_KASAN_GRANULE;
	}
	if (block > whole)
		shadow_fill(p + whole, block - whole, PYM_KASAN_SLAB_REDZONE);
}

/* A block freed, cached or back in its pool. */
void pym_kasan_free(const void *p, size_t block)
{
	shadow_fill(p, block, PYM_KASAN_SLAB_FREE);
}

/* Memory no block was carved from yet: a new arena. */
void pym_kasan_unused(const void *p, size_t size)
{
	shadow_fill(p, size, PYM_KASAN_SLAB_REDZONE);
}

/* Valid again, all of it: an arena going back to the page allocator. */
void pym_kasan_unpoison(const void *p, size_t size)
{
	shadow_fill(p, size, 0);
}
