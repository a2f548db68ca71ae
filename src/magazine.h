/* SPDX-License-Identifier: GPL-2.0 */
/*
 * magazine.h - the per-CPU layer: a stack of free blocks per size class in
 * front of a core (a magazine), a depot per class behind the magazines,
 * and the policy between them, written once for both builds: the kernel
 * has a magazine per CPU, heap and class (alloc.c, pcpu.c), user space
 * one per simulated CPU (tools/testing/core/uheap.h), so the user-space
 * tests run the kernel's policy.
 *
 * The policy: an allocation pops the magazine; an empty magazine takes a
 * batch from the depot, else a whole magazine from the core
 * (pym_mag_refill()). A free pushes; a full magazine moves its older half
 * to the depot, or what does not fit there and a quarter more back to the
 * core (pym_mag_overflow()).
 *
 * Portable like core.h. The caller owns the magazine (the kernel: its CPU
 * with interrupts off, or on PREEMPT_RT its lock, pcpu.h); the functions
 * here take the depot's lock, then the core's, and only those. The kernel's
 * fast paths are pym_mag_pop_local() (lock-free) and pym_mag_push_local()
 * (interrupts masked).
 *
 * A cached block is free for the user but allocated for the core. So that
 * the always-on checks still see it free, its first word holds a marker,
 * its address XOR a secret; a free finding the marker is a double free.
 * The marker is cleared before the block is handed out, so the secret
 * never reaches a caller.
 */
#ifndef _PYM_MAGAZINE_H
#define _PYM_MAGAZINE_H

#include "core.h"

/* 31: a magazine is then 256 bytes, and finding one is a shift. */
#define PYM_MAG_MAX		31

/*
 * state packs the number of cached blocks (bits 0-7), the capacity (bits
 * 8-15), the number of the CPU the magazine belongs to (the next
 * PYM_NR_CPU_BITS) and a sequence count (the rest) that every change
 * advances. The kernel's fast-path pop runs with preemption on and
 * commits with a compare-and-exchange of the state of the CPU it runs on
 * at that moment, which fails, and is retried, when anything changed the
 * magazine meanwhile, or when the task moved to another CPU: no two CPUs'
 * states are ever equal (pym_mag_pop_local(); SLUB's transaction ids work
 * so). Its push runs with interrupts masked (pym_mag_push_local()).
 * Everything else changes it with interrupts off, through the plain
 * functions below, which advance the sequence all the same.
 */
struct pym_mag {
	unsigned long state;
	void *blocks[PYM_MAG_MAX];
};

#define PYM_MAG_LEN_MASK	0xffUL
#define PYM_MAG_CAP_SHIFT	8
#define PYM_MAG_CPU_SHIFT	16
#define PYM_MAG_SEQ		BIT(PYM_MAG_CPU_SHIFT + PYM_NR_CPU_BITS)

static __always_inline unsigned int pym_mag_state_len(unsigned long state)
{
	return state & PYM_MAG_LEN_MASK;
}

static __always_inline unsigned int pym_mag_state_cap(unsigned long state)
{
	return (state >> PYM_MAG_CAP_SHIFT) & PYM_MAG_LEN_MASK;
}

/*
 * No room for another block: two bytes compared in place (cmp %al,%ah on
 * x86), where the two accessors above cost the push a copy and a shift.
 */
static __always_inline bool pym_mag_state_full(unsigned long state)
{
	BUILD_BUG_ON(PYM_MAG_LEN_MASK != 0xff || PYM_MAG_CAP_SHIFT != 8);
	return (u8)state == (u8)(state >> PYM_MAG_CAP_SHIFT);
}

static __always_inline unsigned int pym_mag_state_cpu(unsigned long state)
{
	return (state >> PYM_MAG_CPU_SHIFT) & (BIT(PYM_NR_CPU_BITS) - 1);
}

