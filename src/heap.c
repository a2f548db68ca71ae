// SPDX-License-Identifier: GPL-2.0
/*
 * heap.c - heaps, the exported allocation API, and bad-input reports.
 *
 * A heap is one struct pym_core under one irq-safe spinlock. Arenas come
 * from the page allocator outside that lock, so GFP_KERNEL callers may
 * sleep and atomic callers never wait for reclaim.
 *
 * Finding the arena of a pointer never reads the pointed-to memory: the
 * arena map (arenamap.c) is indexed by the address alone, so foreign and
 * stale pointers are recognised from our own data. Arena and heap
 * descriptors are freed after an RCU grace period, and every lookup
 * re-checks under the heap lock that the arena still belongs to the heap,
 * so a bogus free racing with an arena's release sees "not allocated"
 * instead of freed memory.
 *
 * Lock order, outermost first; a lock is only taken under those above it.
 *
 *   pym_types_lock     mutex (object.c): type registration, unregistration,
 *                      the types file; reclaim only trylocks it
 *   pym_heaps_lock     mutex: heap creation and destruction; never taken in
 *                      reclaim or by walkers, which use RCU
 *   cpu_hotplug_lock   read side, only to drain the offline CPUs of a
 *                      destroyed heap (pym_mag_drain()) or an unregistered
 *                      type; never in reclaim, since CPU hotplug allocates
 *                      memory under it
 *   type lists         owned, not locked, by their CPU with interrupts off;
 *                      on PREEMPT_RT a spinlock_t per type and CPU
 *                      (object.c); nothing is taken under them
 *   magazines          owned, not locked, by their CPU with interrupts off
 *                      (or preemption off on the fast paths); on
 *                      PREEMPT_RT a spinlock_t per heap and CPU (pcpu.h)
 *   depot lock         spinlock_t per heap and class (pcpu.c)
 *   heap->lock         spinlock_t, irq-safe: the core; nothing is taken
 *                      under it, no memory allocated or freed
 *   map_lock           spinlock, irq-safe (arenamap.c): arena and large
 *                      region map updates, taken outside every heap lock;
 *                      nothing is taken under it
 *
 * Contexts: everything from "magazines" down may be taken in any context
 * an allocation is allowed in (hardirq included, but on PREEMPT_RT, where
 * as for kmalloc no allocation or free may run with preemption or
 * interrupts off or under a raw_spinlock_t). Reclaim (the shrinker) runs
 * pym_types_drain() and pym_heaps_trim(): a trylock of pym_types_lock, RCU
 * walks, the magazines (an IPI per CPU holding blocks, or on RT their
 * locks), depot and heap locks, and nothing that waits.
 */
#include <linux/ctype.h>
#include <linux/fault-inject.h>
#include <linux/kmemleak.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "compat.h"
#include "internal.h"

/* The kernel's wrapper around the core's arena descriptor. */
struct pym_karena {
	struct rcu_head rcu;
	struct pym_arena a;
};

struct pym_heap *pym_default_heap;
EXPORT_SYMBOL_IF_KUNIT(pym_default_heap);
/* Every heap: walked under RCU, changed under pym_heaps_lock. */
LIST_HEAD(pym_heaps);
/* Serialises heap creation and destruction; see "Lock order" above. */
DEFINE_MUTEX(pym_heaps_lock);

#ifdef CONFIG_FAULT_INJECTION
/* debugfs pymalloc/fail_arena: make arena allocations fail on purpose. */
struct fault_attr pym_fail_arena = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_IF_KUNIT(pym_fail_arena);

static bool arena_should_fail(void)
{
	return should_fail(&pym_fail_arena, PYM_ARENA_SIZE);
}
#else
static bool arena_should_fail(void)
{
	return false;
}
#endif

static inline struct pym_heap *core_heap(struct pym_core *core)
{
	return container_of(core, struct pym_heap, core);
}

#ifdef CONFIG_LOCKDEP
void pym_core_assert_held(const struct pym_core *core)
{
	lockdep_assert_held(&core_heap((struct pym_core *)core)->lock);
}
#endif

static const char *const pym_bad_text[PYM_BAD_NR] = {
	[PYM_BAD_DOUBLE_FREE] = "double free, or free of a block never allocated",
	[PYM_BAD_INTERIOR] = "free of a pointer into the middle of a block",
	[PYM_BAD_FOREIGN] = "free of a pointer pymalloc never handed out",
	[PYM_BAD_SIZE] = "size query of a pointer that is not an allocated block",
};

/*
 * One line per kind and heap: a buggy caller in a loop must not flood the
 * log, and invalid_frees still counts every occurrence.
 */
static void report(struct pym_heap *heap, enum pym_bad kind, const void *p,
		   unsigned long caller)
{
	if (test_and_set_bit(kind, &heap->reported))
		return;
	pr_err("pymalloc: heap %s: %s (%p) from %pS; refused, further reports of this kind suppressed\n",
	       heap->name, pym_bad_text[kind], p, (void *)caller);
}

void pym_release_arenas(struct pym_arena *a)
{
	while (a) {
		struct pym_arena *next = a->release_next;

		pym_arena_unmap(a->base);
		free_pages((unsigned long)a->base, PYM_ARENA_ORDER);
		kfree_rcu(container_of(a, struct pym_karena, a), rcu);
		a = next;
	}
}

