// SPDX-License-Identifier: GPL-2.0
/*
 * pym_bench.c - in-kernel microbenchmarks, pymalloc against kmalloc and a
 * dedicated kmem_cache.
 *
 * Runs when loaded and keeps the table in debugfs pym_bench/results:
 * "<workload> <allocator> <ns per op>". Under QEMU's -icount shift=0 the
 * guest clock advances one nanosecond per instruction, so the same table
 * then counts instructions (over every CPU, for the multi-CPU workloads).
 * Each workload runs for every allocator in the same boot; single-CPU ones
 * keep the best of five rounds, so other tasks and interrupts (which the
 * clock also counts) stay out of the figures. Allocators are called
 * directly, not through function pointers, so that no retpoline is timed.
 */
#include <linux/debugfs.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/wait.h>

#include <pymalloc_object.h>

#define ITERS	100000
#define ROUNDS	5
#define BATCH	1000
#define LIVE	4096

static char results[16384];
static size_t results_len;
static struct dentry *dir;
static struct kmem_cache *cache64;

static struct pym_type type_nocache = {
	.name = "bench_nocache", .size = 64,
};

static struct pym_type type_cache = {
	.name = "bench_cache", .size = 64, .freelist_max = 256,
};

/* A container type: each object may refer to one other. */
struct gc_obj {
	struct pym_object obj;
	struct pym_object *next;
	u8 pad[64 - sizeof(struct pym_object) - sizeof(void *)];
};

static int gc_traverse(struct pym_object *obj, pym_visit_t visit, void *arg)
{
	struct pym_object *next = container_of(obj, struct gc_obj, obj)->next;

	return next ? visit(next, arg) : 0;
}

static void gc_clear(struct pym_object *obj)
{
	struct gc_obj *o = container_of(obj, struct gc_obj, obj);
	struct pym_object *next = o->next;

	o->next = NULL;
	if (next)
		pym_obj_put(next);
}

static struct pym_type type_gc = {
	.name = "bench_gc", .size = sizeof(struct gc_obj),
	.release = gc_clear, .traverse = gc_traverse, .clear = gc_clear,
};

static void record(const char *workload, const char *alloc, u64 ns, u64 ops)
{
	results_len += scnprintf(results + results_len,
				 sizeof(results) - results_len,
				 "%-24s %-16s %llu.%02llu\n", workload, alloc,
				 ns / ops, ns % ops * 100 / ops);
}

static void record_bytes(const char *workload, const char *alloc, u64 bytes)
{
	results_len += scnprintf(results + results_len,
				 sizeof(results) - results_len,
				 "%-24s %-16s %llu\n", workload, alloc, bytes);
}

#define BEST(expr) ({							\
	u64 best = U64_MAX;						\
	int r;								\
	for (r = 0; r < ROUNDS; r++)					\
		best = min(best, (u64)(expr));				\
	best;								\
})

static void **vec;
static u16 *sizes;

static u64 slab_bytes(void)
{
	return global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) << PAGE_SHIFT;
}

/*
 * kvfree_rcu() batches its frees beyond rcu_barrier()'s reach; only 6.12's
 * kvfree_rcu_barrier() waits for them. Before it, rcu_barrier() is the
 * nearest, and a later measurement of slab memory may see them freed.
 */
#ifndef PYM_HAVE_KVFREE_RCU_BARRIER
#define kvfree_rcu_barrier() rcu_barrier()
#endif

/*
 * Before a run that measures slab growth: frees still pending from earlier
 * runs (kvfree_rcu() batches) and empty slabs left cached (SLUB keeps some
 * per CPU and node) would be freed, or serve requests, during the run, and
 * make its growth read low by a timing-dependent amount.
 */
static void settle_slabs(void)
{
	unsigned int t, i;

	kvfree_rcu_barrier();
	rcu_barrier();
	for (t = 0; t < NR_KMALLOC_TYPES; t++)
		for (i = 0; i <= KMALLOC_SHIFT_HIGH; i++)
			if (kmalloc_caches[t][i])
				kmem_cache_shrink(kmalloc_caches[t][i]);
}

