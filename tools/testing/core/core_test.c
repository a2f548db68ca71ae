// SPDX-License-Identifier: GPL-2.0
/*
 * core_test.c - unit tests of the allocator core and the per-CPU layer in
 * user space, run under ASan and UBSan by `make -C tools/testing/core
 * test`; main() runs them and the collector's (gc_test.c) as one TAP
 * stream.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../../src/freelist.h"
#include "test.h"
#include "uheap.h"

int test_failed;
unsigned int test_checks;

static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

unsigned long long rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct pym_pool *pool_of(void *p)
{
	return pym_pool_of(uheap_arena_of(p), p);
}

static void test_size_classes(void)
{
	unsigned int size, c, off;

	for (size = 1; size <= PYM_SMALL_THRESHOLD; size++) {
		c = pym_size_class(size);
		EXPECT(pym_class_size(c) >= size && pym_class_size(c) - size < 8,
		       "size %u -> class %u", size, c);
		EXPECT(c == (size + 7) / 8 - 1, "size %u -> class %u", size, c);
	}
	/* The reciprocal must give exact quotients for every block offset. */
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		unsigned int s = pym_class_size(c);

		EXPECT(pym_class_capacity[c] == PYM_POOL_SIZE / s, "class %u", c);
		for (off = 0; off < PYM_POOL_SIZE; off += 8) {
			unsigned int q = (unsigned int)(((u64)off *
					 pym_class_reciprocal[c]) >> 32);

			EXPECT(q == off / s, "class %u offset %u: %u", c, off, q);
		}
		for (off = 0; off < PYM_POOL_SIZE; off++)
			EXPECT(pym_class_divides(c, off) == !(off % s),
			       "class %u offset %u: divides", c, off);
	}
}

/*
 * Every class size, inline and out of line: exactly the block's words are
 * zeroed, none around it.
 */
static void test_block_zero(void)
{
	u64 buf[PYM_NR_CLASSES + 2];
	unsigned int c, i, inline_large;

	for (inline_large = 0; inline_large < 2; inline_large++) {
		for (c = 0; c < PYM_NR_CLASSES; c++) {
			memset(buf, 0xa5, sizeof(buf));
			EXPECT(pym_block_zero_as(&buf[1], c, inline_large) == &buf[1],
			       "class %u inline %u: returned", c, inline_large);
			EXPECT(buf[0] == 0xa5a5a5a5a5a5a5a5ULL,
			       "class %u inline %u: word before", c, inline_large);
			for (i = 1; i <= c + 1; i++)
				EXPECT(buf[i] == 0, "class %u inline %u: word %u",
				       c, inline_large, i - 1);
			for (; i < PYM_NR_CLASSES + 2; i++)
				EXPECT(buf[i] == 0xa5a5a5a5a5a5a5a5ULL,
				       "class %u inline %u: word %u past the block",
				       c, inline_large, i - 1);
		}
	}
}

static void test_alignment(void)
{
	struct uheap h;
	unsigned int size, i;

	uheap_init(&h, 1);
	for (size = 1; size <= PYM_SMALL_THRESHOLD; size++) {
		for (i = 0; i < 3; i++) {
			void *p = uheap_alloc(&h, size);
			unsigned long a = (unsigned long)p;
			unsigned int bs = pym_class_size(pym_size_class(size));

			EXPECT(p && a % 8 == 0, "size %u", size);
			if ((bs & (bs - 1)) == 0)
				EXPECT(a % bs == 0, "size %u at %#lx", size, a);
			memset(p, 0x5a, size);
		}
	}
	EXPECT(uheap_check(&h) == 0, "check");
	uheap_destroy(&h);
}

static void test_pool_states(void)
{
	struct uheap h;
	unsigned int cap = pym_class_capacity[pym_size_class(64)], i, n;
	static void *more[2 * PYM_ARENA_SIZE / 64];
	void *blocks[65];
	struct pym_pool *pool;

	uheap_init(&h, 1);
	blocks[0] = uheap_alloc(&h, 64);
	pool = pool_of(blocks[0]);
	EXPECT(pym_pool_state(pool) == PYM_POOL_USED && pool->ref == 1, "used after one");
	EXPECT(h.core.usedpools[7].next == &pool->link, "on usedpools");
	for (i = 1; i < cap; i++)
		blocks[i] = uheap_alloc(&h, 64);
	EXPECT(pym_pool_state(pool) == PYM_POOL_FULL && pool->ref == cap, "full");
	EXPECT(h.core.usedpools[7].next == &h.core.usedpools[7], "full pool left the list");
	/* A second pool for the class while the first is full. */
	blocks[cap] = uheap_alloc(&h, 64);
	EXPECT(pool_of(blocks[cap]) != pool, "new pool");
	EXPECT(uheap_free(&h, blocks[3]) == 0, "free");
	EXPECT(pym_pool_state(pool) == PYM_POOL_USED, "full -> used on first free");
	EXPECT(h.core.usedpools[7].next == &pool->link, "relinked at the front");
	EXPECT(uheap_alloc(&h, 64) == blocks[3], "LIFO reuse of the freed block");
	for (i = 0; i < cap; i++)
		EXPECT(uheap_free(&h, blocks[i]) == 0, "free %u", i);
	/* Not the only pool of the class: it goes back to the arena. */
	EXPECT(pym_pool_state(pool) == PYM_POOL_FREE, "used -> free, state %u",
	       pym_pool_state(pool));
	EXPECT(uheap_arena_of(blocks[0])->freepools == pool, "on freepools");
	EXPECT(uheap_free(&h, blocks[cap]) == 0, "free last");
	pool = pool_of(blocks[cap]);
	EXPECT(pym_pool_spare(pool), "last pool of a class is cached");
	EXPECT(uheap_check(&h) == 0, "check");
	/* The free's fast path reads the magazine and bitmap through the arena. */
	EXPECT(!uheap_arena_of(blocks[cap])->pool_cache[pym_pool_pos(pool)],
	       "no cache, no magazine");
	/* Its address and bitmap follow from its index. */
	EXPECT(pym_pool_arena(pool) == uheap_arena_of(blocks[cap]) &&
	       pym_pool_base(pym_pool_arena(pool), pool) ==
	       (char *)((unsigned long)blocks[cap] & -PYM_POOL_SIZE),
	       "pool, arena and address agree");
	pool[1].state_pos--;		/* the next pool's says pool's position */
	EXPECT(uheap_check(&h) >= 1, "a wrong index is a violation");
	pool[1].state_pos++;
	EXPECT(uheap_check(&h) == 0, "check");
	/*
	 * The owner's caches: every pool of every arena, new ones too, knows
	 * its class's, which is never dereferenced here.
	 */
	h.core.cache_stride = 256;
	pym_core_set_cache(&h.core, &h);
	EXPECT(uheap_arena_of(blocks[cap])->pool_cache[pym_pool_pos(pool)] == (char *)&h + 7 * 256,
	       "cache set, at the class's");
	EXPECT(uheap_arena_of(blocks[cap])->pool_cache[PYM_POOLS_PER_ARENA - 1] == (char *)&h,
	       "a fresh pool has class 0's");
	for (n = 0; h.core.cnt[PYM_STAT_ARENAS_CURRENT] < 2 && n < ARRAY_SIZE(more); n++)
		more[n] = uheap_alloc(&h, 64);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 2, "a second arena");
	EXPECT(uheap_arena_of(more[n - 1]) != uheap_arena_of(blocks[cap]) &&
	       uheap_arena_of(more[n - 1])->pool_cache[pym_pool_pos(pool_of(more[n - 1]))] ==
	       (char *)&h + 7 * 256, "a new arena's pool has it");
	blocks[0] = uheap_alloc(&h, 24);
	EXPECT(uheap_arena_of(blocks[0])->pool_cache[pym_pool_pos(pool_of(blocks[0]))] ==
	       (char *)&h + 2 * 256,
	       "a pool given a class has the class's");
	EXPECT(uheap_check(&h) == 0, "check");
	uheap_arena_of(blocks[cap])->pool_cache[pym_pool_pos(pool)] = (char *)&h + 8 * 256;
	EXPECT(uheap_check(&h) == 1, "another class's magazine is a violation");
	uheap_arena_of(blocks[cap])->pool_cache[pym_pool_pos(pool)] = NULL;
	EXPECT(uheap_check(&h) == 1, "no magazine is a violation");
	pym_core_set_cache(&h.core, NULL);
	EXPECT(!uheap_arena_of(blocks[cap])->pool_cache[pym_pool_pos(pool)] &&
	       !uheap_arena_of(more[n - 1])->pool_cache[pym_pool_pos(pool_of(more[n - 1]))],
	       "cache cleared");
	EXPECT(uheap_free(&h, blocks[0]) == 0, "free");
	while (n)
		EXPECT(uheap_free(&h, more[--n]) == 0, "free");
	EXPECT(uheap_check(&h) == 0, "check");
	uheap_destroy(&h);
}