/* Obtain one arena for heap, outside its lock; -ENOMEM is counted. */
static int heap_grow(struct pym_heap *heap, gfp_t gfp)
{
	gfp_t g = (gfp & ~__GFP_ZERO) | __GFP_NOWARN;
	int nid = numa_mem_id();
	struct pym_karena *ka;
	unsigned long flags;
	struct page *page;
	void *base;
	int err;

	if (arena_should_fail())
		goto fail;
	ka = kmalloc_node(sizeof(*ka), g, nid);
	if (!ka)
		goto fail;
	/* Order 6 is costly: fail fast rather than thrash, and count it. */
	page = alloc_pages_node(nid, g | __GFP_NORETRY, PYM_ARENA_ORDER);
	if (!page)
		goto fail_desc;
	base = page_address(page);
	/* Published before it serves blocks, so every block can be found. */
	ka->a.core = NULL;
	err = pym_arena_map(base, &ka->a, g);
	if (err)
		goto fail_pages;

	spin_lock_irqsave(&heap->lock, flags);
	pym_core_add_arena(&heap->core, &ka->a, base, page_to_nid(page));
	spin_unlock_irqrestore(&heap->lock, flags);
	return 0;

fail_pages:
	__free_pages(page, PYM_ARENA_ORDER);
fail_desc:
	kfree(ka);
fail:
	spin_lock_irqsave(&heap->lock, flags);
	heap->core.cnt.alloc_failures++;
	spin_unlock_irqrestore(&heap->lock, flags);
	return -ENOMEM;
}

/* What every small allocation ends with: the zeroing policy, kmemleak. */
static __always_inline void *alloc_done(void *p, unsigned int cls, gfp_t gfp)
{
	if (unlikely(want_init_on_alloc(gfp)))
		pym_block_zero(p, cls);
	else if (unlikely(want_init_on_free()))
		*(void **)p = NULL;	/* the one word written after the wipe */
	kmemleak_alloc(p, pym_class_size(cls), 1, gfp);
	return p;
}

/*
 * Everything but a hit in this CPU's magazine: refill it, or take a block
 * from the core of an uncached heap, growing the heap until one comes.
 * Out of line, so that the fast path keeps its registers.
 */
static noinline void *heap_alloc_slow(struct pym_heap *heap, unsigned int cls,
				      gfp_t gfp)
{
	unsigned long flags;
	void *p;

	for (;;) {
		struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);

		if (likely(pcpu)) {
			p = pym_pcpu_alloc(heap, pcpu, cls);
		} else {
			spin_lock_irqsave(&heap->lock, flags);
			p = pym_core_alloc(&heap->core, cls);
			spin_unlock_irqrestore(&heap->lock, flags);
		}
		if (likely(p))
			return alloc_done(p, cls, gfp);
		if (heap_grow(heap, gfp))
			return NULL;
	}
}

/*
 * Large blocks, above PYM_SMALL_MAX, come from kmalloc, and pymalloc keeps
 * a record of each, so that its functions accept exactly the large blocks
 * it handed out and still holds: an interior, double or foreign pointer
 * is refused like a bad small one, and never reaches kfree(). kmalloc
 * aligns every block above 512 bytes to at least 1 KiB (its caches there
 * are powers of two, naturally aligned, then whole pages), so the record
 * is one bit per 1 KiB slot of the direct map, in a bitmap per 256 KiB
 * region found through a map like the arena map (arenamap.c). Recording
 * and forgetting a block are one atomic bit operation each, no lock, and
 * a free takes the bit with test_and_clear_bit() before kfree(), so that
 * of two frees of the same block exactly one frees it. A region's 32-byte
 * bitmap is made when a first large block lands there and kept until
 * pymalloc is unloaded: at most one per 256 KiB of memory, none freed and
 * made again under alloc/free churn. No pointer to a block is stored, so
 * kmemleak still reports a large block its owner leaks.
 */
#define PYM_LARGE_SHIFT		10
#define PYM_LARGE_SLOTS		(PYM_ARENA_SIZE >> PYM_LARGE_SHIFT)

struct pym_large_region {
	DECLARE_BITMAP(live, PYM_LARGE_SLOTS);
};

static struct pym_map pym_large;

static __always_inline unsigned int large_slot(const void *p)
{
	return ((unsigned long)p & (PYM_ARENA_SIZE - 1)) >> PYM_LARGE_SHIFT;
}

static __always_inline bool large_aligned(const void *p)
{
	return IS_ALIGNED((unsigned long)p, BIT(PYM_LARGE_SHIFT));
}

/* p's region, made with gfp if need be; NULL if it could not be. */
static struct pym_large_region *large_region(const void *p, gfp_t gfp)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p), *fresh;

	if (likely(r))
		return r;
	fresh = kzalloc(sizeof(*fresh), gfp);
	if (!fresh)
		return NULL;
	r = pym_map_install(&pym_large, p, fresh, gfp);
	if (r != fresh)
		kfree(fresh);
	return r;
}

