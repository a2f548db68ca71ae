// SPDX-License-Identifier: GPL-2.0
/*
 * core.c - arenas, pools and blocks: the obmalloc algorithms.
 *
 * Locking: none here; see core.h. Everything below runs under the lock of
 * the struct pym_core it is given.
 *
 * Differences from CPython's obmalloc, and why:
 *
 *  - Pool headers are out of line (struct pym_pool inside struct pym_arena)
 *    so blocks start at offset 0 of their pool: power-of-two sizes come out
 *    naturally aligned, as kernel code expects of kmalloc, and no pool loses
 *    48 bytes to a header (a 512-byte pool holds 8 blocks, not 7).
 *
 *  - Every pool keeps a bitmap of allocated blocks. A double free or a free
 *    of a block that was never handed out is then refused with a bit test
 *    instead of corrupting the free list, at a cost of one bit operation on
 *    each path and 64 bytes per pool.
 *
 *  - The last pool of a size class is not returned to its arena when it
 *    empties; it stays on usedpools[] with ref 0, the class's spare.
 *    CPython returns it, so a lone malloc/free pair re-initialises a pool
 *    and re-sorts the arena list every time ("pool ping-pong"). A spare pool still counts as empty
 *    when deciding whether its whole arena can be given back.
 *
 *  - Full detection compares ref with a per-class capacity instead of
 *    threading one block ahead, so a pool's memory is touched only for the
 *    block being handed out.
 */
#include "core.h"

/*
 * Per-class constants, written out so the fast paths load rather than
 * divide. capacity[c] = 4096 / size; reciprocal[c] = 2^32 / size + 1, which
 * gives the exact quotient off / size as (off * reciprocal) >> 32 for every
 * offset below 4096 (the error term stays under 4096 / 2^32 < 1 / 512).
 * tools/testing/core checks both tables against the formulas.
 */
const u16 pym_class_capacity[PYM_NR_CLASSES] = {
	512, 256, 170, 128, 102, 85, 73, 64, 56, 51, 46, 42, 39, 36, 34, 32,
	30, 28, 26, 25, 24, 23, 22, 21, 20, 19, 18, 18, 17, 17, 16, 16,
	15, 15, 14, 14, 13, 13, 13, 12, 12, 12, 11, 11, 11, 11, 10, 10,
	10, 10, 10, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8,
};

const u32 pym_class_reciprocal[PYM_NR_CLASSES] = {
	536870913, 268435457, 178956971, 134217729, 107374183, 89478486,
	76695845, 67108865, 59652324, 53687092, 48806447, 44739243,
	41297763, 38347923, 35791395, 33554433, 31580642, 29826162,
	28256364, 26843546, 25565282, 24403224, 23342214, 22369622,
	21474837, 20648882, 19884108, 19173962, 18512791, 17895698,
	17318417, 16777217, 16268816, 15790321, 15339169, 14913081,
	14510025, 14128182, 13765921, 13421773, 13094413, 12782641,
	12485371, 12201612, 11930465, 11671107, 11422786, 11184811,
	10956550, 10737419, 10526881, 10324441, 10129640, 9942054,
	9761290, 9586981, 9418788, 9256396, 9099507, 8947849,
	8801163, 8659209, 8521761, 8388609,
};

static_assert(PYM_ZERO_INLINE_MAX == 16 * sizeof(u64),
	      "pym_zero_words() takes the blocks above 16 words");

/* pym_zero_large(), out of line, for pym_block_zero(). */
void *pym_zero_words(u64 *w, unsigned int n)
{
	pym_zero_large(w, w + n, n - 1);
	return w;
}

void pym_core_init(struct pym_core *core, unsigned int keep_empty,
		   unsigned int arena_desc_bytes)
{
	unsigned int c;

	memset(core, 0, sizeof(*core));
	pym_lock_init(&core->lock);
	core->arena_desc_bytes = arena_desc_bytes;
	for (c = 0; c < PYM_NR_CLASSES; c++)
		pym_link_init(&core->usedpools[c]);
	pym_link_init(&core->all_arenas);
	core->keep_empty = keep_empty;
}

