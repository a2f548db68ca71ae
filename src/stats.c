// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - figures about a core, computed on demand.
 *
 * Nothing on the allocation fast path maintains these: CPython found that
 * even one global counter per malloc/free is measurable (bpo-37537), so the
 * pools are walked when somebody asks. The walk is O(arenas * 64).
 */
#include "core.h"

/* The names of the figures: debugfs "stats" lines, KUnit messages. */
const char *const pym_stat_names[PYM_STAT_NR] = {
	[PYM_STAT_ARENAS_ALLOCATED] = "arenas_allocated",
	[PYM_STAT_ARENAS_RECLAIMED] = "arenas_reclaimed",
	[PYM_STAT_ARENAS_HIGHWATER] = "arenas_highwater",
	[PYM_STAT_ARENAS_CURRENT] = "arenas_current",
	[PYM_STAT_POOL_INITS] = "pool_inits",
	[PYM_STAT_ALLOC_FAILURES] = "alloc_failures",
	[PYM_STAT_ARENA_FAILURES] = "arena_failures",
	[PYM_STAT_FALLBACK_ALLOCS] = "fallback_allocs",
	[PYM_STAT_CORRUPTIONS] = "corruptions",
	[PYM_STAT_DOUBLE_FREES] = "double_frees",
	[PYM_STAT_INTERIOR_FREES] = "interior_frees",
	[PYM_STAT_FOREIGN_FREES] = "foreign_frees",
	[PYM_STAT_SIZE_QUERIES_REFUSED] = "size_queries_refused",
	[PYM_STAT_INVALID_FREES] = "invalid_frees",
	[PYM_STAT_POOLS_USED] = "pools_used",
	[PYM_STAT_POOLS_EMPTY] = "pools_empty",
	[PYM_STAT_POOLS_SPARE] = "pools_spare",
	[PYM_STAT_BLOCKS_IN_USE] = "blocks_in_use",
	[PYM_STAT_BLOCKS_CACHED] = "blocks_cached",
	[PYM_STAT_BYTES_ARENAS] = "bytes_arenas",
	[PYM_STAT_BYTES_IN_USE] = "bytes_in_use",
	[PYM_STAT_BYTES_AVAILABLE] = "bytes_available",
	[PYM_STAT_BYTES_EMPTY_POOLS] = "bytes_empty_pools",
	[PYM_STAT_BYTES_QUANTIZATION] = "bytes_quantization",
	[PYM_STAT_BYTES_METADATA] = "bytes_metadata",
};

static_assert(ARRAY_SIZE(pym_stat_names) == PYM_STAT_NR,
	      "every figure has a name");

void pym_core_collect(const struct pym_core *core, struct pym_core_stats *st)
{
	u64 *v = st->v, narenas = core->cnt[PYM_STAT_ARENAS_CURRENT];
	const struct pym_link *l;
	unsigned int i;

	pym_core_assert_held(core);
	memset(st, 0, sizeof(*st));
	memcpy(v, core->cnt, sizeof(core->cnt));
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
				v[PYM_STAT_POOLS_EMPTY]++;
				v[PYM_STAT_POOLS_SPARE] += pym_pool_spare(pool);
				continue;
			}
			v[PYM_STAT_POOLS_USED]++;
			cs->pools++;
			cs->blocks += pool->ref;
			cs->avail += cap - pool->ref;
			v[PYM_STAT_BLOCKS_IN_USE] += pool->ref;
			v[PYM_STAT_BYTES_IN_USE] += (u64)pool->ref * size;
			v[PYM_STAT_BYTES_AVAILABLE] += (u64)(cap - pool->ref) * size;
			v[PYM_STAT_BYTES_QUANTIZATION] += PYM_POOL_SIZE - cap * size;
		}
	}
	v[PYM_STAT_INVALID_FREES] = v[PYM_STAT_DOUBLE_FREES] +
				    v[PYM_STAT_INTERIOR_FREES] +
				    v[PYM_STAT_FOREIGN_FREES] +
				    v[PYM_STAT_SIZE_QUERIES_REFUSED];
	v[PYM_STAT_BYTES_ARENAS] = narenas * PYM_ARENA_SIZE;
	v[PYM_STAT_BYTES_EMPTY_POOLS] = v[PYM_STAT_POOLS_EMPTY] * PYM_POOL_SIZE;
	v[PYM_STAT_BYTES_METADATA] = narenas * core->arena_desc_bytes;
}