enum allocator { KMALLOC, PYMALLOC, CACHE, DEBUG };

/* A PYM_HEAP_DEBUG heap, while run_single_cpu() measures it. */
static struct pym_heap *debug_heap;

/* A switch, not a function pointer: the branch predicts, no retpoline. */
static __always_inline void *b_alloc(enum allocator a, size_t size)
{
	switch (a) {
	case PYMALLOC:
		return pym_alloc(size, GFP_KERNEL);
	case CACHE:
		return kmem_cache_alloc(cache64, GFP_KERNEL);
	case DEBUG:
		return pym_heap_alloc(debug_heap, size, GFP_KERNEL);
	default:
		return kmalloc(size, GFP_KERNEL);
	}
}

static __always_inline void b_free(enum allocator a, void *p)
{
	switch (a) {
	case PYMALLOC:
	case DEBUG:
		pym_free(p);
		break;
	case CACHE:
		kmem_cache_free(cache64, p);
		break;
	default:
		kfree(p);
	}
}

/* Pairs per measurement: fewer with quick=1, on slow (debug) kernels. */
static unsigned int pair_iters = ITERS;

static noinline u64 pair(enum allocator a, size_t size)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < pair_iters; i++)
		b_free(a, b_alloc(a, size));
	return ktime_get_ns() - t;
}

static noinline u64 batch(enum allocator a, size_t size, bool fifo)
{
	u64 t = ktime_get_ns();
	int i, r;

	for (r = 0; r < ITERS / BATCH; r++) {
		for (i = 0; i < BATCH; i++)
			vec[i] = b_alloc(a, size);
		for (i = 0; i < BATCH; i++)
			b_free(a, vec[fifo ? i : BATCH - 1 - i]);
	}
	return ktime_get_ns() - t;
}

/*
 * BATCH blocks at once, then freed at once: kmem_cache's bulk calls,
 * pymalloc's, and for kmalloc a loop of kmalloc() with kfree_bulk().
 */
static noinline u64 bulk(enum allocator a)
{
	u64 t = ktime_get_ns();
	int i, r;

	for (r = 0; r < ITERS / BATCH; r++) {
		switch (a) {
		case CACHE:
			if (!kmem_cache_alloc_bulk(cache64, GFP_KERNEL, BATCH, vec))
				return U64_MAX;
			kmem_cache_free_bulk(cache64, BATCH, vec);
			break;
		case PYMALLOC:
			if (!pym_alloc_bulk(NULL, 64, GFP_KERNEL, BATCH, vec))
				return U64_MAX;
			pym_free_bulk(BATCH, vec);
			break;
		default:
			for (i = 0; i < BATCH; i++)
				vec[i] = kmalloc(64, GFP_KERNEL);
			kfree_bulk(BATCH, vec);
		}
	}
	return ktime_get_ns() - t;
}

/* Headless RCU frees: kmalloc's before 6.3 were kvfree_rcu(p). */
#ifndef kvfree_rcu_mightsleep
#define kvfree_rcu_mightsleep(p) kvfree_rcu(p)
#endif

/*
 * An allocation and a free after a grace period: what the caller pays;
 * the grace periods and the deferred frees are waited for afterwards,
 * outside the time.
 */
static noinline u64 free_rcu(enum allocator a)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++) {
		if (a == PYMALLOC) {
			pym_free_rcu(pym_alloc(64, GFP_KERNEL));
		} else {
			void *p = kmalloc(64, GFP_KERNEL);

			if (p)
				kvfree_rcu_mightsleep(p);
		}
	}
	t = ktime_get_ns() - t;
	if (a == PYMALLOC)
		pym_rcu_barrier();
	else
		kvfree_rcu_barrier();
	return t;
}

