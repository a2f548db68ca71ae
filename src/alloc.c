// SPDX-License-Identifier: GPL-2.0
/*
 * alloc.c - the block functions: pym_alloc() and pym_free() with their
 * fast and slow paths, pym_size(), pym_realloc(), and the reports of bad
 * input. Documentation/pymalloc.rst, "Life of a block", follows one block
 * through here, magazine.h and core.c.
 *
 * Allocation: the fast path pops this CPU's magazine of the size class,
 * preemptible and without a lock (magazine.h); a miss takes the slow
 * path, which owns the magazines (pcpu.h), refills them from the depot or
 * the core (magazine.h's policy), and asks heap.c for an arena when the
 * core has none left.
 *
 * Free: the arena of a pointer is found from the address alone
 * (arenamap.h), never by reading the pointed-to memory, so foreign and
 * stale pointers are recognised from pymalloc's own data. The fast path
 * checks the block's bit in its pool and claims it with one atomic step,
 * then pushes it on this CPU's magazine; everything else, bad input
 * included, takes do_free(). Arena and heap descriptors are freed after
 * an RCU grace period, and lookups are RCU readers that re-check under
 * the core's lock that the arena still belongs to the heap, so a bogus
 * free racing with an arena's release sees "not allocated", not freed
 * memory.
 *
 * Bad input is refused without writing to the memory (a foreign pointer
 * is not even read), counted by kind in the heap's figures, and reported
 * once per heap and kind.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/kmemleak.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "internal.h"
#include "kasan.h"
#include "pym_trace.h"

static const char *const refusal_text[PYM_STAT_NR] = {
	[PYM_STAT_DOUBLE_FREES] = "double free, or free of a block never allocated",
	[PYM_STAT_INTERIOR_FREES] = "free of a pointer into the middle of a block",
	[PYM_STAT_FOREIGN_FREES] = "free of a pointer pymalloc never handed out",
	[PYM_STAT_SIZE_QUERIES_REFUSED] = "size query of a pointer that is not an allocated block",
};

/*
 * One line per kind and heap: a buggy caller in a loop must not flood the
 * log, and the heap's figures still count every occurrence.
 */
static void report(struct pym_heap *heap, enum pym_stat kind, const void *p,
		   unsigned long caller)
{
	if (test_and_set_bit(kind - PYM_STAT_DOUBLE_FREES, &heap->reported))
		return;
	pr_err("heap %s: %s (%p) from %pS; refused, further reports of this kind suppressed\n",
	       heap->name, refusal_text[kind], p, (void *)caller);
}

static void count(struct pym_heap *heap, enum pym_stat what)
{
	unsigned long flags;

	spin_lock_irqsave(&heap->core.lock, flags);
	heap->core.cnt[what]++;
	spin_unlock_irqrestore(&heap->core.lock, flags);
}

static void refuse(struct pym_heap *heap, enum pym_stat kind, const void *p,
		   unsigned long caller)
{
	count(heap, kind);
	report(heap, kind, p, caller);
}

/*
 * What every small allocation ends with: the zeroing policy, kmemleak,
 * KASAN's view of size bytes. Without zeroing, the first word is cleared:
 * a block from the fast pop still carries its marker there, and with
 * init_on_free it is the one word written after the wipe. The fast path
 * and the bulk allocation zero every class inline (fast); the slow path
 * calls out for the large ones.
 */
static __always_inline void *alloc_done(void *p, size_t size,
					unsigned int cls, gfp_t gfp, bool fast)
{
	if (want_init_on_alloc(gfp))
		p = pym_block_zero_as(p, cls, fast);
	else
		*(unsigned long *)p = 0;
	kmemleak_alloc(p, pym_class_size(cls), 1, gfp);
	pym_kasan_alloc(p, size, pym_class_size(cls));
	return p;
}

/* A block the caller gave up, before anyone else can have it. */
static __always_inline void block_freed(const void *p, unsigned int cls)
{
	kmemleak_free(p);
	pym_kasan_free(p, pym_class_size(cls));
}

/* Does might_alloc() check anything here, worth it on the fast path? */
#define PYM_MIGHT_ALLOC_FAST	(IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP) || \
				 IS_ENABLED(CONFIG_LOCKDEP))