/* Remove a from usable_arenas, where it sits under key a->nfreepools. */
static void usable_remove(struct pym_core *core, struct pym_arena *a)
{
	unsigned int nf = a->nfreepools;

	if (core->nfp2lasta[nf] == a) {
		struct pym_arena *p = a->prevarena;

		core->nfp2lasta[nf] = p && p->nfreepools == nf ? p : NULL;
	}
	if (a->prevarena)
		a->prevarena->nextarena = a->nextarena;
	else
		core->usable_arenas = a->nextarena;
	if (a->nextarena)
		a->nextarena->prevarena = a->prevarena;
	a->nextarena = NULL;
	a->prevarena = NULL;
}

/*
 * Insert a under key a->nfreepools (> 0) after the last arena whose key is
 * not larger. The walk down nfp2lasta[] is bounded by the pools per arena,
 * never by the number of arenas.
 */
static void usable_insert(struct pym_core *core, struct pym_arena *a)
{
	unsigned int nf = a->nfreepools, k;
	struct pym_arena *after = NULL;

	for (k = nf; k > 0 && !after; k--)
		after = core->nfp2lasta[k];
	a->prevarena = after;
	a->nextarena = after ? after->nextarena : core->usable_arenas;
	if (a->nextarena)
		a->nextarena->prevarena = a;
	if (after)
		after->nextarena = a;
	else
		core->usable_arenas = a;
	core->nfp2lasta[nf] = a;
}

/*
 * One more free pool in a. This is CPython's O(1) re-sort: a moves right
 * only past the arenas that had its old count, and nfp2lasta[old] marks
 * exactly where that run ends.
 */
static void arena_pool_freed(struct pym_core *core, struct pym_arena *a)
{
	unsigned int nf = a->nfreepools;
	struct pym_arena *lastnf;

	if (nf == 0) {
		/* It was on no list; 1 is the smallest key, so it goes first. */
		a->nfreepools = 1;
		a->prevarena = NULL;
		a->nextarena = core->usable_arenas;
		if (a->nextarena)
			a->nextarena->prevarena = a;
		core->usable_arenas = a;
		if (!core->nfp2lasta[1])
			core->nfp2lasta[1] = a;
		return;
	}

	lastnf = core->nfp2lasta[nf];
	if (lastnf == a) {
		struct pym_arena *p = a->prevarena;

		core->nfp2lasta[nf] = p && p->nfreepools == nf ? p : NULL;
	}
	a->nfreepools = ++nf;
	if (!core->nfp2lasta[nf])
		core->nfp2lasta[nf] = a;
	/* The last of the old count is still in order after the increment. */
	if (a == lastnf)
		return;

	/* a had the old count and lastnf lies to its right: move a there. */
	if (a->prevarena)
		a->prevarena->nextarena = a->nextarena;
	else
		core->usable_arenas = a->nextarena;
	a->nextarena->prevarena = a->prevarena;

	a->prevarena = lastnf;
	a->nextarena = lastnf->nextarena;
	if (a->nextarena)
		a->nextarena->prevarena = a;
	lastnf->nextarena = a;
}

/* Arenas holding blocks (or about to): all but the kept empty ones. */
static inline unsigned int arenas_in_use(const struct pym_core *core)
{
	return core->cnt[PYM_STAT_ARENAS_CURRENT] - core->nkept;
}

static inline void note_in_use(struct pym_core *core)
{
	if (arenas_in_use(core) > core->peak)
		core->peak = arenas_in_use(core);
}

static inline void arena_unkeep(struct pym_core *core, struct pym_arena *a)
{
	if (unlikely(a->kept)) {
		a->kept = false;
		core->nkept--;
		note_in_use(core);
	}
}

/* Take a pool for a new size class from the fullest usable arena. */
static struct pym_pool *arena_take_pool(struct pym_core *core)
{
	struct pym_arena *a = core->usable_arenas;
	unsigned int nf = a->nfreepools;
	struct pym_pool *pool;