static void test_lazy_carving(void)
{
	struct uheap h;
	unsigned char *p, *q, *c, *end;
	struct pym_pool *pool;

	uheap_init(&h, 1);
	h.fresh_pattern = 0xa5;
	p = uheap_alloc(&h, 100);
	pool = pool_of(p);
	EXPECT(pool->nextoffset == 104, "one block carved: %u", pool->nextoffset);
	q = uheap_alloc(&h, 100);
	EXPECT(q == p + 104 && pool->nextoffset == 208, "second block follows");
	/* Nothing past the carved blocks, nor in other pools, was written. */
	end = (unsigned char *)pym_arena_base(p) + PYM_ARENA_SIZE;
	for (c = (unsigned char *)pym_pool_base(pym_pool_arena(pool), pool) + 208;
	     c < end && *c == 0xa5; c++)
		;
	EXPECT(c == end, "memory touched at arena offset %ld",
	       (long)(c - (unsigned char *)pym_arena_base(p)));
	uheap_free(&h, q);
	uheap_free(&h, p);
	uheap_destroy(&h);
}

static void test_arena_release_and_keep(unsigned int keep)
{
	struct uheap h;
	unsigned int n = 3 * PYM_POOLS_PER_ARENA * pym_class_capacity[63], i;
	void **v = malloc(n * sizeof(*v));

	uheap_init(&h, keep);
	for (i = 0; i < n; i++)
		v[i] = uheap_alloc(&h, 512);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 3, "3 arenas, got %llu",
	       (unsigned long long)h.core.cnt[PYM_STAT_ARENAS_CURRENT]);
	for (i = 0; i < n; i++)
		uheap_free(&h, v[i]);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == keep, "keep %u: %llu left", keep,
	       (unsigned long long)h.core.cnt[PYM_STAT_ARENAS_CURRENT]);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_RECLAIMED] == 3 - keep, "reclaimed");
	EXPECT(uheap_check(&h) == 0, "check");
	/* The kept arena serves the next allocation: no new arena. */
	v[0] = uheap_alloc(&h, 512);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_ALLOCATED] == 3 + !keep, "reuse");
	uheap_free(&h, v[0]);
	{
		struct pym_arena *release = NULL;

		EXPECT(pym_core_trim(&h.core, &release) == keep, "trim");
		EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 0, "trimmed");
		uheap_destroy(&h);
		while (release) {
			struct pym_arena *next = release->release_next;

			free(release->base);
			free(release);
			release = next;
		}
	}
	free(v);
}

/*
 * The adaptive policy: a live set that swings from six arenas to one and
 * back keeps the five it emptied and obtains none the second time; aged,
 * the kept arenas follow the peak down, an eighth of the way per call;
 * forgotten, keep_empty remain. Without it, the swing costs five arenas.
 */
static void test_kept_arenas_follow_the_peak(void)
{
	unsigned int per = PYM_POOLS_PER_ARENA * pym_class_capacity[63];
	unsigned int n = 6 * per, i, round, ages = 0;
	void **v = malloc(n * sizeof(*v));
	bool adaptive;
	struct uheap h;

	for (adaptive = false; ; adaptive = true) {
		uheap_init(&h, 1);
		h.core.keep_adaptive = adaptive;
		for (i = 0; i < per; i++)
			v[i] = uheap_alloc(&h, 512);
		for (round = 0; round < 2; round++) {
			for (i = per; i < n; i++)
				v[i] = uheap_alloc(&h, 512);
			for (i = n; i-- > per; )
				uheap_free(&h, v[i]);
			EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == (adaptive ? 6 : 2),
			       "adaptive %d: %llu arenas after the swing down", adaptive,
			       (unsigned long long)h.core.cnt[PYM_STAT_ARENAS_CURRENT]);
			EXPECT(uheap_check(&h) == 0, "check");
		}
		EXPECT(h.core.cnt[PYM_STAT_ARENAS_ALLOCATED] == (adaptive ? 6 : 10),
		       "adaptive %d: %llu arenas obtained for a peak of 6", adaptive,
		       (unsigned long long)h.core.cnt[PYM_STAT_ARENAS_ALLOCATED]);
		if (adaptive)
			break;
		for (i = 0; i < per; i++)
			uheap_free(&h, v[i]);
		uheap_destroy(&h);
	}
	/* Peak 6, one in use: 5 kept; 5 * 7/8 = 4, 4 * 7/8 = 3, ... */
	EXPECT(uheap_age(&h, false) == 1 && h.core.nkept == 4, "aged once: %u kept",
	       h.core.nkept);
	while (h.core.nkept > 1 && ages++ < 20)
		uheap_age(&h, false);
	EXPECT(h.core.nkept == 1 && ages < 20, "%u kept after %u more", h.core.nkept, ages);
	for (i = per; i < n; i++)
		v[i] = uheap_alloc(&h, 512);
	EXPECT(h.core.nkept == 0 && h.core.peak == 6, "back at the peak");
	for (i = n; i-- > per; )
		uheap_free(&h, v[i]);
	EXPECT(h.core.nkept == 5 && uheap_age(&h, true) == 4 && h.core.nkept == 1,
	       "forgotten: %u kept", h.core.nkept);
	EXPECT(uheap_check(&h) == 0, "check");
	for (i = 0; i < per; i++)
		uheap_free(&h, v[i]);
	uheap_destroy(&h);
	free(v);
}