/* Random sizes 1..512 over a live set of up to LIVE blocks. */
static noinline u64 random_sizes(enum allocator a, u64 *peak_slab)
{
	u64 t, base, peak;
	int i;

	settle_slabs();
	base = slab_bytes();
	peak = base;
	memset(vec, 0, LIVE * sizeof(*vec));
	t = ktime_get_ns();
	for (i = 0; i < ITERS; i++) {
		unsigned int k = sizes[i] % LIVE;

		if (vec[k]) {
			b_free(a, vec[k]);
			vec[k] = NULL;
		} else {
			vec[k] = b_alloc(a, 1 + sizes[i] % 512);
		}
		if ((i & 1023) == 0)
			peak = max(peak, slab_bytes());
	}
	t = ktime_get_ns() - t;
	*peak_slab = max(peak, slab_bytes()) - base;
	for (i = 0; i < LIVE; i++)
		if (vec[i])
			b_free(a, vec[i]);
	return t;
}

struct kobj64 {
	struct kref ref;
	char data[64 - sizeof(struct kref)];
};

static void kobj_release(struct kref *ref)
{
	kfree(container_of(ref, struct kobj64, ref));
}

static noinline u64 obj_kref(void)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++) {
		struct kobj64 *o = kzalloc(sizeof(*o), GFP_KERNEL);

		kref_init(&o->ref);
		kref_put(&o->ref, kobj_release);
	}
	return ktime_get_ns() - t;
}

static noinline u64 obj_pym(struct pym_type *type)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++)
		pym_obj_put(pym_obj_new(type, GFP_KERNEL));
	return ktime_get_ns() - t;
}

/*
 * Pause of a full collection with n tracked objects, all reachable: a
 * chain of n held by its head, which is what a collection walks most.
 */
static void gc_pause(unsigned int n)
{
	struct pym_object *head = NULL, *o;
	char name[32];
	unsigned int i;
	u64 t;

	pym_gc_lock();
	for (i = 0; i < n; i++) {
		o = pym_obj_new(&type_gc, GFP_KERNEL);
		if (!o)
			break;
		/* o takes over the reference to head. */
		container_of(o, struct gc_obj, obj)->next = head;
		head = o;
	}
	pym_gc_unlock();
	pym_gc_collect(2);	/* the chain's first one: promotes it */
	t = BEST(({
		u64 s = ktime_get_ns();

		pym_gc_collect(2);
		ktime_get_ns() - s;
	}));
	snprintf(name, sizeof(name), "gc-full-%u-objects", i);
	record(name, "pym_gc", t, 1);
	/* Link by link, so that no release() recurses down the chain. */
	pym_gc_lock();
	while (head) {
		struct gc_obj *g = container_of(head, struct gc_obj, obj);

		o = g->next;
		g->next = NULL;
		pym_obj_put(head);
		head = o;
	}
	pym_gc_unlock();
}

/*
 * Producer/consumer: CPU A allocates 64-byte blocks into a ring, CPU B
 * frees them (xmalloc-test's pattern), so every free is a remote one.
 * A side that must wait sleeps rather than spins, and is woken once per
 * WAKE_BATCH blocks: under -icount a spinning vCPU's instructions would
 * be counted as time and measure QEMU's scheduling, not the allocators.
 */
#define RING		1024
#define WAKE_BATCH	64

struct pc {
	void *ring[RING];
	unsigned long head, tail;	/* producer writes head, consumer tail */
	enum allocator allocator;
	wait_queue_head_t wq;
	struct completion done;
};

static unsigned long pc_tail(struct pc *pc)
{
	/* Pairs with the consumer's release: the frees below tail are done. */
	return smp_load_acquire(&pc->tail);
}

static unsigned long pc_head(struct pc *pc)
{
	/* Pairs with the producer's release: the slots below head are filled. */
	return smp_load_acquire(&pc->head);
}

static void pc_wake(struct pc *pc)
{
	/* Orders our head or tail update before the look at the queue. */
	if (wq_has_sleeper(&pc->wq))
		wake_up(&pc->wq);
}