/* A block from this CPU's magazines, which the slow path owns. */
static __always_inline void *pcpu_alloc(struct pym_heap *heap,
					struct pym_pcpu __percpu *pcpu,
					unsigned int cls)
{
	struct pym_pcpu *pc;
	unsigned long flags;
	void *p;

	pc = pym_pcpu_lock(pcpu, &flags);
	p = pym_mag_pop(&pc->mags[cls]);
	if (unlikely(!p)) {
		pym_pcpu_busy(heap);
		p = pym_mag_refill(&pc->mags[cls], &heap->depot[cls],
				   &heap->core, cls, pym_pcpu_secret);
	}
	pym_pcpu_unlock(pc, flags);
	return p;
}

/* Sizes the pools do not serve: 0, and above PYM_SMALL_MAX (large.c). */
static noinline void *alloc_not_small(size_t size, gfp_t gfp)
{
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	p = pym_large_alloc(size, gfp);
	if (unlikely(!p))
		count(pym_default_heap, PYM_STAT_ALLOC_FAILURES);
	return p;
}

/*
 * No arena could be had: order 6 is the first allocation to fail on a
 * fragmented machine, long before kmalloc's small caches, which need
 * order 0 at worst. Rather than fail where kmalloc would succeed, serve
 * the block from kmalloc, as SLUB falls back from its preferred slab
 * order; pym_free() knows it by its record (large.c). A power of two
 * keeps the alignment a pool block of the class has. Not for a pinned
 * heap, whose blocks must come from its own arenas.
 */
static noinline void *alloc_fallback(struct pym_heap *heap, unsigned int cls,
				     gfp_t gfp)
{
	size_t size = max(PYM_LARGE_SLOT, roundup_pow_of_two(pym_class_size(cls)));
	void *p = NULL;

	/*
	 * kmalloc's memory is shared: a pinned heap does without. A debug
	 * heap's blocks must be its own, to be checked.
	 */
	if (!(heap->flags & (PYM_HEAP_PINNED | PYM_HEAP_DEBUG)))
		p = pym_large_alloc(size, gfp);
	count(heap, p ? PYM_STAT_FALLBACK_ALLOCS : PYM_STAT_ALLOC_FAILURES);
	return p;
}

/*
 * Everything but a hit in this CPU's magazine: refill it, or take a block
 * from the core of an uncached heap, growing the heap until one comes.
 */
static __always_inline void *alloc_block(struct pym_heap *heap, size_t size,
					 unsigned int cls, gfp_t gfp)
{
	bool reclaimed = false;
	unsigned long flags;
	void *p;

	for (;;) {
		struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);

		if (likely(pcpu)) {
			p = pcpu_alloc(heap, pcpu, cls);
		} else {
			spin_lock_irqsave(&heap->core.lock, flags);
			p = pym_core_alloc(&heap->core, cls);
			spin_unlock_irqrestore(&heap->core.lock, flags);
		}
		if (likely(p))
			return alloc_done(p, size, cls, gfp, false);
		/*
		 * Other CPUs' cached blocks of the class before a new arena;
		 * an atomic caller cannot wait for them, and grows.
		 */
		if (pcpu && !reclaimed && gfpflags_allow_blocking(gfp)) {
			reclaimed = true;
			if (pym_pcpu_reclaim_class(heap, pcpu, cls))
				continue;
		}
		if (pym_heap_grow(heap, gfp))
			return alloc_fallback(heap, cls, gfp);
	}
}

/*
 * Out of line, so that the fast path keeps its registers. Debug heaps have
 * no magazines: every allocation from one comes here.
 */
static noinline void *alloc_slow(struct pym_heap *heap, size_t size,
				 gfp_t gfp)
{
	if (!PYM_MIGHT_ALLOC_FAST)
		might_alloc(gfp);
	if (unlikely(heap->debug)) {
		if (size + PYM_DEBUG_OVERHEAD > PYM_SMALL_MAX)
			return alloc_not_small(size, gfp);
		return pym_debug_alloc(heap, size, gfp);
	}
	return alloc_block(heap, size, pym_size_class(size), gfp);
}

/* A pool block of size bytes (at most PYM_SMALL_MAX), for debug.c. */
void *pym_heap_alloc_block(struct pym_heap *heap, size_t size, gfp_t gfp)
{
	return alloc_block(heap, size, pym_size_class(size), gfp);
}

