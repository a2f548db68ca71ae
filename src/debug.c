// SPDX-License-Identifier: GPL-2.0
/*
 * debug.c - debug heaps: CPython's debug hooks (PYTHONMALLOC=debug) and
 * slub_debug's red zones, poisoning and alloc/free tracking, per heap.
 *
 * A block of a debug heap comes from the pools, from the class that holds
 * the request and this around it:
 *
 *   | head (16) | guard 0xFD (8) | size bytes asked for | guard 0xFD ... |
 *
 * The head keeps the requested size, a serial number (which allocation of
 * the heap it was), the block's state and the allocation and free stacks
 * (stackdepot handles). New memory is filled with 0xCD unless zeroing was
 * asked for; freed memory with 0xDD. A freed block waits in a FIFO
 * quarantine of PYM_DEBUG_QUARANTINE blocks before its memory is reused,
 * and its fill is checked when it leaves: a write after free. Guards are
 * checked at free, when leaving quarantine and by the heap's "check" file.
 * Each damaged block is reported once, with the offset and bytes found and
 * both stacks, counted in PYM_STAT_CORRUPTIONS, and kept out of use for
 * good: its memory is never handed out again.
 *
 * The user's pointer is 24 bytes into the block, so debug blocks are
 * 8-byte aligned only, and requests above PYM_SMALL_MAX - 32 bytes go to
 * kmalloc like large ones (where slub_debug and KASAN watch them). A debug
 * heap has no per-CPU magazines (every call takes its lock) and no kmalloc
 * fallback when arenas run out: what it is for is the bugs of its callers.
 *
 * Everything here runs under the heap's core lock, except stack capture
 * and reports. Built without KASAN instrumentation: it reads freed blocks.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/bitops.h>
#include <linux/kmemleak.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>

#include "compat.h"
#include "internal.h"
#include "kasan.h"

#define PYM_DEBUG_GUARD		0xFD	/* CPython's PYMEM_FORBIDDENBYTE */
#define PYM_DEBUG_NEW		0xCD	/* PYMEM_CLEANBYTE */
#define PYM_DEBUG_DEAD		0xDD	/* PYMEM_DEADBYTE */
/* internal.h's PYM_DEBUG_OVERHEAD: head and front guard, rear guard */
#define PYM_DEBUG_FRONT		(PYM_DEBUG_OVERHEAD - 8)
#define PYM_DEBUG_QUARANTINE	256
#define PYM_DEBUG_LEAK_STACKS	64

enum pym_debug_state {
	PYM_DEBUG_LIVE = 1,
	PYM_DEBUG_QUARANTINED,
	PYM_DEBUG_DAMAGED,	/* reported, kept out of use */
};

struct pym_debug_head {
	u16 size;
	u8 state;
	u8 unused;
	u32 serial;
	depot_stack_handle_t alloc_stack;
	depot_stack_handle_t free_stack;
};

static_assert(sizeof(struct pym_debug_head) == PYM_DEBUG_FRONT - 8);

struct pym_debug {
	u32 serial;				/* allocations so far */
	unsigned int qhead, qlen;		/* quarantine FIFO */
	void *quarantine[PYM_DEBUG_QUARANTINE];
};

/* The caller's stack, from the first frame outside pymalloc. */
static depot_stack_handle_t save_stack(gfp_t gfp)
{
#ifdef CONFIG_STACKDEPOT
	unsigned long entries[24];
	unsigned int n = stack_trace_save(entries, ARRAY_SIZE(entries), 0);
	unsigned int skip = 0;

	while (skip < n && within_module(entries[skip], THIS_MODULE))
		skip++;
	return stack_depot_save(entries + skip, n - skip, gfp);
#else
	return 0;
#endif
}

static void print_stack(const char *what, depot_stack_handle_t h)
{
	if (!h) {
		pr_err("  %s: (no stack recorded)\n", what);
		return;
	}
	pr_err("  %s:\n", what);
	stack_depot_print(h);
}

/* The block's real size, from its pool: the head may be damaged. */
static size_t block_bytes(const u8 *block)
{
	struct pym_arena *a;
	size_t bytes;

	rcu_read_lock();
	a = pym_arena_lookup(block);
	bytes = pym_class_size(pym_pool_of(a, (void *)block)->cls);
	rcu_read_unlock();
	return bytes;
}

/*
 * The first byte of p[0..n) that is not v, or NULL: memchr_inv() without
 * KASAN's checks, which guards and freed fills would fail by design.
 */
static const u8 *first_not(const u8 *p, u8 v, size_t n)
{
	for (; n; n--, p++)
		if (*p != v)
			return p;
	return NULL;
}

