// SPDX-License-Identifier: GPL-2.0
/*
 * callers.c - who holds a heap's memory, and how much of it they asked
 * for: a sampled profile of live blocks by call site, always on.
 *
 * /proc/allocinfo counts every allocation and costs kmalloc 6-10%;
 * SLUB's alloc_traces needs slub_debug. Like tcmalloc's heap profiler,
 * this samples instead: one allocation in sample_interval on average (the
 * gap is drawn at random, so a periodic pattern cannot hide from it or
 * be all it sees), each sample standing for that many allocations. With
 * sampling on, allocations and frees take their watched paths (alloc.c,
 * pym_observing): an allocation pays a per-CPU decrement, a free one test
 * of a byte of its pool's descriptor, which it reads anyway, and only
 * frees from a pool holding a sampled block look the sample up. At
 * interval 1 every
 * allocation is recorded and the figures are exact, as long as the table
 * has room.
 *
 * A sample lives in a fixed table, hashed by address, from the
 * allocation that took it to the free of its block: a sample's block is
 * always allocated, and a pool's count of samples (pym_pool.sampled) is
 * zero whenever the pool is empty. Large blocks (above PYM_SMALL_MAX) are
 * kmalloc's and left to its own tools.
 *
 * Sampling may be turned on while pymalloc runs, never off: a free that
 * did not look for its sample would leave it behind, attributed to the
 * block's next owner.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "internal.h"

#define PYM_SAMPLES_BITS	13
#define PYM_SAMPLES		BIT(PYM_SAMPLES_BITS)
/* Linear probing stays short below three quarters full. */
#define PYM_SAMPLES_MAX		(PYM_SAMPLES / 4 * 3)
#define PYM_SAMPLE_INTERVAL_MAX	BIT(24)

struct pym_sample {
	const void *p;			/* NULL: a free slot */
	unsigned long caller;
	struct pym_heap *heap;
	u32 weight;			/* allocations it stands for */
	u16 req;			/* bytes asked for */
	u16 block;			/* bytes of its block */
};

DEFINE_STATIC_KEY_FALSE(pym_sampling);
DEFINE_PER_CPU(int, pym_sample_left);

static unsigned int sample_interval;
static struct pym_sample *samples;
static unsigned int nsamples;
static u64 samples_dropped;
/* Taken on allocations and frees in any context, RT included: raw. */
static DEFINE_RAW_SPINLOCK(samples_lock);

static int interval_set(const char *val, const struct kernel_param *kp);

static const struct kernel_param_ops interval_ops = {
	.set = interval_set,
	.get = param_get_uint,
};
module_param_cb(sample_interval, &interval_ops, &sample_interval, 0444);
MODULE_PARM_DESC(sample_interval,
		 "sample one small allocation in this many for debugfs <heap>/callers and the requested bytes in <heap>/classes (0: off, 1: every allocation; default 0)");

static int interval_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err = kstrtouint(val, 0, &n);

	if (err)
		return err;
	if (n > PYM_SAMPLE_INTERVAL_MAX)
		return -ERANGE;
	*(unsigned int *)kp->arg = n;
	return 0;
}

/* Allocations until the next sample: interval on average, at least 1. */
static unsigned int next_gap(unsigned int interval)
{
	return interval < 2 ? 1 : 1 + get_random_u32_below(2 * interval - 1);
}

static unsigned int slot_of(const void *p)
{
	return hash_ptr((void *)p, PYM_SAMPLES_BITS);
}

/* The slot holding p, or PYM_SAMPLES; under samples_lock. */
static unsigned int find(const void *p)
{
	unsigned int i = slot_of(p), n;

	for (n = 0; n < PYM_SAMPLES && samples[i].p; n++) {
		if (samples[i].p == p)
			return i;
		i = (i + 1) & (PYM_SAMPLES - 1);
	}
	return PYM_SAMPLES;
}

/*
 * Empty slot i and move back the entries after it that probing would no
 * longer reach (Knuth's algorithm R), so that no tombstones accumulate.
 */
