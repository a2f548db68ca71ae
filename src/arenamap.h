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
 * the rest. none is what pym_map_find() answers for a region without an
 * entry, and what its flat slot holds: the arenas' map answers with
 * pym_no_arena, whose fields say "no heap", so that the fast free tests
 * one field instead of the pointer and then the field.
 */
struct pym_map {
	void **flat;
	unsigned long flat_end;
	void *none;
	struct pym_map_mid *top[1 << PYM_MAP_TOP_BITS];
};

extern struct pym_map pym_arenas;
extern struct pym_arena pym_no_arena;

/* PAGE_OFFSET in arenas: the direct map starts on a 1 GiB boundary. */
extern unsigned long pym_arena_first;

/*
 * The offset in the direct map in arenas; huge for addresses below it.
 * One shift and one subtraction leave the shifted address for nothing
 * else to keep.
 */
static __always_inline unsigned long pym_arena_number(const void *p)
{
	return ((unsigned long)p >> PYM_ARENA_SHIFT) - pym_arena_first;
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
 * The entry of map for the 256 KiB region holding p, or map->none. One
 * unsigned comparison sends every address below the direct map (user
 * pointers, NULL and ZERO_SIZE_PTR wrap around to huge numbers) or above
 * its flat part to the tree, which refuses what lies outside the direct
 * map.
 */
static __always_inline void *pym_map_find(struct pym_map *map, const void *p)
{
	unsigned long n = pym_arena_number(p);

	/*
	 * READ_ONCE()'s volatile access makes GCC compute the slot's
	 * address apart, one instruction more on every free; a relaxed
	 * atomic load is the same single load, and KCSAN knows it as one.
	 */
	if (likely(n < map->flat_end))
		return __atomic_load_n(&map->flat[n], __ATOMIC_RELAXED);
	return pym_map_tree_lookup(map, n) ?: map->none;
}

/* The entry of map for the region holding p, or NULL. */
static __always_inline void *pym_map_lookup(struct pym_map *map, const void *p)
{
	void *entry = pym_map_find(map, p);

	return entry == map->none ? NULL : entry;
}

/*
 * The arena holding p, or pym_no_arena (no core, no magazine): for the fast
 * free, which declines both alike.
 */
static __always_inline struct pym_arena *pym_arena_find(const void *p)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "arena lookup outside an RCU reader");
	return pym_map_find(&pym_arenas, p);
}

/* The arena holding p, or NULL. */
static __always_inline struct pym_arena *pym_arena_lookup(const void *p)
{
	struct pym_arena *a = pym_arena_find(p);

	return a == &pym_no_arena ? NULL : a;
}

void *pym_map_install(struct pym_map *map, const void *p, void *entry,
		      gfp_t gfp);
void pym_map_clear(struct pym_map *map, const void *p);
int pym_map_init_flat(struct pym_map *map);
void pym_map_exit(struct pym_map *map);

#endif /* _PYM_ARENAMAP_H */