/* Offset of the first guard byte not 0xFD, or -1. */
static long bad_guard(const u8 *block, size_t bytes)
{
	const struct pym_debug_head *h = (const void *)block;
	const u8 *p;

	/* A size that does not fit is a head overwritten from before. */
	if (h->size > bytes - PYM_DEBUG_OVERHEAD)
		return offsetof(struct pym_debug_head, size);
	p = first_not(block + sizeof(*h), PYM_DEBUG_GUARD, 8);
	if (!p)
		p = first_not(block + PYM_DEBUG_FRONT + h->size, PYM_DEBUG_GUARD,
			      bytes - PYM_DEBUG_FRONT - h->size);
	return p ? p - block : -1;
}

/* Offset of the first damaged byte of a quarantined block, or -1. */
static long bad_fill(const u8 *block, size_t bytes)
{
	const struct pym_debug_head *h = (const void *)block;
	const u8 *p = first_not(block + PYM_DEBUG_FRONT, PYM_DEBUG_DEAD, h->size);

	return p ? p - block : bad_guard(block, bytes);
}

/*
 * Mark a damaged block for good and count it; the caller reports it after
 * dropping the lock. Its memory stays allocated and out of kmemleak's
 * sight: nobody will free it.
 */
static void damaged(struct pym_heap *heap, u8 *block)
{
	((struct pym_debug_head *)block)->state = PYM_DEBUG_DAMAGED;
	heap->core.cnt[PYM_STAT_CORRUPTIONS]++;
}

static void report_damage(struct pym_heap *heap, const u8 *block, long off,
			  const char *when)
{
	const struct pym_debug_head *h = (const void *)block;
	size_t bytes = block_bytes(block);
	long user = off - (long)PYM_DEBUG_FRONT;
	const char *what = user < 0 ? "underflow: guard before the block" :
			   user >= h->size ? "overflow: guard after the block" :
			   "write after free";
	unsigned int i, n = min_t(size_t, 16, bytes - off);
	u8 dump[16];

	/* Copied here, where KASAN does not look: printk would. */
	for (i = 0; i < n; i++)
		dump[i] = block[off + i];

	pr_err("heap %s: memory corruption found %s: %s damaged\n",
	       heap->name, when, what);
	pr_err("  block #%u of class %u (%zu bytes), %u bytes asked for; byte %ld of them (%ld from the block) is %#04x: %*ph\n",
	       h->serial, pym_size_class(bytes), bytes, h->size, user, off,
	       dump[0], n, dump);
	print_stack("allocated by", h->alloc_stack);
	if (h->state == PYM_DEBUG_QUARANTINED || h->free_stack)
		print_stack("freed by", h->free_stack);
	pr_err("  the block is kept out of use\n");
}

int pym_debug_create(struct pym_heap *heap)
{
	heap->debug = kzalloc(sizeof(*heap->debug), GFP_KERNEL);
	if (!heap->debug)
		return -ENOMEM;
#ifdef CONFIG_STACKDEPOT
	stack_depot_init();
#endif
	return 0;
}

/* A block for size bytes, dressed; NULL if no memory. */
void *pym_debug_alloc(struct pym_heap *heap, size_t size, gfp_t gfp)
{
	depot_stack_handle_t stack = save_stack(gfp & GFP_KERNEL);
	struct pym_debug_head *h;
	unsigned long flags;
	size_t bytes;
	u8 *block;

	block = pym_heap_alloc_block(heap, size + PYM_DEBUG_OVERHEAD, gfp);
	if (!block)
		return NULL;
	bytes = pym_class_size(pym_size_class(size + PYM_DEBUG_OVERHEAD));
	h = (struct pym_debug_head *)block;
	h->size = size;
	h->alloc_stack = stack;
	h->free_stack = 0;
	memset(block + sizeof(*h), PYM_DEBUG_GUARD, 8);
	memset(block + PYM_DEBUG_FRONT, gfp & __GFP_ZERO ||
	       want_init_on_alloc(gfp) ? 0 : PYM_DEBUG_NEW, size);
	memset(block + PYM_DEBUG_FRONT + size, PYM_DEBUG_GUARD,
	       bytes - PYM_DEBUG_FRONT - size);
	spin_lock_irqsave(&heap->core.lock, flags);
	h->serial = ++heap->debug->serial;
	h->state = PYM_DEBUG_LIVE;
	spin_unlock_irqrestore(&heap->core.lock, flags);
	pym_kasan_alloc(block, PYM_DEBUG_FRONT + size, bytes);
	return block + PYM_DEBUG_FRONT;
}