static void remove_slot(unsigned int i)
{
	unsigned int j = i, home;

	for (;;) {
		samples[i].p = NULL;
		for (;;) {
			j = (j + 1) & (PYM_SAMPLES - 1);
			if (!samples[j].p)
				return;
			home = slot_of(samples[j].p);
			/* j's entry stays if its home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j) :
				     (i < home || home <= j))
				continue;
			samples[i] = samples[j];
			i = j;
			break;
		}
	}
}

void pym_callers_sample(struct pym_heap *heap, const void *p, size_t size,
			unsigned long caller)
{
	unsigned int interval = READ_ONCE(sample_interval);
	struct pym_pool *pool;
	struct pym_arena *a;
	unsigned long flags;
	unsigned int i;
	u8 *sampled;

	this_cpu_write(pym_sample_left, next_gap(interval));
	if (ZERO_OR_NULL_PTR(p) || size > PYM_SMALL_MAX)
		return;
	rcu_read_lock();
	a = pym_arena_lookup(p);
	if (!a)		/* served by kmalloc, no arena to be had */
		goto out;
	pool = pym_pool_of(a, p);
	sampled = &a->sampled[pym_pool_index(p)];
	raw_spin_lock_irqsave(&samples_lock, flags);
	if (nsamples >= PYM_SAMPLES_MAX || *sampled == U8_MAX) {
		samples_dropped++;
		goto unlock;
	}
	for (i = slot_of(p); samples[i].p; i = (i + 1) & (PYM_SAMPLES - 1))
		;
	samples[i] = (struct pym_sample) {
		.p = p, .caller = caller, .heap = heap, .weight = interval,
		.req = size, .block = pym_class_size(pool->cls),
	};
	nsamples++;
	WRITE_ONCE(*sampled, *sampled + 1);
unlock:
	raw_spin_unlock_irqrestore(&samples_lock, flags);
out:
	rcu_read_unlock();
}

/* p of arena a is being freed: forget its sample, if it has one. */
void pym_callers_free(struct pym_arena *a, const void *p)
{
	u8 *sampled = &a->sampled[pym_pool_index(p)];
	unsigned long flags;
	unsigned int i;

	if (!READ_ONCE(*sampled))
		return;
	raw_spin_lock_irqsave(&samples_lock, flags);
	i = find(p);
	if (i < PYM_SAMPLES) {
		remove_slot(i);
		nsamples--;
		WRITE_ONCE(*sampled, *sampled - 1);
	}
	raw_spin_unlock_irqrestore(&samples_lock, flags);
}

/* Copies of heap's samples, for reading without the lock held long. */
static unsigned int snapshot(struct pym_heap *heap, struct pym_sample *out)
{
	unsigned long flags;
	unsigned int i, n = 0;

	raw_spin_lock_irqsave(&samples_lock, flags);
	for (i = 0; i < PYM_SAMPLES; i++)
		if (samples[i].p && samples[i].heap == heap)
			out[n++] = samples[i];
	raw_spin_unlock_irqrestore(&samples_lock, flags);
	return n;
}

/*
 * Requested bytes of heap's live blocks per class, estimated as the
 * class's bytes in use (st) times the requested share of its samples'
 * blocks. known[c] is false for a class with no live sample.
 */
void pym_callers_requested(struct pym_heap *heap, struct pym_core_stats *st)
{
	struct pym_sample *s;
	u64 (*sum)[2];		/* per class: requested, block bytes */
	unsigned int i, n, c;

	st->requested_known = false;
	if (!static_key_enabled(&pym_sampling))
		return;
	s = kvmalloc_array(PYM_SAMPLES_MAX, sizeof(*s), GFP_KERNEL);
	sum = kcalloc(PYM_NR_CLASSES, sizeof(*sum), GFP_KERNEL);
	if (!s || !sum)
		goto out;
	n = snapshot(heap, s);
	for (i = 0; i < n; i++) {
		c = pym_size_class(s[i].block);
		sum[c][0] += s[i].req;
		sum[c][1] += s[i].block;
	}
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		u64 bytes = st->cls[c].blocks * pym_class_size(c);

		st->cls[c].requested = sum[c][1] ?
			div64_u64(bytes * sum[c][0], sum[c][1]) : bytes;
		st->cls[c].requested_known = sum[c][1] != 0;
	}
	st->requested_known = true;
out:
	kfree(sum);
	kvfree(s);
}

struct caller_row {
	unsigned long caller;
	u64 samples, blocks, req, bytes;
};

static int by_caller(const void *a, const void *b)
{
	const struct pym_sample *x = a, *y = b;

	return x->caller < y->caller ? -1 : x->caller > y->caller;
}

static int by_bytes(const void *a, const void *b)
{
	const struct caller_row *x = a, *y = b;

	return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

static int callers_show(struct seq_file *m, void *v)
{
	struct pym_heap *heap = m->private;
	struct caller_row *rows;
	struct pym_sample *s;
	unsigned int i, n, nrows = 0;
	u64 dropped;

	seq_printf(m, "sample_interval %u\n", READ_ONCE(sample_interval));
	if (!static_key_enabled(&pym_sampling))
		return 0;
	s = kvmalloc_array(PYM_SAMPLES_MAX, sizeof(*s), GFP_KERNEL);
	rows = kvmalloc_array(PYM_SAMPLES_MAX, sizeof(*rows), GFP_KERNEL);
	if (!s || !rows) {
		kvfree(s);
		kvfree(rows);
		return -ENOMEM;
	}
	n = snapshot(heap, s);
	dropped = READ_ONCE(samples_dropped);
	sort(s, n, sizeof(*s), by_caller, NULL);
	for (i = 0; i < n; i++) {
		struct caller_row *r = &rows[nrows];

		if (!i || s[i].caller != s[i - 1].caller) {
			*r = (struct caller_row) { .caller = s[i].caller };
			nrows++;
		} else {
			r = &rows[nrows - 1];
		}
		r->samples++;
		r->blocks += s[i].weight;
		r->req += (u64)s[i].weight * s[i].req;
		r->bytes += (u64)s[i].weight * s[i].block;
	}
	sort(rows, nrows, sizeof(*rows), by_bytes, NULL);
	seq_printf(m, "samples %u\nsamples_dropped %llu\n", n, dropped);
	seq_printf(m, "%8s %10s %12s %12s %10s %s\n", "samples", "blocks",
		   "bytes_req", "bytes_alloc", "waste", "caller");
	for (i = 0; i < nrows; i++)
		seq_printf(m, "%8llu %10llu %12llu %12llu %10llu %pS\n",
			   rows[i].samples, rows[i].blocks, rows[i].req,
			   rows[i].bytes, rows[i].bytes - rows[i].req,
			   (void *)rows[i].caller);
	kvfree(rows);
	kvfree(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(callers);

void pym_callers_add_heap(struct pym_heap *heap, struct dentry *dir)
{
	debugfs_create_file("callers", 0400, dir, heap, &callers_fops);
}

static int start(unsigned int interval)
{
	if (!samples) {
		samples = kvcalloc(PYM_SAMPLES, sizeof(*samples), GFP_KERNEL);
		if (!samples)
			return -ENOMEM;
	}
	WRITE_ONCE(sample_interval, interval);
	if (!static_key_enabled(&pym_sampling)) {
		/* Frees look for samples before the first one is taken. */
		static_branch_inc(&pym_observing);
		static_branch_enable(&pym_sampling);
	}
	return 0;
}

static int interval_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%u\n", READ_ONCE(sample_interval));
	return 0;
}

static ssize_t interval_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	unsigned int n;
	int err = kstrtouint_from_user(ubuf, len, 0, &n);

	if (err)
		return err;
	if (n > PYM_SAMPLE_INTERVAL_MAX)
		return -ERANGE;
	/* See the top of the file: on for good once on. */
	if (!n)
		return static_key_enabled(&pym_sampling) ? -EBUSY : len;
	err = start(n);
	return err ?: len;
}

static int interval_open(struct inode *inode, struct file *file)
{
	return single_open(file, interval_show, NULL);
}

static const struct file_operations interval_fops = {
	.owner = THIS_MODULE,
	.open = interval_open,
	.read = seq_read,
	.write = interval_write,
	.llseek = seq_lseek,
	.release = single_release,
};

int pym_callers_init(struct dentry *root)
{
	int err = 0;

	if (sample_interval)
		err = start(sample_interval);
	debugfs_create_file("sample_interval", 0600, root, NULL, &interval_fops);
	return err;
}

void pym_callers_exit(void)
{
	kvfree(samples);
	samples = NULL;
}
