// SPDX-License-Identifier: GPL-2.0
/*
 * arenamap.c - from any address to the pymalloc arena holding it.
 *
 * The arena number is the offset of an address in the direct map divided
 * by 256 KiB. The direct map as far as it reached when pymalloc loaded
 * has a flat array of one slot per arena number, 8 bytes per 256 KiB of
 * memory (1/32768 of it), so that a free finds its arena with one load.
 * Above that, memory hot-added later, a three-level radix tree (CPython
 * 3.10's arena map, for the same reason: decide ownership without reading
 * the pointed-to memory): 8 + 10 + 10 bits cover the 64 TiB x86-64 direct
 * map; anything outside it (vmalloc, modules, the kernel image, user
 * pointers) falls off the top level at once. Lookups take no lock; nodes
 * are never freed while the module is loaded, entries are cleared when
 * their arena goes back, and the descriptors they point to are freed after
 * an RCU grace period, so lookups run under rcu_read_lock() or with
 * interrupts off.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/spinlock.h>

#include "arenamap.h"
#include "compat.h"
#include "internal.h"

unsigned long pym_arena_first __ro_after_init;
EXPORT_SYMBOL_IF_KUNIT(pym_arena_first);

/* Never a heap's: no core, no pool with a magazine, no bit set. */
struct pym_arena pym_no_arena;
EXPORT_SYMBOL_IF_KUNIT(pym_no_arena);
struct pym_map pym_arenas = { .none = &pym_no_arena };
EXPORT_SYMBOL_IF_KUNIT(pym_arenas);
static DEFINE_SPINLOCK(map_lock);	/* writers of every map */

/*
 * A flat slot for every region of the direct map as it is now: the
 * arenas' map gets one at load time. A map without stays a tree.
 */
int pym_map_init_flat(struct pym_map *map)
{
	unsigned long end = pym_arena_number((char *)high_memory - 1) + 1, n;

	map->flat = kvmalloc_array(end, sizeof(*map->flat), GFP_KERNEL);
	if (!map->flat)
		return -ENOMEM;
	for (n = 0; n < end; n++)
		map->flat[n] = map->none;
	map->flat_end = end;
	return 0;
}

/*
 * Put entry in map's slot for p's region unless one is there already, and
 * return the slot's entry; map->none when a node could not be allocated
 * or p is outside the direct map. Nodes are allocated with gfp before the
 * lock is taken; a spare left over from a race is freed.
 *
 * The releases pair with the lockless READ_ONCE() loads in
 * pym_map_lookup(): a reader that sees a pointer sees what it points to
 * initialised (zeroed nodes, a set-up entry).
 */
void *pym_map_install(struct pym_map *map, const void *p, void *entry,
		      gfp_t gfp)
{
	unsigned long n = pym_arena_number(p), flags;
	struct pym_map_mid *mid, *new_mid = NULL;
	struct pym_map_leaf *leaf, *new_leaf = NULL;
	unsigned int t, m;
	void *old;

	if (n < map->flat_end) {
		spin_lock_irqsave(&map_lock, flags);
		old = map->flat[n];
		if (old == map->none) {
			old = entry;
			smp_store_release(&map->flat[n], entry); /* see above */
		}
		spin_unlock_irqrestore(&map_lock, flags);
		return old;
	}
	if (n >> PYM_MAP_BITS)
		return map->none;
	t = n >> (PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS);
	m = (n >> PYM_MAP_LEAF_BITS) & PYM_MAP_MID_MASK;
	mid = READ_ONCE(map->top[t]);
	if (!mid)
		new_mid = kzalloc(sizeof(*new_mid), gfp);
	leaf = mid ? READ_ONCE(mid->leaf[m]) : NULL;
	if (!leaf)
		new_leaf = kzalloc(sizeof(*new_leaf), gfp);
	if ((!mid && !new_mid) || (!leaf && !new_leaf)) {
		kfree(new_mid);
		kfree(new_leaf);
		return map->none;
	}

	spin_lock_irqsave(&map_lock, flags);
	mid = map->top[t];
	if (!mid) {
		mid = new_mid;
		new_mid = NULL;
		smp_store_release(&map->top[t], mid); /* see above */
	}
	leaf = mid->leaf[m];
	if (!leaf) {
		leaf = new_leaf;
		new_leaf = NULL;
		smp_store_release(&mid->leaf[m], leaf); /* see above */
	}
	old = leaf->entry[n & PYM_MAP_LEAF_MASK];
	if (!old) {
		old = entry;
		smp_store_release(&leaf->entry[n & PYM_MAP_LEAF_MASK], entry); /* see above */
	}
	spin_unlock_irqrestore(&map_lock, flags);
	kfree(new_mid);
	kfree(new_leaf);
	return old;
}
EXPORT_SYMBOL_IF_KUNIT(pym_map_install);

