// SPDX-License-Identifier: GPL-2.0
/*
 * magazine_kunit.c - KUnit tests of the per-CPU magazines: the core is not
 * touched by a cached alloc/free pair, caches are bounded, blocks freed
 * on another CPU come back intact, and to the allocating CPU through the
 * depot without the core, cached blocks are still known free,
 * interrupts racing the lock-free fast paths lose and duplicate nothing,
 * and pressure and CPU hotplug give everything back.
 */
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>

#include "kunit_util.h"

static void pair_stays_on_the_cpu(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, 0);
	struct pym_pool *pool;
	struct pym_stats st;
	unsigned int ref, i;
	void *p, *q;

	migrate_disable();
	p = pym_heap_alloc(heap, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	pool = pool_of(p);
	ref = pool->ref;
	pym_free(p);
	for (i = 0; i < 1000; i++) {
		q = pym_heap_alloc(heap, 64, GFP_KERNEL);
		KUNIT_EXPECT_PTR_EQ(test, q, p);
		pym_free(q);
	}
	/* The core never saw those pairs. */
	KUNIT_EXPECT_EQ(test, pool->ref, ref);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));
	pym_heap_destroy(heap);
}

static void caches_are_bounded(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, 0);
	unsigned int cls = pym_size_class(64), n = 500, i, depot;
	u64 *cached;
	void **v;

	cached = kunit_kcalloc(test, PYM_NR_CLASSES, sizeof(*cached), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cached);
	v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	migrate_disable();
	for (i = 0; i < n; i++)
		v[i] = pym_heap_alloc(heap, 64, GFP_KERNEL);
	for (i = 0; i < n; i++)
		pym_free(v[i]);
	pym_pcpu_count(heap, cached);
	depot = heap->depot[cls].len;
	/*
	 * At most a magazine's worth on this CPU, at least the quarter an
	 * overflow into a full depot keeps, and a magazine's worth in the
	 * depot.
	 */
	KUNIT_EXPECT_LE(test, cached[cls] - depot, pym_mag_cap(cls));
	KUNIT_EXPECT_GE(test, cached[cls] - depot,
			pym_mag_cap(cls) - pym_mag_cap(cls) / 2 - pym_mag_cap(cls) / 4);
	KUNIT_EXPECT_EQ(test, depot, pym_mag_cap(cls));
	migrate_enable();
	/* The rest went back: the pools hold only the cached blocks. */
	KUNIT_EXPECT_EQ(test, heap->core.cnt[PYM_STAT_DOUBLE_FREES], 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));
	pym_heap_destroy(heap);
}

static void cached_block_is_known_free(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, 0);
	struct pym_stats st;
	u8 *p, *q, *keep;

	p = pym_heap_alloc(heap, 32, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	pym_free(p);
	pym_free(p);			/* double free of a cached block */
	KUNIT_EXPECT_EQ(test, pym_size(p), 0);
	pym_free(p + 8);		/* interior */
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_DOUBLE_FREES], 1);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_INTERIOR_FREES], 1);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_SIZE_QUERIES_REFUSED], 1);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_INVALID_FREES], 3);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	/* The secret marker never reaches a caller. */
	p = pym_heap_alloc(heap, 32, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, *(unsigned long *)p, 0UL);
	pym_free(p);

	/*
	 * Back to the core, then into the magazine by a refill: still free.
	 * keep keeps the arena from going back to the page allocator.
	 */
	keep = pym_heap_alloc(heap, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, keep);
	migrate_disable();
	pym_heaps_trim();
	q = pym_heap_alloc(heap, 32, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_PTR_NE(test, q, p);
	pym_free(p);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_DOUBLE_FREES], 2);
	pym_free(q);
	pym_free(keep);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));
	pym_heap_destroy(heap);
}

struct xfer {
	struct pym_heap *heap;
	void **blocks;
	unsigned int n;
	unsigned long corrupt;
	struct completion done;
};

static int alloc_fn(void *arg)
{
	struct xfer *x = arg;
	unsigned int i;

	for (i = 0; i < x->n; i++) {
		x->blocks[i] = pym_heap_alloc(x->heap, 1 + i % 512, GFP_KERNEL);
		if (x->blocks[i])
			memset(x->blocks[i], i & 0xff, 1 + i % 512);
	}
	complete(&x->done);
	return 0;
}