static void count_invalid(struct pym_heap *heap)
{
	unsigned long flags;

	spin_lock_irqsave(&heap->lock, flags);
	heap->core.cnt.invalid_frees++;
	spin_unlock_irqrestore(&heap->lock, flags);
}

/* Sizes the pools do not serve: 0, and above PYM_SMALL_MAX. */
static noinline void *alloc_not_small(size_t size, gfp_t gfp)
{
	struct pym_large_region *r;
	unsigned long flags;
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	p = kmalloc(size, gfp);
	if (!p)
		return NULL;
	if (WARN_ONCE(!large_aligned(p),
		      "pymalloc: kmalloc(%zu) returned %p, not 1 KiB aligned\n",
		      size, p))
		r = NULL;
	else
		r = large_region(p, gfp & ~__GFP_ZERO);
	if (unlikely(!r)) {
		kfree(p);
		spin_lock_irqsave(&pym_default_heap->lock, flags);
		pym_default_heap->core.cnt.alloc_failures++;
		spin_unlock_irqrestore(&pym_default_heap->lock, flags);
		return NULL;
	}
	set_bit(large_slot(p), r->live);
	return p;
}

/* p is in no arena: free it if it is a large block pymalloc holds. */
static void large_free(const void *p, unsigned long caller)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p);

	if (likely(r && large_aligned(p) &&
		   test_and_clear_bit(large_slot(p), r->live))) {
		kfree(p);
		return;
	}
	count_invalid(pym_default_heap);
	/* A slot is 1 KiB: p lies in the first KiB of the block there. */
	if (r && test_bit(large_slot(p), r->live))
		report(pym_default_heap, PYM_BAD_INTERIOR, p, caller);
	else if (virt_addr_valid(p))
		report(pym_default_heap, PYM_BAD_DOUBLE_FREE, p, caller);
	else
		report(pym_default_heap, PYM_BAD_FOREIGN, p, caller);
}

/* Usable size of a large block pymalloc holds, or 0. */
static size_t large_size(const void *p)
{
	struct pym_large_region *r = pym_map_lookup(&pym_large, p);

	return r && large_aligned(p) && test_bit(large_slot(p), r->live) ?
	       ksize(p) : 0;
}

/* Large blocks still live now belong to no one: their records go. */
void pym_large_exit(void)
{
	pym_map_exit(&pym_large);
}

static __always_inline void *heap_alloc(struct pym_heap *heap, size_t size,
					gfp_t gfp)
{
	struct pym_pcpu __percpu *pcpu;
	unsigned int cls;
	void *p;

	if (unlikely(size - 1 >= PYM_SMALL_MAX))
		return alloc_not_small(size, gfp);
	might_alloc(gfp);
	cls = pym_size_class(size);
	pcpu = READ_ONCE(heap->pcpu);
	if (PYM_PCPU_LOCKLESS && likely(pcpu)) {
		preempt_disable();
		p = pym_mag_pop_local(pym_pcpu_mag(pcpu, cls));
		preempt_enable();
		if (likely(p))
			return alloc_done(p, cls, gfp);
	}
	return heap_alloc_slow(heap, cls, gfp);
}

/**
 * pym_heap_alloc() - allocate memory from a heap
 * @heap: the heap, or NULL for the default heap
 * @size: bytes wanted; 1..512 come from the heap's pools, more from kmalloc
 * @gfp: allocation flags; honours __GFP_ZERO and init_on_alloc/init_on_free
 *
 * Blocks of 2^n bytes (n <= 9) are 2^n-aligned, every block is 8-aligned.
 * Context: any, as far as @gfp allows; GFP_KERNEL may sleep for an arena.
 * Return: the block, ZERO_SIZE_PTR for @size 0, or NULL when memory or an
 * arena could not be had (counted in alloc_failures).
 */
void *pym_heap_alloc(struct pym_heap *heap, size_t size, gfp_t gfp)
{
	return heap_alloc(heap ?: pym_default_heap, size, gfp);
}
EXPORT_SYMBOL_GPL(pym_heap_alloc);

/**
 * pym_alloc() - allocate memory from the default heap
 * @size: bytes wanted; 1..512 come from pools, more from kmalloc
 * @gfp: allocation flags, as for kmalloc()
 *
 * Context: any, as far as @gfp allows.
 * Return: the block, ZERO_SIZE_PTR for @size 0, or NULL on failure.
 */
void *pym_alloc(size_t size, gfp_t gfp)
{
	return heap_alloc(pym_default_heap, size, gfp);
}
EXPORT_SYMBOL_GPL(pym_alloc);

/**
 * pym_zalloc() - allocate zeroed memory from the default heap
 * @size: bytes wanted
 * @gfp: allocation flags; __GFP_ZERO is implied
 *
 * Context: any, as far as @gfp allows.
 * Return: the zeroed block, ZERO_SIZE_PTR for @size 0, or NULL on failure.
 */
void *pym_zalloc(size_t size, gfp_t gfp)
{
	return pym_heap_alloc(pym_default_heap, size, gfp | __GFP_ZERO);
}
EXPORT_SYMBOL_GPL(pym_zalloc);