static int producer_fn(void *arg)
{
	struct pc *pc = arg;
	unsigned long i;

	for (i = 0; i < ITERS; i++) {
		if (i - pc_tail(pc) >= RING)
			wait_event(pc->wq, i - pc_tail(pc) <= RING / 2);
		pc->ring[i % RING] = b_alloc(pc->allocator, 64);
		/* Publishes the slot to the consumer's acquire. */
		smp_store_release(&pc->head, i + 1);
		if ((i + 1) % WAKE_BATCH == 0 || i + 1 == ITERS)
			pc_wake(pc);
	}
	return 0;
}

static int consumer_fn(void *arg)
{
	struct pc *pc = arg;
	unsigned long i;

	for (i = 0; i < ITERS; i++) {
		if (pc_head(pc) == i)
			wait_event(pc->wq, pc_head(pc) - i >= WAKE_BATCH ||
				   pc_head(pc) == ITERS);
		b_free(pc->allocator, pc->ring[i % RING]);
		/* Hands the slot back to the producer's acquire. */
		smp_store_release(&pc->tail, i + 1);
		if ((i + 1) % WAKE_BATCH == 0)
			pc_wake(pc);
	}
	complete(&pc->done);
	return 0;
}

static u64 producer_consumer(enum allocator allocator)
{
	struct pc *pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	struct task_struct *p, *c;
	u64 t;

	if (!pc)
		return 0;
	pc->allocator = allocator;
	init_waitqueue_head(&pc->wq);
	init_completion(&pc->done);
	p = kthread_create_on_cpu(producer_fn, pc, 0, "pym_prod/%u");
	c = kthread_create_on_cpu(consumer_fn, pc, 1, "pym_cons/%u");
	if (IS_ERR(p) || IS_ERR(c)) {
		if (!IS_ERR(p))
			kthread_stop(p);
		if (!IS_ERR(c))
			kthread_stop(c);
		kfree(pc);
		return 0;
	}
	t = ktime_get_ns();
	wake_up_process(c);
	wake_up_process(p);
	wait_for_completion(&pc->done);
	t = ktime_get_ns() - t;
	kfree(pc);
	return t;
}

/*
 * Larson-like: one thread per CPU; each op takes a random slot of a shared
 * array, frees what another thread may have left there and puts a new
 * block of random size 8..512 in it.
 */
#define SLOTS	4096

struct larson {
	void **slots;
	enum allocator allocator;
	atomic_t running;
	struct completion done;
};

static int larson_fn(void *arg)
{
	struct larson *l = arg;
	u32 seed = get_random_u32();
	int i;

	for (i = 0; i < ITERS / 4; i++) {
		void *old, *p;

		seed = seed * 1664525 + 1013904223;
		p = b_alloc(l->allocator, 8 + (seed >> 8) % 505);
		old = xchg(&l->slots[(seed >> 20) % SLOTS], p);
		if (old)
			b_free(l->allocator, old);
		if ((i & 255) == 0)
			cond_resched();
	}
	if (atomic_dec_and_test(&l->running))
		complete(&l->done);
	return 0;
}

static u64 larson(enum allocator allocator, unsigned int *threads)
{
	struct larson l = { .allocator = allocator };
	unsigned int cpu, n = 0;
	u64 t;
	int i;

	l.slots = kvcalloc(SLOTS, sizeof(void *), GFP_KERNEL);
	if (!l.slots)
		return 0;
	init_completion(&l.done);
	atomic_set(&l.running, num_online_cpus());
	t = ktime_get_ns();
	for_each_online_cpu(cpu) {
		struct task_struct *k;

		k = kthread_create_on_cpu(larson_fn, &l, cpu, "pym_larson/%u");
		if (IS_ERR(k)) {
			if (atomic_dec_and_test(&l.running))
				complete(&l.done);
			continue;
		}
		wake_up_process(k);
		n++;
	}
	wait_for_completion(&l.done);
	t = ktime_get_ns() - t;
	for (i = 0; i < SLOTS; i++)
		if (l.slots[i])
			b_free(allocator, l.slots[i]);
	kvfree(l.slots);
	*threads = n;
	return t;
}

/*
 * Cost must not grow with the number of arenas: time the 64-byte pair
 * again with 1 GiB of 256-byte blocks live (4096 arenas for pymalloc).
 */