/* At most 2 KiB of blocks per class, between 4 and PYM_MAG_MAX of them. */
static inline unsigned int pym_mag_cap(unsigned int cls)
{
	unsigned int n = 2048U / pym_class_size(cls);

	return n < 4 ? 4 : n > PYM_MAG_MAX ? PYM_MAG_MAX : n;
}

/*
 * An empty magazine of class cls for CPU cpu. The sequence gets at least
 * 32 bits: a pop that a wrap-around could fool must stay preempted while
 * its CPU changes the magazine 2^32 times or more.
 */
static inline void pym_mag_init(struct pym_mag *mag, unsigned int cls,
				unsigned int cpu)
{
	BUILD_BUG_ON(BITS_PER_LONG - PYM_MAG_CPU_SHIFT - PYM_NR_CPU_BITS < 32);
	mag->state = (unsigned long)pym_mag_cap(cls) << PYM_MAG_CAP_SHIFT |
		     (unsigned long)cpu << PYM_MAG_CPU_SHIFT;
}

static __always_inline unsigned int pym_mag_len(const struct pym_mag *mag)
{
	return pym_mag_state_len(READ_ONCE(mag->state));
}

/* The state after n blocks were added (n < 0: taken) to one of state. */
static __always_inline unsigned long pym_mag_next(unsigned long state, int n)
{
	return state + PYM_MAG_SEQ + n;
}

static __always_inline void pym_mag_set_len(struct pym_mag *mag,
					    unsigned int n)
{
	WRITE_ONCE(mag->state, ((mag->state & ~PYM_MAG_LEN_MASK) + PYM_MAG_SEQ) | n);
}

static __always_inline unsigned long
pym_mag_marker(const void *p, unsigned long secret)
{
	return (unsigned long)p ^ secret;
}

static __always_inline bool pym_mag_cached(const void *p, unsigned long secret)
{
	return *(const unsigned long *)p == pym_mag_marker(p, secret);
}

/*
 * Mark p cached: p is an 8-aligned block its caller is freeing, bit its
 * bit in inuse. False if p is not allocated: it carries the marker (freed
 * into a magazine or depot), or its bit is clear (back in its pool, or
 * never a block start). The kernel's fast path relies on this test alone;
 * the slow paths ran pym_block_check() before, to name a refusal. The mark goes in with a
 * compare-and-exchange against the first word as read before the bit
 * was tested, so that of two CPUs freeing the same block at once exactly
 * one gets it, even when the other's free went on to take it out of the
 * magazines and back into its pool, which writes over the marker, in
 * between: a plain load and store, or a bit tested only before, let both
 * through. The pool's side clears the bit before it writes the link
 * (pym_pool_put_block()). The first word changes under the claim only in
 * such a race, or when the caller writes a block it is freeing: once
 * says to give up then, false, for a caller that retries on a slower
 * path (the kernel's fast free, which a loop here costs a register).
 */
static __always_inline bool pym_mag_claim_as(void *p, unsigned long secret,
					     const unsigned long *inuse,
					     unsigned long bit, bool once)
{
	unsigned long *w = p, marker = pym_mag_marker(p, secret);
	unsigned long old;

	pym_mag_race_window(p);
	old = READ_ONCE(*w);
	for (;;) {
		if (unlikely(old == marker))
			return false;
		smp_rmb();	/* the bit as of old or later; see above */
		if (PYM_CHECKED && unlikely(!test_bit(bit, inuse)))
			return false;
		pym_mag_race_window(p);
		if (likely(try_cmpxchg(w, &old, marker)))
			return true;
		if (once)
			return false;
	}
}

static __always_inline bool pym_mag_claim(void *p, unsigned long secret,
					  const unsigned long *inuse,
					  unsigned long bit)
{
	return pym_mag_claim_as(p, secret, inuse, bit, false);
}

/* The block for the next allocation, marker cleared, or NULL if empty. */
static __always_inline void *pym_mag_pop(struct pym_mag *mag)
{
	unsigned int n = pym_mag_len(mag);
	void *p;

	if (unlikely(!n))
		return NULL;
	p = mag->blocks[n - 1];
	pym_mag_set_len(mag, n - 1);
	*(unsigned long *)p = 0;
	return p;
}