/**
 * pym_calloc() - allocate a zeroed array from the default heap
 * @n: number of elements
 * @size: size of one element
 * @gfp: allocation flags; __GFP_ZERO is implied
 *
 * Context: any, as far as @gfp allows.
 * Return: the zeroed array, NULL when @n * @size overflows or on failure.
 */
void *pym_calloc(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return pym_zalloc(bytes, gfp);
}
EXPORT_SYMBOL_GPL(pym_calloc);

static void heap_drained(struct pym_heap *heap)
{
	pr_info("pymalloc: destroyed heap %s: last block freed, memory returned\n",
		heap->name);
	kfree_rcu(heap, rcu);
}

/*
 * Free into the magazines pc the caller owns. The checks run without the
 * heap lock: for a block the caller really owns, its pool's class, its
 * bit and the fact that the pool is in use cannot change under us, and
 * the claim settles a race with a second free of the same block.
 */
static __always_inline enum pym_block_status
free_cached(struct pym_heap *heap, struct pym_pcpu *pc, struct pym_arena *a,
	    void *p, struct pym_arena **release)
{
	struct pym_pool *pool = pym_pool_of(a, p);
	unsigned int off = (unsigned long)p & (PYM_POOL_SIZE - 1);
	enum pym_block_status st = pym_block_check(pool, off);
	unsigned int cls;

	if (likely(st == PYM_BLOCK_OK) && unlikely(!pym_mag_claim(p, pym_mag_secret)))
		st = PYM_BLOCK_NOT_ALLOCATED;
	if (unlikely(st != PYM_BLOCK_OK)) {
		spin_lock(&heap->lock);
		heap->core.cnt.invalid_frees++;
		spin_unlock(&heap->lock);
		return st;
	}
	cls = READ_ONCE(pool->cls);
	kmemleak_free(p);
	if (want_init_on_free())
		pym_block_zero(p, cls);
	pym_pcpu_push(heap, pc, cls, p, release);
	return PYM_BLOCK_OK;
}

/* The magazine was full: make room in it, then cache p, claimed already. */
static noinline void free_overflow(struct pym_heap *heap,
				   struct pym_pcpu __percpu *pcpu,
				   unsigned int cls, void *p)
{
	struct pym_arena *release = NULL;
	struct pym_pcpu *pc;
	unsigned long flags;

	pc = pym_pcpu_lock(pcpu, &flags);
	pym_pcpu_push(heap, pc, cls, p, &release);
	pym_pcpu_unlock(pc, flags);
	pym_release_arenas(release);
}

/*
 * The common free: an allocated block of a cached heap, into this CPU's
 * magazine, with neither a lock nor interrupts off. Preemption off keeps
 * the magazine ours and makes this an RCU reader, so the arena and heap
 * looked up stay valid. Anything else (a large block, a bad pointer, an
 * uncached heap, init_on_free, PREEMPT_RT) returns false having changed
 * nothing, for do_free().
 */
static __always_inline bool free_fast(const void *p)
{
	unsigned int off = (unsigned long)p & (PYM_POOL_SIZE - 1);
	struct pym_pcpu __percpu *pcpu;
	struct pym_arena *a;
	struct pym_core *core;
	struct pym_pool *pool;
	unsigned int cls;
	bool done = false;

	if (!PYM_PCPU_LOCKLESS)
		return false;
	preempt_disable();
	a = pym_arena_lookup(p);
	core = a ? READ_ONCE(a->core) : NULL;
	if (unlikely(!core))
		goto out;
	pcpu = READ_ONCE(core_heap(core)->pcpu);
	pool = pym_pool_of(a, (void *)p);
	/* One address for the class and the bitmap, not two computed apart. */
	OPTIMIZER_HIDE_VAR(pool);
	cls = READ_ONCE(pool->cls);
	/* init_on_free wipes in do_free(): a call here costs every free. */
	if (unlikely(!pcpu) || want_init_on_free() ||
	    unlikely(pym_block_check(pool, off) != PYM_BLOCK_OK) ||
	    unlikely(!pym_mag_claim((void *)p, pym_mag_secret)))
		goto out;
	kmemleak_free(p);
	if (unlikely(!pym_mag_push_local(pym_pcpu_mag(pcpu, cls), (void *)p)))
		free_overflow(core_heap(core), pcpu, cls, (void *)p);
	done = true;
out:
	preempt_enable();
	return done;
}

static void report_block(struct pym_heap *heap, enum pym_block_status st,
			 const void *p, unsigned long caller)
{
	if (unlikely(st != PYM_BLOCK_OK))
		report(heap, st == PYM_BLOCK_INTERIOR ? PYM_BAD_INTERIOR :
			     PYM_BAD_DOUBLE_FREE, p, caller);
}

/*
 * Every free free_fast() declined: uncached heaps, large blocks, bad
 * input, and on PREEMPT_RT every free. The RCU read lock keeps the arena
 * and heap looked up valid; nothing here runs with interrupts off but
 * under pym_pcpu_lock() and the heap lock.
 */
