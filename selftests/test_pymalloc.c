// SPDX-License-Identifier: GPL-2.0
/*
 * test_pymalloc.c - workload driver for the pymalloc kselftests.
 *
 * Commands written to /sys/kernel/debug/test_pymalloc/ctl:
 *   alloc N SIZE    allocate N blocks of SIZE bytes from the default heap
 *   random N SEED   N random allocations and frees, sizes 1..512
 *   free N          free the N newest blocks
 *   freeall         free every block
 *   badfree         one interior, one double and one foreign free
 *   xfree T N       T unbound kthreads, N rounds each: allocate a batch,
 *                   swap it through a shared ring, free what another
 *                   thread allocated (blocks change CPU as threads do)
 *   faults T N      xfree, with the threads marked for fault injection
 *                   (make-it-fail: the fail_page_alloc and pymalloc
 *                   fail_arena knobs with task-filter set hit only them),
 *                   and each round also takes and frees 128 KiB of
 *                   512-byte blocks, so that arenas come and go; failed
 *                   allocations are counted, not an error
 *   pressure        allocate pages, letting the page allocator reclaim,
 *                   until pymalloc's shrinker ran or memory ran out
 *   heaps N         N heaps, each with blocks cached in this CPU's
 *                   magazines; heaps 0 destroys them
 * Every block is filled with a pattern that is verified when it is freed.
 * Reading ctl gives "live <blocks>", "bytes <requested bytes>",
 * "corrupt <blocks found damaged>" and "failed <allocations that
 * returned NULL under faults>".
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kmemleak.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <pymalloc.h>

struct block {
	u8 *p;
	u16 size;
	u8 tag;
};

static DEFINE_MUTEX(lock);
static struct block *blocks;
static size_t nlive, cap, nbytes, ncorrupt, nfailed;
static struct dentry *dir;
static u64 rng;

static u32 next_rand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 33;
}

static int grow(void)
{
	size_t ncap = cap ? cap * 2 : 1024;
	struct block *nb = kvmalloc_array(ncap, sizeof(*nb), GFP_KERNEL);

	if (!nb)
		return -ENOMEM;
	if (blocks)
		memcpy(nb, blocks, nlive * sizeof(*nb));
	kvfree(blocks);
	blocks = nb;
	cap = ncap;
	return 0;
}

static noinline int alloc_one(size_t size)
{
	struct block *b;

	if (nlive == cap && grow())
		return -ENOMEM;
	b = &blocks[nlive];
	b->p = pym_alloc(size, GFP_KERNEL);
	if (!b->p)
		return -ENOMEM;
	b->size = size;
	b->tag = next_rand();
	memset(b->p, b->tag, size);
	nlive++;
	nbytes += size;
	return 0;
}

static noinline void free_at(size_t i)
{
	struct block *b = &blocks[i];

	if (memchr_inv(b->p, b->tag, b->size))
		ncorrupt++;
	pym_free(b->p);
	nbytes -= b->size;
	blocks[i] = blocks[--nlive];
}

static int do_random(unsigned long n, unsigned long seed)
{
	int err = 0;

	rng = seed;
	while (n-- && !err) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (!nlive || next_rand() % 100 < 55)
			err = alloc_one(1 + next_rand() % 512);
		else
			free_at(next_rand() % nlive);
		cond_resched();
	}
	return err;
}

static int do_badfree(void)
{
	static int not_heap;
	u8 *p = pym_alloc(64, GFP_KERNEL);
	u8 *q = pym_alloc(64, GFP_KERNEL);

	if (!p || !q) {
		pym_free(p);
		pym_free(q);
		return -ENOMEM;
	}
	pym_free(p + 8);
	pym_free(p);
	pym_free(p);
	pym_free(&not_heap);
	pym_free(q);
	return 0;
}

/*
 * xfree: blocks allocated by one thread are freed by another, on whatever
 * CPUs the scheduler put them, while CPUs may come and go. A block's first
 * byte is its size class's fill, checked before the free.
 */