/*
 * An allocation as nobody watches it. Every way out is a return or a
 * tail call, so that the fast path saves no registers: the pop and the
 * zeroing are all it executes besides the checks.
 */
static __always_inline void *alloc_unobserved(struct pym_heap *heap,
					      size_t size, gfp_t gfp)
{
	struct pym_pcpu __percpu *pcpu;
	unsigned int cls;
	void *p;

	if (unlikely(size - 1 >= PYM_SMALL_MAX))
		return alloc_not_small(size, gfp);
	/*
	 * Without lockdep or the atomic-sleep checks, might_alloc() checks
	 * nothing; it is a voluntary preemption point, and the magazine pop
	 * never sleeps. Such kernels meet it in alloc_slow(), where an
	 * allocation can sleep.
	 */
	if (PYM_MIGHT_ALLOC_FAST)
		might_alloc(gfp);
	cls = pym_size_class(size);
	pcpu = READ_ONCE(heap->pcpu);
	/* Preemption stays on: the pop's commit fails if the task moved. */
	if (PYM_PCPU_LOCKLESS && likely(pcpu) &&
	    likely(pym_mag_pop_local(&pcpu->mags[cls], &p)))
		return alloc_done(p, size, cls, gfp, true);
	return alloc_slow(heap, size, gfp);
}

/*
 * An allocation while tracing or sampling is on (pym_observing): out of
 * line, so that the usual one pays a patched-out jump and no more.
 */
static noinline void *alloc_observed(struct pym_heap *heap, size_t size,
				     gfp_t gfp, unsigned long caller)
{
	void *p = alloc_unobserved(heap, size, gfp);

	pym_observe_alloc(heap, p, size, gfp, caller);
	return p;
}

/*
 * Every allocation's way in, inlined into the exported functions, so that
 * _RET_IP_ is their caller, unless caller names another (the object
 * layer's client).
 */
static __always_inline void *heap_alloc(struct pym_heap *heap, size_t size,
					gfp_t gfp, unsigned long caller)
{
	if (static_branch_unlikely(&pym_observing))
		return alloc_observed(heap, size, gfp, caller ?: _RET_IP_);
	return alloc_unobserved(heap, size, gfp);
}

/**
 * pym_heap_alloc() - allocate memory from a heap
 * @heap: the heap, or NULL for the default heap
 * @size: bytes wanted; 1..512 come from the heap's pools, more from kmalloc
 * @gfp: allocation flags; honours __GFP_ZERO and init_on_alloc/init_on_free
 *
 * Blocks of 2^n bytes (n <= 9) are 2^n-aligned, every block is 8-aligned.
 * Context: any, as far as @gfp allows; GFP_KERNEL may sleep for an arena.
 * When no arena can be had, a small block comes from kmalloc instead
 * (counted in PYM_STAT_FALLBACK_ALLOCS), so a request fails only where
 * kmalloc fails too.
 *
 * Return: the block, ZERO_SIZE_PTR for @size 0, or NULL when memory could
 * not be had (counted in PYM_STAT_ALLOC_FAILURES).
 */
void *pym_heap_alloc(struct pym_heap *heap, size_t size, gfp_t gfp)
{
	return heap_alloc(heap ?: pym_default_heap, size, gfp, 0);
}
EXPORT_SYMBOL_GPL(pym_heap_alloc);

/* pym_heap_alloc() on behalf of caller: the object layer's client. */
void *pym_heap_alloc_caller(struct pym_heap *heap, size_t size, gfp_t gfp,
			    unsigned long caller)
{
	return heap_alloc(heap ?: pym_default_heap, size, gfp, caller);
}

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
	return heap_alloc(pym_default_heap, size, gfp, 0);
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
	return heap_alloc(pym_default_heap, size, gfp | __GFP_ZERO, 0);
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
	return heap_alloc(pym_default_heap, bytes, gfp | __GFP_ZERO, 0);
}
EXPORT_SYMBOL_GPL(pym_calloc);

/* Cache p, a block the caller claimed, in pc, which it owns. */
static __always_inline void pcpu_push(struct pym_heap *heap,
				      struct pym_pcpu *pc, unsigned int cls,
				      void *p, struct pym_arena **release)
{
	struct pym_mag *mag = &pc->mags[cls];

	pym_pcpu_assert_owned(pc);
	if (unlikely(pym_mag_full(mag))) {
		pym_pcpu_busy(heap);
		pym_mag_overflow(mag, &heap->depot[cls], &heap->core,
				 pym_arena_lookup, release);
	}
	pym_mag_push(mag, p, pym_pcpu_secret);
}