/* Map the arena at base to a; -ENOMEM when a node could not be had. */
int pym_arena_map(void *base, struct pym_arena *a, gfp_t gfp)
{
	return pym_map_install(&pym_arenas, base, a, gfp) == a ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(pym_arena_map);

void pym_map_clear(struct pym_map *map, const void *p)
{
	unsigned long n = pym_arena_number(p), flags;
	struct pym_map_leaf *leaf;
	struct pym_map_mid *mid;

	spin_lock_irqsave(&map_lock, flags);
	if (n < map->flat_end) {
		WRITE_ONCE(map->flat[n], map->none);
		spin_unlock_irqrestore(&map_lock, flags);
		return;
	}
	mid = map->top[n >> (PYM_MAP_MID_BITS + PYM_MAP_LEAF_BITS)];
	leaf = mid->leaf[(n >> PYM_MAP_LEAF_BITS) & PYM_MAP_MID_MASK];
	WRITE_ONCE(leaf->entry[n & PYM_MAP_LEAF_MASK], NULL);
	spin_unlock_irqrestore(&map_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(pym_map_clear);

void pym_arena_unmap(void *base)
{
	pym_map_clear(&pym_arenas, base);
}
EXPORT_SYMBOL_IF_KUNIT(pym_arena_unmap);

/* Free map's nodes, and its entries with free_entry(). */
static void map_free(struct pym_map *map, void (*free_entry)(void *entry))
{
	unsigned int t, m, e;
	unsigned long n;

	for (n = 0; n < map->flat_end; n++)
		if (map->flat[n] != map->none)
			free_entry(map->flat[n]);
	kvfree(map->flat);
	map->flat = NULL;
	map->flat_end = 0;
	for (t = 0; t < ARRAY_SIZE(map->top); t++) {
		struct pym_map_mid *mid = map->top[t];

		if (!mid)
			continue;
		for (m = 0; m < ARRAY_SIZE(mid->leaf); m++) {
			struct pym_map_leaf *leaf = mid->leaf[m];

			for (e = 0; leaf && e < ARRAY_SIZE(leaf->entry); e++)
				if (leaf->entry[e] && leaf->entry[e] != map->none)
					free_entry(leaf->entry[e]);
			kfree(leaf);
		}
		kfree(mid);
		map->top[t] = NULL;
	}
}

static void entry_kfree(void *entry)
{
	kfree(entry);
}

/* A map whose entries are kmalloc()ed and its own, freed with it. */
void pym_map_exit(struct pym_map *map)
{
	map_free(map, entry_kfree);
}
EXPORT_SYMBOL_IF_KUNIT(pym_map_exit);

int pym_arena_map_init(void)
{
	pym_arena_first = PAGE_OFFSET >> PYM_ARENA_SHIFT;
	return pym_map_init_flat(&pym_arenas);
}

static void entry_karena(void *entry)
{
	pym_karena_leaked(entry);
}

void pym_arena_map_exit(void)
{
	map_free(&pym_arenas, entry_karena);
}