#define XFREE_BATCH	32
#define XFREE_RING	256
#define XFREE_HOLD	256	/* 512-byte blocks per round under faults */

struct xfree {
	struct mutex lock;		/* protects ring and nring */
	u8 *ring[XFREE_RING];
	unsigned int nring;
	unsigned long rounds;
	bool stop;			/* the writer was killed: wind down */
	bool faulty;			/* threads marked make-it-fail */
	atomic_t running, corrupt, failed;
	struct completion done;
};

static bool xfree_check(u8 *p)
{
	size_t n = pym_size(p);

	return n && !memchr_inv(p, (u8)n, n);
}

/* Under faults: half an arena per thread, taken and given back. */
static void xfree_hold(struct xfree *x, u8 **hold)
{
	unsigned int i;

	for (i = 0; i < XFREE_HOLD; i++) {
		hold[i] = pym_alloc(512, GFP_KERNEL);
		if (hold[i])
			memset(hold[i], 0x5a, 512);
		else
			atomic_inc(&x->failed);
	}
	for (i = 0; i < XFREE_HOLD; i++) {
		if (hold[i] && memchr_inv(hold[i], 0x5a, 512))
			atomic_inc(&x->corrupt);
		pym_free(hold[i]);
	}
}

static int xfree_fn(void *arg)
{
	struct xfree *x = arg;
	u8 *mine[XFREE_BATCH], **hold = NULL;
	unsigned long r;
	unsigned int i;
	u32 seed = get_random_u32();

	if (x->faulty) {
		hold = kmalloc_array(XFREE_HOLD, sizeof(*hold), GFP_KERNEL);
		if (!hold)
			atomic_inc(&x->failed);
	}

#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = x->faulty;
#endif
	for (r = 0; r < x->rounds && !READ_ONCE(x->stop); r++) {
		for (i = 0; i < XFREE_BATCH; i++) {
			seed = seed * 1103515245 + 12345;
			mine[i] = pym_alloc(1 + (seed >> 8) % 512, GFP_KERNEL);
			if (!mine[i]) {
				atomic_inc(&x->failed);
				continue;
			}
			memset(mine[i], (u8)pym_size(mine[i]), pym_size(mine[i]));
		}
		mutex_lock(&x->lock);
		for (i = 0; i < XFREE_BATCH; i++) {
			u8 *p = mine[i];

			if (!p)		/* failed under faults: nothing to share */
				continue;
			if (x->nring < XFREE_RING) {
				x->ring[x->nring++] = p;
				mine[i] = NULL;
			} else {
				/* Swap: keep a block some other thread made. */
				unsigned int k = (seed >> 4) % XFREE_RING;

				mine[i] = x->ring[k];
				x->ring[k] = p;
			}
		}
		mutex_unlock(&x->lock);
		for (i = 0; i < XFREE_BATCH; i++) {
			if (mine[i] && !xfree_check(mine[i]))
				atomic_inc(&x->corrupt);
			pym_free(mine[i]);
		}
		if (hold)
			xfree_hold(x, hold);
		cond_resched();
	}
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = 0;
#endif
	kfree(hold);
	if (atomic_dec_and_test(&x->running))
		complete(&x->done);
	return 0;
}

static int do_xfree(unsigned long threads, unsigned long rounds, bool faulty)
{
	struct xfree *x;
	unsigned long i;
	int err = 0;

	if (!threads || threads > 64)
		return -EINVAL;
	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	mutex_init(&x->lock);
	init_completion(&x->done);
	x->rounds = rounds;
	x->faulty = faulty;
	atomic_set(&x->running, threads + 1);
	for (i = 0; i < threads; i++) {
		struct task_struct *t = kthread_run(xfree_fn, x, "pym_xfree/%lu", i);

		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			atomic_sub(threads - i, &x->running);
			break;
		}
	}
	/* A test killed on timeout must not leave its threads running. */
	if (!atomic_dec_and_test(&x->running) &&
	    wait_for_completion_killable(&x->done)) {
		WRITE_ONCE(x->stop, true);
		wait_for_completion(&x->done);
		err = -EINTR;
	}
	for (i = 0; i < x->nring; i++) {
		if (!xfree_check(x->ring[i]))
			atomic_inc(&x->corrupt);
		pym_free(x->ring[i]);
	}
	ncorrupt += atomic_read(&x->corrupt);
	nfailed += atomic_read(&x->failed);
	if (!err && !faulty && atomic_read(&x->failed))
		err = -ENOMEM;
	kfree(x);
	return err;
}