/*
 * Move blocks a per-CPU layer holds, cached[cls] of each class, from in
 * use to available: the core counts them allocated, their users do not.
 * Counts read from magazines that change meanwhile may catch a block
 * twice on its way between CPUs; bounded by what the core has allocated,
 * a busy heap's figures are approximate but possible.
 */
void pym_core_stats_cached(struct pym_core_stats *st, const u64 *cached)
{
	u64 *v = st->v;
	unsigned int c;

	for (c = 0; c < PYM_NR_CLASSES; c++) {
		u64 n = cached[c] < st->cls[c].blocks ? cached[c] :
			st->cls[c].blocks;
		u64 bytes = n * pym_class_size(c);

		st->cls[c].blocks -= n;
		st->cls[c].avail += n;
		st->cls[c].cached = n;
		v[PYM_STAT_BLOCKS_IN_USE] -= n;
		v[PYM_STAT_BLOCKS_CACHED] += n;
		v[PYM_STAT_BYTES_IN_USE] -= bytes;
		v[PYM_STAT_BYTES_AVAILABLE] += bytes;
	}
}

/* One figure per line, "name value", as /proc/vmstat; then arenas by node. */
void pym_core_print_stats(const struct pym_core_stats *st, struct pym_out *out)
{
	unsigned int i;

	for (i = 0; i < PYM_STAT_NR; i++)
		out->print(out, "%s %llu\n", pym_stat_names[i],
			   (unsigned long long)st->v[i]);
	for (i = 0; i < PYM_STATS_NODES; i++)
		if (st->node_arenas[i])
			out->print(out, "arenas_node%u%s %llu\n", i,
				   i == PYM_STATS_NODES - 1 ? "_and_up" : "",
				   (unsigned long long)st->node_arenas[i]);
}

/*
 * bytes_requested is the owner's estimate (kernel: sampled, callers.c);
 * "-" where it has none, or no sample of a class that has blocks.
 */
void pym_core_print_classes(const struct pym_core_stats *st,
			    struct pym_out *out)
{
	unsigned int c;

	out->print(out, "%5s %5s %8s %8s %13s %12s %12s %14s %13s %15s\n",
		   "class", "size", "per_pool", "pools", "blocks_in_use",
		   "blocks_avail", "bytes_in_use", "bytes_reserved",
		   "blocks_cached", "bytes_requested");
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		const struct pym_class_stats *cs = &st->cls[c];
		char req[24] = "-";

		if (st->requested_known && (cs->requested_known || !cs->blocks))
			snprintf(req, sizeof(req), "%llu",
				 (unsigned long long)cs->requested);
		out->print(out, "%5u %5u %8u %8llu %13llu %12llu %12llu %14llu %13llu %15s\n",
			   c, pym_class_size(c), pym_class_capacity[c],
			   (unsigned long long)cs->pools,
			   (unsigned long long)cs->blocks,
			   (unsigned long long)cs->avail,
			   (unsigned long long)cs->blocks * pym_class_size(c),
			   (unsigned long long)cs->pools * PYM_POOL_SIZE,
			   (unsigned long long)cs->cached, req);
	}
}

/*
 * One character per pool: '.' empty, 's' empty but its class's spare,
 * '0'-'9' partially used (tenths full), '#' full.
 */
static char pool_glyph(const struct pym_pool *pool)
{
	if (pym_pool_spare(pool))
		return 's';
	switch (pym_pool_state(pool)) {
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
		   a->nid, a->nfreepools, a->nspare, a->kept ? "yes" : "no",
		   map);
}

void pym_core_print_arenas(const struct pym_core *core, struct pym_out *out)
{
	const struct pym_arena *a;
	const struct pym_link *l;

	pym_core_assert_held(core);
	out->print(out, "%6s %4s %10s %6s %4s %s\n", "arena", "node",
		   "free_pools", "spare", "kept", "pools");
	for (a = core->usable_arenas; a; a = a->nextarena)
		print_arena(a, out);
	/* Arenas without a free pool are on no list but all_arenas. */
	for (l = core->all_arenas.next; l != &core->all_arenas; l = l->next) {
		a = container_of(l, struct pym_arena, all);
		if (!a->nfreepools)
			print_arena(a, out);
	}
}
