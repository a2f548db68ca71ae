/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arenamap.h - the lock-free lookups of arenamap.c, inline for the free
 * path. pym_arena_lookup() runs under rcu_read_lock() or with preemption
 * or interrupts off: arena descriptors are freed after a grace period.
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
	void *entry[1 << PYM_MAP_LEAF_BITS];
};

struct pym_map_mid {
	struct pym_map_leaf *leaf[1 << PYM_MAP_MID_BITS];
};

/*
 * A map: arenas (pym_arenas), or large blocks' regions (large.c). Regions
 * below flat_end have a slot each in flat[]; the tree under top[] holds
 * the rest.
 */
struct pym_map {
	void **flat;
	unsigned long flat_end;
	struct pym_map_mid *top[1 << PYM_MAP_TOP_BITS];
};

extern struct pym_map pym_arenas;

/* The offset in the direct map in arenas; huge for other addresses. */
static __always_inline unsigned long pym_arena_number(const void *p)
{
	return ((unsigned long)p - PAGE_OFFSET) >> PYM_ARENA_SHIFT;
}

/* The entry of map for region n, in the tree (no flat slot), or NULL. */
static __always_inline void *pym_map_tree_lookup(struct pym_map *map,
						 unsigned long n)
{
	struct pym_map_leaf *leaf;
	struct pym_map_mid *mid;

	if (unlikely(n >> PYM_MAP_BITS))
		return NULL;
	mid = READ_ONCE(map->top[n >> (PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS)]);
	if (unlikely(!mid))
		return NULL;
	leaf = READ_ONCE(mid->leaf[(n >> PYM_MAP_LEAF_BITS) & PYM_MAP_MID_MASK]);
	if (unlikely(!leaf))
		return NULL;
	return READ_ONCE(leaf->entry[n & PYM_MAP_LEAF_MASK]);
}

/*
 * The entry of map for the 256 KiB region holding p, or NULL. One
 * unsigned comparison sends every address below the direct map (user
 * pointers wrap around to huge numbers) or above its flat part to the
 * tree, which refuses what lies outside the direct map.
 */
static __always_inline void *pym_map_lookup(struct pym_map *map, const void *p)
{
	unsigned long n = pym_arena_number(p);

	if (likely(n < map->flat_end))
		return READ_ONCE(map->flat[n]);
	return pym_map_tree_lookup(map, n);
}

static __always_inline struct pym_arena *pym_arena_lookup(const void *p)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "arena lookup outside an RCU reader");
	return pym_map_lookup(&pym_arenas, p);
}

void *pym_map_install(struct pym_map *map, const void *p, void *entry,
		      gfp_t gfp);
void pym_map_clear(struct pym_map *map, const void *p);
int pym_map_init_flat(struct pym_map *map);
void pym_map_exit(struct pym_map *map);

#endif /* _PYM_ARENAMAP_H */