static int free_fn(void *arg)
{
	struct xfer *x = arg;
	unsigned int i;

	for (i = 0; i < x->n; i++) {
		if (!x->blocks[i] ||
		    memchr_inv(x->blocks[i], i & 0xff, 1 + i % 512))
			x->corrupt++;
		pym_free(x->blocks[i]);
	}
	complete(&x->done);
	return 0;
}

static void run_on(struct kunit *test, int (*fn)(void *), struct xfer *x,
		   unsigned int cpu)
{
	struct task_struct *t;

	init_completion(&x->done);
	t = kthread_create_on_cpu(fn, x, cpu, "pym_xfer/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wake_up_process(t);
	wait_for_completion(&x->done);
}

static void freed_on_another_cpu(struct kunit *test)
{
	struct xfer x = { .heap = test_heap(test, 0), .n = 4000 };
	unsigned int a = cpumask_first(cpu_online_mask);
	unsigned int b = cpumask_last(cpu_online_mask);
	struct pym_stats st;

	if (a == b)
		kunit_skip(test, "needs two online CPUs");
	x.blocks = kunit_kcalloc(test, x.n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x.blocks);
	run_on(test, alloc_fn, &x, a);
	run_on(test, free_fn, &x, b);
	KUNIT_EXPECT_EQ(test, x.corrupt, 0);
	/* Reused on the allocating CPU again, then back on the other. */
	run_on(test, alloc_fn, &x, b);
	run_on(test, free_fn, &x, a);
	KUNIT_EXPECT_EQ(test, x.corrupt, 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(x.heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(x.heap));
	pym_heap_destroy(x.heap);
}

/*
 * One CPU allocates what another frees: the blocks come back to the
 * allocating CPU through the depot, a batch at a time, and the core sees
 * none of it.
 */
struct remote {
	struct xfer x;
	unsigned int cls;
	void *next;		/* the block the refill should hand out */
	void *got;		/* the block it did */
};

static int remote_alloc_fn(void *arg)
{
	struct remote *r = arg;
	unsigned int i, left;

	if (r->next) {
		/* Use up this CPU's magazine, then one more: a refill. */
		left = pym_mag_len(&this_cpu_ptr(r->x.heap->pcpu)->mags[r->cls]);
		for (i = 0; i < left; i++)
			r->x.blocks[r->x.n + i] = pym_heap_alloc(r->x.heap, 64, GFP_KERNEL);
		r->got = pym_heap_alloc(r->x.heap, 64, GFP_KERNEL);
		r->x.blocks[r->x.n + left] = r->got;
	} else {
		for (i = 0; i < r->x.n; i++)
			r->x.blocks[i] = pym_heap_alloc(r->x.heap, 64, GFP_KERNEL);
	}
	complete(&r->x.done);
	return 0;
}

static int remote_free_fn(void *arg)
{
	struct remote *r = arg;
	unsigned int i;

	for (i = 0; i < r->x.n; i++)
		pym_free(r->x.blocks[i]);
	complete(&r->x.done);
	return 0;
}

/* Blocks the core counts allocated: in use, or cached in front of it. */
static u64 core_allocated(struct kunit *test, struct pym_heap *heap)
{
	struct pym_core_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	pym_heap_collect(heap, st);
	return st->v[PYM_STAT_BLOCKS_IN_USE] + st->v[PYM_STAT_BLOCKS_CACHED];
}

static void remote_frees_go_through_the_depot(struct kunit *test)
{
	struct remote r = { .x.heap = test_heap(test, 0), .cls = pym_size_class(64) };
	unsigned int a = cpumask_first(cpu_online_mask);
	unsigned int b = cpumask_last(cpu_online_mask);
	struct pym_depot *d = &r.x.heap->depot[r.cls];
	unsigned int i;
	u64 before;

	if (a == b)
		kunit_skip(test, "needs two online CPUs");
	r.x.n = 2 * pym_mag_cap(r.cls);
	r.x.blocks = kunit_kcalloc(test, r.x.n + PYM_MAG_MAX + 1, sizeof(void *),
				   GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r.x.blocks);
	run_on(test, remote_alloc_fn, &r.x, a);
	run_on(test, remote_free_fn, &r.x, b);
	/* b's magazine overflowed into the depot, not into the core. */
	KUNIT_ASSERT_GT(test, d->len, 0);
	r.next = d->blocks[d->len - 1];
	before = core_allocated(test, r.x.heap);
	run_on(test, remote_alloc_fn, &r.x, a);
	KUNIT_EXPECT_PTR_EQ(test, r.got, r.next);
	KUNIT_EXPECT_EQ(test, core_allocated(test, r.x.heap), before);
	for (i = r.x.n; i <= r.x.n + PYM_MAG_MAX; i++)
		pym_free(r.x.blocks[i]);
	KUNIT_EXPECT_EQ(test, r.x.heap->core.cnt[PYM_STAT_DOUBLE_FREES], 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(r.x.heap));
	pym_heap_destroy(r.x.heap);
}

/* Allocate n 128-byte blocks, then free them: into this CPU's caches. */
static void cache_freed_blocks(struct kunit *test, struct pym_heap *heap,
			       unsigned int n)
{
	void *v[64];
	unsigned int i;

	KUNIT_ASSERT_LE(test, n, ARRAY_SIZE(v));
	for (i = 0; i < n; i++)
		v[i] = pym_heap_alloc(heap, 128, GFP_KERNEL);
	for (i = 0; i < n; i++)
		pym_free(v[i]);
}

static void pressure_drains_caches(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, 0);
	struct pym_stats st;

	cache_freed_blocks(test, heap, 16);
	pym_heaps_trim();
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_ARENAS_CURRENT], 0);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_POOLS_USED], 0);
	pym_heap_destroy(heap);
}