	/* a is first, so it was also the last with key nf unless others follow. */
	if (core->nfp2lasta[nf] == a)
		core->nfp2lasta[nf] = NULL;
	a->nfreepools = --nf;
	if (nf == 0) {
		core->usable_arenas = a->nextarena;
		if (a->nextarena)
			a->nextarena->prevarena = NULL;
		a->nextarena = NULL;
	} else {
		/* Smallest key before, smallest after: a stays first. */
		core->nfp2lasta[nf] = a;
	}

	pool = a->freepools;
	if (pool)
		a->freepools = pool->nextfree;
	else
		pool = &a->pools[a->nextfresh++];
	arena_unkeep(core, a);
	return pool;
}

static void pool_init(struct pym_core *core, struct pym_pool *pool,
		      unsigned int cls)
{
	pool->cls = cls;
	WRITE_ONCE(pym_pool_arena(pool)->pool_cache[pym_pool_pos(pool)],
		   pym_core_class_cache(core, cls));
	pym_pool_set_state(pool, PYM_POOL_USED);
	pool->ref = 0;
	pool->freeblock = PYM_NOBLOCK;
	pool->nextoffset = 0;
	pym_link_add_front(&core->usedpools[cls], &pool->link);
	core->cnt[PYM_STAT_POOL_INITS]++;
}

/* The class's spare pool (top of this file) takes blocks again. */
static void pool_reused(struct pym_pool *pool)
{
	struct pym_arena *a = pym_pool_arena(pool);

	a->nspare--;
	arena_unkeep(a->core, a);
}

/* The pool the next block of cls comes from, or NULL without arenas. */
static struct pym_pool *class_pool(struct pym_core *core, unsigned int cls)
{
	struct pym_link *head = &core->usedpools[cls];
	struct pym_pool *pool;

	if (likely(head->next != head)) {
		pool = container_of(head->next, struct pym_pool, link);
		if (unlikely(!pool->ref))
			pool_reused(pool);
		return pool;
	}
	if (unlikely(!core->usable_arenas))
		return NULL;
	pool = arena_take_pool(core);
	pool_init(core, pool, cls);
	return pool;
}

/*
 * The link in b, the head of pool's free list, was damaged: count and
 * report it, and rebuild the rest of the list from the bitmap (every block
 * carved, not allocated, and not b, which is being taken). Nothing leaks
 * and nothing is handed out twice.
 */
unsigned int pym_pool_relink(struct pym_core *core, struct pym_pool *pool,
			     char *b)
{
	struct pym_arena *a = pym_pool_arena(pool);
	unsigned int size = pym_class_size(pool->cls), off, head = PYM_NOBLOCK;
	unsigned long *inuse = pym_pool_inuse(a, pool);
	char *base = pym_pool_base(a, pool), *blk;

	core->cnt[PYM_STAT_CORRUPTIONS]++;
	pym_core_report_link(core, pool, b, *(unsigned long *)b);
	for (off = 0; off < pool->nextoffset; off += size) {
		blk = base + off;
		if (blk == b || test_bit(off >> PYM_ALIGN_SHIFT, inuse))
			continue;
		*(unsigned long *)blk = head ^ pym_pool_link_code(core, blk);
		head = off;
	}
	return head;
}

void *pym_core_alloc_slow(struct pym_core *core, unsigned int cls)
{
	struct pym_pool *pool = class_pool(core, cls);

	pym_core_assert_held(core);
	return likely(pool) ? pym_pool_take_block(core, pool, cls) : NULL;
}

/*
 * pym_pool_take_block() up to n times from pool, which has a free block,
 * into out[]; returns how many it took. The free-list head, the count and
 * the state are settled once, after the loop: the pool has room for all
 * of them (capacity - ref counts its free-list and uncarved blocks
 * alike), and nobody else looks at it under the core's lock.
 */