static noinline void do_free(const void *p, unsigned long caller)
{
	struct pym_arena *a, *release = NULL;
	struct pym_pcpu __percpu *pcpu;
	enum pym_block_status st;
	struct pym_core *core;
	struct pym_heap *heap;
	struct pym_pcpu *pc;
	unsigned long flags;
	bool drained = false;

	rcu_read_lock();
	a = pym_arena_lookup(p);
	core = a ? READ_ONCE(a->core) : NULL;
	if (unlikely(!core)) {
		rcu_read_unlock();
		large_free(p, caller);
		return;
	}
	heap = core_heap(core);
	pcpu = READ_ONCE(heap->pcpu);
	if (likely(pcpu)) {
		pc = pym_pcpu_lock(pcpu, &flags);
		st = free_cached(heap, pc, a, (void *)p, &release);
		pym_pcpu_unlock(pc, flags);
		report_block(heap, st, p, caller);
		rcu_read_unlock();
		pym_release_arenas(release);
		return;
	}
	spin_lock_irqsave(&heap->lock, flags);
	if (unlikely(a->core != core)) {
		/* The arena was released while we looked: p is not allocated. */
		st = PYM_BLOCK_NOT_ALLOCATED;
		core->cnt.invalid_frees++;
	} else {
		if (IS_ENABLED(CONFIG_DEBUG_KMEMLEAK)) {
			pym_core_block_size(a, p, &st);
			if (st == PYM_BLOCK_OK)
				kmemleak_free(p);
		}
		st = pym_core_free(core, a, (void *)p, want_init_on_free(),
				   &release);
		drained = heap->dead && !core->cnt.arenas_current;
	}
	spin_unlock_irqrestore(&heap->lock, flags);
	report_block(heap, st, p, caller);
	rcu_read_unlock();
	pym_release_arenas(release);
	if (unlikely(drained))
		heap_drained(heap);
}

/**
 * pym_free() - free memory obtained from pymalloc
 * @p: the block; NULL and ZERO_SIZE_PTR are ignored
 *
 * The heap is found from the address; large blocks (above 512 bytes) go
 * back to kmalloc. Only blocks pymalloc handed out and still holds are
 * freed: a double free (also two racing on two CPUs), a pointer into the
 * middle of a block and a pointer pymalloc never handed out (kmalloc's
 * own blocks and pages included) are refused without touching the memory,
 * counted in invalid_frees and reported once per heap and kind.
 *
 * Context: any; on PREEMPT_RT as kfree(): not with preemption or
 * interrupts disabled.
 */
void pym_free(const void *p)
{
	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return;
	if (likely(free_fast(p)))
		return;
	do_free(p, _RET_IP_);
}
EXPORT_SYMBOL_GPL(pym_free);

/*
 * Usable size of p, or 0 after reporting why p is no allocated block.
 * *heapp is set to p's heap, or NULL for a large block.
 */
static size_t block_size(const void *p, unsigned long caller,
			 struct pym_heap **heapp)
{
	enum pym_block_status st = PYM_BLOCK_NOT_ALLOCATED;
	struct pym_heap *heap = pym_default_heap;
	struct pym_arena *a;
	struct pym_core *core;
	unsigned long flags;
	size_t size = 0;

	*heapp = NULL;
	rcu_read_lock();
	a = pym_arena_lookup(p);
	core = a ? READ_ONCE(a->core) : NULL;
	if (!core) {
		rcu_read_unlock();
		size = large_size(p);
		if (!size) {
			report(heap, virt_addr_valid(p) ? PYM_BAD_SIZE :
			       PYM_BAD_FOREIGN, p, caller);
		}
		return size;
	}
	heap = core_heap(core);
	spin_lock_irqsave(&heap->lock, flags);
	if (a->core == core)
		size = pym_core_block_size(a, p, &st);
	spin_unlock_irqrestore(&heap->lock, flags);
	/* Cached in a magazine: free, whatever the core thinks. */
	if (size && READ_ONCE(heap->pcpu) && pym_mag_cached(p, pym_mag_secret))
		size = 0;
	if (!size)
		report(heap, PYM_BAD_SIZE, p, caller);
	*heapp = heap;
	rcu_read_unlock();
	return size;
}

/**
 * pym_size() - usable size of a block, like ksize()
 * @p: a block from pymalloc, or NULL / ZERO_SIZE_PTR
 *
 * Context: any.
 * Return: the block size of @p's size class, or for a large block the
 * size kmalloc gave it; 0 for NULL, ZERO_SIZE_PTR and, after a report,
 * for any pointer that is not a block pymalloc handed out and holds
 * (interior, freed, or foreign, kmalloc's own blocks included).
 */
size_t pym_size(const void *p)
{
	struct pym_heap *heap;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return 0;
	return block_size(p, _RET_IP_, &heap);
}
EXPORT_SYMBOL_GPL(pym_size);

/**
 * pym_realloc() - resize a block, with krealloc() semantics
 * @p: the block, or NULL / ZERO_SIZE_PTR to allocate afresh
 * @new_size: the size wanted; 0 frees @p and returns ZERO_SIZE_PTR
 * @gfp: allocation flags; with __GFP_ZERO the bytes past the old size are 0
 *
 * A block stays in place when @new_size fits it and wastes less than a
 * quarter of it (CPython's rule); otherwise the contents move to a block
 * of the right class, or a large block, whichever @new_size calls for, in
 * the heap @p came from (large blocks: the default heap).
 *
 * Context: any, as far as @gfp allows.
 * Return: the resized block; NULL on failure or for a pointer that is not
 * a block pymalloc holds (reported), in which case @p is untouched.
 */