#define FILL_BLOCKS	((1UL << 30) / 256)

static void with_1gib_live(enum allocator a, const char *name)
{
	void **fill = kvmalloc_array(FILL_BLOCKS, sizeof(void *), GFP_KERNEL);
	struct pym_stats st;
	unsigned long i, n;

	if (!fill)
		return;
	for (n = 0; n < FILL_BLOCKS; n++) {
		fill[n] = b_alloc(a, 256);
		if (!fill[n])
			break;
		if ((n & 4095) == 0)
			cond_resched();
	}
	if (n == FILL_BLOCKS) {
		record("pair-64-1GiB-live", name, BEST(pair(a, 64)), ITERS);
		if (a == PYMALLOC && !pym_heap_stats(NULL, &st))
			record_bytes("arenas-with-1GiB-live", name,
				     st.v[PYM_STAT_ARENAS_CURRENT]);
	}
	for (i = 0; i < n; i++)
		b_free(a, fill[i]);
	kvfree(fill);
}

/* Bytes a heap holds per live block of size bytes, over LIVE blocks. */
static u64 bytes_per_block(struct pym_heap *heap, size_t size)
{
	struct pym_stats before, after;
	int i;

	pym_heap_stats(heap, &before);
	for (i = 0; i < LIVE; i++)
		vec[i] = pym_heap_alloc(heap, size, GFP_KERNEL);
	pym_heap_stats(heap, &after);
	for (i = 0; i < LIVE; i++)
		pym_free(vec[i]);
	return (after.v[PYM_STAT_BYTES_IN_USE] -
		before.v[PYM_STAT_BYTES_IN_USE]) / LIVE;
}

/*
 * A debug heap: its pair (guards, fills, two stack captures, quarantine)
 * and what a block costs it against a normal heap.
 */
static void debug_heap_figures(void)
{
	static const size_t sizes[] = { 8, 64, 256 };
	struct pym_heap *normal;
	char name[32];
	unsigned int i;

	debug_heap = pym_heap_create("bench-debug", PYM_HEAP_DEBUG);
	normal = pym_heap_create("bench-normal", 0);
	if (IS_ERR(debug_heap) || IS_ERR(normal))
		goto out;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(name, sizeof(name), "pair-%zu", sizes[i]);
		record(name, "pymalloc-debug", BEST(pair(DEBUG, sizes[i])), ITERS);
		snprintf(name, sizeof(name), "block-bytes-%zu", sizes[i]);
		record_bytes(name, "pymalloc", bytes_per_block(normal, sizes[i]));
		record_bytes(name, "pymalloc-debug",
			     bytes_per_block(debug_heap, sizes[i]));
	}
out:
	if (!IS_ERR(normal))
		pym_heap_destroy(normal);
	if (!IS_ERR(debug_heap))
		pym_heap_destroy(debug_heap);
	debug_heap = NULL;
}

static bool quick;
module_param(quick, bool, 0444);
MODULE_PARM_DESC(quick, "only the 8, 64 and 512-byte pairs, 5000 each, for slow (debug) kernels");

static void run_pairs(void)
{
	static const size_t psizes[] = { 8, 64, 512 };
	char name[32];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(psizes); i++) {
		snprintf(name, sizeof(name), "pair-%zu", psizes[i]);
		record(name, "kmalloc", BEST(pair(KMALLOC, psizes[i])), pair_iters);
		record(name, "pymalloc", BEST(pair(PYMALLOC, psizes[i])), pair_iters);
	}
}