/*
 * The block of p, allocated in the heap's arena a; NULL if p is no debug
 * block's start. Under the core lock.
 */
static u8 *debug_block(struct pym_heap *heap, struct pym_arena *a,
		       const void *p, enum pym_block_status *st)
{
	unsigned long off = (unsigned long)p & (PYM_POOL_SIZE - 1);
	u8 *block = (u8 *)p - PYM_DEBUG_FRONT;

	*st = PYM_BLOCK_NOT_ALLOCATED;
	if (a->core != &heap->core)
		return NULL;
	if (off < PYM_DEBUG_FRONT) {
		*st = PYM_BLOCK_INTERIOR;
		return NULL;
	}
	pym_core_block_size(a, block, st);
	return *st == PYM_BLOCK_OK ? block : NULL;
}

/* Requested size of p, a debug block of heap in arena a, or 0. */
size_t pym_debug_size(struct pym_heap *heap, struct pym_arena *a,
		      const void *p)
{
	enum pym_block_status st;
	unsigned long flags;
	size_t size = 0;
	u8 *block;

	spin_lock_irqsave(&heap->core.lock, flags);
	block = debug_block(heap, a, p, &st);
	if (block && ((struct pym_debug_head *)block)->state == PYM_DEBUG_LIVE)
		size = ((struct pym_debug_head *)block)->size;
	spin_unlock_irqrestore(&heap->core.lock, flags);
	return size;
}

/* Give a block that left quarantine intact back to its pool. */
static void release(struct pym_heap *heap, u8 *block, unsigned long caller)
{
	struct pym_arena *a;

	rcu_read_lock();
	a = pym_arena_lookup(block);
	pym_heap_free_block(heap, a, block, caller);
	rcu_read_unlock();
}

/*
 * Free p, a pointer into arena a of debug heap heap: checked, filled,
 * quarantined; the oldest quarantined block, checked, goes back.
 */
void pym_debug_free(struct pym_heap *heap, struct pym_arena *a,
		    const void *p, unsigned long caller)
{
	depot_stack_handle_t stack = save_stack(GFP_NOWAIT);
	struct pym_debug *d = heap->debug;
	long bad = -1, evict_bad = -1;
	struct pym_debug_head *h;
	enum pym_block_status st;
	u8 *block, *evict = NULL;
	unsigned long flags;
	size_t bytes;
	u8 state = 0;

	spin_lock_irqsave(&heap->core.lock, flags);
	block = debug_block(heap, a, p, &st);
	if (!block) {
		heap->core.cnt[pym_refusal_stat(st)]++;
		goto refused;
	}
	h = (struct pym_debug_head *)block;
	state = h->state;
	if (state != PYM_DEBUG_LIVE) {
		/* Freed already: in quarantine, or kept out of use. */
		st = PYM_BLOCK_NOT_ALLOCATED;
		heap->core.cnt[PYM_STAT_DOUBLE_FREES]++;
		goto refused;
	}
	bytes = block_bytes(block);
	bad = bad_guard(block, bytes);
	if (bad >= 0) {
		damaged(heap, block);
		kmemleak_ignore(block);
		goto unlock;
	}
	memset(block + PYM_DEBUG_FRONT, PYM_DEBUG_DEAD, h->size);
	h->free_stack = stack;
	h->state = PYM_DEBUG_QUARANTINED;
	pym_kasan_free(block, bytes);
	if (heap->dead) {
		/* Destroyed: its last blocks go straight back. */
		evict = block;
	} else if (d->qlen == PYM_DEBUG_QUARANTINE) {
		evict = d->quarantine[d->qhead];
		d->quarantine[d->qhead] = block;
		d->qhead = (d->qhead + 1) % PYM_DEBUG_QUARANTINE;
		if (((struct pym_debug_head *)evict)->state == PYM_DEBUG_DAMAGED) {
			evict = NULL;	/* found by check: kept already */
		} else {
			evict_bad = bad_fill(evict, block_bytes(evict));
			if (evict_bad >= 0)
				damaged(heap, evict);
		}
	} else {
		d->quarantine[(d->qhead + d->qlen++) % PYM_DEBUG_QUARANTINE] = block;
	}
unlock:
	spin_unlock_irqrestore(&heap->core.lock, flags);
	if (bad >= 0)
		report_damage(heap, block, bad, "at free");
	if (evict && evict_bad >= 0) {
		kmemleak_ignore(evict);
		report_damage(heap, evict, evict_bad, "leaving quarantine");
	} else if (evict) {
		release(heap, evict, caller);
	}
	return;

refused:
	spin_unlock_irqrestore(&heap->core.lock, flags);
	pym_heap_refused(heap, pym_refusal_stat(st), p, caller);
	if (state == PYM_DEBUG_QUARANTINED) {
		h = (struct pym_debug_head *)block;
		pr_err("heap %s: block #%u (%u bytes) freed twice; it was\n",
		       heap->name, h->serial, h->size);
		print_stack("allocated by", h->alloc_stack);
		print_stack("freed by", h->free_stack);
		print_stack("freed again by", stack);
	}
}