/* Reclaim drains the magazines of many heaps in one round over the CPUs. */
static void pressure_drains_many_heaps(struct kunit *test)
{
	struct pym_heap **heaps;
	struct pym_stats st;
	unsigned int i, n = 200;
	ktime_t t0;
	char name[PYM_HEAP_NAME_MAX];

	heaps = kunit_kcalloc(test, n, sizeof(*heaps), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, heaps);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "kunit-many-%u", i);
		heaps[i] = pym_heap_create(name, 0);
		KUNIT_ASSERT_FALSE(test, IS_ERR(heaps[i]));
		cache_freed_blocks(test, heaps[i], 4);
	}
	t0 = ktime_get();
	pym_heaps_trim();
	kunit_info(test, "trim of %u heaps with cached blocks: %lld us\n", n,
		   ktime_us_delta(ktime_get(), t0));
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(heaps[i], &st));
		KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_ARENAS_CURRENT], 0);
		pym_heap_destroy(heaps[i]);
	}
}

/*
 * Statistics read while blocks travel between CPUs are never impossible
 * values: what is cached is never counted as more than what is allocated.
 */
#define CHURN_ROUNDS	500

struct churn {
	struct pym_heap *heap;
	void *blocks[64];
	struct completion filled, emptied, exited;
	unsigned int rounds;
};

static int churn_alloc_fn(void *arg)
{
	struct churn *c = arg;
	unsigned int i, r;

	for (r = 0; r < CHURN_ROUNDS; r++) {
		for (i = 0; i < ARRAY_SIZE(c->blocks); i++)
			c->blocks[i] = pym_heap_alloc(c->heap, 8 + i, GFP_KERNEL);
		complete(&c->filled);
		wait_for_completion(&c->emptied);
	}
	complete(&c->exited);
	return 0;
}

static int churn_free_fn(void *arg)
{
	struct churn *c = arg;
	unsigned int i, r;

	for (r = 0; r < CHURN_ROUNDS; r++) {
		wait_for_completion(&c->filled);
		for (i = 0; i < ARRAY_SIZE(c->blocks); i++)
			pym_free(c->blocks[i]);
		WRITE_ONCE(c->rounds, r + 1);
		complete(&c->emptied);
	}
	complete(&c->exited);
	return 0;
}