static void test_no_ping_pong(void)
{
	struct uheap h;
	void *keep, *p;
	unsigned int i;

	uheap_init(&h, 1);
	keep = uheap_alloc(&h, 32);
	p = uheap_alloc(&h, 16);
	uheap_free(&h, p);
	for (i = 0; i < 1000; i++) {
		p = uheap_alloc(&h, 16);
		uheap_free(&h, p);
	}
	EXPECT(h.core.cnt[PYM_STAT_POOL_INITS] == 2, "pool inits %llu",
	       (unsigned long long)h.core.cnt[PYM_STAT_POOL_INITS]);
	uheap_free(&h, keep);
	uheap_destroy(&h);
}

static void test_bad_frees(void)
{
	struct uheap h;
	char *p, *q;

	uheap_init(&h, 1);
	p = uheap_alloc(&h, 48);
	q = uheap_alloc(&h, 48);
	EXPECT(uheap_free(&h, p + 8) == PYM_BLOCK_INTERIOR, "interior");
	EXPECT(uheap_free(&h, q + 48) == PYM_BLOCK_NOT_ALLOCATED, "never allocated");
	EXPECT(uheap_free(&h, p) == 0, "free");
	EXPECT(uheap_free(&h, p) == PYM_BLOCK_NOT_ALLOCATED, "double free");
	EXPECT(uheap_free(&h, p + PYM_POOL_SIZE) == PYM_BLOCK_NOT_ALLOCATED,
	       "pointer into a fresh pool");
	EXPECT(h.core.cnt[PYM_STAT_INTERIOR_FREES] == 1 &&
	       h.core.cnt[PYM_STAT_DOUBLE_FREES] == 3,
	       "counted by kind: %llu interior, %llu double",
	       (unsigned long long)h.core.cnt[PYM_STAT_INTERIOR_FREES],
	       (unsigned long long)h.core.cnt[PYM_STAT_DOUBLE_FREES]);
	EXPECT(uheap_check(&h) == 0, "still consistent");
	EXPECT(uheap_alloc(&h, 48) == p, "free list intact");
	uheap_free(&h, p);
	uheap_free(&h, q);
	uheap_destroy(&h);
}

static void test_bulk(void)
{
	struct uheap h;
	void *v[300];
	unsigned int got, i;

	uheap_init(&h, 1);
	EXPECT(pym_core_alloc_bulk(&h.core, 1, 300, v) == 0, "no arena yet");
	uheap_free(&h, uheap_alloc(&h, 16));
	got = pym_core_alloc_bulk(&h.core, 1, 300, v);
	EXPECT(got == 300, "bulk got %u", got);
	for (i = 1; i < got; i++)
		EXPECT(v[i] != v[i - 1], "distinct");
	EXPECT(uheap_check(&h) == 0, "check");
	for (i = 0; i < got; i++)
		EXPECT(uheap_free(&h, v[i]) == 0, "free");
	uheap_destroy(&h);
}

struct live {
	unsigned char *p;
	unsigned int size;
	unsigned char tag;
};

/* Random alloc/free with content checks; the full check after each batch. */
static unsigned int mag_blocks(const struct uheap *h)
{
	unsigned int c, cpu, n = 0;

	for (c = 0; h->cached && c < PYM_NR_CLASSES; c++) {
		for (cpu = 0; cpu < UHEAP_CPUS; cpu++)
			n += pym_mag_len(&h->cpu_mags[cpu][c]);
		n += h->depots[c].len;
	}
	return n;
}

/*
 * Random alloc/free with content checks and the full check after each
 * batch; with cached, through the magazines of two CPUs taking turns and
 * their depots (blocks they hold count as allocated for the core).
 */
static void test_random(unsigned int ops, unsigned int maxlive, bool cached)
{
	struct live *l = calloc(maxlive, sizeof(*l));
	struct pym_core_stats st;
	unsigned int n = 0, i, j, bad = 0;
	struct uheap h;

	if (cached)
		uheap_init_cached(&h, 1);
	else
		uheap_init(&h, 1);
	for (i = 0; i < ops; i++) {
		int do_alloc = n == 0 || (n < maxlive && rnd() % 100 < 55);

		/* Another CPU now: blocks freed here were allocated there. */
		if (cached && rnd() % 16 == 0)
			uheap_set_cpu(&h, rnd() % UHEAP_CPUS);

		if (do_alloc) {
			l[n].size = 1 + rnd() % PYM_SMALL_THRESHOLD;
			l[n].tag = (unsigned char)rnd();
			l[n].p = uheap_alloc(&h, l[n].size);
			memset(l[n].p, l[n].tag, l[n].size);
			n++;
		} else {
			unsigned int k = rnd() % n;

			for (j = 0; j < l[k].size; j++)
				bad += l[k].p[j] != l[k].tag;
			EXPECT(uheap_free(&h, l[k].p) == 0, "free");
			l[k] = l[--n];
		}
		if (i % 5000 == 4999) {
			unsigned int v = uheap_check(&h);

			EXPECT(v == 0, "%u violations after %u ops", v, i + 1);
			pym_core_collect(&h.core, &st);
			EXPECT(st.v[PYM_STAT_BLOCKS_IN_USE] == n + mag_blocks(&h),
			       "blocks %llu live %u",
			       (unsigned long long)st.v[PYM_STAT_BLOCKS_IN_USE], n);
			EXPECT(st.v[PYM_STAT_BYTES_IN_USE] + st.v[PYM_STAT_BYTES_AVAILABLE] +
			       st.v[PYM_STAT_BYTES_EMPTY_POOLS] +
			       st.v[PYM_STAT_BYTES_QUANTIZATION] ==
			       st.v[PYM_STAT_BYTES_ARENAS] &&
			       st.v[PYM_STAT_BYTES_ARENAS] ==
			       st.v[PYM_STAT_ARENAS_CURRENT] * PYM_ARENA_SIZE,
			       "arena bytes are the sum of their parts");
			/* Random phases: sometimes drain most of the live set. */
			if (rnd() % 4 == 0)
				while (n > maxlive / 10) {
					uheap_free(&h, l[n - 1].p);
					n--;
				}
		}
	}
	EXPECT(bad == 0, "%u corrupted bytes", bad);
	while (n)
		uheap_free(&h, l[--n].p);
	/* Cached blocks may still pin arenas; destroy gives them back. */
	EXPECT(cached || h.core.cnt[PYM_STAT_ARENAS_CURRENT] <= 1, "empty arenas released");
	for (i = 0; h.cached && i < PYM_NR_CLASSES; i++) {
		for (j = 0; j < UHEAP_CPUS; j++)
			EXPECT(pym_mag_len(&h.cpu_mags[j][i]) <= pym_mag_cap(i),
			       "class %u bounded", i);
		EXPECT(h.depots[i].len <= pym_mag_cap(i), "depot %u bounded", i);
	}
	EXPECT(uheap_check(&h) == 0, "check at end");
	uheap_destroy(&h);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 0, "everything back at destroy");
	free(l);
}

