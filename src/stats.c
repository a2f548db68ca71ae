// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - figures about a core, computed on demand.
 *
 * Nothing on the allocation fast path maintains these: CPython found that
 * even one global counter per malloc/free is measurable (bpo-37537), so the
 * pools are walked when somebody asks. The walk is O(arenas * 64).
 */
#include "core.h"

void pym_core_collect(const struct pym_core *core, struct pym_core_stats *st)
{
	const struct pym_link *l;
	unsigned int i;

	pym_core_assert_held(core);
	memset(st, 0, sizeof(*st));
	st->cnt = core->cnt;
	for (l = core->all_arenas.next; l != &core->all_arenas; l = l->next) {
		const struct pym_arena *a = container_of(l, struct pym_arena, all);

		st->node_arenas[a->nid < 0 ? 0 : a->nid < PYM_STATS_NODES ?
				a->nid : PYM_STATS_NODES - 1]++;
		for (i = 0; i < PYM_POOLS_PER_ARENA; i++) {
			const struct pym_pool *pool = &a->pools[i];
			struct pym_class_stats *cs = &st->cls[pool->cls];
			unsigned int size = pym_class_size(pool->cls);
			unsigned int cap = pym_class_capacity[pool->cls];

			if (pool->ref == 0) {
				st->pools_empty++;
				st->pools_cached += pym_pool_cached(pool);
				continue;
			}
			st->pools_used++;
			cs->pools++;
			cs->blocks += pool->ref;
			cs->avail += cap - pool->ref;
			st->blocks_in_use += pool->ref;
			st->bytes_in_use += (u64)pool->ref * size;
			st->bytes_available += (u64)(cap - pool->ref) * size;
			st->bytes_quantization += PYM_POOL_SIZE - cap * size;
		}
	}
}

/* CPython's printone(): the label, then the number with thousands commas. */
static void print_one(struct pym_out *out, const char *label, u64 v)
{
	char buf[32];
	int i = sizeof(buf) - 1, digits = 0;

	buf[i] = '\0';
	do {
		if (digits && digits % 3 == 0)
			buf[--i] = ',';
		buf[--i] = '0' + (char)(v % 10);
		v /= 10;
		digits++;
	} while (v);
	out->print(out, "%-35s= %21s\n", label, &buf[i]);
}

void pym_core_print_stats(const struct pym_core_stats *st, struct pym_out *out)
{
	u64 narenas = st->cnt.arenas_current, total;
	char label[64];
	unsigned int c;

	out->print(out, "Small block threshold = %u, in %u size classes.\n\n",
		   PYM_SMALL_THRESHOLD, PYM_NR_CLASSES);
	out->print(out, "class   size   num pools   blocks in use  avail blocks\n");
	out->print(out, "-----   ----   ---------   -------------  ------------\n");
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		const struct pym_class_stats *cs = &st->cls[c];

		if (!cs->pools)
			continue;
		out->print(out, "%5u %6u %11llu %15llu %13llu\n", c,
			   pym_class_size(c), (unsigned long long)cs->pools,
			   (unsigned long long)cs->blocks,
			   (unsigned long long)cs->avail);
	}
	out->print(out, "\n");
	print_one(out, "# arenas allocated total", st->cnt.arenas_allocated);
	print_one(out, "# arenas reclaimed", st->cnt.arenas_reclaimed);
	print_one(out, "# arenas highwater mark", st->cnt.arenas_highwater);
	print_one(out, "# arenas allocated current", narenas);
	snprintf(label, sizeof(label), "%llu arenas * %lu bytes/arena",
		 (unsigned long long)narenas, PYM_ARENA_SIZE);
	print_one(out, label, narenas * PYM_ARENA_SIZE);
	out->print(out, "\n");
	print_one(out, "# bytes in allocated blocks", st->bytes_in_use);
	print_one(out, "# bytes in available blocks", st->bytes_available);
	snprintf(label, sizeof(label), "%llu unused pools * %lu bytes",
		 (unsigned long long)st->pools_empty, PYM_POOL_SIZE);
	print_one(out, label, st->pools_empty * PYM_POOL_SIZE);
	/* Headers are out of line: see the descriptor line below. */
	print_one(out, "# bytes lost to pool headers", 0);
	print_one(out, "# bytes lost to quantization", st->bytes_quantization);
	/* Arenas come naturally aligned from the page allocator. */
	print_one(out, "# bytes lost to arena alignment", 0);
	total = st->bytes_in_use + st->bytes_available +
		st->pools_empty * PYM_POOL_SIZE + st->bytes_quantization;
	print_one(out, "Total", total);
	out->print(out, "\n");
	print_one(out, "# bytes in arena descriptors",
		  narenas * sizeof(struct pym_arena));
	print_one(out, "# empty pools cached per class", st->pools_cached);
	print_one(out, "# free blocks cached per CPU and in depots", st->blocks_cached);
	print_one(out, "# pool initialisations", st->cnt.pool_inits);
	print_one(out, "# allocation failures", st->cnt.alloc_failures);
	print_one(out, "# invalid frees refused", st->cnt.invalid_frees);
	for (c = 0; c < PYM_STATS_NODES; c++) {
		if (!st->node_arenas[c])
			continue;
		snprintf(label, sizeof(label), "# arenas on node %u%s", c,
			 c == PYM_STATS_NODES - 1 ? "+" : "");
		print_one(out, label, st->node_arenas[c]);
	}
}

