// SPDX-License-Identifier: GPL-2.0
/*
 * collect.c - the cycle collector (gc.c) for pym objects: tracking,
 * pym_gc_lock(), collections on request and from a workqueue, and the
 * debugfs directory pymalloc/gc/.
 *
 * Objects of a container type (one with traverse and clear) carry a
 * struct pym_gc_head in front of their struct pym_object, and are tracked
 * from pym_obj_new() until their last reference is dropped. Other objects
 * stay exactly as small as they were.
 *
 * Locking. gc_lists_lock, an irq-safe spinlock, protects the generations'
 * lists and counts, so that objects are tracked and untracked in any
 * context. pym_gc_mutex is pym_gc_lock(): clients hold it while they
 * create, change, remove or follow a reference stored in a container,
 * and a collection holds it from start to end. Why that is enough:
 *
 *  - A collection first pins every object it examines (a reference taken
 *    with refcount_inc_not_zero() under gc_lists_lock; an object already
 *    at zero is dying, and is left to untrack itself). A pinned object
 *    cannot die, so the collection walks its private lists without the
 *    spinlock, and nobody else touches them.
 *  - The references between containers cannot change while the mutex is
 *    held, so what traverse() reports stays true throughout.
 *  - The other references, from outside the containers, are only put or
 *    duplicated (pym_obj_get() on a reference its caller holds). Once an
 *    object has none left, a new one can only be made by following a
 *    reference stored in a container, which takes the mutex. So an object
 *    the collection saw with no reference from outside has none until the
 *    collection ends: the race of a thread taking a reference out of a
 *    container while the container's last outside reference is dropped
 *    is settled by the mutex. A reference dropped after it was counted
 *    only makes the collection keep what it could have freed.
 *  - The collection frees nothing itself: it clears the unreachable
 *    objects and drops its pins, and their reference counts free them, in
 *    the collection's context (a workqueue, or pym_gc_collect()'s caller).
 *
 * Lock order (heap.c has all of it): pym_gc_mutex is the outermost lock;
 * gc_lists_lock is taken alone, and nothing under it.
 *
 * Orphaned types (their module unloaded with objects alive) keep no
 * traverse or clear, whose code is gone; the unload takes pym_gc_mutex to
 * remove them, so no collection is running either. Their objects report
 * no references and are never cleared, so they and what they refer to
 * stay until their reference counts drop, as any object of a
 * non-container.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "gc.h"
#include "internal.h"
#include "pym_trace.h"

static DEFINE_MUTEX(pym_gc_mutex);
static DEFINE_SPINLOCK(gc_lists_lock);
static struct pym_gc gc;
static bool gc_enabled = true;
static struct dentry *gc_debugfs;

struct gc_pause {
	u64 last_ns;
	u64 longest_ns;
};

static struct gc_pause gc_pauses[PYM_GC_GENERATIONS];

static inline bool is_container(const struct pym_object *obj)
{
	return obj->type->state->gc_header;
}

/* Every object under collection holds one more reference: the pin. */
static long op_refcount(struct pym_gc_head *h)
{
	return (long)refcount_read(&pym_gc_head_obj(h)->refcnt) - 1;
}

struct visit_ctx {
	pym_gc_visit_t visit;
	void *arg;
};

static int visit_obj(struct pym_object *ref, void *arg)
{
	struct visit_ctx *vc = arg;

	if (!ref || !is_container(ref))
		return 0;
	return vc->visit(pym_obj_gc_head(ref), vc->arg);
}

static int op_traverse(struct pym_gc_head *h, pym_gc_visit_t visit, void *arg)
{
	struct pym_object *obj = pym_gc_head_obj(h);
	int (*traverse)(struct pym_object *obj, pym_visit_t visit, void *arg);
	struct visit_ctx vc = { .visit = visit, .arg = arg };

	traverse = READ_ONCE(obj->type->traverse);
	return traverse ? traverse(obj, visit_obj, &vc) : 0;
}

static void op_clear(struct pym_gc_head *h)
{
	struct pym_object *obj = pym_gc_head_obj(h);
	void (*clear)(struct pym_object *obj) = READ_ONCE(obj->type->clear);

	if (clear)
		clear(obj);
}

static void op_get(struct pym_gc_head *h)
{
	pym_obj_get(pym_gc_head_obj(h));
}

static void op_put(struct pym_gc_head *h)
{
	pym_obj_put(pym_gc_head_obj(h));
}

static void op_overcounted(struct pym_gc_head *h)
{
	const struct pym_type *type = pym_gc_head_obj(h)->type;

	if (!test_and_set_bit(0, &type->state->gc_reported))
		pr_err("type %s: traverse() reports more references than the objects it refers to count; collection refused, every object kept\n",
		       type->name);
}