void *pym_realloc(const void *p, size_t new_size, gfp_t gfp)
{
	struct pym_heap *heap;
	size_t old;
	void *q;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return pym_alloc(new_size, gfp);
	if (unlikely(!new_size)) {
		do_free(p, _RET_IP_);
		return ZERO_SIZE_PTR;
	}
	old = block_size(p, _RET_IP_, &heap);
	if (unlikely(!old))
		return NULL;
	if (new_size <= old && 4 * new_size > 3 * old)
		return (void *)p;

	q = pym_heap_alloc(heap, new_size, gfp);
	if (!q)
		return NULL;
	memcpy(q, p, min(old, new_size));
	do_free(p, _RET_IP_);
	return q;
}
EXPORT_SYMBOL_GPL(pym_realloc);

/*
 * Cached blocks, per CPU or in a depot, are free for all figures shown.
 * The core's figures are one snapshot under the heap lock; the magazines
 * change without it, so their counts, read CPU by CPU, may catch a block
 * twice on its way from one CPU to another. Bounded by what the core has
 * allocated, a busy heap's figures are then approximate but possible;
 * a quiet heap's are exact.
 */
void pym_heap_collect(struct pym_heap *heap, struct pym_core_stats *st)
{
	u64 cached[PYM_NR_CLASSES];
	unsigned long flags;
	unsigned int c;

	spin_lock_irqsave(&heap->lock, flags);
	pym_core_collect(&heap->core, st);
	spin_unlock_irqrestore(&heap->lock, flags);
	pym_mag_count(heap, cached);
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		u64 bytes;

		cached[c] = min(cached[c], st->cls[c].blocks);
		bytes = cached[c] * pym_class_size(c);

		st->cls[c].blocks -= cached[c];
		st->cls[c].avail += cached[c];
		st->blocks_in_use -= cached[c];
		st->bytes_in_use -= bytes;
		st->bytes_available += bytes;
		st->blocks_cached += cached[c];
	}
}
EXPORT_SYMBOL_IF_KUNIT(pym_heap_collect);

/**
 * pym_heap_stats() - figures of a heap
 * @heap: the heap, or NULL for the default heap
 * @st: filled in
 *
 * The figures are one consistent snapshot taken under the heap lock; the
 * pools are walked, so this costs O(arenas) and belongs off hot paths.
 *
 * Context: any.
 * Return: 0, or -EINVAL when @st is NULL.
 */
int pym_heap_stats(struct pym_heap *heap, struct pym_stats *st)
{
	struct pym_core_stats *cs;

	if (!st)
		return -EINVAL;
	cs = kmalloc(sizeof(*cs), GFP_ATOMIC | __GFP_NOWARN);
	if (!cs)
		return -ENOMEM;
	pym_heap_collect(heap ?: pym_default_heap, cs);
	*st = (struct pym_stats) {
		.arenas_allocated = cs->cnt.arenas_allocated,
		.arenas_reclaimed = cs->cnt.arenas_reclaimed,
		.arenas_highwater = cs->cnt.arenas_highwater,
		.arenas_current = cs->cnt.arenas_current,
		.pools_used = cs->pools_used,
		.pools_empty = cs->pools_empty,
		.blocks_in_use = cs->blocks_in_use,
		.bytes_in_use = cs->bytes_in_use,
		.bytes_available = cs->bytes_available,
		.alloc_failures = cs->cnt.alloc_failures,
		.invalid_frees = cs->cnt.invalid_frees,
		.bytes_quantization = cs->bytes_quantization,
		.bytes_metadata = cs->cnt.arenas_current *
				  sizeof(struct pym_karena),
	};
	kfree(cs);
	return 0;
}
EXPORT_SYMBOL_GPL(pym_heap_stats);

static __printf(2, 3) void print_log(struct pym_out *out, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("pymalloc: %pV", &vaf);
	va_end(args);
}

/**
 * pym_heap_check() - verify every invariant of a heap
 * @heap: the heap, or NULL for the default heap
 *
 * Walks all arenas, pools, free lists and bitmaps under the heap lock and
 * logs each violation found. Meant for tests and debugging: O(memory).
 *
 * Context: any; keeps interrupts off for the length of the walk.
 * Return: 0 when consistent, -EUCLEAN after reporting violations.
 */
int pym_heap_check(struct pym_heap *heap)
{
	struct pym_out out = { .print = print_log };
	unsigned long flags;
	unsigned int n;

	heap = heap ?: pym_default_heap;
	spin_lock_irqsave(&heap->lock, flags);
	n = pym_core_check(&heap->core, &out);
	spin_unlock_irqrestore(&heap->lock, flags);
	if (n)
		pr_err("pymalloc: heap %s: %u violations\n", heap->name, n);
	return n ? -EUCLEAN : 0;
}
EXPORT_SYMBOL_GPL(pym_heap_check);