static unsigned int pool_take_bulk(struct pym_core *core, struct pym_pool *pool,
				   unsigned int cls, unsigned int n, void **out)
{
	unsigned int room = pym_class_capacity[cls] - pool->ref, i;
	unsigned int off = pool->freeblock;
	struct pym_arena *a = pym_pool_arena(pool);
	unsigned long *inuse = pym_pool_inuse(a, pool);
	char *base = pym_pool_base(a, pool);

	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		out[i] = pym_pool_take(core, pool, base, inuse, cls, off, &off);
	pool->freeblock = off;
	pool->ref += n;
	if (pool->ref == pym_class_capacity[cls]) {
		pym_link_del(&pool->link);
		pym_pool_set_state(pool, PYM_POOL_FULL);
	}
	return n;
}

unsigned int pym_core_alloc_bulk(struct pym_core *core, unsigned int cls,
				 unsigned int n, void **out)
{
	unsigned int got = 0;

	pym_core_assert_held(core);
	while (got < n) {
		struct pym_pool *pool = class_pool(core, cls);

		if (!pool)
			break;
		got += pool_take_bulk(core, pool, cls, n - got, out + got);
	}
	return got;
}

/* Every pool of a takes core's cache for its class (FRESH ones: class 0). */
static void arena_set_pool_caches(struct pym_core *core, struct pym_arena *a)
{
	unsigned int i;

	for (i = 0; i < PYM_POOLS_PER_ARENA; i++)
		WRITE_ONCE(a->pool_cache[i],
			   pym_core_class_cache(core, a->pools[i].cls));
}

void pym_core_add_arena(struct pym_core *core, struct pym_arena *a,
			void *base, int nid)
{
	unsigned int i;

	pym_core_assert_held(core);
	memset(a, 0, sizeof(*a));
	a->base = base;
	a->core = core;
	a->nid = nid;
	a->id = core->cnt[PYM_STAT_ARENAS_ALLOCATED];
	a->nfreepools = PYM_POOLS_PER_ARENA;
	for (i = 0; i < PYM_POOLS_PER_ARENA; i++) {
		a->pools[i].state_pos = i;
		pym_pool_set_state(&a->pools[i], PYM_POOL_FRESH);
	}
	arena_set_pool_caches(core, a);
	pym_link_add_front(&core->all_arenas, &a->all);
	usable_insert(core, a);

	core->cnt[PYM_STAT_ARENAS_ALLOCATED]++;
	if (++core->cnt[PYM_STAT_ARENAS_CURRENT] > core->cnt[PYM_STAT_ARENAS_HIGHWATER])
		core->cnt[PYM_STAT_ARENAS_HIGHWATER] = core->cnt[PYM_STAT_ARENAS_CURRENT];
	note_in_use(core);
}

void pym_core_set_cache(struct pym_core *core, void __percpu *cache)
{
	const struct pym_link *l;

	pym_core_assert_held(core);
	core->cache = cache;
	for (l = core->all_arenas.next; l != &core->all_arenas; l = l->next)
		arena_set_pool_caches(core, container_of(l, struct pym_arena, all));
}

static void arena_release(struct pym_core *core, struct pym_arena *a,
			  struct pym_arena **release)
{
	unsigned int i;

	for (i = 0; a->nspare && i < PYM_POOLS_PER_ARENA; i++) {
		if (pym_pool_spare(&a->pools[i])) {
			pym_link_del(&a->pools[i].link);
			pym_pool_set_state(&a->pools[i], PYM_POOL_FREE);
			a->nspare--;
		}
	}
	if (a->nfreepools)
		usable_remove(core, a);
	arena_unkeep(core, a);
	pym_link_del(&a->all);
	for (i = 0; i < PYM_POOLS_PER_ARENA; i++)
		WRITE_ONCE(a->pool_cache[i], NULL);
	WRITE_ONCE(a->core, NULL);
	a->release_next = *release;
	*release = a;
	core->cnt[PYM_STAT_ARENAS_CURRENT]--;
	core->cnt[PYM_STAT_ARENAS_RECLAIMED]++;
}