static const struct pym_gc_ops gc_ops = {
	.refcount = op_refcount,
	.traverse = op_traverse,
	.clear = op_clear,
	.get = op_get,
	.put = op_put,
	.overcounted = op_overcounted,
};

static void collect_work_fn(struct work_struct *work);
static DECLARE_WORK(collect_work, collect_work_fn);

/* A new container object: tracked, and an automatic collection if due. */
void pym_collector_track(struct pym_object *obj)
{
	unsigned long flags;
	bool due;

	spin_lock_irqsave(&gc_lists_lock, flags);
	pym_gc_track(&gc, pym_obj_gc_head(obj));
	due = READ_ONCE(gc_enabled) && pym_gc_due(&gc) >= 0;
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	if (due)
		queue_work(system_unbound_wq, &collect_work);
}

/* A container object died: whatever list it is on, it leaves it. */
void pym_collector_untrack(struct pym_object *obj)
{
	unsigned long flags;

	spin_lock_irqsave(&gc_lists_lock, flags);
	pym_gc_untrack(&gc, pym_obj_gc_head(obj));
	spin_unlock_irqrestore(&gc_lists_lock, flags);
}

/* Pin every object of young; dying ones go back to generation 0. */
static void pin_young(struct pym_link *young)
{
	struct pym_link *l, *next;

	lockdep_assert_held(&gc_lists_lock);
	for (l = young->next; l != young; l = next) {
		struct pym_gc_head *h = container_of(l, struct pym_gc_head, link);

		next = l->next;
		if (refcount_inc_not_zero(&pym_gc_head_obj(h)->refcnt))
			continue;
		pym_link_move_tail(&gc.gen[0], l);
	}
}

/* Move the first object of from to the tail of to, under the spinlock. */
static struct pym_gc_head *move_first(struct pym_link *from,
				      struct pym_link *to)
{
	struct pym_gc_head *h;
	unsigned long flags;

	spin_lock_irqsave(&gc_lists_lock, flags);
	h = container_of(from->next, struct pym_gc_head, link);
	pym_link_move_tail(to, &h->link);
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	return h;
}

/*
 * Survivors go to the older generation one by one, each unpinned there:
 * a pin that was the last reference frees its object, which untracks
 * itself from that list. The unreachable are cleared first, all of them,
 * still pinned, then moved and unpinned the same way; those a release()
 * made reachable again stay, tracked.
 */
static u64 settle(struct pym_link *young, struct pym_link *unreachable,
		  struct pym_link *old)
{
	struct pym_link *l;
	u64 alive = 0;

	while (!pym_link_empty(young))
		pym_obj_put(pym_gc_head_obj(move_first(young, old)));
	for (l = unreachable->next; l != unreachable; l = l->next)
		op_clear(container_of(l, struct pym_gc_head, link));
	while (!pym_link_empty(unreachable)) {
		struct pym_object *obj = pym_gc_head_obj(move_first(unreachable, old));

		alive += refcount_read(&obj->refcnt) > 1;
		pym_obj_put(obj);
	}
	return alive;
}

static long collect_locked(unsigned int generation)
{
	struct pym_link young, unreachable;
	struct pym_gc_head *h;
	unsigned int older;
	unsigned long flags;
	u64 ns, survived, alive = 0;
	ktime_t start;
	long found;

	lockdep_assert_held(&pym_gc_mutex);
	start = ktime_get();
	spin_lock_irqsave(&gc_lists_lock, flags);
	older = pym_gc_begin(&gc, generation, &young);
	pin_young(&young);
	spin_unlock_irqrestore(&gc_lists_lock, flags);

	found = pym_gc_find(&gc, generation, &young, &unreachable, &survived);
	if (found < 0) {
		/* Nothing decided: every object back where it was, unpinned. */
		while (!pym_link_empty(&young)) {
			h = move_first(&young, &gc.gen[generation]);
			pym_obj_put(pym_gc_head_obj(h));
		}
		found = -EUCLEAN;
	} else {
		alive = settle(&young, &unreachable, &gc.gen[older]);

		spin_lock_irqsave(&gc_lists_lock, flags);
		gc.stats[generation].uncollectable += alive;
		pym_gc_finish(&gc, generation, survived);
		spin_unlock_irqrestore(&gc_lists_lock, flags);
	}
	ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	gc_pauses[generation].last_ns = ns;
	gc_pauses[generation].longest_ns = max(gc_pauses[generation].longest_ns, ns);
	trace_pym_gc_collect(generation, found, alive, ns);
	return found;
}