void pym_core_print_classes(const struct pym_core_stats *st,
			    struct pym_out *out)
{
	unsigned int c;

	out->print(out, "%5s %5s %8s %8s %13s %12s %12s %14s\n", "class",
		   "size", "per_pool", "pools", "blocks_in_use",
		   "blocks_avail", "bytes_in_use", "bytes_reserved");
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		const struct pym_class_stats *cs = &st->cls[c];

		out->print(out, "%5u %5u %8u %8llu %13llu %12llu %12llu %14llu\n",
			   c, pym_class_size(c), pym_class_capacity[c],
			   (unsigned long long)cs->pools,
			   (unsigned long long)cs->blocks,
			   (unsigned long long)cs->avail,
			   (unsigned long long)cs->blocks * pym_class_size(c),
			   (unsigned long long)cs->pools * PYM_POOL_SIZE);
	}
}

/*
 * One character per pool: '.' empty, 'c' empty but cached for its class,
 * '0'-'9' partially used (tenths full), '#' full.
 */
static char pool_glyph(const struct pym_pool *pool)
{
	if (pym_pool_cached(pool))
		return 'c';
	switch (pool->state) {
	case PYM_POOL_USED:
		return '0' + (char)(pool->ref * 10 / pym_class_capacity[pool->cls]);
	case PYM_POOL_FULL:
		return '#';
	default:
		return '.';
	}
}

static void print_arena(const struct pym_arena *a, struct pym_out *out)
{
	char map[PYM_POOLS_PER_ARENA + 1];
	unsigned int i;

	for (i = 0; i < PYM_POOLS_PER_ARENA; i++)
		map[i] = pool_glyph(&a->pools[i]);
	map[i] = '\0';
	out->print(out, "%6llu %4d %10u %6u %4s %s\n", (unsigned long long)a->id,
		   a->nid, a->nfreepools, a->ncached, a->kept ? "yes" : "no",
		   map);
}

void pym_core_print_arenas(const struct pym_core *core, struct pym_out *out)
{
	const struct pym_arena *a;
	const struct pym_link *l;

	pym_core_assert_held(core);
	out->print(out, "%6s %4s %10s %6s %4s %s\n", "arena", "node",
		   "free_pools", "cached", "kept", "pools");
	for (a = core->usable_arenas; a; a = a->nextarena)
		print_arena(a, out);
	/* Arenas without a free pool are on no list but all_arenas. */
	for (l = core->all_arenas.next; l != &core->all_arenas; l = l->next) {
		a = container_of(l, struct pym_arena, all);
		if (!a->nfreepools)
			print_arena(a, out);
	}
}
