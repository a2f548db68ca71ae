// SPDX-License-Identifier: GPL-2.0
/*
 * rcu.c - pym_free_rcu(): free a block after an RCU grace period, without
 * an rcu_head in the caller's object, from any context.
 *
 * As kvfree_rcu() does for kmalloc, pointers are collected in per-CPU
 * batches, a page each (PYM_RCU_BATCH pointers); a full batch, or one a
 * few jiffies old, is handed to call_rcu() whole, and its callback frees
 * the blocks with pym_free_bulk(). Memory per pending block: one pointer.
 *
 * A new batch page comes from the CPU's spare, refilled by a work item
 * (GFP_KERNEL); failing that from GFP_NOWAIT. Without either, a 24-byte
 * carrier from pymalloc's own pools holds the pointer and an rcu_head;
 * without that, a caller that may sleep waits for a grace period itself.
 * Only an atomic caller with no memory anywhere loses the block: it is
 * counted (rcu_dropped in debugfs "rcu"), reported once, and never freed
 * early.
 *
 * Each CPU's batch is under a spinlock_t of its own, taken with
 * interrupts off (on PREEMPT_RT a sleeping lock, in the contexts a kfree()
 * is allowed in), by whichever task finds itself on that CPU and by
 * pym_rcu_barrier() from other CPUs. It is a leaf: nothing is taken under
 * it but the page allocator's and the workqueue's own locks.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "internal.h"

#define PYM_RCU_BATCH	((PAGE_SIZE - 2 * sizeof(void *) - sizeof(unsigned long)) / \
			 sizeof(void *))
/* How long a partial batch waits for more pointers. */
#define PYM_RCU_DELAY	(HZ / 50)

struct pym_rcu_batch {
	struct rcu_head rcu;
	unsigned long n;
	void *p[PYM_RCU_BATCH];
};

static_assert(sizeof(struct pym_rcu_batch) <= PAGE_SIZE);

struct pym_rcu_carrier {
	struct rcu_head rcu;
	void *p;
};

struct pym_rcu_cpu {
	spinlock_t lock;		/* cur and spare */
	struct pym_rcu_batch *cur;	/* filling */
	struct pym_rcu_batch *spare;	/* the next cur */
	struct delayed_work flush;	/* hands a partial cur over */
	struct work_struct refill;	/* makes a spare */
};

static DEFINE_PER_CPU(struct pym_rcu_cpu, pym_rcu);
static atomic_long_t rcu_pending, rcu_dropped, rcu_carried, rcu_waited;
static bool rcu_going;		/* unloading: no more work queued */

static void batch_done(struct rcu_head *head)
{
	struct pym_rcu_batch *b = container_of(head, struct pym_rcu_batch, rcu);

	pym_free_bulk(b->n, b->p);
	atomic_long_sub(b->n, &rcu_pending);
	free_page((unsigned long)b);
}

static void carrier_done(struct rcu_head *head)
{
	struct pym_rcu_carrier *c = container_of(head, struct pym_rcu_carrier, rcu);

	pym_free(c->p);
	pym_free(c);
	atomic_long_dec(&rcu_pending);
}

/* Hand rc's batch to RCU; under rc->lock. */
static void submit(struct pym_rcu_cpu *rc)
{
	struct pym_rcu_batch *b = rc->cur;

	lockdep_assert_held(&rc->lock);
	rc->cur = NULL;
	if (b && b->n)
		call_rcu(&b->rcu, batch_done);
	else if (b)
		free_page((unsigned long)b);
}

static void flush_fn(struct work_struct *work)
{
	struct pym_rcu_cpu *rc = container_of(to_delayed_work(work),
					      struct pym_rcu_cpu, flush);
	unsigned long flags;

	spin_lock_irqsave(&rc->lock, flags);
	submit(rc);
	spin_unlock_irqrestore(&rc->lock, flags);
}

static void refill_fn(struct work_struct *work)
{
	struct pym_rcu_cpu *rc = container_of(work, struct pym_rcu_cpu, refill);
	struct pym_rcu_batch *b = (void *)__get_free_page(GFP_KERNEL | __GFP_NOWARN);
	unsigned long flags;

	if (!b)
		return;
	spin_lock_irqsave(&rc->lock, flags);
	if (!rc->spare) {
		rc->spare = b;
		b = NULL;
	}
	spin_unlock_irqrestore(&rc->lock, flags);
	if (b)
		free_page((unsigned long)b);
}

/* A batch with room, or NULL; under rc->lock. */
static struct pym_rcu_batch *room(struct pym_rcu_cpu *rc)
{
	struct pym_rcu_batch *b = rc->cur;

	if (b && b->n < PYM_RCU_BATCH)
		return b;
	submit(rc);
	b = rc->spare;
	rc->spare = NULL;
	if (!READ_ONCE(rcu_going))
		schedule_work(&rc->refill);
	if (!b)
		b = (void *)__get_free_page(GFP_NOWAIT | __GFP_NOWARN);
	if (b)
		b->n = 0;
	rc->cur = b;
	return b;
}