static void run_single_cpu(void)
{
	static const size_t psizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512 };
	struct pym_stats before, after;
	char name[32];
	unsigned int i;
	u64 peak;

	for (i = 0; i < ARRAY_SIZE(psizes); i++) {
		snprintf(name, sizeof(name), "pair-%zu", psizes[i]);
		record(name, "kmalloc", BEST(pair(KMALLOC, psizes[i])), ITERS);
		record(name, "pymalloc", BEST(pair(PYMALLOC, psizes[i])), ITERS);
	}
	record("pair-64", "kmem_cache", BEST(pair(CACHE, 64)), ITERS);
	debug_heap_figures();
	record("batch-lifo-64", "kmalloc", BEST(batch(KMALLOC, 64, false)), ITERS);
	record("batch-lifo-64", "pymalloc", BEST(batch(PYMALLOC, 64, false)), ITERS);
	record("batch-lifo-64", "kmem_cache", BEST(batch(CACHE, 64, false)), ITERS);
	record("batch-fifo-64", "kmalloc", BEST(batch(KMALLOC, 64, true)), ITERS);
	record("batch-fifo-64", "pymalloc", BEST(batch(PYMALLOC, 64, true)), ITERS);
	record("batch-fifo-64", "kmem_cache", BEST(batch(CACHE, 64, true)), ITERS);
	record("bulk-64", "kmalloc", BEST(bulk(KMALLOC)), ITERS);
	record("bulk-64", "pymalloc", BEST(bulk(PYMALLOC)), ITERS);
	record("bulk-64", "kmem_cache", BEST(bulk(CACHE)), ITERS);
	record("free-rcu-64", "kmalloc", BEST(free_rcu(KMALLOC)), ITERS);
	record("free-rcu-64", "pymalloc", BEST(free_rcu(PYMALLOC)), ITERS);

	record("random-1-512", "kmalloc", random_sizes(KMALLOC, &peak), ITERS);
	record_bytes("random-1-512-slab-bytes", "kmalloc", peak);
	pym_heap_stats(NULL, &before);
	record("random-1-512", "pymalloc", random_sizes(PYMALLOC, &peak), ITERS);
	pym_heap_stats(NULL, &after);
	record_bytes("random-1-512-arena-bytes", "pymalloc",
		     after.v[PYM_STAT_ARENAS_HIGHWATER] * PYM_ARENA_BYTES);

	with_1gib_live(KMALLOC, "kmalloc");
	with_1gib_live(PYMALLOC, "pymalloc");

	record("object-64", "kmalloc+kref", BEST(obj_kref()), ITERS);
	record("object-64", "pym_obj", BEST(obj_pym(&type_nocache)), ITERS);
	record("object-64", "pym_obj+freelist", BEST(obj_pym(&type_cache)), ITERS);
	record("object-64", "pym_obj+gc", BEST(obj_pym(&type_gc)), ITERS);

	gc_pause(1000);
	gc_pause(10000);
	gc_pause(100000);
}

static void run_multi_cpu(void)
{
	unsigned int threads = 0;
	char name[32];
	u64 t;

	if (num_online_cpus() < 2)
		return;
	record("producer-consumer-64", "kmalloc", producer_consumer(KMALLOC), ITERS);
	record("producer-consumer-64", "pymalloc", producer_consumer(PYMALLOC), ITERS);
	snprintf(name, sizeof(name), "larson-%ut", num_online_cpus());
	t = larson(KMALLOC, &threads);
	record(name, "kmalloc", t, ITERS / 4 * max(threads, 1U));
	t = larson(PYMALLOC, &threads);
	record(name, "pymalloc", t, ITERS / 4 * max(threads, 1U));
}

/*
 * Trace replay. The guest writes a kmalloc trace to debugfs pym_bench/trace
 * as "a ID SIZE" / "f ID" lines (IDs dense, reused once freed), then "run"
 * to pym_bench/replay. Each allocator replays it; the figures are ns per
 * event and the memory held at the peak: for kmalloc its slab growth (its
 * slab pages, not just bytes_alloc), for pymalloc its arenas and their
 * descriptors from its own figures, plus bytes_alloc of the requests above
 * 512 bytes, which it passes to kmalloc. Both sides share the machine's
 * slabs with the rest of the kernel, so slab growth moves from run to run
 * by up to megabytes; pymalloc's figure is exact.
 */
struct trace_event {
	u32 id;
	u16 size;		/* 0: a free */
};

#define MAX_EVENTS	BIT(18)

static struct trace_event *events;
static unsigned long nevents;
static u32 maxid;
static char carry[64];
static size_t carry_len;
static DEFINE_MUTEX(trace_lock);