/*
 * The one rule for heap and type names: 1..31 characters, ASCII letters,
 * digits and "_-.:", not starting with '.'. A name is a debugfs file
 * name and a word in reports, so nothing else (no '/', no space, no byte
 * above 0x7f, which the kernel's isalnum() would take as Latin-1).
 */
bool pym_valid_name(const char *name)
{
	size_t i, len = name ? strnlen(name, PYM_NAME_MAX) : 0;

	if (!len || len == PYM_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) ||
		    (!isalnum(name[i]) && !strchr("_-.:", name[i])))
			return false;
	return true;
}

/* pymalloc's own debugfs files, and the names of types' own heaps. */
static bool reserved_name(const char *name)
{
	return !strcmp(name, "types") || !strcmp(name, "fail_arena") ||
	       !strncmp(name, PYM_TYPE_HEAP_PREFIX,
			strlen(PYM_TYPE_HEAP_PREFIX));
}

static struct pym_heap *find_heap(const char *name)
{
	struct pym_heap *heap;

	list_for_each_entry(heap, &pym_heaps, node)
		if (!strcmp(heap->name, name))
			return heap;
	return NULL;
}

static struct pym_heap *heap_new(const char *name, unsigned int flags)
{
	struct pym_heap *heap = kzalloc(sizeof(*heap), GFP_KERNEL);

	if (!heap)
		return NULL;
	if (!(flags & PYM_HEAP_NOCACHE) && pym_pcpu_create(heap)) {
		kfree(heap);
		return NULL;
	}
	spin_lock_init(&heap->lock);
	pym_core_init(&heap->core, pym_keep_empty_arenas);
	strscpy(heap->name, name, sizeof(heap->name));
	return heap;
}

static struct pym_heap *heap_create(const char *name, unsigned int flags)
{
	struct pym_heap *heap;

	heap = heap_new(name, flags);
	if (!heap)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&pym_heaps_lock);
	if (find_heap(name)) {
		mutex_unlock(&pym_heaps_lock);
		pym_pcpu_destroy(heap, heap->pcpu);
		kfree(heap);
		return ERR_PTR(-EEXIST);
	}
	list_add_tail_rcu(&heap->node, &pym_heaps);
	mutex_unlock(&pym_heaps_lock);
	pym_debugfs_add_heap(heap);
	return heap;
}

/**
 * pym_heap_create() - create an isolated heap
 * @name: unique name of 1..31 characters from [A-Za-z0-9_.:-], not starting
 *        with '.'; it names the heap's directory in debugfs. "types",
 *        "fail_arena" and names starting with "type-" are pymalloc's own
 * @flags: 0, or PYM_HEAP_NOCACHE for a heap without per-CPU magazines
 *         (every call takes the heap lock; the core's state is exact at
 *         all times, which tests and debugging want)
 *
 * A heap has arenas, statistics and a debugfs directory of its own.
 * Blocks from it are freed with pym_free() like any other.
 *
 * Context: process context; sleeps.
 * Return: the heap, or ERR_PTR(-EINVAL) for a bad name or flags,
 * ERR_PTR(-EEXIST) when the name is taken, ERR_PTR(-ENOMEM).
 */
struct pym_heap *pym_heap_create(const char *name, unsigned int flags)
{
	might_sleep();
	if (flags & ~PYM_HEAP_NOCACHE) {
		pr_err("pymalloc: heap_create: unknown flags %#x\n", flags);
		return ERR_PTR(-EINVAL);
	}
	if (!pym_valid_name(name)) {
		pr_err("pymalloc: heap_create: invalid name \"%*pE\": 1..%d characters of [A-Za-z0-9_.:-], not starting with '.'\n",
		       name ? (int)strnlen(name, PYM_NAME_MAX) : 0, name ?: "",
		       PYM_NAME_MAX - 1);
		return ERR_PTR(-EINVAL);
	}
	if (reserved_name(name)) {
		pr_err("pymalloc: heap_create: name \"%s\" is reserved (\"types\", \"fail_arena\", \"%s...\")\n",
		       name, PYM_TYPE_HEAP_PREFIX);
		return ERR_PTR(-EINVAL);
	}
	return heap_create(name, flags);
}
EXPORT_SYMBOL_GPL(pym_heap_create);

/*
 * A type's own heap, "type-<name>"; "type-<name>-N" while an orphaned type
 * of that name (object.c) still holds the first. Process context.
 */
struct pym_heap *pym_type_heap_create(const char *type_name)
{
	char name[PYM_HEAP_NAME_MAX];
	struct pym_heap *heap;
	unsigned int n;

	snprintf(name, sizeof(name), PYM_TYPE_HEAP_PREFIX "%s", type_name);
	heap = heap_create(name, 0);
	for (n = 2; n < 100 && PTR_ERR_OR_ZERO(heap) == -EEXIST; n++) {
		snprintf(name, sizeof(name), PYM_TYPE_HEAP_PREFIX "%s-%u",
			 type_name, n);
		heap = heap_create(name, 0);
	}
	return heap;
}

/*
 * Give back what a heap holds. Live blocks keep their arenas: the heap
 * lingers, unlisted, until the last of them is freed.
 */