static void collect_work_fn(struct work_struct *work)
{
	unsigned long flags;
	int g;

	mutex_lock(&pym_gc_mutex);
	spin_lock_irqsave(&gc_lists_lock, flags);
	g = READ_ONCE(gc_enabled) ? pym_gc_due(&gc) : -1;
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	if (g >= 0)
		collect_locked(g);
	mutex_unlock(&pym_gc_mutex);
}

/**
 * pym_gc_lock() - hold off the cycle collector
 *
 * Held while creating, changing, removing or following (to take a new
 * reference to the referent) a reference stored in an object of a
 * container type; see struct pym_type. Taking and dropping references a
 * caller already holds needs no lock.
 *
 * Context: process context; sleeps.
 */
void pym_gc_lock(void)
{
	mutex_lock(&pym_gc_mutex);
}
EXPORT_SYMBOL_GPL(pym_gc_lock);

/**
 * pym_gc_unlock() - let the cycle collector run again
 *
 * Context: process context, after pym_gc_lock().
 */
void pym_gc_unlock(void)
{
	mutex_unlock(&pym_gc_mutex);
}
EXPORT_SYMBOL_GPL(pym_gc_unlock);

/**
 * pym_gc_collect() - collect cycles now
 * @generation: 0, 1 or 2: the generations 0..@generation are collected
 *
 * Finds the tracked objects that only other objects of those generations
 * refer to, clears them (their types' clear()) and lets their reference
 * counts free them. Runs even when automatic collection is disabled.
 *
 * Context: process context; sleeps; not under pym_gc_lock().
 * Return: how many objects were found unreachable; -EINVAL for a bad
 * @generation; -EUCLEAN when a type's traverse() reported more references
 * than exist (reported; nothing was collected).
 */
long pym_gc_collect(unsigned int generation)
{
	long found;

	might_sleep();
	if (generation >= PYM_GC_GENERATIONS)
		return -EINVAL;
	mutex_lock(&pym_gc_mutex);
	found = collect_locked(generation);
	mutex_unlock(&pym_gc_mutex);
	/* Deep release chains the collection set off end before we return. */
	pym_trash_flush();
	return found;
}
EXPORT_SYMBOL_GPL(pym_gc_collect);