/*
 * The fast paths' pair. The pop takes the magazine's per-CPU address
 * (pmag), and runs with preemption on: it reads the state and the top
 * block of the magazine of the CPU it runs on, and commits on the CPU it
 * runs on then, with a compare-and-exchange without a lock prefix. That
 * fails, and the pop starts over, when an interrupt or another task
 * popped or pushed in between (the sequence moved), or when the task
 * moved to another CPU (the CPU number differs), so the block taken is
 * always the top of the magazine committed, as in SLUB's per-CPU
 * freelist. It only reads blocks[] below the top, which nothing changes
 * without changing state first. pym_mag_race_window() marks the windows
 * where an interrupt, another task or a migration may come; user-space
 * tests put them there. The block, in *p, comes back marked: the caller
 * clears the marker, or zeroes the block, before it hands it out, one
 * store instead of two. False when the magazine is empty: a flag the
 * compiler knows on each path, where a NULL block would be tested again.
 */
static __always_inline bool pym_mag_pop_local(struct pym_mag __percpu *pmag,
					      void **p)
{
	unsigned long state, len;
	struct pym_mag *mag;

	do {
		mag = raw_cpu_ptr(pmag);
		state = READ_ONCE(mag->state);
		len = state & PYM_MAG_LEN_MASK;
		if (unlikely(!len))
			return false;
		pym_mag_race_window(mag);
		/*
		 * READ_ONCE()'s volatile access costs GCC an instruction to
		 * compute the address apart; a relaxed atomic load is the
		 * same single load.
		 */
		*p = __atomic_load_n(&mag->blocks[len - 1], __ATOMIC_RELAXED);
		pym_mag_race_window(mag);
	} while (unlikely(!this_cpu_try_cmpxchg(pmag->state, &state,
						pym_mag_next(state, -1))));
	return true;
}

/*
 * Cache p, a block the caller claimed (pym_mag_claim()), in this CPU's
 * copy of pmag; false when the magazine is full, p still marked. The
 * mark is in before the commit: once state is committed, an interrupt
 * may pop p at once. Every access goes through the per-CPU segment, so
 * the magazine's address is never formed: with the CPU pinned, that is
 * the same memory as raw_cpu_ptr(pmag), for fewer instructions.
 *
 * The caller masks interrupts: the push writes its slot before it
 * commits, and an interrupt between its read of state and that write
 * could push into the same slot and commit it; the write would overwrite
 * that cached block, lost, and a retry would cache p twice. Taking the
 * slot with a compare-and-exchange from NULL (every slot above the top
 * kept NULL, emptied again by each pop) closes that too, but measured on
 * Debian's 6.12 kernel it cost an alloc/free pair 10 instructions more
 * than masking did.
 */
static __always_inline bool pym_mag_push_local(struct pym_mag __percpu *pmag,
					       void *p)
{
	unsigned long state = raw_cpu_read(pmag->state), next;

	pym_assert_irqs_disabled();
	if (unlikely(pym_mag_state_full(state)))
		return false;
	/*
	 * The slot is indexed by the new length less one, not by the old
	 * length: GCC folds blocks[len]'s address into (len + 1) words and
	 * spends an addition on it, where the new state has len + 1 already.
	 */
	next = pym_mag_next(state, 1);
	raw_cpu_write(pmag->blocks[(unsigned long)pym_mag_state_len(next) - 1], p);
	raw_cpu_write(pmag->state, next);
	return true;
}

/* Room for one more block? The caller flushes first when not. */
static __always_inline bool pym_mag_full(const struct pym_mag *mag)
{
	unsigned long state = READ_ONCE(mag->state);

	return pym_mag_state_full(state);
}