/* No batch could be had: the fallbacks of the top of the file. */
static void free_rcu_fallback(const void *p)
{
	struct pym_rcu_carrier *c = pym_alloc(sizeof(*c), GFP_NOWAIT | __GFP_NOWARN);

	if (c) {
		c->p = (void *)p;
		atomic_long_inc(&rcu_carried);
		call_rcu(&c->rcu, carrier_done);
		return;
	}
	atomic_long_dec(&rcu_pending);
	if (preemptible()) {
		atomic_long_inc(&rcu_waited);
		synchronize_rcu();
		pym_free(p);
		return;
	}
	atomic_long_inc(&rcu_dropped);
	pr_err_once("pym_free_rcu(%p) from atomic context with no memory for its record: the block is kept, never freed early\n",
		    p);
}

/**
 * pym_free_rcu() - free a block after an RCU grace period
 * @p: a block from pymalloc (any heap, large blocks too); NULL and
 *     ZERO_SIZE_PTR are ignored
 *
 * Readers that found @p under rcu_read_lock() before this call may keep
 * using it until they leave their read-side critical section; then it is
 * freed as by pym_free(). Unlike kfree_rcu(), the object needs no
 * rcu_head. A pointer that is not an allocated block is refused now, as
 * pym_free() would refuse it; the same block queued twice is refused as a
 * double free when the grace period ends. pym_rcu_barrier() waits for
 * everything queued before it.
 *
 * Context: any, as for pym_free().
 */
void pym_free_rcu(const void *p)
{
	struct pym_rcu_batch *b;
	struct pym_rcu_cpu *rc;
	unsigned long flags;
	bool first;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return;
	if (unlikely(!pym_free_check(p, _RET_IP_)))
		return;
	atomic_long_inc(&rcu_pending);
	/* Another CPU's batch, if this task moves: its lock covers it. */
	rc = raw_cpu_ptr(&pym_rcu);
	spin_lock_irqsave(&rc->lock, flags);
	b = room(rc);
	if (likely(b)) {
		first = !b->n;
		b->p[b->n++] = (void *)p;
		if (first && !READ_ONCE(rcu_going))
			mod_delayed_work(system_wq, &rc->flush, PYM_RCU_DELAY);
	}
	spin_unlock_irqrestore(&rc->lock, flags);
	if (unlikely(!b))
		free_rcu_fallback(p);
}
EXPORT_SYMBOL_GPL(pym_free_rcu);

/**
 * pym_rcu_barrier() - wait until every pym_free_rcu() so far has freed
 *
 * Like rcu_barrier() for call_rcu(): the partial batches of every CPU are
 * handed to RCU, then this waits for their callbacks.
 *
 * Context: process context; sleeps.
 */
void pym_rcu_barrier(void)
{
	unsigned long flags;
	int cpu;

	might_sleep();
	for_each_possible_cpu(cpu) {
		struct pym_rcu_cpu *rc = per_cpu_ptr(&pym_rcu, cpu);

		spin_lock_irqsave(&rc->lock, flags);
		submit(rc);
		spin_unlock_irqrestore(&rc->lock, flags);
	}
	rcu_barrier();
}
EXPORT_SYMBOL_GPL(pym_rcu_barrier);

static int rcu_show(struct seq_file *m, void *v)
{
	seq_printf(m, "rcu_pending %ld\nrcu_carried %ld\nrcu_waited %ld\nrcu_dropped %ld\nrcu_batch %lu\n",
		   atomic_long_read(&rcu_pending), atomic_long_read(&rcu_carried),
		   atomic_long_read(&rcu_waited), atomic_long_read(&rcu_dropped),
		   (unsigned long)PYM_RCU_BATCH);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rcu);

void pym_rcu_init(struct dentry *root)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct pym_rcu_cpu *rc = per_cpu_ptr(&pym_rcu, cpu);

		spin_lock_init(&rc->lock);
		INIT_DELAYED_WORK(&rc->flush, flush_fn);
		INIT_WORK(&rc->refill, refill_fn);
	}
	debugfs_create_file("rcu", 0400, root, NULL, &rcu_fops);
}

/* Unload, before the heaps go: every queued block freed, nothing left. */
void pym_rcu_exit(void)
{
	int cpu;

	WRITE_ONCE(rcu_going, true);
	for_each_possible_cpu(cpu) {
		struct pym_rcu_cpu *rc = per_cpu_ptr(&pym_rcu, cpu);

		cancel_delayed_work_sync(&rc->flush);
		cancel_work_sync(&rc->refill);
	}
	pym_rcu_barrier();
	for_each_possible_cpu(cpu) {
		struct pym_rcu_cpu *rc = per_cpu_ptr(&pym_rcu, cpu);

		free_page((unsigned long)rc->spare);
		rc->spare = NULL;
	}
}