static void test_arena_failure(void)
{
	void *v[PYM_POOLS_PER_ARENA * 8 + 1];
	unsigned int n = 0;
	struct uheap h;

	uheap_init(&h, 1);
	h.arena_fail_after = 1;
	while (n < PYM_POOLS_PER_ARENA * 8 + 1) {
		v[n] = uheap_alloc(&h, 512);
		if (!v[n])
			break;
		n++;
	}
	EXPECT(n == PYM_POOLS_PER_ARENA * 8, "one arena's worth: %u", n);
	EXPECT(h.core.cnt[PYM_STAT_ALLOC_FAILURES] == 1 &&
	       h.core.cnt[PYM_STAT_ARENA_FAILURES] == 1, "failure counted");
	EXPECT(uheap_check(&h) == 0, "consistent after failure");
	EXPECT(!uheap_alloc(&h, 8), "other classes need a pool too");
	while (n)
		EXPECT(uheap_free(&h, v[--n]) == 0, "free");
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 1, "arena kept");
	uheap_destroy(&h);
}

/* The magazine front end (magazine.h) as the kernel runs it per CPU. */
static void test_magazine(void)
{
	struct pym_arena *release = NULL;
	char *p, *q, *r;
	unsigned int cls;
	struct uheap h;

	uheap_init_cached(&h, 1);
	p = uheap_alloc(&h, 64);
	EXPECT(uheap_free(&h, p) == 0, "free");
	EXPECT(pym_mag_cached(p, h.secret), "cached blocks carry the marker");
	q = uheap_alloc(&h, 64);
	EXPECT(q == p, "LIFO reuse from the magazine");
	EXPECT(*(unsigned long *)q == 0, "marker cleared on the way out");
	EXPECT(uheap_free(&h, q) == 0, "free");
	EXPECT(uheap_free(&h, q) == PYM_BLOCK_NOT_ALLOCATED, "double free of a cached block");
	EXPECT(uheap_free(&h, q + 8) == PYM_BLOCK_INTERIOR, "interior");
	EXPECT(h.core.cnt[PYM_STAT_DOUBLE_FREES] == 1 &&
	       h.core.cnt[PYM_STAT_INTERIOR_FREES] == 1, "counted by kind");

	/* Back to the core and into a magazine again by a refill: still free. */
	cls = pym_size_class(64);
	uheap_flush(&h, &h.mags[cls], pym_mag_len(&h.mags[cls]), &release);
	r = uheap_alloc(&h, 64);
	EXPECT(r != q && pym_mag_len(&h.mags[cls]) > 0, "refilled past q");
	EXPECT(pym_mag_cached(q, h.secret), "refilled blocks carry the marker");
	EXPECT(uheap_free(&h, q) == PYM_BLOCK_NOT_ALLOCATED,
	       "double free of a block refilled into the magazine");
	EXPECT(uheap_free(&h, r) == 0, "free");
	uheap_destroy(&h);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 0, "everything back at destroy");
	test_random(200000, 5000, true);
}

/*
 * CPU 1 frees what CPU 0 allocated: the older halves of its overflowing
 * magazine go to the depot, and CPU 0 refills from there, newest first,
 * while the core's count of allocated blocks does not move.
 */
static void test_depot(void)
{
	unsigned int cls = pym_size_class(64), cap = pym_mag_cap(cls), i, left;
	struct pym_depot *d;
	void *v[2 * PYM_MAG_MAX], *next, *p;
	struct pym_core_stats st;
	unsigned long long core;
	struct uheap h;

	uheap_init_cached(&h, 1);
	d = &h.depots[cls];
	EXPECT(d->cap == cap, "a depot holds a magazine's worth");
	for (i = 0; i < 2 * cap; i++)
		v[i] = uheap_alloc(&h, 64);
	uheap_set_cpu(&h, 1);
	for (i = 0; i < 2 * cap; i++)
		EXPECT(uheap_free(&h, v[i]) == 0, "free on CPU 1");
	EXPECT(d->len == cap, "depot filled: %u", d->len);
	EXPECT(pym_mag_len(&h.mags[cls]) <= cap, "magazine bounded");
	for (i = 0; i < d->len; i++)
		EXPECT(pym_mag_cached(d->blocks[i], h.secret), "depot block %u marked", i);
	EXPECT(uheap_free(&h, d->blocks[0]) == PYM_BLOCK_NOT_ALLOCATED,
	       "double free of a block in the depot");

	uheap_set_cpu(&h, 0);
	next = d->blocks[d->len - 1];
	pym_core_collect(&h.core, &st);
	core = st.v[PYM_STAT_BLOCKS_IN_USE];
	left = pym_mag_len(&h.mags[cls]);
	for (i = 0; i < left; i++)
		v[i] = uheap_alloc(&h, 64);
	p = uheap_alloc(&h, 64);
	EXPECT(p == next, "refilled from the depot, newest first");
	EXPECT(*(unsigned long *)p == 0, "marker cleared on the way out");
	EXPECT(d->len == cap - (cap / 2 + 1), "a batch taken: %u left", d->len);
	pym_core_collect(&h.core, &st);
	EXPECT(st.v[PYM_STAT_BLOCKS_IN_USE] == core, "the core saw nothing");
	for (i = 0; i < left; i++)
		uheap_free(&h, v[i]);
	uheap_free(&h, p);
	EXPECT(uheap_check(&h) == 0, "consistent");
	uheap_destroy(&h);
	EXPECT(h.core.cnt[PYM_STAT_ARENAS_CURRENT] == 0, "everything back at destroy");
}