/*
 * Claim p, a pointer into a pool of arena a (its descriptor: pool), for a
 * free. As in free_fast(), the claim tests the block's bit, in the arena's
 * bitmap, and settles a race with another free of the same block; only a
 * pointer that fails it is looked at again, to name the refusal: a set bit
 * without the claim is a cached block, a double free.
 */
static __always_inline enum pym_block_status
claim_block(struct pym_arena *a, struct pym_pool *pool, void *p)
{
	unsigned long off = (unsigned long)p & (PYM_ARENA_SIZE - 1);
	enum pym_block_status st;

	if (likely(!(off & (PYM_ALIGN - 1)) &&
		   pym_mag_claim(p, pym_pcpu_secret, a->inuse,
				 off >> PYM_ALIGN_SHIFT)))
		return PYM_BLOCK_OK;
	st = pym_bits_check(a->inuse, off, pool);
	return st == PYM_BLOCK_OK ? PYM_BLOCK_NOT_ALLOCATED : st;
}

/*
 * Free into the magazines pc the caller owns. The checks run without the
 * core's lock: for a block the caller really owns, its pool's class, its
 * bit and the fact that the pool is in use cannot change under us, and
 * the claim settles a race with a second free of the same block.
 */
static __always_inline enum pym_block_status
free_cached(struct pym_heap *heap, struct pym_pcpu *pc, struct pym_arena *a,
	    void *p, struct pym_arena **release)
{
	struct pym_pool *pool = pym_pool_of(a, p);
	enum pym_block_status st = claim_block(a, pool, p);
	unsigned int cls;

	if (unlikely(st != PYM_BLOCK_OK))
		return st;
	cls = READ_ONCE(pool->cls);
	block_freed(p, cls);
	/*
	 * All but the marker: wiped, the claim would be open again to a
	 * double free racing on another CPU until pcpu_push() marks p anew.
	 * The allocation clears the marker, so the block is still handed out
	 * zeroed.
	 */
	if (want_init_on_free())
		memset((unsigned long *)p + 1, 0,
		       pym_class_size(cls) - sizeof(unsigned long));
	pcpu_push(heap, pc, cls, p, release);
	return PYM_BLOCK_OK;
}

/*
 * The magazine was full: make room in it, then cache p, claimed already,
 * a block of arena a. free_fast() calls it with interrupts masked, which
 * it restores to irqflags when done, so that the fast path keeps no value
 * across a call, not even the class: p's pool, in use, keeps it.
 */
static noinline void free_overflow(struct pym_arena *a,
				   struct pym_mag __percpu *mag, void *p,
				   unsigned long irqflags)
{
	struct pym_heap *heap = pym_core_heap(READ_ONCE(a->core));
	unsigned int cls = READ_ONCE(pym_pool_of(a, p)->cls);
	/* mag is the heap's class cls magazine (pym_core_class_cache()). */
	struct pym_pcpu __percpu *pcpu = (struct pym_pcpu __percpu *)
		((char __percpu *)(mag - cls) - offsetof(struct pym_pcpu, mags));
	struct pym_arena *release = NULL;
	struct pym_pcpu *pc;
	unsigned long flags;

	pc = pym_pcpu_lock(pcpu, &flags);
	pcpu_push(heap, pc, cls, p, &release);
	pym_pcpu_unlock(pc, flags);
	pym_heap_release_arenas(release);
	local_irq_restore(irqflags);
}

/*
 * The common free: an allocated block of a cached heap, into this CPU's
 * magazine, without a lock. Interrupts are masked from the lookup to the
 * push: the push needs that (pym_mag_push_local()), it keeps the magazine
 * ours, and it makes this an RCU reader, so the arena and the caches
 * looked up stay valid; one mask costs fewer instructions than preemption
 * off around a masked push. The pool's magazine in the arena alone says
 * whether it belongs to a cached heap: NULL, ZERO_SIZE_PTR and every
 * address in no arena find pym_no_arena, which has none. The bit is tested once,
 * by the claim, which reads the block's first word before: a bad pointer
 * that got this far points into a pool, memory of ours, and is never
 * written. Anything else (NULL, a large block, a bad pointer, an uncached
 * heap, init_on_free, where no pool has a magazine, PREEMPT_RT, and
 * with sampled true a pool holding a sampled block) returns false having
 * changed nothing, for do_free(), which names the refusal.
 */
