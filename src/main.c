// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module parameters, the shrinker, load and unload.
 */
#include <linux/module.h>

#include "compat.h"
#include "internal.h"

unsigned int pym_keep_empty_arenas = 1;
module_param_named(keep_empty_arenas, pym_keep_empty_arenas, uint, 0444);
MODULE_PARM_DESC(keep_empty_arenas,
		 "wholly empty arenas each heap keeps at least against alloc/free thrashing (default 1); heaps with per-CPU caches keep more while their recent peak needs them; the shrinker releases them");

bool pym_debug_default;
module_param_named(debug, pym_debug_default, bool, 0444);
MODULE_PARM_DESC(debug,
		 "make the default heap a debug heap (PYM_HEAP_DEBUG), as slub_debug does for SLUB (default off)");

static struct shrinker *pym_shrinker;

/*
 * In pages, both ways. Reclaimable: dead objects on the types' free
 * lists, blocks cached in magazines and depots, and the kept empty arenas,
 * rounded up so that a few cached blocks still get the shrinker called.
 * Everything else holds live blocks. A scan drains the lists and caches,
 * which can empty arenas, then gives every empty arena back; it frees
 * what the page allocator gets back, and nothing less.
 */
static unsigned long pym_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	u64 bytes = pym_types_reclaimable() + pym_heaps_reclaimable();

	return DIV_ROUND_UP_ULL(bytes, PAGE_SIZE) ?: SHRINK_EMPTY;
}

static unsigned long pym_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	pym_types_drain();
	return pym_heaps_trim() ?: SHRINK_STOP;
}

static int __init pymalloc_init(void)
{
	int err;

	err = pym_karenas_init();
	if (err)
		return err;
	err = pym_arena_map_init();
	if (err)
		goto out_karenas;
	err = pym_pcpu_init();
	if (err)
		goto out_map;
	err = pym_debugfs_init();
	if (err)
		goto out_pcpu;
	err = pym_callers_init(pym_debugfs_dir());
	if (err)
		goto out_debugfs;
	err = pym_heaps_init();
	if (err)
		goto out_callers;
	pym_collector_init(pym_debugfs_dir());
	pym_rcu_init(pym_debugfs_dir());
	err = pym_types_init();
	if (err)
		goto out_heaps;
	pym_shrinker = pym_shrinker_register(pym_shrink_count, pym_shrink_scan);
	if (!pym_shrinker) {
		err = -ENOMEM;
		goto out_types;
	}
	return 0;

out_types:
	pym_types_exit();
out_heaps:
	pym_rcu_exit();
	pym_collector_exit();
	pym_heaps_exit();
out_callers:
	pym_callers_exit();
out_debugfs:
	pym_debugfs_exit();
out_pcpu:
	pym_pcpu_exit();
out_map:
	pym_arena_map_exit();
out_karenas:
	pym_karenas_exit();
	return err;
}

static void __exit pymalloc_exit(void)
{
	pym_shrinker_unregister(pym_shrinker);
	pym_types_exit();
	pym_rcu_exit();
	pym_collector_exit();
	pym_heaps_exit();
	pym_callers_exit();
	pym_debugfs_exit();
	pym_pcpu_exit();
	/* After every heap is gone: no lookup can run any more. */
	pym_arena_map_exit();
	pym_karenas_exit();
	pym_large_exit();
}

module_init(pymalloc_init);
module_exit(pymalloc_exit);
MODULE_DESCRIPTION("pymalloc: CPython's obmalloc small-object allocator for the kernel");
MODULE_AUTHOR("The pymalloc developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(PYM_VERSION);
