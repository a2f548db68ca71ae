// SPDX-License-Identifier: GPL-2.0
/*
 * arenamap.c - from any address to the pymalloc arena holding it.
 *
 * A three-level radix tree over the arena number, the offset of an address
 * in the direct map divided by 256 KiB (CPython 3.10's arena map, for the
 * same reason: decide ownership without reading the pointed-to memory).
 * 8 + 10 + 10 bits cover the 64 TiB x86-64 direct map; anything outside it
 * (vmalloc, modules, the kernel image, user pointers) falls off the top
 * level at once. A lookup is three dependent loads and no lock; nodes are
 * never freed while the module is loaded, entries are cleared when their
 * arena goes back, and the descriptors they point to are freed after an
 * RCU grace period, so lookups run under rcu_read_lock() or with
 * interrupts off.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "arenamap.h"
#include "compat.h"
#include "internal.h"

struct pym_map_mid *pym_map_top[1 << PYM_MAP_TOP_BITS];
EXPORT_SYMBOL_IF_KUNIT(pym_map_top);
static DEFINE_SPINLOCK(map_lock);	/* writers */

/*
 * Map the arena at base to a. Nodes are allocated with gfp before the lock
 * is taken; a spare left over from a race is freed.
 */
int pym_arena_map(void *base, struct pym_arena *a, gfp_t gfp)
{
	unsigned long n = pym_arena_number(base), flags;
	struct pym_map_mid *mid, *new_mid = NULL;
	struct pym_map_leaf *leaf, *new_leaf = NULL;
	unsigned int t, m;

	if (n >> PYM_MAP_BITS)
		return -ERANGE;
	t = n >> (PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS);
	m = (n >> PYM_MAP_LEAF_BITS) & PYM_MAP_MID_MASK;
	mid = READ_ONCE(pym_map_top[t]);
	if (!mid)
		new_mid = kzalloc(sizeof(*new_mid), gfp);
	leaf = mid ? READ_ONCE(mid->leaf[m]) : NULL;
	if (!leaf)
		new_leaf = kzalloc(sizeof(*new_leaf), gfp);
	if ((!mid && !new_mid) || (!leaf && !new_leaf)) {
		kfree(new_mid);
		kfree(new_leaf);
		return -ENOMEM;
	}

	/*
	 * The releases pair with the lockless READ_ONCE() loads in
	 * pym_arena_lookup(): a reader that sees a pointer sees what it
	 * points to initialised (zeroed nodes, a set-up descriptor).
	 */
	spin_lock_irqsave(&map_lock, flags);
	mid = pym_map_top[t];
	if (!mid) {
		mid = new_mid;
		new_mid = NULL;
		smp_store_release(&pym_map_top[t], mid); /* see above */
	}
	leaf = mid->leaf[m];
	if (!leaf) {
		leaf = new_leaf;
		new_leaf = NULL;
		smp_store_release(&mid->leaf[m], leaf); /* see above */
	}
	smp_store_release(&leaf->arena[n & PYM_MAP_LEAF_MASK], a); /* see above */
	spin_unlock_irqrestore(&map_lock, flags);
	kfree(new_mid);
	kfree(new_leaf);
	return 0;
}

void pym_arena_unmap(void *base)
{
	unsigned long n = pym_arena_number(base), flags;
	struct pym_map_leaf *leaf;
	struct pym_map_mid *mid;

	spin_lock_irqsave(&map_lock, flags);
	mid = pym_map_top[n >> (PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS)];
	leaf = mid->leaf[(n >> PYM_MAP_LEAF_BITS) & PYM_MAP_MID_MASK];
	WRITE_ONCE(leaf->arena[n & PYM_MAP_LEAF_MASK], NULL);
	spin_unlock_irqrestore(&map_lock, flags);
}

void pym_arena_map_exit(void)
{
	unsigned int t, m;

	for (t = 0; t < ARRAY_SIZE(pym_map_top); t++) {
		if (!pym_map_top[t])
			continue;
		for (m = 0; m < ARRAY_SIZE(pym_map_top[t]->leaf); m++)
			kfree(pym_map_top[t]->leaf[m]);
		kfree(pym_map_top[t]);
		pym_map_top[t] = NULL;
	}
}