static __always_inline bool free_fast(const void *p, bool sampled)
{
	unsigned long off = (unsigned long)p & (PYM_ARENA_SIZE - 1);
	struct pym_mag __percpu *mag;
	struct pym_arena *a;
	unsigned long flags;

	if (!PYM_PCPU_LOCKLESS)
		return false;
	local_irq_save(flags);
	a = pym_arena_find(p);
	mag = READ_ONCE(a->pool_cache[off >> PYM_POOL_SHIFT]);
	if (unlikely(!mag) ||
	    (sampled && pym_callers_pool(a, p)) ||
	    unlikely(off & (PYM_ALIGN - 1)) ||
	    unlikely(!pym_mag_claim_as((void *)p, pym_pcpu_secret, a->inuse,
				       off >> PYM_ALIGN_SHIFT, true)))
		goto decline;
	/* The pool is in use: its class stays. */
	block_freed(p, pym_pool_of(a, p)->cls);
	if (likely(pym_mag_push_local(mag, (void *)p))) {
		local_irq_restore(flags);
		return true;
	}
	/* Still masked: a heap being retired waits for this RCU reader. */
	free_overflow(a, mag, (void *)p, flags);
	return true;
decline:
	local_irq_restore(flags);
	return false;
}

/* A free of p, in no arena: a large block, or refused. */
static void free_not_small(const void *p, unsigned long caller)
{
	enum pym_stat refused = pym_large_free(p);

	if (unlikely(refused != PYM_STAT_NR))
		refuse(pym_default_heap, refused, p, caller);
}

/* A free of p into the core of heap, which has no magazines. */
static void free_to_core(struct pym_heap *heap, struct pym_arena *a,
			 struct pym_core *core, const void *p,
			 unsigned long caller)
{
	struct pym_arena *release = NULL;
	enum pym_block_status st;
	unsigned long flags;
	bool drained = false;

	spin_lock_irqsave(&core->lock, flags);
	if (unlikely(a->core != core)) {
		/* The arena was released while we looked: p is not allocated. */
		st = PYM_BLOCK_NOT_ALLOCATED;
		core->cnt[pym_refusal_stat(st)]++;
	} else {
		if (IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) ||
		    IS_ENABLED(CONFIG_KASAN_GENERIC)) {
			pym_core_block_size(a, p, &st);
			if (st == PYM_BLOCK_OK)
				block_freed(p, pym_pool_of(a, (void *)p)->cls);
		}
		st = pym_core_free(core, a, (void *)p, want_init_on_free(),
				   &release);
		drained = heap->dead && !core->cnt[PYM_STAT_ARENAS_CURRENT];
	}
	spin_unlock_irqrestore(&core->lock, flags);
	/* The core counted a refusal; it is only reported here. */
	if (unlikely(st != PYM_BLOCK_OK))
		report(heap, pym_refusal_stat(st), p, caller);
	pym_heap_release_arenas(release);
	if (unlikely(drained))
		pym_heap_drained(heap);
}

void pym_heap_free_block(struct pym_heap *heap, struct pym_arena *a,
			 const void *p, unsigned long caller)
{
	free_to_core(heap, a, &heap->core, p, caller);
}

void pym_heap_refused(struct pym_heap *heap, enum pym_stat kind,
		      const void *p, unsigned long caller)
{
	report(heap, kind, p, caller);
}

/* A free into a heap without magazines: a debug heap's, or its core. */
static void free_uncached(struct pym_heap *heap, struct pym_arena *a,
			  struct pym_core *core, const void *p,
			  unsigned long caller)
{
	if (unlikely(heap->debug))
		pym_debug_free(heap, a, p, caller);
	else
		free_to_core(heap, a, core, p, caller);
}