/*
 * How many wholly empty arenas may stay: keep_empty, and with
 * keep_adaptive as many as bring the arenas in use back to their recent
 * peak, so that the core never holds more than it recently used.
 *
 * Giving back an arena the workload wants again at once is churn: two
 * trips through the page allocator, an arena's worth of page faults and
 * zeroing in user space, a fresh descriptor. CPython keeps one empty
 * arena (bpo-37257), which stops a loop that frees and takes one arena,
 * but not a workload whose live set swings by many: the core in user
 * space under Python's test suite obtained 11 arenas per arena of its
 * peak. The peak remembers the swing; the owner ages it
 * (pym_core_age()), so that memory a workload no longer reaches goes
 * back within seconds, and reclaim takes every kept arena at once.
 */
static unsigned int keep_limit(const struct pym_core *core)
{
	unsigned int in_use = arenas_in_use(core), swing = 0;

	if (core->keep_adaptive && core->peak > in_use)
		swing = core->peak - in_use;
	return max(swing, core->keep_empty);
}

/* A wholly empty arena, still counted in use: may it stay? */
static bool keep_arena(struct pym_core *core)
{
	bool keep;

	core->nkept++;
	keep = core->nkept <= keep_limit(core);
	core->nkept--;
	return keep;
}

unsigned int pym_core_age(struct pym_core *core, bool forget,
			  struct pym_arena **release)
{
	unsigned int in_use = arenas_in_use(core), n = 0;
	struct pym_link *l, *next;

	pym_core_assert_held(core);
	if (core->peak > in_use)
		core->peak = forget ? in_use :
			     in_use + (core->peak - in_use) * 7 / 8;
	for (l = core->all_arenas.next;
	     l != &core->all_arenas && core->nkept > keep_limit(core); l = next) {
		struct pym_arena *a = container_of(l, struct pym_arena, all);

		next = l->next;
		if (a->kept) {
			arena_release(core, a, release);
			n++;
		}
	}
	return n;
}

static void pool_emptied(struct pym_core *core, struct pym_pool *pool,
			 struct pym_arena **release)
{
	struct pym_arena *a = pym_pool_arena(pool);
	struct pym_link *head = &core->usedpools[pool->cls];

	if (head->next == &pool->link && head->prev == &pool->link) {
		a->nspare++;
	} else {
		pym_link_del(&pool->link);
		pym_pool_set_state(pool, PYM_POOL_FREE);
		pool->nextfree = a->freepools;
		a->freepools = pool;
		arena_pool_freed(core, a);
	}

	if (a->nfreepools + a->nspare < PYM_POOLS_PER_ARENA)
		return;
	if (keep_arena(core)) {
		a->kept = true;
		core->nkept++;
		return;
	}
	arena_release(core, a, release);
}

void pym_core_free_slow(struct pym_core *core, struct pym_pool *pool,
			struct pym_arena **release)
{
	pym_core_assert_held(core);
	if (pym_pool_state(pool) == PYM_POOL_FULL) {
		/* First free from a full pool: it serves the next allocation. */
		pym_link_add_front(&core->usedpools[pool->cls], &pool->link);
		pym_pool_set_state(pool, PYM_POOL_USED);
	}
	if (--pool->ref == 0)
		pool_emptied(core, pool, release);
}

unsigned int pym_core_block_size(struct pym_arena *a, const void *p,
				 enum pym_block_status *status)
{
	*status = pym_block_check(a, p);
	return *status == PYM_BLOCK_OK ?
	       pym_class_size(pym_pool_of(a, p)->cls) : 0;
}

unsigned int pym_core_trim(struct pym_core *core, struct pym_arena **release)
{
	struct pym_link *l, *next;
	unsigned int n = 0;

	pym_core_assert_held(core);
	core->peak = arenas_in_use(core);
	for (l = core->all_arenas.next; l != &core->all_arenas; l = next) {
		struct pym_arena *a = container_of(l, struct pym_arena, all);

		next = l->next;
		if (a->nfreepools + a->nspare == PYM_POOLS_PER_ARENA) {
			arena_release(core, a, release);
			n++;
		}
	}
	return n;
}