static void stats_possible_under_churn(struct kunit *test)
{
	unsigned int a = cpumask_first(cpu_online_mask);
	unsigned int b = cpumask_last(cpu_online_mask);
	unsigned int reads = 0, bad = 0;
	struct task_struct *t[2];
	struct pym_stats st;
	struct churn *c;

	if (a == b)
		kunit_skip(test, "needs two online CPUs");
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->heap = test_heap(test, 0);
	init_completion(&c->filled);
	init_completion(&c->emptied);
	init_completion(&c->exited);
	t[0] = kthread_create_on_cpu(churn_alloc_fn, c, a, "pym_churn_a/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[0]));
	t[1] = kthread_create_on_cpu(churn_free_fn, c, b, "pym_churn_f/%u");
	if (IS_ERR(t[1]))
		kthread_stop(t[0]);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[1]));
	wake_up_process(t[0]);
	wake_up_process(t[1]);
	while (READ_ONCE(c->rounds) < CHURN_ROUNDS) {
		if (pym_heap_stats(c->heap, &st))
			continue;
		/* Approximate while busy, but within what the arenas hold. */
		bad += st.v[PYM_STAT_BYTES_IN_USE] > st.v[PYM_STAT_BYTES_ARENAS] ||
		       st.v[PYM_STAT_BYTES_IN_USE] < st.v[PYM_STAT_BLOCKS_IN_USE] * 8 ||
		       st.v[PYM_STAT_BYTES_IN_USE] > st.v[PYM_STAT_BLOCKS_IN_USE] * 512;
		reads++;
		cond_resched();
	}
	wait_for_completion(&c->exited);
	wait_for_completion(&c->exited);
	kunit_info(test, "%u reads over %u rounds\n", reads, c->rounds);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_GT(test, reads, 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(c->heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	pym_heap_destroy(c->heap);
}

static void offline_cpu_gives_blocks_back(struct kunit *test)
{
	struct xfer x = { .heap = test_heap(test, 0), .n = 64 };
	unsigned int cpu = cpumask_last(cpu_online_mask);
	struct pym_stats st;
	unsigned int c;
	u64 *cached, total = 0;
	int err;

	cached = kunit_kcalloc(test, PYM_NR_CLASSES, sizeof(*cached), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cached);
	if (cpu == cpumask_first(cpu_online_mask))
		kunit_skip(test, "needs two online CPUs");
	x.blocks = kunit_kcalloc(test, x.n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x.blocks);
	run_on(test, alloc_fn, &x, cpu);
	run_on(test, free_fn, &x, cpu);
	pym_pcpu_count(x.heap, cached);
	for (c = 0; c < PYM_NR_CLASSES; c++)
		total += cached[c];
	KUNIT_EXPECT_GT(test, total, 0);
	err = remove_cpu(cpu);
	if (err)
		kunit_skip(test, "cannot offline CPU %u: %d", cpu, err);
	pym_pcpu_count(x.heap, cached);
	for (total = 0, c = 0; c < PYM_NR_CLASSES; c++)
		total += cached[c];
	KUNIT_EXPECT_EQ(test, total, 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(x.heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, 0, add_cpu(cpu));
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(x.heap));
	pym_heap_destroy(x.heap);
}

struct node_probe {
	struct pym_heap *heap;
	int nid;
	struct completion done;
};

static int node_probe_fn(void *arg)
{
	struct node_probe *np = arg;
	void *p = pym_heap_alloc(np->heap, 64, GFP_KERNEL);

	np->nid = NUMA_NO_NODE;
	if (p) {
		rcu_read_lock();
		np->nid = pym_arena_lookup(p)->nid;
		rcu_read_unlock();
		pym_free(p);
	}
	complete(&np->done);
	return 0;
}

static void arenas_come_from_the_local_node(struct kunit *test)
{
	unsigned int cpu, nodes = 0;
	int nid;

	for_each_node_with_cpus(nid) {
		struct node_probe np = { .heap = test_heap(test, 0) };
		struct task_struct *t;

		cpu = cpumask_first_and(cpumask_of_node(nid), cpu_online_mask);
		if (cpu >= nr_cpu_ids) {
			pym_heap_destroy(np.heap);
			continue;
		}
		init_completion(&np.done);
		t = kthread_create_on_cpu(node_probe_fn, &np, cpu, "pym_node/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		wake_up_process(t);
		wait_for_completion(&np.done);
		/* A fresh heap: the block's arena was fetched for this CPU. */
		KUNIT_EXPECT_EQ_MSG(test, np.nid, nid, "cpu %u", cpu);
		pym_heap_destroy(np.heap);
		nodes++;
	}
	if (nodes < 2)
		kunit_skip(test, "one NUMA node only (check runs the debug guest with two)");
}

static void idle_caches_drain_themselves(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, 0);
	struct pym_stats st;

	cache_freed_blocks(test, heap, 64);
	/* Two idle periods: one to notice the quiet, one to act on it. */
	msleep(3000);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_POOLS_USED], 0);
	/* What is left is the one empty arena a heap keeps. */
	KUNIT_EXPECT_LE(test, st.v[PYM_STAT_ARENAS_CURRENT], 1);
	pym_heap_destroy(heap);
}