/*
 * The lock-free pop (magazine.h) against a simulated interrupt and
 * migration: pym_mag_race_window() runs a nested pop, push or reshuffle
 * in each window of the pop, between its read of the state and its
 * commit, and in the claim, or moves the popping task to the other CPU
 * (the pop runs preemptible); the push masks interrupts, so none comes
 * inside it. A model of which blocks are held must match the two CPUs'
 * magazines after every operation: a commit that missed the interruption
 * or the move shows up as a block both held and cached, twice cached, or
 * gone missing. The reshuffle leaves the length as it was, so only the
 * sequence count tells it happened. A window put back between the push's
 * read of the state and its write of the slot, with interrupts left on
 * there, fails this test (a block held and cached), as the kernel did
 * before the push masked them.
 */
#define RACE_BLOCKS	48
#define RACE_CPUS	2

/* The allocation bit of blocks that live in no pool: always set. */
static const unsigned long all_allocated = ~0UL;

static struct {
	struct pym_mag mag[RACE_CPUS];	/* per CPU: pym_cpu_offset apart */
	unsigned long secret;
	unsigned long *block[RACE_BLOCKS];	/* word 1 holds the index */
	bool held[RACE_BLOCKS];
	bool in_flight[RACE_BLOCKS];	/* being pushed: its owner's still */
	unsigned int nested, moved;
} race;

static unsigned int race_index(const void *p)
{
	return (unsigned int)((const unsigned long *)p)[1];
}

static void race_set_cpu(unsigned int cpu)
{
	pym_cpu_offset = cpu * sizeof(race.mag[0]);
}

static void race_pop(void)
{
	unsigned long *p;

	if (!pym_mag_pop_local(&race.mag[0], (void **)&p))
		return;
	EXPECT(!race.held[race_index(p)], "block %u handed out twice", race_index(p));
	EXPECT(pym_mag_cached(p, race.secret), "popped block %u marked", race_index(p));
	p[0] = 0;	/* as the allocation does */
	race.held[race_index(p)] = true;
}

static void race_push(void)
{
	unsigned int i = (unsigned int)(rnd() % RACE_BLOCKS);

	if (!race.held[i] || race.in_flight[i])
		return;
	race.in_flight[i] = true;
	EXPECT(pym_mag_claim(race.block[i], race.secret, &all_allocated, 0),
	       "held block %u unmarked", i);
	if (pym_mag_push_local(&race.mag[0], race.block[i])) {
		race.held[i] = false;
	} else {
		EXPECT(pym_mag_cached(race.block[i], race.secret),
		       "a refused block keeps its claim");
		race.block[i][0] = 0;	/* the caller keeps it, as the kernel's overflow does */
	}
	race.in_flight[i] = false;
}

static void race_interrupt(void *where)
{
	unsigned long *taken[8];
	unsigned int n = 0, i;

	if (rnd() % 2)
		return;
	/* Only a pop is preemptible; its windows pass the magazine. */
	if ((where == &race.mag[0] || where == &race.mag[1]) && rnd() % 3 == 0) {
		race_set_cpu((unsigned int)(rnd() % RACE_CPUS));
		race.moved++;
		return;
	}
	pym_mag_race_hook = NULL;	/* interrupts do not nest here */
	race.nested++;
	switch (rnd() % 3) {
	case 0:
		race_pop();
		break;
	case 1:
		race_push();
		break;
	default:
		while (n < 8 && pym_mag_pop_local(&race.mag[0], (void **)&taken[n]))
			taken[n++][0] = 0;
		for (i = 0; i < n; i++) {	/* back in another order */
			EXPECT(pym_mag_claim(taken[i], race.secret, &all_allocated, 0),
			       "taken block unmarked");
			EXPECT(pym_mag_push_local(&race.mag[0], taken[i]),
			       "room for what was taken");
		}
	}
	pym_mag_race_hook = race_interrupt;
}

static void race_check(void)
{
	bool seen[RACE_BLOCKS] = { false };
	unsigned int n = 0, i, c, cached = 0;

	for (c = 0; c < RACE_CPUS; c++) {
		EXPECT(pym_mag_state_cpu(race.mag[c].state) == c, "CPU %u's number", c);
		for (i = 0; i < pym_mag_len(&race.mag[c]); i++, n++) {
			unsigned long *p = race.mag[c].blocks[i];
			unsigned int k = race_index(p);

			EXPECT(!seen[k], "block %u cached twice", k);
			EXPECT(!race.held[k], "block %u held and cached", k);
			EXPECT(pym_mag_cached(p, race.secret), "cached block %u marked", k);
			seen[k] = true;
		}
	}
	for (i = 0; i < RACE_BLOCKS; i++)
		cached += !race.held[i];
	EXPECT(cached == n, "%u blocks not held, %u cached", cached, n);
}

static void test_magazine_races(void)
{
	unsigned int i, c;

	race.secret = 0x5eed5eed5eed5eedUL;
	for (c = 0; c < RACE_CPUS; c++)
		pym_mag_init(&race.mag[c], pym_size_class(64), c);
	for (i = 0; i < RACE_BLOCKS; i++) {
		race.block[i] = aligned_alloc(64, 64);
		race.block[i][0] = 0;
		race.block[i][1] = i;
		race.held[i] = true;
	}
	race_set_cpu(0);
	pym_mag_race_hook = race_interrupt;
	for (i = 0; i < 200000; i++) {
		if (rnd() % 2)
			race_pop();
		else
			race_push();
		race_check();
	}
	pym_mag_race_hook = NULL;
	race_set_cpu(0);
	EXPECT(race.nested > 10000, "%u simulated interrupts", race.nested);
	EXPECT(race.moved > 10000, "%u simulated migrations", race.moved);
	for (i = 0; i < RACE_BLOCKS; i++)
		free(race.block[i]);
}

/*
 * The case the CPU number in the state is for: two CPUs' magazines alike
 * in length and sequence, and a pop that read CPU 0's moves to CPU 1
 * before it commits. The commit must fail there and the pop start over
 * on CPU 1, taking CPU 1's top block; without the number it would commit
 * CPU 1's state and hand out CPU 0's block, still cached on CPU 0.
 */
static struct pym_mag moving[2];

static void move_to_cpu1(void *where)
{
	if (where == &moving[0]) {
		pym_cpu_offset = sizeof(moving[0]);
		pym_mag_race_hook = NULL;
	}
}

static void test_magazine_migration(void)
{
	unsigned long blocks[2][2], secret = 0x1234, *p;
	unsigned int c;

	pym_cpu_offset = 0;
	for (c = 0; c < 2; c++) {
		pym_mag_init(&moving[c], pym_size_class(16), c);
		EXPECT(pym_mag_claim(&blocks[c][0], secret, &all_allocated, 0) &&
		       pym_mag_push_local(&moving[c], &blocks[c][0]), "cached on CPU %u", c);
	}
	EXPECT((moving[0].state ^ moving[1].state) ==
	       1UL << PYM_MAG_CPU_SHIFT, "alike but for the CPU");
	pym_cpu_offset = 0;
	pym_mag_race_hook = move_to_cpu1;
	EXPECT(pym_mag_pop_local(&moving[0], (void **)&p), "a block");
	pym_mag_race_hook = NULL;
	EXPECT(p == &blocks[1][0], "CPU 1's block, after the move");
	EXPECT(pym_mag_len(&moving[0]) == 1 && moving[0].blocks[0] == &blocks[0][0],
	       "CPU 0's magazine untouched");
	EXPECT(pym_mag_len(&moving[1]) == 0, "CPU 1's magazine popped");
	pym_cpu_offset = 0;
}