/*
 * Real memory pressure: take pages until the page allocator has reclaimed
 * (kswapd and direct reclaim run the shrinkers, pymalloc's among them,
 * under fs_reclaim, which lockdep then sees) and pymalloc holds no cached
 * block, or until it fails; __GFP_NORETRY keeps the OOM killer out.
 */
static int do_pressure(void)
{
	struct pym_stats st;
	unsigned long n = 0;
	LIST_HEAD(pages);
	struct page *page, *tmp;
	int err = -EAGAIN;

	while ((page = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN))) {
		list_add(&page->lru, &pages);
		if (++n % 1024)
			continue;
		cond_resched();
		if (fatal_signal_pending(current))
			break;
		if (!pym_heap_stats(NULL, &st) && !st.v[PYM_STAT_ARENAS_CURRENT]) {
			err = 0;
			break;
		}
	}
	if (!page && !pym_heap_stats(NULL, &st) && !st.v[PYM_STAT_ARENAS_CURRENT])
		err = 0;
	list_for_each_entry_safe(page, tmp, &pages, lru)
		__free_page(page);
	pr_info("test_pymalloc: pressure: %lu pages taken, default heap %s\n",
		n, err ? "still holds arenas" : "gave every arena back");
	return err;
}

static struct pym_heap **heaps;
static unsigned long nheaps;

static void heaps_destroy(void)
{
	while (nheaps)
		pym_heap_destroy(heaps[--nheaps]);
	kvfree(heaps);
	heaps = NULL;
}

static int do_heaps(unsigned long n)
{
	char name[32];
	void *p[4];
	unsigned int i;

	heaps_destroy();
	if (!n)
		return 0;
	heaps = kvcalloc(n, sizeof(*heaps), GFP_KERNEL);
	if (!heaps)
		return -ENOMEM;
	while (nheaps < n) {
		if (fatal_signal_pending(current))
			return -EINTR;
		snprintf(name, sizeof(name), "many-%lu", nheaps);
		heaps[nheaps] = pym_heap_create(name, 0);
		if (IS_ERR(heaps[nheaps]))
			return PTR_ERR(heaps[nheaps]);
		for (i = 0; i < ARRAY_SIZE(p); i++)
			p[i] = pym_heap_alloc(heaps[nheaps], 64, GFP_KERNEL);
		for (i = 0; i < ARRAY_SIZE(p); i++)
			pym_free(p[i]);
		nheaps++;
		cond_resched();
	}
	return 0;
}

/*
 * A client's bug: a heap destroyed with a block live, and the block
 * forgotten. The heap lingers with its arena until pymalloc unloads.
 */
static int do_leak(void)
{
	struct pym_heap *heap = pym_heap_create("kselftest-leak", 0);
	void *p;

	if (IS_ERR(heap))
		return PTR_ERR(heap);
	p = pym_heap_alloc(heap, 64, GFP_KERNEL);
	if (!p) {
		pym_heap_destroy(heap);
		return -ENOMEM;
	}
	/* Leaked on purpose: kmemleak need not say so. */
	kmemleak_not_leak(p);
	pym_heap_destroy(heap);
	return 0;
}

/*
 * n blocks of size by pym_alloc_bulk(), checked, then freed by
 * pym_free_bulk() with a NULL entry and the first block a second time,
 * which must be refused.
 */
