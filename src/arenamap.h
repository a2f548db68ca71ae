/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arenamap.h - the lock-free lookup of arenamap.c, inline for the free
 * path. Call with rcu_read_lock() held or interrupts off.
 */
#ifndef _PYM_ARENAMAP_H
#define _PYM_ARENAMAP_H

#include <linux/mm.h>
#include <linux/rcupdate.h>

#include "core.h"

#define PYM_MAP_LEAF_BITS	10
#define PYM_MAP_MID_BITS	10
#define PYM_MAP_TOP_BITS	8
#define PYM_MAP_BITS	(PYM_MAP_TOP_BITS + PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS)
#define PYM_MAP_LEAF_MASK	((1UL << PYM_MAP_LEAF_BITS) - 1)
#define PYM_MAP_MID_MASK	((1UL << PYM_MAP_MID_BITS) - 1)

struct pym_map_leaf {
	struct pym_arena *arena[1 << PYM_MAP_LEAF_BITS];
};

struct pym_map_mid {
	struct pym_map_leaf *leaf[1 << PYM_MAP_MID_BITS];
};

extern struct pym_map_mid *pym_map_top[1 << PYM_MAP_TOP_BITS];

/* The offset in the direct map in arenas; huge for other addresses. */
static __always_inline unsigned long pym_arena_number(const void *p)
{
	return ((unsigned long)p - PAGE_OFFSET) >> PYM_ARENA_SHIFT;
}

static __always_inline struct pym_arena *pym_arena_lookup(const void *p)
{
	unsigned long n = pym_arena_number(p);
	struct pym_map_leaf *leaf;
	struct pym_map_mid *mid;

	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "arena lookup outside an RCU reader");
	if (unlikely(n >> PYM_MAP_BITS))
		return NULL;
	mid = READ_ONCE(pym_map_top[n >> (PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS)]);
	if (unlikely(!mid))
		return NULL;
	leaf = READ_ONCE(mid->leaf[(n >> PYM_MAP_LEAF_BITS) & PYM_MAP_MID_MASK]);
	if (unlikely(!leaf))
		return NULL;
	return READ_ONCE(leaf->arena[n & PYM_MAP_LEAF_MASK]);
}

#endif /* _PYM_ARENAMAP_H */