/*
 * A double free whose claim is overtaken by the first free and then by the
 * block's return to its pool (a flush, or pym_free_bulk()), which writes
 * the pool's link over the marker: simulated in each window of the claim.
 * The claim must see the bit cleared and refuse. The link is a value the
 * block never held while allocated.
 */
static struct {
	unsigned long *block, marker, secret;
	unsigned long inuse;
	unsigned int window, calls;
} overtake;

static void overtake_hook(void *p)
{
	if (overtake.calls++ != overtake.window)
		return;
	overtake.block[0] = overtake.marker;	/* the first free */
	overtake.inuse = 0;			/* back in the pool: bit, */
	overtake.block[0] = 0x1badd00dUL;	/* then link */
}

static void test_claim_overtaken_by_the_pool(void)
{
	unsigned int w;

	overtake.secret = 0x5eed5eed5eed5eedUL;
	overtake.block = aligned_alloc(64, 64);
	overtake.marker = pym_mag_marker(overtake.block, overtake.secret);
	for (w = 0; w < 2; w++) {
		overtake.block[0] = 42;		/* the owner's data */
		overtake.inuse = 1;
		overtake.window = w;
		overtake.calls = 0;
		pym_mag_race_hook = overtake_hook;
		EXPECT(!pym_mag_claim(overtake.block, overtake.secret, &overtake.inuse, 0),
		       "window %u: a block back in its pool claimed", w);
		pym_mag_race_hook = NULL;
		EXPECT(overtake.calls > w, "window %u reached", w);
		EXPECT(overtake.block[0] == 0x1badd00dUL, "window %u: the link intact", w);
	}
	/* Unraced, the claim of an allocated block succeeds and marks it. */
	overtake.block[0] = 42;
	overtake.inuse = 1;
	EXPECT(pym_mag_claim(overtake.block, overtake.secret, &overtake.inuse, 0) &&
	       pym_mag_cached(overtake.block, overtake.secret), "claimed");
	free(overtake.block);
}

/*
 * The first word changes between the claim's read and its cmpxchg (here
 * the owner writes the block it frees): the claim the kernel's fast free
 * makes once gives up, changing nothing, for do_free() to claim again;
 * the retrying claim reads the word anew and takes the block.
 */
static void rewrite_hook(void *p)
{
	if (overtake.calls++ == 1)
		overtake.block[0] = 43;
}

static void test_claim_once_gives_up(void)
{
	unsigned int once;

	overtake.secret = 0x5eed5eed5eed5eedUL;
	overtake.block = aligned_alloc(64, 64);
	for (once = 0; once < 2; once++) {
		overtake.block[0] = 42;
		overtake.inuse = 1;
		overtake.calls = 0;
		pym_mag_race_hook = rewrite_hook;
		EXPECT(pym_mag_claim_as(overtake.block, overtake.secret,
					&overtake.inuse, 0, once) == !once,
		       "once %u: claimed only by the retrying claim", once);
		pym_mag_race_hook = NULL;
		EXPECT(overtake.calls >= 2, "once %u: the window reached", once);
		EXPECT(pym_mag_cached(overtake.block, overtake.secret) == !once,
		       "once %u: marked only when claimed", once);
		EXPECT(once ? overtake.block[0] == 43 : overtake.inuse == 1,
		       "once %u: the owner's write kept, the bit untouched", once);
	}
	free(overtake.block);
}

/*
 * Two threads free the same block at the same moment, many times over:
 * the claim must let exactly one of them cache it each time.
 */
#define CLAIM_ROUNDS	5000

static struct {
	unsigned long *block;		/* a 64-byte block */
	unsigned int round;		/* advanced by the main thread */
	unsigned int ready, won;	/* per round: threads at the line, winners */
} claim;

static void *claim_thread(void *arg)
{
	unsigned int r, spins;

	for (r = 1; r <= CLAIM_ROUNDS; r++) {
		while (__atomic_load_n(&claim.round, __ATOMIC_ACQUIRE) != r)
			sched_yield();	/* three threads, maybe fewer CPUs */
		__atomic_fetch_add(&claim.ready, 1, __ATOMIC_ACQ_REL);
		/* Both here: the two claims as close as can be. */
		for (spins = 0; __atomic_load_n(&claim.ready, __ATOMIC_ACQUIRE) < 2;)
			if (++spins % 1024 == 0)
				sched_yield();
		if (pym_mag_claim(claim.block, 0x5eedUL, &all_allocated, 0))
			__atomic_fetch_add(&claim.won, 1, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&claim.ready, 1, __ATOMIC_ACQ_REL);
	}
	return arg;
}

static void test_concurrent_double_free(void)
{
	unsigned int r, twice = 0, none = 0;
	pthread_t t[2];

	claim.block = aligned_alloc(64, 64);
	for (r = 0; r < 2; r++)
		pthread_create(&t[r], NULL, claim_thread, NULL);
	for (r = 1; r <= CLAIM_ROUNDS; r++) {
		claim.block[0] = r;		/* an allocated block's data */
		__atomic_store_n(&claim.ready, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&claim.won, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&claim.round, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&claim.ready, __ATOMIC_ACQUIRE) < 4)
			sched_yield();
		twice += claim.won > 1;
		none += claim.won == 0;
	}
	for (r = 0; r < 2; r++)
		pthread_join(t[r], NULL);
	EXPECT(!twice, "%u of %u rounds cached the block twice", twice, CLAIM_ROUNDS);
	EXPECT(!none, "%u of %u rounds cached it not at all", none, CLAIM_ROUNDS);
	EXPECT(pym_mag_cached(claim.block, 0x5eedUL), "the block is marked");
	free(claim.block);
}

static unsigned int lines_printed;

static void count_lines(struct pym_out *out, const char *fmt, ...)
{
	(void)out;
	lines_printed += !!strchr(fmt, '\n');
}

/*
 * Every figure has one name, distinct and fit for a "name value" line,
 * the stats text has one line per figure, and invalid_frees is the sum
 * of the refusals by kind.
 */
static unsigned int freelist_damage_reports;

bool pym_freelist_valid(const struct pym_freelist *c, const void *p,
			unsigned int n)
{
	return !((unsigned long)p & 7);
}