static int trace_add_line(const char *line)
{
	unsigned int id, size;

	if (!events) {
		events = kvcalloc(MAX_EVENTS, sizeof(*events), GFP_KERNEL);
		if (!events)
			return -ENOMEM;
	}
	if (nevents == MAX_EVENTS)
		return -E2BIG;
	if (sscanf(line, "a %u %u", &id, &size) == 2 && size && size < 65536)
		events[nevents++] = (struct trace_event){ id, size };
	else if (sscanf(line, "f %u", &id) == 1)
		events[nevents++] = (struct trace_event){ id, 0 };
	else
		return 0;
	maxid = max(maxid, id);
	return 0;
}

static ssize_t trace_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	size_t i, done;
	char buf[256];
	int err = 0;

	mutex_lock(&trace_lock);
	for (done = 0; done < len && !err; done += i) {
		size_t n = min(len - done, sizeof(buf));

		if (copy_from_user(buf, ubuf + done, n)) {
			err = -EFAULT;
			break;
		}
		for (i = 0; i < n && !err; i++) {
			if (buf[i] != '\n') {
				if (carry_len < sizeof(carry) - 1)
					carry[carry_len++] = buf[i];
				continue;
			}
			carry[carry_len] = '\0';
			err = trace_add_line(carry);
			carry_len = 0;
		}
	}
	mutex_unlock(&trace_lock);
	return err ? err : len;
}

static const struct file_operations trace_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = trace_write,
	.llseek = noop_llseek,
};

/*
 * Replay the trace, copies times interleaved event by event (independent
 * users of one subsystem). *peak: the most held at once, sampled every 64
 * events: the slab pages' growth, and for pymalloc its arenas too;
 * *req_peak: the most kmalloc's size classes held for the live requests
 * (its bytes_alloc, a lower bound on its slab pages).
 */
static u64 replay(enum allocator a, struct pym_heap *heap, unsigned int copies,
		  u64 *peak, u64 *req_peak)
{
	unsigned long ids = (unsigned long)maxid + 1, i, k;
	void **live = kvcalloc(ids * copies, sizeof(void *), GFP_KERNEL);
	u32 *sizes_live = kvcalloc(ids * copies, sizeof(u32), GFP_KERNEL);
	u64 t, base, held, req = 0, large = 0;
	struct pym_stats st;
	unsigned int c;

	if (!live || !sizes_live) {
		kvfree(live);
		kvfree(sizes_live);
		return 0;
	}
	if (peak)
		settle_slabs();
	base = slab_bytes();
	t = ktime_get_ns();
	for (i = 0; i < nevents; i++) {
		struct trace_event *e = &events[i];

		for (c = 0; c < copies; c++) {
			k = c * ids + e->id;
			if (live[k]) {
				b_free(a, live[k]);
				req -= sizes_live[k];
				if (sizes_live[k] > PYM_SMALL_MAX)
					large -= sizes_live[k];
				live[k] = NULL;
			}
			if (e->size) {
				live[k] = a == PYMALLOC ?
					  pym_heap_alloc(heap, e->size, GFP_KERNEL) :
					  kmalloc(e->size, GFP_KERNEL);
				sizes_live[k] = live[k] ? kmalloc_size_roundup(e->size) : 0;
				req += sizes_live[k];
				if (sizes_live[k] > PYM_SMALL_MAX)
					large += sizes_live[k];
			}
		}
		if (peak && (i & 63) == 0) {
			if (a != PYMALLOC)
				held = slab_bytes() - min(base, slab_bytes());
			else if (!pym_heap_stats(heap, &st))
				held = st.v[PYM_STAT_BYTES_ARENAS] +
				       st.v[PYM_STAT_BYTES_METADATA] + large;
			else
				held = 0;
			*peak = max(*peak, held);
			if (req_peak)
				*req_peak = max(*req_peak, req);
		}
	}
	t = ktime_get_ns() - t;
	for (i = 0; i < ids * copies; i++)
		if (live[i])
			b_free(a, live[i]);
	kvfree(live);
	kvfree(sizes_live);
	return t;
}