typedef void (*block_fn)(u8 *block, size_t bytes, void *arg);

/* Each allocated block of the core, under its lock. */
static void walk_blocks(struct pym_core *core, block_fn fn, void *arg)
{
	struct pym_link *l;
	unsigned int i, bit;

	for (l = core->all_arenas.next; l != &core->all_arenas; l = l->next) {
		struct pym_arena *a = container_of(l, struct pym_arena, all);

		for (i = 0; i < PYM_POOLS_PER_ARENA; i++) {
			struct pym_pool *pool = &a->pools[i];

			if (pym_pool_state(pool) != PYM_POOL_USED &&
			    pym_pool_state(pool) != PYM_POOL_FULL)
				continue;
			for_each_set_bit(bit, pym_pool_inuse(a, pool),
					 PYM_POOL_SIZE / PYM_ALIGN)
				fn((u8 *)pym_pool_base(a, pool) + bit * PYM_ALIGN,
				   pym_class_size(pool->cls), arg);
		}
	}
}

struct check_ctx {
	struct pym_heap *heap;
	u8 *found[8];		/* reported after the lock is dropped */
	long off[8];
	unsigned int n, more;
};

static void check_block(u8 *block, size_t bytes, void *arg)
{
	struct pym_debug_head *h = (struct pym_debug_head *)block;
	struct check_ctx *cc = arg;
	long bad;

	if (h->state == PYM_DEBUG_LIVE)
		bad = bad_guard(block, bytes);
	else if (h->state == PYM_DEBUG_QUARANTINED)
		bad = bad_fill(block, bytes);
	else
		return;
	if (bad < 0)
		return;
	if (h->state == PYM_DEBUG_LIVE)
		kmemleak_ignore(block);
	damaged(cc->heap, block);
	if (cc->n == ARRAY_SIZE(cc->found)) {
		cc->more++;
		return;
	}
	cc->found[cc->n] = block;
	cc->off[cc->n++] = bad;
}

/*
 * Every live block's guards and every quarantined block's fill: the
 * damaged ones are reported, counted and kept out of use; returns how many.
 */
unsigned int pym_debug_check(struct pym_heap *heap, struct pym_out *out)
{
	struct check_ctx cc = { .heap = heap };
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&heap->core.lock, flags);
	walk_blocks(&heap->core, check_block, &cc);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	for (i = 0; i < cc.n; i++) {
		report_damage(heap, cc.found[i], cc.off[i], "by check");
		out->print(out, "block #%u damaged at byte %ld\n",
			   ((struct pym_debug_head *)cc.found[i])->serial,
			   cc.off[i] - (long)PYM_DEBUG_FRONT);
	}
	if (cc.more)
		out->print(out, "%u more damaged blocks\n", cc.more);
	return cc.n + cc.more;
}

struct leak {
	depot_stack_handle_t stack;
	u64 count, bytes;
};

struct leaks_ctx {
	struct leak *leak;
	unsigned int n;
	u64 other_count, other_bytes;
};

static void count_leak(u8 *block, size_t bytes, void *arg)
{
	struct pym_debug_head *h = (struct pym_debug_head *)block;
	struct leaks_ctx *lc = arg;
	unsigned int i;

	if (h->state != PYM_DEBUG_LIVE)
		return;
	for (i = 0; i < lc->n && lc->leak[i].stack != h->alloc_stack; i++)
		;
	if (i == lc->n) {
		if (lc->n == PYM_DEBUG_LEAK_STACKS) {
			lc->other_count++;
			lc->other_bytes += h->size;
			return;
		}
		lc->leak[lc->n++].stack = h->alloc_stack;
	}
	lc->leak[i].count++;
	lc->leak[i].bytes += h->size;
}

