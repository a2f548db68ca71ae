// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - verify every invariant of a core (pym_heap_check, debugfs
 * "check", and the random-operation tests after each batch).
 *
 * Arenas and pools are named by ordinal and index, never by address.
 */
#include "core.h"

struct checker {
	struct pym_out *out;
	unsigned int violations;
};

static __printf(2, 3) void violation(struct checker *ck, const char *fmt, ...)
{
	char line[160];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	ck->violations++;
	ck->out->print(ck->out, "violation: %s\n", line);
}

static unsigned int pool_bits_set(const unsigned long *map)
{
	unsigned int i, w = 0;

	for (i = 0; i < PYM_BITMAP_LONGS; i++)
		w += hweight_long(map[i]);
	return w;
}

static void check_pool(struct checker *ck, const struct pym_core *core,
		       const struct pym_arena *a, const struct pym_pool *pool)
{
	unsigned int pos = pym_pool_pos(pool);
	enum pym_pool_state state = pym_pool_state(pool);
	const unsigned long *inuse = &a->inuse[pos * PYM_BITMAP_LONGS];
	const char *base = pym_pool_base(a, pool);
	unsigned int size = pym_class_size(pool->cls);
	unsigned int cap = pym_class_capacity[pool->cls];
	unsigned int weight = pool_bits_set(inuse), nfree = 0, slot;
	unsigned long off;

	if (state != PYM_POOL_USED && state != PYM_POOL_FULL) {
		if (pool->ref || weight)
			violation(ck, "arena %llu pool %u: empty pool with ref %u, %u bits set",
				  a->id, pos, pool->ref, weight);
		return;
	}
	if (pool->cls >= PYM_NR_CLASSES) {
		violation(ck, "arena %llu pool %u: bad class %u", a->id,
			  pos, pool->cls);
		return;
	}
	if (weight != pool->ref)
		violation(ck, "arena %llu pool %u: ref %u but %u blocks marked allocated",
			  a->id, pos, pool->ref, weight);
	if (state == PYM_POOL_USED ? pool->ref >= cap : pool->ref != cap)
		violation(ck, "arena %llu pool %u: state %u with ref %u of %u",
			  a->id, pos, state, pool->ref, cap);
	if (pool->nextoffset % size || pool->nextoffset > cap * size)
		violation(ck, "arena %llu pool %u: next offset %u for size %u",
			  a->id, pos, pool->nextoffset, size);
	for (slot = 0; slot < PYM_POOL_SLOTS; slot++) {
		unsigned int off = slot << PYM_ALIGN_SHIFT;

		if (test_bit(slot, inuse) &&
		    (off % size || off >= pool->nextoffset))
			violation(ck, "arena %llu pool %u: offset %u marked allocated",
				  a->id, pos, off);
	}
	/* Bounded walk: a cycle shows up as too many free blocks. */
	for (off = pool->freeblock; off != PYM_NOBLOCK;
	     off = pym_pool_next(core, base + off)) {
		if (off >= pool->nextoffset || off % size) {
			violation(ck, "arena %llu pool %u: free list leaves the pool",
				  a->id, pos);
			return;
		}
		if (test_bit(off >> PYM_ALIGN_SHIFT, inuse))
			violation(ck, "arena %llu pool %u: free list holds allocated offset %lu",
				  a->id, pos, off);
		if (++nfree > cap) {
			violation(ck, "arena %llu pool %u: free list has a cycle",
				  a->id, pos);
			return;
		}
	}
	if (nfree + pool->ref != pool->nextoffset / size)
		violation(ck, "arena %llu pool %u: %u free + %u allocated blocks, %u carved",
			  a->id, pos, nfree, pool->ref,
			  pool->nextoffset / size);
}

static void check_arena(struct checker *ck, const struct pym_core *core,
			const struct pym_arena *a, unsigned int *nkept)
{
	unsigned int i, nfree = 0, nfresh = 0, nspare = 0, listed = 0;
	const struct pym_pool *pool;
	bool fresh, untouched;

	if (a->core != core)
		violation(ck, "arena %llu: belongs to another heap", a->id);
	for (i = 0; i < PYM_POOLS_PER_ARENA; i++) {
		pool = &a->pools[i];
		if (pym_pool_pos(pool) != i) {
			violation(ck, "arena %llu pool %u: index %u", a->id, i,
				  pym_pool_pos(pool));
			continue;
		}
		if (a->pool_cache[i] != pym_core_class_cache(core, pool->cls))
			violation(ck, "arena %llu pool %u: not its class's magazine",
				  a->id, i);
		fresh = pym_pool_state(pool) == PYM_POOL_FRESH;
		untouched = i >= a->nextfresh;
		if (fresh != untouched)
			violation(ck, "arena %llu pool %u: fresh, next fresh is %u",
				  a->id, i, a->nextfresh);
		nfresh += fresh;
		nfree += pym_pool_state(pool) == PYM_POOL_FREE;
		nspare += pym_pool_spare(pool);
		check_pool(ck, core, a, pool);
	}
	for (pool = a->freepools; pool && listed <= nfree;
	     pool = pool->nextfree, listed++)
		if (pym_pool_state(pool) != PYM_POOL_FREE)
			violation(ck, "arena %llu pool %u: on freepools in state %u",
				  a->id, pym_pool_pos(pool), pym_pool_state(pool));
	if (listed != nfree)
		violation(ck, "arena %llu: %u pools on freepools, %u free",
			  a->id, listed, nfree);
	if (a->nfreepools != nfree + nfresh)
		violation(ck, "arena %llu: nfreepools %u, counted %u",
			  a->id, a->nfreepools, nfree + nfresh);
	if (a->nspare != nspare)
		violation(ck, "arena %llu: nspare %u, counted %u", a->id,
			  a->nspare, nspare);
	if (a->kept) {
		(*nkept)++;
		if (nfree + nfresh + nspare != PYM_POOLS_PER_ARENA)
			violation(ck, "arena %llu: kept but not empty", a->id);
	}
}