static void heap_retire(struct pym_heap *heap)
{
	struct pym_pcpu __percpu *pcpu = heap->pcpu;
	struct pym_arena *release = NULL;
	struct pym_core_stats *st = NULL;
	unsigned long flags;
	unsigned int c;
	bool busy;

	if (pcpu) {
		/*
		 * Frees from now on go to the core. Wait for those that did
		 * not, and for walkers of the heap list, all RCU readers;
		 * only then is the idle work sure not to be armed again by
		 * a refill or overflow.
		 */
		WRITE_ONCE(heap->pcpu, NULL);
		synchronize_rcu();
		cancel_delayed_work_sync(&heap->idle_work);
		pym_mag_drain(heap, pcpu, true);
		pym_pcpu_destroy(heap, pcpu);
	}
	spin_lock_irqsave(&heap->lock, flags);
	pym_core_trim(&heap->core, &release);
	busy = heap->core.cnt.arenas_current;
	if (busy) {
		heap->dead = true;
		heap->core.keep_empty = 0;
	}
	spin_unlock_irqrestore(&heap->lock, flags);
	pym_release_arenas(release);
	if (!busy) {
		kfree_rcu(heap, rcu);
		return;
	}

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return;
	pym_heap_collect(heap, st);
	pr_err("pymalloc: heap %s destroyed with %llu live blocks (%llu bytes); their %llu arenas stay until they are freed\n",
	       heap->name, st->blocks_in_use, st->bytes_in_use,
	       st->cnt.arenas_current);
	for (c = 0; c < PYM_NR_CLASSES; c++)
		if (st->cls[c].blocks)
			pr_err("pymalloc: heap %s:   class %u (%u bytes): %llu live blocks\n",
			       heap->name, c, pym_class_size(c),
			       st->cls[c].blocks);
	kfree(st);
}

/**
 * pym_heap_destroy() - destroy a heap created by pym_heap_create()
 * @heap: the heap; NULL, error pointers and the default heap are refused
 *
 * Empty arenas go back to the page allocator at once. If blocks are still
 * allocated, their number per size class is reported and their memory is
 * kept, not freed under its users; it is returned as they are freed.
 *
 * Context: process context; sleeps.
 */
void pym_heap_destroy(struct pym_heap *heap)
{
	might_sleep();
	if (IS_ERR_OR_NULL(heap) || heap == pym_default_heap) {
		pr_err("pymalloc: heap_destroy: refusing to destroy %s\n",
		       heap ? "the default heap" : "a NULL heap");
		return;
	}
	mutex_lock(&pym_heaps_lock);
	list_del_rcu(&heap->node);
	mutex_unlock(&pym_heaps_lock);
	pym_debugfs_remove_heap(heap);
	heap_retire(heap);
}
EXPORT_SYMBOL_GPL(pym_heap_destroy);

/*
 * Kept empty arenas, in pages, and blocks cached in the CPUs' magazines:
 * those pin arenas that draining them may give back.
 */
unsigned long pym_heaps_reclaimable(void)
{
	u64 cached[PYM_NR_CLASSES];
	unsigned long n = 0;
	struct pym_heap *heap;
	unsigned int c;

	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node) {
		n += READ_ONCE(heap->core.nkept) << PYM_ARENA_ORDER;
		pym_mag_count(heap, cached);
		for (c = 0; c < PYM_NR_CLASSES; c++)
			n += cached[c];
	}
	rcu_read_unlock();
	return n;
}

/*
 * Reclaim: every cached block back to its core, then every empty arena
 * back to the page allocator. It takes no sleeping lock, holds no lock
 * across the drain, and costs one round over the CPUs whatever the number
 * of heaps (pym_mags_drain_all()).
 */
unsigned long pym_heaps_trim(void)
{
	struct pym_arena *release = NULL;
	unsigned long flags, n = 0;
	struct pym_heap *heap;

	pym_mags_drain_all();
	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node) {
		spin_lock_irqsave(&heap->lock, flags);
		n += pym_core_trim(&heap->core, &release);
		spin_unlock_irqrestore(&heap->lock, flags);
	}
	rcu_read_unlock();
	pym_release_arenas(release);
	return n << PYM_ARENA_ORDER;
}
EXPORT_SYMBOL_IF_KUNIT(pym_heaps_trim);

int pym_heaps_init(void)
{
	pym_default_heap = heap_new("default", 0);
	if (!pym_default_heap)
		return -ENOMEM;
	list_add_rcu(&pym_default_heap->node, &pym_heaps);
	pym_debugfs_add_heap(pym_default_heap);
	return 0;
}

void pym_heaps_exit(void)
{
	struct pym_heap *heap, *tmp;

	mutex_lock(&pym_heaps_lock);
	list_for_each_entry_safe(heap, tmp, &pym_heaps, node) {
		if (heap != pym_default_heap)
			pr_err("pymalloc: heap %s was never destroyed by its creator\n",
			       heap->name);
		list_del_rcu(&heap->node);
		pym_debugfs_remove_heap(heap);
		heap_retire(heap);
	}
	mutex_unlock(&pym_heaps_lock);
	/* Heaps retired with live blocks keep their arenas for good now. */
	rcu_barrier();
}