/* Cache p, an allocated block that is not cached already. */
static __always_inline void pym_mag_push(struct pym_mag *mag, void *p,
					 unsigned long secret)
{
	unsigned int n = pym_mag_len(mag);

	*(unsigned long *)p = pym_mag_marker(p, secret);
	mag->blocks[n] = p;
	pym_mag_set_len(mag, n + 1);
}

/*
 * Fill an empty magazine with up to n blocks from the core, under the
 * core's lock. The blocks it keeps are marked: the core counts them
 * allocated now, and one freed before, by a stale pointer, must still be
 * refused. Returns a block, marker-free, or NULL when the core needs an
 * arena.
 */
static __always_inline void *pym_mag_fill(struct pym_core *core,
					  struct pym_mag *mag, unsigned int cls,
					  unsigned int n, unsigned long secret)
{
	unsigned int i;

	n = pym_core_alloc_bulk(core, cls, n, mag->blocks);

	if (!n) {
		pym_mag_set_len(mag, 0);
		return NULL;
	}
	for (i = 0; i < n - 1; i++)
		*(unsigned long *)mag->blocks[i] =
			pym_mag_marker(mag->blocks[i], secret);
	pym_mag_set_len(mag, n - 1);
	return mag->blocks[n - 1];
}

/*
 * Give n cached blocks back to the core (under the core's lock); arena_of
 * finds a cached block's arena, asked again only when a block lies in
 * another arena than the one before. An arena emptied and chained on
 * *release stays readable until the caller returns it, after the lock.
 */
static __always_inline void
pym_blocks_free(struct pym_core *core, void **blocks, unsigned int n,
		struct pym_arena *(*arena_of)(const void *p),
		struct pym_arena **release)
{
	struct pym_arena *a = NULL;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!a || pym_arena_base(blocks[i]) != a->base)
			a = arena_of(blocks[i]);
		pym_core_free(core, a, blocks[i], false, release);
	}
}

/* Move the n oldest blocks of mag to out[]; the newer ones stay, cache-hot. */
static __always_inline void pym_mag_take_oldest(struct pym_mag *mag,
						unsigned int n, void **out)
{
	unsigned int len = pym_mag_len(mag);

	if (out)
		memcpy(out, mag->blocks, n * sizeof(void *));
	memmove(mag->blocks, mag->blocks + n, (len - n) * sizeof(void *));
	pym_mag_set_len(mag, len - n);
}

/*
 * Give the n oldest blocks of mag back to the core; takes the core's lock.
 * Arenas that empty are chained on *release for the caller to return.
 */
static __always_inline void
pym_mag_flush(struct pym_core *core, struct pym_mag *mag, unsigned int n,
	      struct pym_arena *(*arena_of)(const void *p),
	      struct pym_arena **release)
{
	pym_lock(&core->lock);
	pym_blocks_free(core, mag->blocks, n, arena_of, release);
	pym_unlock(&core->lock);
	pym_mag_take_oldest(mag, n, NULL);
}

/*
 * A depot: free blocks of one class on their way from the CPUs that free
 * them to the CPUs that allocate them (Bonwick's magazine depot, moving
 * half-magazines). A magazine that overflows puts its older half here
 * rather than back into the core; one that runs empty takes a batch from
 * here before it asks the core. When one CPU allocates and another frees,
 * the blocks then go round without the core, each batch moved by one
 * copy under one short lock instead of block by block under the heap's.
 * Blocks keep their marker all along: they are still free for the checks.
 * A heap has one per class, under a lock of its own.
 */
struct pym_depot {
	pym_lock_t lock;		/* protects the rest */
	unsigned int len;		/* blocks[0..len-1], oldest first */
	unsigned int cap;		/* the class's magazine capacity */
	void *blocks[PYM_MAG_MAX];
} ____cacheline_aligned_in_smp;

static inline void pym_depot_init(struct pym_depot *d, unsigned int cls)
{
	pym_lock_init(&d->lock);
	d->len = 0;
	d->cap = pym_mag_cap(cls);
}