/*
 * Every free free_fast() declined: NULL, uncached heaps, large blocks, bad
 * input, and on PREEMPT_RT every free. The RCU read lock keeps the arena
 * and heap looked up valid; nothing here runs with interrupts off but
 * under pym_pcpu_lock() and the core's lock.
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

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return;
	rcu_read_lock();
	a = pym_arena_lookup(p);
	core = a ? READ_ONCE(a->core) : NULL;
	if (unlikely(!core)) {
		rcu_read_unlock();
		free_not_small(p, caller);
		return;
	}
	/* Before the block can be anyone else's: see callers.c. */
	if (static_branch_unlikely(&pym_sampling))
		pym_callers_free(a, p);
	heap = pym_core_heap(core);
	pcpu = READ_ONCE(heap->pcpu);
	if (unlikely(!pcpu)) {
		free_uncached(heap, a, core, p, caller);
		rcu_read_unlock();
		return;
	}
	pc = pym_pcpu_lock(pcpu, &flags);
	st = free_cached(heap, pc, a, (void *)p, &release);
	pym_pcpu_unlock(pc, flags);
	if (unlikely(st != PYM_BLOCK_OK))
		refuse(heap, pym_refusal_stat(st), p, caller);
	rcu_read_unlock();
	pym_heap_release_arenas(release);
}

/*
 * pym_free() while watched (pym_observing): the event, and the fast path
 * declines a pool holding a sampled block, for do_free() to forget the
 * sample first. Out of line, so that the usual free keeps its registers
 * and pays one patched-out jump.
 */
static noinline void free_observed(const void *p, unsigned long caller)
{
	trace_pym_free(caller, p);
	if (likely(free_fast(p, true)))
		return;
	do_free(p, caller);
}

/**
 * pym_free() - free memory obtained from pymalloc
 * @p: the block; NULL and ZERO_SIZE_PTR are ignored
 *
 * The heap is found from the address; large blocks (above 512 bytes) go
 * back to kmalloc. Only blocks pymalloc handed out and still holds are
 * freed: a double free (also two racing on two CPUs), a pointer into the
 * middle of a block and a pointer pymalloc never handed out (kmalloc's
 * own blocks and pages included) are refused without writing to the
 * memory, counted by kind in the heap's figures and reported once per heap
 * and kind.
 *
 * Context: any; on PREEMPT_RT as kfree(): not with preemption or
 * interrupts disabled.
 */
void pym_free(const void *p)
{
	if (static_branch_unlikely(&pym_observing)) {
		free_observed(p, _RET_IP_);
		return;
	}
	if (likely(free_fast(p, false)))
		return;
	do_free(p, _RET_IP_);
}
EXPORT_SYMBOL_GPL(pym_free);

/*
 * Blocks for p[0..n) of class cls from this CPU's magazine, then straight
 * from the core in batches under one lock hold each; fewer when the core
 * needs an arena. Not zeroed, not yet the caller's (alloc_done()).
 */
static size_t bulk_take(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
			unsigned int cls, size_t n, void **p)
{
	struct pym_pcpu *pc;
	unsigned long flags;
	size_t i = 0;
	unsigned int got;

	pc = pym_pcpu_lock(pcpu, &flags);
	while (i < n && (p[i] = pym_mag_pop(&pc->mags[cls])))
		i++;
	pym_pcpu_unlock(pc, flags);
	while (i < n) {
		spin_lock_irqsave(&heap->core.lock, flags);
		got = pym_core_alloc_bulk(&heap->core, cls,
					  min_t(size_t, n - i, 64), p + i);
		spin_unlock_irqrestore(&heap->core.lock, flags);
		if (!got)
			break;
		i += got;
	}
	return i;
}

/**
 * pym_alloc_bulk() - allocate n blocks of one size, all or nothing
 * @heap: the heap, or NULL for the default heap
 * @size: bytes wanted for each block, as for pym_heap_alloc()
 * @gfp: allocation flags, as for pym_heap_alloc()
 * @n: how many
 * @p: where the n blocks go
 *
 * Like kmem_cache_alloc_bulk(): the blocks come from this CPU's magazine
 * and from the heap's pools in batches, each lock taken once per batch
 * rather than once per block. Free them with pym_free() or
 * pym_free_bulk().
 *
 * Context: as pym_heap_alloc(); GFP_KERNEL may sleep for arenas.
 * Return: @n, or 0 with nothing allocated (@p is then undefined).
 */