/*
 * Frees racing with the heap's destruction: a free that saw the magazines
 * before they were retired may still overflow one and arm the idle work.
 * Destruction must wait for such frees before cancelling the work, or the
 * work fires on a freed heap (KASAN: use-after-free, a second after).
 * Blocks freed after the destruction go to the core, and the heap goes
 * once the last of them is freed.
 */
struct destroy_race {
	void **blocks;
	unsigned int n;
	struct completion started, done;
};

static int destroy_race_free_fn(void *arg)
{
	struct destroy_race *d = arg;
	unsigned int i;

	complete(&d->started);
	for (i = 0; i < d->n; i++)
		pym_free(d->blocks[i]);
	complete(&d->done);
	return 0;
}

static void destroy_while_freeing(struct kunit *test)
{
	unsigned int a = cpumask_first(cpu_online_mask);
	unsigned int b = cpumask_last(cpu_online_mask);
	struct destroy_race d = { .n = 512 };
	struct task_struct *t;
	struct pym_heap *heap;
	unsigned int round, i;

	if (a == b)
		kunit_skip(test, "needs two online CPUs");
	d.blocks = kunit_kcalloc(test, d.n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, d.blocks);
	for (round = 0; round < 20; round++) {
		heap = pym_heap_create("kunit-destroy-race", 0);
		KUNIT_ASSERT_FALSE(test, IS_ERR(heap));
		for (i = 0; i < d.n; i++) {
			d.blocks[i] = pym_heap_alloc(heap, 64, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, d.blocks[i]);
		}
		init_completion(&d.started);
		init_completion(&d.done);
		t = kthread_create_on_cpu(destroy_race_free_fn, &d, b, "pym_destroy/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		wake_up_process(t);
		wait_for_completion(&d.started);
		pym_heap_destroy(heap);
		wait_for_completion(&d.done);
	}
	/* Past the idle period: a work left armed would run now. */
	msleep(1500);
}

/*
 * The fast paths leave interrupts on and commit with a local
 * compare-and-exchange, retried when an interrupt changed the magazine in
 * between. Here a timer interrupt pinned to this CPU allocates and frees
 * the same class as the task it keeps interrupting, now and then in
 * bursts that overflow and refill the magazine. Every block is stamped
 * with its owner's tag and checked before it is freed: a block handed out
 * twice would carry the other owner's stamp. Under QEMU's TCG interrupts
 * arrive only between translated blocks, so this is the real kernel's
 * smoke test; tools/testing/core's magazine_races puts a simulated
 * interrupt inside every window and fails for each way of getting the
 * commit wrong.
 */
#define RACE_LIVE	8
#define RACE_BURST	48
#define RACE_WORDS	(64 / sizeof(unsigned long))
/* Often enough to land inside many fast paths, rare enough not to starve. */
#define RACE_PERIOD_NS	(50 * NSEC_PER_USEC)

struct race_slot {
	unsigned long *p;
	unsigned long tag;
};

struct race {
	struct hrtimer timer;
	struct pym_heap *heap;
	struct race_slot live[RACE_LIVE];
	unsigned long *burst[RACE_BURST];
	unsigned int fired, bad, failed;
	bool stop;
};

static void race_stamp(struct race_slot *s, unsigned long *p, unsigned long tag)
{
	unsigned int i;

	s->p = p;
	s->tag = tag;
	for (i = 0; i < RACE_WORDS; i++)
		p[i] = tag + i;
}

/* Check and free the slot's block; true if it was intact. */
static bool race_release(struct race_slot *s)
{
	bool ok = true;
	unsigned int i;

	if (!s->p)
		return true;
	for (i = 0; i < RACE_WORDS; i++)
		ok &= s->p[i] == s->tag + i;
	pym_free(s->p);
	s->p = NULL;
	return ok;
}

static enum hrtimer_restart race_fn(struct hrtimer *t)
{
	struct race *r = container_of(t, struct race, timer);
	unsigned int n = r->fired++, i;
	struct race_slot *s = &r->live[n % RACE_LIVE];
	unsigned long *p;

	if (!race_release(s))
		r->bad++;
	p = pym_heap_alloc(r->heap, 64, GFP_ATOMIC);
	if (p)
		race_stamp(s, p, ~0UL << 40 | (unsigned long)n << 8);
	else
		r->failed++;
	if (n % 4 == 0) {
		for (i = 0; i < RACE_BURST; i++)
			r->burst[i] = pym_heap_alloc(r->heap, 64, GFP_ATOMIC);
		for (i = 0; i < RACE_BURST; i++)
			pym_free(r->burst[i]);
	}
	if (READ_ONCE(r->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(RACE_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void interrupts_race_the_fast_path(struct kunit *test)
{
	/* Events, not time: run until both sides did 1000, or give up late. */
	unsigned long deadline = jiffies + 300 * HZ, i, n, bad = 0, failed = 0;
	struct race_slot mine[RACE_LIVE] = {};
	struct pym_stats st;
	struct race *r;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->heap = test_heap(test, 0);
	migrate_disable();
	hrtimer_init(&r->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	r->timer.function = race_fn;
	hrtimer_start(&r->timer, ns_to_ktime(RACE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	for (i = 0; (READ_ONCE(r->fired) < 1000 || i < 1000) &&
	     time_before(jiffies, deadline); i++) {
		struct race_slot *s = &mine[i % RACE_LIVE];
		unsigned long *p;

		if (!race_release(s))
			bad++;
		p = pym_heap_alloc(r->heap, 64, GFP_KERNEL);
		if (!p) {
			failed++;
			break;	/* the timer still runs: no assertion here */
		}
		race_stamp(s, p, i << 8);
	}
	WRITE_ONCE(r->stop, true);
	hrtimer_cancel(&r->timer);
	migrate_enable();
	n = i;
	for (i = 0; i < RACE_LIVE; i++) {
		bad += !race_release(&mine[i]);
		bad += !race_release(&r->live[i]);
	}
	kunit_info(test, "%u interrupts over %lu task allocations\n", r->fired, n);
	KUNIT_EXPECT_EQ(test, bad + r->bad, 0);
	KUNIT_EXPECT_EQ(test, failed + r->failed, 0);
	KUNIT_EXPECT_GE(test, r->fired, 1000);
	KUNIT_EXPECT_GE(test, n, 1000);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(r->heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_INVALID_FREES], 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(r->heap));
	pym_heap_destroy(r->heap);
}

/*
 * The fast pop runs preemptible and commits on the CPU it runs on then
 * (magazine.h): two tasks allocate, stamp, check and free while this one
 * keeps moving them between CPUs. A pop that committed on another CPU's
 * magazine than the one it read would hand a block out twice (a stamp
 * overwritten) or lose one (blocks in use after the last free). And the
 * number that makes such a commit fail: every CPU's magazine states carry
 * their CPU's.
 */
#define MOVE_SLOTS	16

struct mover {
	struct pym_heap *heap;
	struct completion done;
	unsigned long rounds, bad, failed;
	bool stop;
};

static int move_worker_fn(void *arg)
{
	struct race_slot slot[MOVE_SLOTS] = {};
	struct mover *m = arg;
	unsigned long i;

	for (i = 0; !READ_ONCE(m->stop); i++) {
		struct race_slot *s = &slot[i % MOVE_SLOTS];
		unsigned long *p;

		if (!race_release(s))
			m->bad++;
		p = pym_heap_alloc(m->heap, 64, GFP_KERNEL);
		if (!p) {
			m->failed++;
			continue;
		}
		race_stamp(s, p, (unsigned long)current->pid << 40 | i << 8);
		WRITE_ONCE(m->rounds, i + 1);
		if (i % 64 == 0)
			cond_resched();
	}
	for (i = 0; i < MOVE_SLOTS; i++)
		m->bad += !race_release(&slot[i]);
	complete(&m->done);
	return 0;
}

static void migrations_race_the_fast_path(struct kunit *test)
{
	unsigned int a = cpumask_first(cpu_online_mask);
	unsigned int b = cpumask_last(cpu_online_mask);
	unsigned long deadline = jiffies + 120 * HZ, moves = 0;
	struct task_struct *t[2];
	struct pym_pcpu *pc;
	struct pym_stats st;
	struct mover *m;
	unsigned int i, cpu, c, wrong = 0;

	if (a == b)
		kunit_skip(test, "needs two online CPUs");
	m = kunit_kcalloc(test, 2, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m[0].heap = test_heap(test, 0);
	for (i = 0; i < 2; i++) {
		m[i].heap = m[0].heap;
		init_completion(&m[i].done);
	}
	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(m[0].heap->pcpu, cpu);
		for (c = 0; c < PYM_NR_CLASSES; c++)
			wrong += pym_mag_state_cpu(pc->mags[c].state) != cpu;
	}
	KUNIT_EXPECT_EQ(test, wrong, 0);
	t[0] = kthread_run(move_worker_fn, &m[0], "pym_move/0");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[0]));
	t[1] = kthread_run(move_worker_fn, &m[1], "pym_move/1");
	if (IS_ERR(t[1])) {
		WRITE_ONCE(m[0].stop, true);
		wait_for_completion(&m[0].done);
	}
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[1]));
	/* Events, not time: 2000 moves and 20000 rounds each, or give up late. */
	while ((moves < 2000 || READ_ONCE(m[0].rounds) < 20000 ||
		READ_ONCE(m[1].rounds) < 20000) && time_before(jiffies, deadline)) {
		for (i = 0; i < 2; i++)
			set_cpus_allowed_ptr(t[i], cpumask_of((moves + i) % 2 ? a : b));
		moves++;
		usleep_range(20, 50);
	}
	for (i = 0; i < 2; i++) {
		WRITE_ONCE(m[i].stop, true);
		wait_for_completion(&m[i].done);
	}
	kunit_info(test, "%lu moves over %lu and %lu rounds\n", moves,
		   m[0].rounds, m[1].rounds);
	KUNIT_EXPECT_EQ(test, m[0].bad + m[1].bad, 0);
	KUNIT_EXPECT_EQ(test, m[0].failed + m[1].failed, 0);
	KUNIT_EXPECT_GE(test, moves, 2000);
	KUNIT_EXPECT_GE(test, m[0].rounds, 20000);
	KUNIT_EXPECT_GE(test, m[1].rounds, 20000);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(m[0].heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_INVALID_FREES], 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(m[0].heap));
	pym_heap_destroy(m[0].heap);
}

static struct kunit_case pymalloc_magazine_cases[] = {
	KUNIT_CASE(pair_stays_on_the_cpu),
	KUNIT_CASE(caches_are_bounded),
	KUNIT_CASE(cached_block_is_known_free),
	KUNIT_CASE_SLOW(interrupts_race_the_fast_path),
	KUNIT_CASE_SLOW(migrations_race_the_fast_path),
	KUNIT_CASE(freed_on_another_cpu),
	KUNIT_CASE(remote_frees_go_through_the_depot),
	KUNIT_CASE(pressure_drains_caches),
	KUNIT_CASE_SLOW(pressure_drains_many_heaps),
	KUNIT_CASE_SLOW(stats_possible_under_churn),
	KUNIT_CASE(offline_cpu_gives_blocks_back),
	KUNIT_CASE(arenas_come_from_the_local_node),
	KUNIT_CASE_SLOW(idle_caches_drain_themselves),
	KUNIT_CASE_SLOW(destroy_while_freeing),
	{}
};

static struct kunit_suite pymalloc_magazine_suite = {
	.name = "pymalloc_magazine",
	.test_cases = pymalloc_magazine_cases,
};

kunit_test_suites(&pymalloc_magazine_suite);
