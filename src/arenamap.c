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

#include "compat.h"
#include "internal.h"

#define MAP_LEAF_BITS	10
#define MAP_MID_BITS	10
#define MAP_TOP_BITS	8
#define MAP_BITS	(MAP_TOP_BITS + MAP_MID_BITS + MAP_LEAF_BITS)

struct map_leaf {
	struct pym_arena *arena[1 << MAP_LEAF_BITS];
};

struct map_mid {
	struct map_leaf *leaf[1 << MAP_MID_BITS];
};

static struct map_mid *map_top[1 << MAP_TOP_BITS];
static DEFINE_SPINLOCK(map_lock);	/* writers */

static inline unsigned long arena_number(const void *p)
{
	return ((unsigned long)p - PAGE_OFFSET) >> PYM_ARENA_SHIFT;
}

struct pym_arena *pym_arena_lookup(const void *p)
{
	unsigned long n = arena_number(p);
	struct map_leaf *leaf;
	struct map_mid *mid;

	if (unlikely(n >> MAP_BITS))
		return NULL;
	mid = READ_ONCE(map_top[n >> (MAP_MID_BITS + MAP_LEAF_BITS)]);
	if (unlikely(!mid))
		return NULL;
	leaf = READ_ONCE(mid->leaf[(n >> MAP_LEAF_BITS) &
				   ((1 << MAP_MID_BITS) - 1)]);
	if (unlikely(!leaf))
		return NULL;
	return READ_ONCE(leaf->arena[n & ((1 << MAP_LEAF_BITS) - 1)]);
}
EXPORT_SYMBOL_IF_KUNIT(pym_arena_lookup);

/*
 * Map the arena at base to a. Nodes are allocated with gfp before the lock
 * is taken; a spare left over from a race is freed.
 */
int pym_arena_map(void *base, struct pym_arena *a, gfp_t gfp)
{
	unsigned long n = arena_number(base), flags;
	struct map_mid *mid, *new_mid = NULL;
	struct map_leaf *leaf, *new_leaf = NULL;
	unsigned int t, m;

	if (n >> MAP_BITS)
		return -ERANGE;
	t = n >> (MAP_MID_BITS + MAP_LEAF_BITS);
	m = (n >> MAP_LEAF_BITS) & ((1 << MAP_MID_BITS) - 1);
	mid = READ_ONCE(map_top[t]);
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
	mid = map_top[t];
	if (!mid) {
		mid = new_mid;
		new_mid = NULL;
		smp_store_release(&map_top[t], mid); /* see above */
	}
	leaf = mid->leaf[m];
	if (!leaf) {
		leaf = new_leaf;
		new_leaf = NULL;
		smp_store_release(&mid->leaf[m], leaf); /* see above */
	}
	smp_store_release(&leaf->arena[n & ((1 << MAP_LEAF_BITS) - 1)], a); /* see above */
	spin_unlock_irqrestore(&map_lock, flags);
	kfree(new_mid);
	kfree(new_leaf);
	return 0;
}

void pym_arena_unmap(void *base)
{
	unsigned long n = arena_number(base), flags;
	struct map_leaf *leaf;
	struct map_mid *mid;

	spin_lock_irqsave(&map_lock, flags);
	mid = map_top[n >> (MAP_MID_BITS + MAP_LEAF_BITS)];
	leaf = mid->leaf[(n >> MAP_LEAF_BITS) & ((1 << MAP_MID_BITS) - 1)];
	WRITE_ONCE(leaf->arena[n & ((1 << MAP_LEAF_BITS) - 1)], NULL);
	spin_unlock_irqrestore(&map_lock, flags);
}

void pym_arena_map_exit(void)
{
	unsigned int t, m;

	for (t = 0; t < ARRAY_SIZE(map_top); t++) {
		if (!map_top[t])
			continue;
		for (m = 0; m < ARRAY_SIZE(map_top[t]->leaf); m++)
			kfree(map_top[t]->leaf[m]);
		kfree(map_top[t]);
		map_top[t] = NULL;
	}
}