static int do_bulk(unsigned long n, unsigned long size)
{
	void **v;
	unsigned long i;
	int err = 0;

	if (!n || n > 100000 || !size || size > PYM_SMALL_MAX)
		return -EINVAL;
	v = kvcalloc(n + 2, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	if (pym_alloc_bulk(NULL, size, GFP_KERNEL, n, v) != n) {
		kvfree(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (pym_size(v[i]) < size || !IS_ALIGNED((unsigned long)v[i], 8))
			err = -EFAULT;
		memset(v[i], 0x77, size);
	}
	v[n] = NULL;
	v[n + 1] = v[0];
	pym_free_bulk(n + 2, v);
	kvfree(v);
	return err;
}

/* n blocks through pym_free_rcu(), one of them twice, then the barrier. */
static int do_rcu(unsigned long n)
{
	void *first = NULL, *p;
	unsigned long i;

	if (!n || n > 1000000)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		p = pym_alloc(1 + i % PYM_SMALL_MAX, GFP_KERNEL);
		if (!p)
			break;
		if (!first)
			first = p;
		pym_free_rcu(p);
		cond_resched();
	}
	pym_free_rcu(first);
	pym_rcu_barrier();
	return i == n ? 0 : -ENOMEM;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	unsigned long a = 0, b = 0;
	char buf[64], cmd[16];
	int err = -EINVAL, n;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	n = sscanf(buf, "%15s %lu %lu", cmd, &a, &b);
	if (n < 1)
		return -EINVAL;

	mutex_lock(&lock);
	if (!strcmp(cmd, "alloc") && n == 3 && b >= 1) {
		for (err = 0; a-- && !err; cond_resched())
			err = fatal_signal_pending(current) ? -EINTR : alloc_one(b);
	} else if (!strcmp(cmd, "random") && n == 3) {
		err = do_random(a, b);
	} else if (!strcmp(cmd, "free") && n == 2 && a <= nlive) {
		while (a--)
			free_at(nlive - 1);
		err = 0;
	} else if (!strcmp(cmd, "freeall")) {
		while (nlive)
			free_at(nlive - 1);
		err = 0;
	} else if (!strcmp(cmd, "badfree")) {
		err = do_badfree();
	} else if (!strcmp(cmd, "xfree") && n == 3) {
		err = do_xfree(a, b, false);
	} else if (!strcmp(cmd, "faults") && n == 3) {
		err = IS_ENABLED(CONFIG_FAULT_INJECTION) ? do_xfree(a, b, true) :
		      -EOPNOTSUPP;
	} else if (!strcmp(cmd, "pressure")) {
		err = do_pressure();
	} else if (!strcmp(cmd, "bulk") && n == 3) {
		err = do_bulk(a, b);
	} else if (!strcmp(cmd, "rcu") && n == 2) {
		err = do_rcu(a);
	} else if (!strcmp(cmd, "heaps") && n == 2) {
		err = do_heaps(a);
	} else if (!strcmp(cmd, "leak")) {
		err = do_leak();
	}
	mutex_unlock(&lock);
	return err ? err : len;
}

static int ctl_show(struct seq_file *m, void *v)
{
	mutex_lock(&lock);
	seq_printf(m, "live %zu\nbytes %zu\ncorrupt %zu\nfailed %zu\n", nlive,
		   nbytes, ncorrupt, nfailed);
	mutex_unlock(&lock);
	return 0;
}

static int ctl_open(struct inode *inode, struct file *file)
{
	return single_open(file, ctl_show, NULL);
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.open = ctl_open,
	.read = seq_read,
	.write = ctl_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init test_pymalloc_init(void)
{
	dir = debugfs_create_dir("test_pymalloc", NULL);
	debugfs_create_file("ctl", 0600, dir, NULL, &ctl_fops);
	return 0;
}

static void __exit test_pymalloc_exit(void)
{
	debugfs_remove(dir);
	while (nlive)
		free_at(nlive - 1);
	kvfree(blocks);
	heaps_destroy();
}

module_init(test_pymalloc_init);
module_exit(test_pymalloc_exit);
MODULE_DESCRIPTION("pymalloc kselftest workload driver");
MODULE_LICENSE("GPL");