static int leak_cmp(const void *a, const void *b)
{
	const struct leak *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/*
 * Live blocks grouped by allocation stack, most bytes first, as
 * /sys/kernel/debug/slab/<cache>/alloc_traces: to m, or to the kernel log
 * when m is NULL. Returns the live blocks.
 */
u64 pym_debug_leaks(struct pym_heap *heap, struct seq_file *m)
{
	struct leaks_ctx lc = { };
	unsigned long flags, e, nr;
	unsigned long *entries;
	unsigned int i, j;
	u64 total;

	lc.leak = kcalloc(PYM_DEBUG_LEAK_STACKS, sizeof(*lc.leak), GFP_KERNEL);
	if (!lc.leak)
		return 0;
	spin_lock_irqsave(&heap->core.lock, flags);
	walk_blocks(&heap->core, count_leak, &lc);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	sort(lc.leak, lc.n, sizeof(*lc.leak), leak_cmp, NULL);
	total = lc.other_count;
	for (i = 0; i < lc.n; i++) {
		total += lc.leak[i].count;
		if (m)
			seq_printf(m, "%llu blocks, %llu bytes, allocated by:\n",
				   lc.leak[i].count, lc.leak[i].bytes);
		else
			pr_err("heap %s: %llu live blocks, %llu bytes, allocated by:\n",
			       heap->name, lc.leak[i].count, lc.leak[i].bytes);
		nr = lc.leak[i].stack ?
		     stack_depot_fetch(lc.leak[i].stack, &entries) : 0;
		for (j = 0; j < nr; j++) {
			e = entries[j];
			if (m)
				seq_printf(m, "  %pS\n", (void *)e);
			else
				pr_err("  %pS\n", (void *)e);
		}
	}
	if (lc.other_count && m)
		seq_printf(m, "%llu blocks, %llu bytes, from other stacks\n",
			   lc.other_count, lc.other_bytes);
	kfree(lc.leak);
	return total;
}
EXPORT_SYMBOL_IF_KUNIT(pym_debug_leaks);

void pym_debug_show(struct pym_heap *heap, struct seq_file *m)
{
	struct pym_debug *d = heap->debug;
	unsigned long flags;
	u64 corruptions;
	u32 serial;
	unsigned int q;

	if (!d) {
		seq_puts(m, "off\n");
		return;
	}
	spin_lock_irqsave(&heap->core.lock, flags);
	serial = d->serial;
	q = d->qlen;
	corruptions = heap->core.cnt[PYM_STAT_CORRUPTIONS];
	spin_unlock_irqrestore(&heap->core.lock, flags);
	seq_printf(m, "on\nallocations %u\nquarantined %u\nquarantine_max %u\ncorruptions %llu\n",
		   serial, q, PYM_DEBUG_QUARANTINE, corruptions);
}

struct damaged_ctx {
	u8 *block[32];
	unsigned int n;
};

/* Damaged blocks, and quarantined ones (none left at destruction). */
static void collect_damaged(u8 *block, size_t bytes, void *arg)
{
	struct damaged_ctx *dc = arg;

	if (((struct pym_debug_head *)block)->state != PYM_DEBUG_LIVE &&
	    dc->n < ARRAY_SIZE(dc->block))
		dc->block[dc->n++] = block;
}

/*
 * The heap is being destroyed: quarantined blocks are checked and given
 * back, the damaged ones too (kept out of use while the heap lived), and
 * the live ones listed by allocation stack.
 */
void pym_debug_destroy(struct pym_heap *heap)
{
	struct pym_debug *d = heap->debug;
	struct damaged_ctx dc;
	unsigned long flags;
	unsigned int i;
	u8 *block;
	long bad;

	for (;;) {
		spin_lock_irqsave(&heap->core.lock, flags);
		if (!d->qlen) {
			spin_unlock_irqrestore(&heap->core.lock, flags);
			break;
		}
		block = d->quarantine[d->qhead];
		d->qhead = (d->qhead + 1) % PYM_DEBUG_QUARANTINE;
		d->qlen--;
		bad = -1;
		if (((struct pym_debug_head *)block)->state != PYM_DEBUG_DAMAGED) {
			bad = bad_fill(block, block_bytes(block));
			if (bad >= 0)
				damaged(heap, block);
		}
		spin_unlock_irqrestore(&heap->core.lock, flags);
		if (bad >= 0)
			report_damage(heap, block, bad, "at heap destruction");
	}
	do {
		dc.n = 0;
		spin_lock_irqsave(&heap->core.lock, flags);
		walk_blocks(&heap->core, collect_damaged, &dc);
		spin_unlock_irqrestore(&heap->core.lock, flags);
		for (i = 0; i < dc.n; i++)
			release(heap, dc.block[i], _RET_IP_);
	} while (dc.n == ARRAY_SIZE(dc.block));
	if (pym_debug_leaks(heap, NULL))
		pr_err("heap %s: destroyed with the live blocks above\n",
		       heap->name);
}