/* Peaks of copies interleaved replays, each allocator on a fresh heap. */
static void replay_peaks(unsigned int copies)
{
	u64 pk = 0, pp = 0, rk = 0;
	struct pym_heap *heap = pym_heap_create("bench-trace-peak", 0);
	char name[48];

	if (IS_ERR(heap))
		return;
	replay(KMALLOC, NULL, copies, &pk, &rk);
	replay(PYMALLOC, heap, copies, &pp, NULL);
	pym_heap_destroy(heap);
	snprintf(name, sizeof(name), "trace%s-replay-peak-bytes",
		 copies > 1 ? "x16" : "");
	record_bytes(name, "kmalloc", pk);
	record_bytes(name, "kmalloc-bytes_alloc", rk);
	record_bytes(name, "pymalloc", pp);
}

static ssize_t replay_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	struct pym_heap *heap;
	u64 tk, tp;

	mutex_lock(&trace_lock);
	heap = pym_heap_create("bench-trace", 0);
	if (IS_ERR(heap) || !nevents) {
		mutex_unlock(&trace_lock);
		return IS_ERR(heap) ? PTR_ERR(heap) : -ENODATA;
	}
	/* Timed apart from the peaks: their sampling walks the arenas. */
	tk = BEST(replay(KMALLOC, NULL, 1, NULL, NULL));
	tp = BEST(replay(PYMALLOC, heap, 1, NULL, NULL));
	pym_heap_destroy(heap);
	record("trace-replay", "kmalloc", tk, nevents);
	record("trace-replay", "pymalloc", tp, nevents);
	replay_peaks(1);
	replay_peaks(16);
	mutex_unlock(&trace_lock);
	return len;
}

static const struct file_operations replay_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = replay_write,
	.llseek = noop_llseek,
};

static int results_show(struct seq_file *m, void *v)
{
	seq_write(m, results, results_len);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

static int __init pym_bench_init(void)
{
	int err;

	vec = kvcalloc(max(BATCH, LIVE), sizeof(*vec), GFP_KERNEL);
	sizes = kvcalloc(ITERS, sizeof(*sizes), GFP_KERNEL);
	cache64 = kmem_cache_create("pym_bench64", 64, 0, 0, NULL);
	if (!vec || !sizes || !cache64) {
		err = -ENOMEM;
		goto out;
	}
	get_random_bytes(sizes, ITERS * sizeof(*sizes));
	err = pym_type_register(&type_nocache);
	if (err)
		goto out;
	err = pym_type_register(&type_cache);
	if (err)
		goto out_type;
	err = pym_type_register(&type_gc);
	if (err)
		goto out_cache;

	migrate_disable();
	if (quick) {
		pair_iters = ITERS / 20;
		run_pairs();
	} else {
		run_single_cpu();
	}
	migrate_enable();
	if (!quick)
		run_multi_cpu();

	dir = debugfs_create_dir("pym_bench", NULL);
	debugfs_create_file("results", 0400, dir, NULL, &results_fops);
	debugfs_create_file("trace", 0200, dir, NULL, &trace_fops);
	debugfs_create_file("replay", 0200, dir, NULL, &replay_fops);
	return 0;

out_cache:
	pym_type_unregister(&type_cache);
out_type:
	pym_type_unregister(&type_nocache);
out:
	kmem_cache_destroy(cache64);
	kvfree(sizes);
	kvfree(vec);
	return err;
}

static void __exit pym_bench_exit(void)
{
	debugfs_remove(dir);
	pym_type_unregister(&type_gc);
	pym_type_unregister(&type_cache);
	pym_type_unregister(&type_nocache);
	kmem_cache_destroy(cache64);
	kvfree(sizes);
	kvfree(vec);
	kvfree(events);
}

module_init(pym_bench_init);
module_exit(pym_bench_exit);
MODULE_DESCRIPTION("pymalloc microbenchmarks against kmalloc");
MODULE_LICENSE("GPL");