void pym_freelist_damaged(struct pym_freelist *c, void *obj, unsigned int n,
			  unsigned long link)
{
	freelist_damage_reports++;
}

/*
 * The free list against a model under random pushes, pops and drains: each
 * item count has its own LIFO list, the bound holds over all of them, and
 * the per-count figures types shows match the lists.
 */
static void test_freelist_lengths(void)
{
	enum { CAP = 40, OBJS = 200 };
	static void *obj[OBJS][2];
	unsigned int model[PYM_FREELIST_LENGTHS + 4] = { 0 };
	struct pym_freelist c = { .cap = CAP, .secret = 0x5eed5eed5eedULL };
	unsigned int i, n, total = 0, free_objs = OBJS, round;
	void *stack[OBJS], *o, *list;

	for (i = 0; i < OBJS; i++)
		stack[i] = obj[i];
	for (round = 0; round < 20000; round++) {
		n = rnd() % (PYM_FREELIST_LENGTHS + 4);
		switch (rnd() % 5) {
		case 0: case 1:
			if (!free_objs)
				break;
			o = stack[--free_objs];
			if (pym_freelist_push(&c, o, n)) {
				EXPECT(total < CAP && n < PYM_FREELIST_LENGTHS,
				       "kept %u items with %u listed", n, total);
				model[n]++;
				total++;
			} else {
				EXPECT(total == CAP || n >= PYM_FREELIST_LENGTHS,
				       "refused %u items with %u listed", n, total);
				stack[free_objs++] = o;
			}
			break;
		case 2: case 3:
			if (n >= PYM_FREELIST_LENGTHS)
				break;
			o = pym_freelist_pop(&c, n);
			EXPECT(!o == !model[n], "pop of %u items: %p, %u listed",
			       n, o, model[n]);
			if (o) {
				model[n]--;
				total--;
				stack[free_objs++] = o;
			}
			break;
		default:
			if (rnd() % 50)
				break;
			for (list = pym_freelist_take(&c); list; list = o) {
				o = pym_freelist_chain_next(list);
				stack[free_objs++] = list;
			}
			memset(model, 0, sizeof(model));
			total = 0;
		}
		EXPECT(c.count == total, "count %u, model %u", c.count, total);
		for (i = 0; i < PYM_FREELIST_LENGTHS; i++)
			EXPECT(c.len[i] == model[i], "%u items: %u, model %u",
			       i, c.len[i], model[i]);
		EXPECT(free_objs + total == OBJS, "an object got lost");
		if (test_failed)
			return;
	}
}

/*
 * A dead object's link word written after it was listed: the object is
 * still handed out, the rest of its list is dropped and counted, never
 * followed, and the other lists and the totals stay exact. The link is
 * stored encoded: not the next object's address.
 */
static void test_freelist_damage(void)
{
	static void *obj[6][2];
	struct pym_freelist c = { .cap = 10, .secret = 0x0123456789abcdefULL };
	void *list, *o;
	unsigned int i, n;

	for (i = 0; i < 3; i++)
		pym_freelist_push(&c, obj[i], 2);
	pym_freelist_push(&c, obj[3], 0);
	EXPECT(*(void **)obj[2] != obj[1], "link stored in the clear");
	EXPECT(pym_freelist_next(&c, obj[2]) == obj[1], "link decodes");
	*(unsigned long *)obj[2] ^= 0x1234563;	/* a write after free */
	EXPECT(pym_freelist_pop(&c, 2) == obj[2], "damaged head still served");
	EXPECT(freelist_damage_reports == 1, "reported once");
	EXPECT(c.dropped == 2 && c.len[2] == 0 && c.count == 1,
	       "dropped %llu, len %u, count %u", c.dropped, c.len[2], c.count);
	EXPECT(!pym_freelist_pop(&c, 2), "dropped objects never followed");
	EXPECT(pym_freelist_pop(&c, 0) == obj[3], "other lists intact");

	/* The same found while draining: the chain ends at the damage. */
	for (i = 0; i < 3; i++)
		pym_freelist_push(&c, obj[i], 5);
	*(unsigned long *)obj[1] ^= 0x41;
	for (n = 0, list = pym_freelist_take(&c); list; list = o, n++)
		o = pym_freelist_chain_next(list);
	EXPECT(n == 2 && c.dropped == 3 && c.count == 0 &&
	       freelist_damage_reports == 2,
	       "drained %u, dropped %llu", n, c.dropped);
}

/*
 * A pool's free-list link is stored encoded, and one overwritten after
 * the free is never followed: the damaged block is still served, the
 * list rebuilt from the bitmap, nothing leaked or handed out twice, the
 * damage counted and reported.
 */
/* Five blocks of 48 bytes in one pool of an uncached heap, b[1..3] freed. */
static void three_freed(struct uheap *h, void **b)
{
	unsigned int i;

	uheap_init(h, 1);
	for (i = 0; i < 5; i++)
		b[i] = uheap_alloc(h, 48);
	for (i = 1; i < 4; i++)
		EXPECT(uheap_free(h, b[i]) == 0, "free %u", i);
}

static void test_pool_link_damage(void)
{
	struct uheap h;
	void *b[5], *got[5];
	unsigned int i, j;

	three_freed(&h, b);
	/* The list is b3 -> b2 -> b1, by offset; b3's word is not b2's. */
	EXPECT(*(unsigned long *)b[3] != 96, "link stored in the clear");
	EXPECT(pym_pool_next(&h.core, b[3]) == 96 &&
	       (unsigned long)b[2] % PYM_POOL_SIZE == 96, "link decodes");
	EXPECT(pym_pool_next(&h.core, b[1]) == PYM_NOBLOCK, "the list ends");
	*(unsigned long *)b[3] ^= 0x40;		/* a write after free */
	for (i = 0; i < 3; i++)
		got[i] = uheap_alloc(&h, 48);
	EXPECT(got[0] == b[3], "the damaged head is still served");
	EXPECT(uheap_link_reports == 1 &&
	       h.core.cnt[PYM_STAT_CORRUPTIONS] == 1, "damage reported once");
	for (i = 1; i < 3; i++)
		for (j = 1; j < 3; j++)
			EXPECT(got[i] != got[j] || i == j, "handed out twice");
	EXPECT((got[1] == b[1] || got[1] == b[2]) &&
	       (got[2] == b[1] || got[2] == b[2]), "the free blocks, none other");
	EXPECT(uheap_check(&h) == 0, "consistent after the repair");
	for (i = 0; i < 3; i++)
		uheap_free(&h, got[i]);
	uheap_free(&h, b[0]);
	uheap_free(&h, b[4]);
	EXPECT(uheap_check(&h) == 0, "consistent when empty");
	uheap_destroy(&h);
}

/*
 * The same damage met by a bulk take (a magazine's refill): the damaged
 * head still comes first, then the pool's other free blocks, each once,
 * then carved ones, and the pool's count and state match what was taken.
 */