int pym_alloc_bulk(struct pym_heap *heap, size_t size, gfp_t gfp, size_t n,
		   void **p)
{
	struct pym_pcpu __percpu *pcpu;
	unsigned int cls;
	size_t i = 0, j;

	heap = heap ?: pym_default_heap;
	if (!n || n > INT_MAX || !p)
		return 0;
	might_alloc(gfp);
	cls = size - 1 < PYM_SMALL_MAX ? pym_size_class(size) : 0;
	pcpu = READ_ONCE(heap->pcpu);
	/* Blocks the pools serve, in a heap with magazines: in batches. */
	if (size - 1 < PYM_SMALL_MAX && pcpu && !heap->debug) {
		while (i < n) {
			i += bulk_take(heap, pcpu, cls, n - i, p + i);
			if (i < n && pym_heap_grow(heap, gfp))
				break;
		}
		for (j = 0; j < i; j++) {
			p[j] = alloc_done(p[j], size, cls, gfp, true);
			if (static_branch_unlikely(&pym_observing))
				pym_observe_alloc(heap, p[j], size, gfp, _RET_IP_);
		}
	}
	/* Anything else, and what no arena was found for: one at a time. */
	for (; i < n; i++) {
		p[i] = heap_alloc(heap, size, gfp, _RET_IP_);
		if (unlikely(ZERO_OR_NULL_PTR(p[i])))
			break;
	}
	if (likely(i == n))
		return n;
	pym_free_bulk(i, p);
	return 0;
}
EXPORT_SYMBOL_GPL(pym_alloc_bulk);

/*
 * One block of a bulk free, into heap's pools; the core's lock is held,
 * so a's owner is settled. A refusal is counted.
 */
static __always_inline enum pym_block_status
bulk_free_one(struct pym_core *core, struct pym_arena *a, void *p,
	      struct pym_arena **release)
{
	struct pym_pool *pool = pym_pool_of(a, p);
	enum pym_block_status st = PYM_BLOCK_NOT_ALLOCATED;

	if (likely(a->core == core))
		st = claim_block(a, pool, p);
	if (unlikely(st != PYM_BLOCK_OK)) {
		core->cnt[pym_refusal_stat(st)]++;
		return st;
	}
	block_freed(p, pool->cls);
	return pym_core_free(core, a, p, want_init_on_free(), release);
}

/**
 * pym_free_bulk() - free n blocks
 * @n: how many entries @p has
 * @p: the blocks, from any heaps; NULL and ZERO_SIZE_PTR entries are skipped
 *
 * Like kmem_cache_free_bulk(): consecutive blocks of one heap go back to
 * its pools under one hold of its lock, past the magazines, which hold
 * fewer blocks than a bulk free usually brings. Each entry gets
 * pym_free()'s checks: a double, interior or foreign pointer is refused,
 * counted and reported, and the others are freed.
 *
 * Context: as pym_free().
 */
void pym_free_bulk(size_t n, void **p)
{
	struct pym_arena *release = NULL, *a;
	enum pym_block_status st;
	struct pym_core *core;
	struct pym_heap *heap;
	unsigned long flags;
	size_t i = 0;

	rcu_read_lock();
	while (i < n) {
		const void *q = p[i];

		if (ZERO_OR_NULL_PTR(q) || static_branch_unlikely(&pym_observing)) {
			if (!ZERO_OR_NULL_PTR(q))
				free_observed(q, _RET_IP_);
			i++;
			continue;
		}
		a = pym_arena_lookup(q);
		core = a ? READ_ONCE(a->core) : NULL;
		heap = core ? pym_core_heap(core) : NULL;
		/* Debug, uncached and destroyed heaps: one at a time. */
		if (!heap || !READ_ONCE(heap->pcpu)) {
			do_free(q, _RET_IP_);
			i++;
			continue;
		}
		spin_lock_irqsave(&core->lock, flags);
		for (;;) {
			st = bulk_free_one(core, a, (void *)q, &release);
			if (st != PYM_BLOCK_OK || ++i == n)
				break;
			q = p[i];
			a = ZERO_OR_NULL_PTR(q) ? NULL : pym_arena_lookup(q);
			if (!a || READ_ONCE(a->core) != core)
				break;
		}
		spin_unlock_irqrestore(&core->lock, flags);
		if (st != PYM_BLOCK_OK) {
			report(heap, pym_refusal_stat(st), q, _RET_IP_);
			i++;
		}
	}
	rcu_read_unlock();
	pym_heap_release_arenas(release);
}
EXPORT_SYMBOL_GPL(pym_free_bulk);