static unsigned int check_usable(struct checker *ck,
				 const struct pym_core *core,
				 unsigned int narenas)
{
	const struct pym_arena *last[PYM_POOLS_PER_ARENA + 1] = { NULL };
	const struct pym_arena *a, *prev = NULL;
	unsigned int n = 0, k;

	for (a = core->usable_arenas; a; prev = a, a = a->nextarena) {
		if (++n > narenas) {
			violation(ck, "usable_arenas is longer than the arena count");
			return n;
		}
		if (a->prevarena != prev)
			violation(ck, "arena %llu: broken usable_arenas back link", a->id);
		if (!a->nfreepools || a->nfreepools > PYM_POOLS_PER_ARENA) {
			violation(ck, "arena %llu: on usable_arenas with %u free pools",
				  a->id, a->nfreepools);
			continue;
		}
		if (prev && prev->nfreepools > a->nfreepools)
			violation(ck, "usable_arenas out of order: %u free pools before %u",
				  prev->nfreepools, a->nfreepools);
		last[a->nfreepools] = a;
	}
	for (k = 0; k <= PYM_POOLS_PER_ARENA; k++)
		if (core->nfp2lasta[k] != last[k])
			violation(ck, "nfp2lasta[%u] is not the last arena with %u free pools",
				  k, k);
	return n;
}

static unsigned int check_usedpools(struct checker *ck,
				    const struct pym_core *core,
				    unsigned int limit)
{
	unsigned int c, n = 0;

	for (c = 0; c < PYM_NR_CLASSES; c++) {
		const struct pym_link *head = &core->usedpools[c], *l;
		unsigned int spare = 0;

		for (l = head->next; l != head; l = l->next) {
			const struct pym_pool *pool =
				container_of(l, struct pym_pool, link);

			if (++n > limit) {
				violation(ck, "usedpools[%u] has a cycle", c);
				return n;
			}
			if (l->next->prev != l)
				violation(ck, "usedpools[%u]: broken back link", c);
			if (pool->cls != c)
				violation(ck, "usedpools[%u]: pool of class %u", c, pool->cls);
			if (pym_pool_spare(pool))
				spare++;
			if (pym_pool_state(pool) != PYM_POOL_USED)
				violation(ck, "usedpools[%u]: pool in state %u", c,
					  pym_pool_state(pool));
		}
		if (spare > 1)
			violation(ck, "usedpools[%u]: %u spare pools", c, spare);
	}
	return n;
}

unsigned int pym_core_check(const struct pym_core *core, struct pym_out *out)
{
	struct checker ck = { .out = out };
	unsigned int narenas = 0, nkept = 0, nusable = 0, listed, limit, i;
	unsigned int onlists = 0;
	const struct pym_link *l;

	pym_core_assert_held(core);
	for (l = core->all_arenas.next; l != &core->all_arenas; l = l->next) {
		const struct pym_arena *a = container_of(l, struct pym_arena, all);

		if (l->next->prev != l) {
			violation(&ck, "all_arenas: broken back link");
			break;
		}
		if (++narenas > core->cnt[PYM_STAT_ARENAS_CURRENT]) {
			violation(&ck, "more arenas listed than counted (%llu)",
				  (unsigned long long)core->cnt[PYM_STAT_ARENAS_CURRENT]);
			return ck.violations;
		}
		check_arena(&ck, core, a, &nkept);
		nusable += a->nfreepools > 0;
		for (i = 0; i < PYM_POOLS_PER_ARENA; i++)
			onlists += pym_pool_state(&a->pools[i]) == PYM_POOL_USED;
	}
	if (narenas != core->cnt[PYM_STAT_ARENAS_CURRENT])
		violation(&ck, "%u arenas listed, %llu counted", narenas,
			  (unsigned long long)core->cnt[PYM_STAT_ARENAS_CURRENT]);
	limit = core->keep_adaptive ? max(core->keep_empty, core->peak) :
				      core->keep_empty;
	if (nkept != core->nkept || nkept > limit)
		violation(&ck, "%u arenas kept, counter says %u, limit %u",
			  nkept, core->nkept, limit);
	if (narenas - nkept > core->peak)
		violation(&ck, "%u arenas in use, above their peak %u",
			  narenas - nkept, core->peak);
	listed = check_usable(&ck, core, narenas);
	if (listed != nusable)
		violation(&ck, "%u arenas on usable_arenas, %u have free pools",
			  listed, nusable);
	if (check_usedpools(&ck, core, onlists + 1) != onlists)
		violation(&ck, "usedpools[] do not hold exactly the used and spare pools");
	return ck.violations;
}