static void test_pool_link_damage_bulk(void)
{
	unsigned int cls = pym_size_class(48), cap = pym_class_capacity[cls];
	void *b[5], *got[PYM_POOL_SIZE / PYM_ALIGN];
	struct pym_pool *pool;
	struct uheap h;
	unsigned int i, j;

	three_freed(&h, b);
	pool = pym_pool_of(uheap_arena_of(b[0]), b[0]);
	*(unsigned long *)b[3] ^= 0x40;		/* a write after free */
	pym_lock(&h.core.lock);
	EXPECT(pym_core_alloc_bulk(&h.core, cls, 10, got) == 10, "ten taken");
	pym_unlock(&h.core.lock);
	EXPECT(got[0] == b[3], "the damaged head first");
	EXPECT(h.core.cnt[PYM_STAT_CORRUPTIONS] == 1, "damage counted once");
	EXPECT((got[1] == b[1] && got[2] == b[2]) ||
	       (got[1] == b[2] && got[2] == b[1]), "the free blocks, none other");
	for (i = 3; i < 10; i++)
		EXPECT(got[i] == (char *)b[4] + (i - 2) * 48, "carved in order, %u", i);
	for (i = 0; i < 10; i++)
		for (j = 0; j < i; j++)
			EXPECT(got[i] != got[j], "%u and %u the same block", i, j);
	EXPECT(pool->ref == 12 && pym_pool_state(pool) == PYM_POOL_USED,
	       "ref %u after twelve taken", pool->ref);
	EXPECT(uheap_check(&h) == 0, "consistent after the repair");
	/* More than the pool's room: the pool fills, the rest is another's. */
	pym_lock(&h.core.lock);
	EXPECT(pym_core_alloc_bulk(&h.core, cls, cap - 7, got) == cap - 7,
	       "the rest of the pool and five more");
	pym_unlock(&h.core.lock);
	EXPECT(pool->ref == cap && pym_pool_state(pool) == PYM_POOL_FULL &&
	       h.core.usedpools[cls].next != &pool->link, "full, off usedpools");
	for (i = 0; i < cap - 7; i++)
		EXPECT((pym_pool_of(uheap_arena_of(got[i]), got[i]) == pool) ==
		       (i < cap - 12), "block %u in the right pool", i);
	EXPECT(uheap_check(&h) == 0, "consistent when full");
	uheap_destroy(&h);
}

static void test_stat_names(void)
{
	struct pym_out out = { .print = count_lines };
	struct pym_core_stats st;
	unsigned int i, j;
	struct uheap h;
	char *p;

	for (i = 0; i < PYM_STAT_NR; i++) {
		const char *n = pym_stat_names[i];

		EXPECT(n && *n && strspn(n, "abcdefghijklmnopqrstuvwxyz_") == strlen(n),
		       "figure %u has a name of [a-z_]", i);
		for (j = 0; n && j < i; j++)
			EXPECT(!pym_stat_names[j] || strcmp(n, pym_stat_names[j]),
			       "figures %u and %u share the name %s", j, i, n);
	}
	uheap_init(&h, 1);
	p = uheap_alloc(&h, 40);
	uheap_free(&h, p + 8);
	uheap_free(&h, p);
	uheap_free(&h, p);
	pym_core_collect(&h.core, &st);
	EXPECT(st.v[PYM_STAT_INVALID_FREES] == 2 &&
	       st.v[PYM_STAT_INVALID_FREES] == st.v[PYM_STAT_DOUBLE_FREES] +
	       st.v[PYM_STAT_INTERIOR_FREES] + st.v[PYM_STAT_FOREIGN_FREES] +
	       st.v[PYM_STAT_SIZE_QUERIES_REFUSED], "invalid_frees is the sum");
	EXPECT(st.v[PYM_STAT_BYTES_METADATA] == sizeof(struct pym_arena),
	       "one arena's descriptor");
	lines_printed = 0;
	pym_core_print_stats(&st, &out);
	EXPECT(lines_printed == PYM_STAT_NR + 1, "%u lines: each figure, one node",
	       lines_printed);
	uheap_destroy(&h);
}

static void release_keep0(void) { test_arena_release_and_keep(0); }
static void release_keep1(void) { test_arena_release_and_keep(1); }
static void random_small(void) { test_random(200000, 3000, false); }
static void random_large(void) { test_random(400000, 60000, false); }

static const struct test tests[] = {
	{ "size_classes", test_size_classes },
	{ "block_zero", test_block_zero },
	{ "alignment", test_alignment },
	{ "pool_states", test_pool_states },
	{ "lazy_carving", test_lazy_carving },
	{ "arena_release_keep0", release_keep0 },
	{ "arena_release_keep1", release_keep1 },
	{ "kept_arenas_follow_the_peak", test_kept_arenas_follow_the_peak },
	{ "no_ping_pong", test_no_ping_pong },
	{ "bad_frees", test_bad_frees },
	{ "bulk", test_bulk },
	{ "arena_failure", test_arena_failure },
	{ "magazine", test_magazine },
	{ "depot", test_depot },
	{ "magazine_races", test_magazine_races },
	{ "magazine_migration", test_magazine_migration },
	{ "claim_overtaken_by_the_pool", test_claim_overtaken_by_the_pool },
	{ "claim_once_gives_up", test_claim_once_gives_up },
	{ "concurrent_double_free", test_concurrent_double_free },
	{ "stat_names", test_stat_names },
	{ "freelist_lengths", test_freelist_lengths },
	{ "freelist_damage", test_freelist_damage },
	{ "pool_link_damage", test_pool_link_damage },
	{ "pool_link_damage_bulk", test_pool_link_damage_bulk },
	{ "random_small_live_set", random_small },
	{ "random_large_live_set", random_large },
};

static unsigned int run(const struct test *t, unsigned int n, unsigned int first,
			const char *filter)
{
	unsigned int i, failed = 0;

	for (i = 0; i < n; i++) {
		if (filter && !strstr(t[i].name, filter)) {
			printf("ok %u %s # SKIP filtered out\n", first + i, t[i].name);
			continue;
		}
		test_failed = 0;
		t[i].fn();
		failed += test_failed;
		printf("%sok %u %s\n", test_failed ? "not " : "", first + i,
		       t[i].name);
	}
	return failed;
}

int main(int argc, char **argv)
{
	unsigned int n = ARRAY_SIZE(tests), failed;
	const char *filter = argc > 1 ? argv[1] : NULL;

	printf("TAP version 13\n1..%u\n", n + gc_ntests);
	failed = run(tests, n, 1, filter);
	failed += run(gc_tests, gc_ntests, n + 1, filter);
	printf("# %u checks\n", test_checks);
	return failed ? 1 : 0;
}