/*
 * Would pym_free(p) free p now? If not, p is refused (counted, reported
 * with caller) and false returned; nothing else changes.
 */
bool pym_free_check(const void *p, unsigned long caller)
{
	enum pym_block_status st = PYM_BLOCK_NOT_ALLOCATED;
	enum pym_stat kind;
	struct pym_arena *a;
	struct pym_core *core;
	struct pym_heap *heap;
	bool ok;

	rcu_read_lock();
	a = pym_arena_lookup(p);
	core = a ? READ_ONCE(a->core) : NULL;
	if (!core) {
		rcu_read_unlock();
		kind = pym_large_check(p);
		if (kind != PYM_STAT_NR)
			refuse(pym_default_heap, kind, p, caller);
		return kind == PYM_STAT_NR;
	}
	heap = pym_core_heap(core);
	if (unlikely(heap->debug)) {
		ok = pym_debug_size(heap, a, p);
	} else {
		/*
		 * Without the core's lock, as free_fast() reads the bit: for a
		 * block the caller owns it cannot change. A racing bad pointer
		 * may pass here; the free itself checks again.
		 */
		st = pym_block_check(a, p);
		/* Cached in a magazine: free, whatever the core thinks. */
		if (st == PYM_BLOCK_OK && READ_ONCE(heap->pcpu) &&
		    pym_mag_cached(p, pym_pcpu_secret))
			st = PYM_BLOCK_NOT_ALLOCATED;
		ok = st == PYM_BLOCK_OK;
	}
	if (!ok)
		refuse(heap, pym_refusal_stat(st), p, caller);
	rcu_read_unlock();
	return ok;
}

/*
 * Usable size of p, or 0 after refusing p, which is no allocated block.
 * *heapp is set to p's heap, or NULL for a large block.
 */
static size_t block_size(const void *p, unsigned long caller,
			 struct pym_heap **heapp)
{
	enum pym_block_status st = PYM_BLOCK_NOT_ALLOCATED;
	struct pym_arena *a;
	struct pym_core *core;
	struct pym_heap *heap;
	unsigned long flags;
	size_t size = 0;

	*heapp = NULL;
	rcu_read_lock();
	a = pym_arena_lookup(p);
	core = a ? READ_ONCE(a->core) : NULL;
	if (!core) {
		rcu_read_unlock();
		size = pym_large_size(p);
		if (!size)
			refuse(pym_default_heap, PYM_STAT_SIZE_QUERIES_REFUSED,
			       p, caller);
		return size;
	}
	heap = pym_core_heap(core);
	if (unlikely(heap->debug)) {
		size = pym_debug_size(heap, a, p);
		goto out;
	}
	spin_lock_irqsave(&core->lock, flags);
	if (a->core == core)
		size = pym_core_block_size(a, p, &st);
	spin_unlock_irqrestore(&core->lock, flags);
	/* Cached in a magazine: free, whatever the core thinks. */
	if (size && READ_ONCE(heap->pcpu) &&
	    pym_mag_cached(p, pym_pcpu_secret))
		size = 0;
out:
	if (!size)
		refuse(heap, PYM_STAT_SIZE_QUERIES_REFUSED, p, caller);
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

	size_t size;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return 0;
	size = block_size(p, _RET_IP_, &heap);
	/* As ksize(): the caller may use all of it. */
	if (heap && size)
		pym_kasan_alloc(p, size, size);
	return size;
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
		return heap_alloc(pym_default_heap, new_size, gfp, 0);
	if (unlikely(!new_size)) {
		trace_pym_free(_RET_IP_, p);
		do_free(p, _RET_IP_);
		return ZERO_SIZE_PTR;
	}
	old = block_size(p, _RET_IP_, &heap);
	if (unlikely(!old))
		return NULL;
	/* A debug block's size is exact: it always moves. */
	if (new_size <= old && 4 * new_size > 3 * old &&
	    !(heap && heap->debug)) {
		if (heap)
			pym_kasan_alloc(p, new_size, old);
		return (void *)p;
	}

	q = heap_alloc(heap ?: pym_default_heap, new_size, gfp, 0);
	if (!q)
		return NULL;
	memcpy(q, p, min(old, new_size));
	trace_pym_free(_RET_IP_, p);
	do_free(p, _RET_IP_);
	return q;
}
EXPORT_SYMBOL_GPL(pym_realloc);