/* Tracked objects now, over every generation and the frozen ones. */
u64 pym_collector_tracked(void)
{
	unsigned long flags;
	unsigned int g;
	u64 n = 0;

	spin_lock_irqsave(&gc_lists_lock, flags);
	for (g = 0; g <= PYM_GC_PERMANENT; g++)
		n += pym_gc_length(&gc, g);
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(pym_collector_tracked);

/* Objects in generation g (PYM_GC_PERMANENT: frozen) and its count. */
u64 pym_collector_generation(unsigned int g, long *count)
{
	unsigned long flags;
	u64 n;

	spin_lock_irqsave(&gc_lists_lock, flags);
	n = pym_gc_length(&gc, g);
	if (count)
		*count = g < PYM_GC_GENERATIONS ? gc.count[g] : 0;
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(pym_collector_generation);

static int stats_show(struct seq_file *m, void *v)
{
	struct pym_gc_gen_stats st[PYM_GC_GENERATIONS];
	struct gc_pause pause[PYM_GC_GENERATIONS];
	unsigned int g;

	mutex_lock(&pym_gc_mutex);
	memcpy(st, gc.stats, sizeof(st));
	memcpy(pause, gc_pauses, sizeof(pause));
	mutex_unlock(&pym_gc_mutex);
	seq_printf(m, "%10s %11s %10s %10s %13s %13s %15s\n", "generation",
		   "collections", "collected", "survived", "uncollectable",
		   "last_pause_ns", "longest_pause_ns");
	for (g = 0; g < PYM_GC_GENERATIONS; g++)
		seq_printf(m, "%10u %11llu %10llu %10llu %13llu %13llu %15llu\n",
			   g, st[g].collections, st[g].collected,
			   st[g].survived, st[g].uncollectable,
			   pause[g].last_ns, pause[g].longest_ns);
	seq_printf(m, "bytes per tracked object: %zu\n",
		   sizeof(struct pym_gc_head));
	seq_printf(m, "releases deferred to the trashcan: %llu\n",
		   pym_trash_deposited());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int count_show(struct seq_file *m, void *v)
{
	long count[PYM_GC_GENERATIONS];
	unsigned long flags;

	spin_lock_irqsave(&gc_lists_lock, flags);
	memcpy(count, gc.count, sizeof(count));
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	seq_printf(m, "%ld %ld %ld\n", count[0], count[1], count[2]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(count);

/* Up to 63 bytes of user text, NUL-terminated; -EINVAL when longer. */
static int user_text(const char __user *ubuf, size_t len, char *buf,
		     size_t size)
{
	if (!len || len >= size)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	return 0;
}

/* One number 0..max, spaces and a newline around it allowed. */
static int user_uint(const char __user *ubuf, size_t len, unsigned int max,
		     unsigned int *val)
{
	char buf[64];
	int err = user_text(ubuf, len, buf, sizeof(buf));

	if (err)
		return err;
	if (kstrtouint(strim(buf), 10, val) || *val > max)
		return -EINVAL;
	return 0;
}

static int threshold_show(struct seq_file *m, void *v)
{
	long t[PYM_GC_GENERATIONS];
	unsigned long flags;

	spin_lock_irqsave(&gc_lists_lock, flags);
	memcpy(t, gc.threshold, sizeof(t));
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	seq_printf(m, "%ld %ld %ld\n", t[0], t[1], t[2]);
	return 0;
}

/* "T0 T1 T2", each 0..INT_MAX; 0 turns a generation's automatic runs off. */
static ssize_t threshold_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	unsigned int t[PYM_GC_GENERATIONS], g;
	unsigned long flags;
	char buf[64], *p;
	int err;

	err = user_text(ubuf, len, buf, sizeof(buf));
	if (err)
		return err;
	p = strim(buf);
	for (g = 0; g < PYM_GC_GENERATIONS; g++) {
		char *tok = strsep(&p, " \t");

		if (!tok || kstrtouint(tok, 10, &t[g]) || t[g] > INT_MAX)
			return -EINVAL;
		p = p ? skip_spaces(p) : NULL;
	}
	if (p && *p)
		return -EINVAL;
	spin_lock_irqsave(&gc_lists_lock, flags);
	gc.threshold[0] = t[0];
	gc.threshold[1] = t[1];
	gc.threshold[2] = t[2];
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	return len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(threshold);

static ssize_t collect_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	unsigned int g;
	long found;
	int err;

	err = user_uint(ubuf, len, PYM_GC_GENERATIONS - 1, &g);
	if (err)
		return err;
	found = pym_gc_collect(g);
	return found < 0 ? found : len;
}

static const struct file_operations collect_fops = {
	.owner = THIS_MODULE,
	.write = collect_write,
};

static int enabled_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(gc_enabled));
	return 0;
}

/* 0 or 1: automatic collections off or on; pym_gc_collect() always runs. */
static ssize_t enabled_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	unsigned int val;
	int err = user_uint(ubuf, len, 1, &val);

	if (err)
		return err;
	WRITE_ONCE(gc_enabled, val);
	return len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(enabled);

/* Reads how many objects are frozen. */
static int freeze_show(struct seq_file *m, void *v)
{
	unsigned long flags;
	u64 n;

	spin_lock_irqsave(&gc_lists_lock, flags);
	n = pym_gc_length(&gc, PYM_GC_PERMANENT);
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	seq_printf(m, "%llu\n", n);
	return 0;
}

/* 1: CPython's gc.freeze(); 0: unfreeze, into the oldest generation. */
static ssize_t freeze_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	unsigned long flags;
	unsigned int val;
	int err = user_uint(ubuf, len, 1, &val);

	if (err)
		return err;
	mutex_lock(&pym_gc_mutex);
	spin_lock_irqsave(&gc_lists_lock, flags);
	if (val)
		pym_gc_freeze(&gc);
	else
		pym_gc_unfreeze(&gc);
	spin_unlock_irqrestore(&gc_lists_lock, flags);
	mutex_unlock(&pym_gc_mutex);
	return len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(freeze);

void pym_collector_init(struct dentry *root)
{
	pym_gc_init(&gc, &gc_ops);
	gc_debugfs = debugfs_create_dir("gc", root);
	debugfs_create_file("stats", 0400, gc_debugfs, NULL, &stats_fops);
	debugfs_create_file("count", 0400, gc_debugfs, NULL, &count_fops);
	debugfs_create_file("threshold", 0600, gc_debugfs, NULL, &threshold_fops);
	debugfs_create_file("collect", 0200, gc_debugfs, NULL, &collect_fops);
	debugfs_create_file("enabled", 0600, gc_debugfs, NULL, &enabled_fops);
	debugfs_create_file("freeze", 0600, gc_debugfs, NULL, &freeze_fops);
}

/* Called after every type is gone: no tracked object is left. */
void pym_collector_exit(void)
{
	cancel_work_sync(&collect_work);
}