/* Lock-free peeks, to skip a lock that could not help. */
static __always_inline bool pym_depot_empty(const struct pym_depot *d)
{
	return !READ_ONCE(d->len);
}

static __always_inline bool pym_depot_full(const struct pym_depot *d)
{
	return READ_ONCE(d->len) == d->cap;
}

/*
 * Move up to n of the oldest blocks of mag into d, as many as d has room
 * for; the newer ones stay, cache-hot. Returns how many moved.
 */
static inline unsigned int pym_depot_put(struct pym_depot *d,
					 struct pym_mag *mag, unsigned int n)
{
	if (n > d->cap - d->len)
		n = d->cap - d->len;
	pym_mag_take_oldest(mag, n, d->blocks + d->len);
	WRITE_ONCE(d->len, d->len + n);
	return n;
}

/*
 * Refill the empty magazine mag from d with up to n blocks, the newest
 * first in line. Returns one of them, marker cleared, or NULL if d is
 * empty.
 */
static inline void *pym_depot_get(struct pym_depot *d, struct pym_mag *mag,
				  unsigned int n)
{
	void *p;

	if (n > d->len)
		n = d->len;
	if (!n)
		return NULL;
	WRITE_ONCE(d->len, d->len - n);
	memcpy(mag->blocks, d->blocks + d->len, n * sizeof(void *));
	p = mag->blocks[n - 1];
	pym_mag_set_len(mag, n - 1);
	*(unsigned long *)p = 0;
	return p;
}

/* Give every block of d back to the core; the caller holds both locks. */
static inline void pym_depot_flush(struct pym_core *core, struct pym_depot *d,
				   struct pym_arena *(*arena_of)(const void *p),
				   struct pym_arena **release)
{
	pym_blocks_free(core, d->blocks, d->len, arena_of, release);
	WRITE_ONCE(d->len, 0);
}

/*
 * The policy, part one: mag, which the caller owns, is empty. Take half a
 * magazine plus one from the depot, which other CPUs share, else a whole
 * magazine from the core: a refill from the core costs its lock and a
 * walk of its pools, and a stream of allocations (1000 of 64 bytes) takes
 * 6 instructions fewer a block with half as many. The one handed out
 * leaves room for a free, so an alloc/free cycle at the boundary does not
 * give back what it just took. Returns a block, marker-free, or NULL when
 * the core needs an arena.
 */
static inline void *pym_mag_refill(struct pym_mag *mag, struct pym_depot *d,
				   struct pym_core *core, unsigned int cls,
				   unsigned long secret)
{
	unsigned int cap = pym_mag_state_cap(mag->state);
	void *p;

	if (!pym_depot_empty(d)) {
		pym_lock(&d->lock);
		p = pym_depot_get(d, mag, cap / 2 + 1);
		pym_unlock(&d->lock);
		if (p)
			return p;
	}
	pym_lock(&core->lock);
	p = pym_mag_fill(core, mag, cls, cap, secret);
	pym_unlock(&core->lock);
	return p;
}

/*
 * The policy, part two: mag, which the caller owns, is full. Its older
 * half goes to the depot; what of it does not fit there goes back to the
 * core, and with it a quarter more: a flush costs the core's lock and a
 * call chain, and a stream of frees that fills the depot (1000 of 64
 * bytes) takes 2 to 6 instructions fewer a block with fewer flushes. The
 * newest quarter stays, cache-hot.
 */
static inline void pym_mag_overflow(struct pym_mag *mag, struct pym_depot *d,
				    struct pym_core *core,
				    struct pym_arena *(*arena_of)(const void *p),
				    struct pym_arena **release)
{
	unsigned int cap = pym_mag_state_cap(mag->state);
	unsigned int n = cap / 2;

	if (!pym_depot_full(d)) {
		pym_lock(&d->lock);
		n -= pym_depot_put(d, mag, n);
		pym_unlock(&d->lock);
	}
	if (n)
		pym_mag_flush(core, mag, n + cap / 4, arena_of, release);
}

#endif /* _PYM_MAGAZINE_H */
