/* SPDX-License-Identifier: GPL-2.0 */
/*
 * core.h - the obmalloc-style allocator core: arenas, pools and blocks.
 *
 * The core is single-threaded by contract: every function taking a
 * struct pym_core must be called with core->lock held by the caller (the
 * kernel's alloc.c, heap.c and the per-CPU policy in magazine.h; in the
 * kernel, pym_core_assert_held() checks it under lockdep). It never takes
 * that lock, never sleeps, never allocates memory and never prints; when
 * it runs out of arenas it says so and the caller obtains one outside the
 * lock. This keeps locking, page allocation and reporting policy out of
 * the algorithms; the per-CPU layer refills through the batch interface.
 *
 * Geometry (see Documentation/pymalloc.rst for the reasoning):
 *
 *   arena  256 KiB, naturally aligned, 64 pools
 *   pool   4 KiB, serves one size class, blocks start at offset 0
 *   class  c serves sizes 8c+1 .. 8c+8, block size 8(c+1), c = 0..63
 *
 * Pool and arena metadata live out of line, in struct pym_arena. Blocks
 * therefore start at pool offset 0, which makes every power-of-two block
 * naturally aligned and lets 512-byte pools hold 8 blocks instead of 7.
 */
#ifndef _PYM_CORE_H
#define _PYM_CORE_H

#include "pym_env.h"
#include "pymalloc_stats.h"

#define PYM_ALIGN_SHIFT		3
#define PYM_ALIGN		BIT(PYM_ALIGN_SHIFT)
#define PYM_SMALL_THRESHOLD		512U
#define PYM_NR_CLASSES		(PYM_SMALL_THRESHOLD >> PYM_ALIGN_SHIFT)
#define PYM_POOL_SHIFT		12
#define PYM_POOL_SIZE		BIT(PYM_POOL_SHIFT)
#define PYM_ARENA_SHIFT		18
#define PYM_ARENA_SIZE		BIT(PYM_ARENA_SHIFT)
#define PYM_ARENA_ORDER		(PYM_ARENA_SHIFT - PYM_PAGE_SHIFT)
#define PYM_POOLS_PER_ARENA	(PYM_ARENA_SIZE / PYM_POOL_SIZE)
/* One bit per possible block start: block offsets are multiples of 8. */
#define PYM_POOL_SLOTS		(PYM_POOL_SIZE >> PYM_ALIGN_SHIFT)
#define PYM_BITMAP_LONGS	(PYM_POOL_SLOTS / BITS_PER_LONG)

/*
 * Only tools/testing/core's benchmark defines PYM_CORE_UNCHECKED, to count
 * the instructions the always-on bad-free checks cost. The module and
 * every test build the checked core.
 */
#ifdef PYM_CORE_UNCHECKED
#define PYM_CHECKED	0
#else
#define PYM_CHECKED	1
#endif

struct pym_link {
	struct pym_link *next, *prev;
};

/* USED last: pym_pool_used() is one comparison. */
enum pym_pool_state {
	PYM_POOL_FRESH,		/* never used since the arena was obtained */
	PYM_POOL_FREE,		/* empty, on its arena's freepools */
	PYM_POOL_FULL,		/* every block allocated, on no list */
	PYM_POOL_USED,		/* on usedpools[cls], not full */
};

/*
 * A pool descriptor. Invariants, all checked by pym_core_check():
 *  - ref == number of bits set in the pool's part of inuse[] == blocks
 *    handed out;
 *  - blocks below nextoffset are either allocated or on freeblock;
 *    blocks at or above nextoffset have never been touched;
 *  - state USED <=> ref < capacity, on usedpools[cls]; ref == 0 there
 *    only for the one pool per class kept against ping-pong (the spare);
 *    state FULL <=> ref == capacity, on no list;
 *    ref == 0 => its bits all clear.
 *
 * 24 bytes, so that 64 of them and the bitmap leave the arena descriptor
 * small enough for five to a slab (heap.c): the pool's address, its
 * bitmap and its arena follow from its position, and the free list holds
 * offsets in the pool, not addresses.
 */
#define PYM_NOBLOCK		0xffffU	/* the end of a pool's free list */

struct pym_pool {
	union {
		struct pym_link link;		/* USED: usedpools[cls] ring */
		struct pym_pool *nextfree;	/* FREE: arena freepools */
	};
	/* USED, FULL: offset of the first freed block, or PYM_NOBLOCK. */
	u16 freeblock;
	u16 ref;
	u16 nextoffset;
	u8 cls;
	/*
	 * The state above the position in the arena: pym_pool_state(),
	 * pym_pool_pos(). One byte for both keeps the descriptor at 24
	 * bytes and the test for USED, the largest state, one comparison.
	 */
	u8 state_pos;
};

#define PYM_POOL_STATE_SHIFT	6

static __always_inline enum pym_pool_state
pym_pool_state(const struct pym_pool *pool)
{
	return (enum pym_pool_state)(pool->state_pos >> PYM_POOL_STATE_SHIFT);
}

static __always_inline bool pym_pool_used(const struct pym_pool *pool)
{
	return pool->state_pos >= PYM_POOL_USED << PYM_POOL_STATE_SHIFT;
}

static __always_inline void pym_pool_set_state(struct pym_pool *pool,
					       enum pym_pool_state state)
{
	pool->state_pos = (u8)(state << PYM_POOL_STATE_SHIFT |
			       (pool->state_pos & (BIT(PYM_POOL_STATE_SHIFT) - 1)));
}

/* The pool's position in its arena's pools[]. */
static __always_inline unsigned int pym_pool_pos(const struct pym_pool *pool)
{
	return pool->state_pos & (BIT(PYM_POOL_STATE_SHIFT) - 1);
}

struct pym_core;

/*
 * An arena descriptor. nfreepools counts pools a new size class can take
 * (FREE and FRESH); spare pools are empty but count as in use here, so
 * an arena is wholly empty when nfreepools + nspare == PYM_POOLS_PER_ARENA.
 */
struct pym_arena {
	/*
	 * For the free's fast path, what it needs of the pool of an
	 * address, found from the address with shifts and masks alone.
	 * pool_cache[i] is where a free caches a block of pool i: the core's
	 * cache of the pool's class, pym_core_class_cache(core, cls), NULL
	 * while the core has none or once the arena is released. Its address
	 * rather than the class spares the fast free the arithmetic; first in
	 * the descriptor, so that its load needs no displacement, which GCC
	 * would add to the index apart for a READ_ONCE(). inuse[] is every
	 * pool's bitmap end to end, one bit per 8 bytes of the arena.
	 */
	void __percpu *pool_cache[PYM_POOLS_PER_ARENA];
	unsigned long inuse[PYM_POOLS_PER_ARENA * PYM_BITMAP_LONGS];
	char *base;
	struct pym_core *core;		/* NULL once released */
	struct pym_arena *nextarena, *prevarena;	/* usable_arenas */
	struct pym_link all;				/* every arena of the core */
	struct pym_arena *release_next;		/* handed back to the caller */
	struct pym_pool *freepools;
	u16 nfreepools;
	u16 nspare;
	u16 nextfresh;
	bool kept;			/* wholly empty, kept against thrashing */
	int nid;
	u64 id;				/* ordinal for reports, never an address */
	struct pym_pool pools[PYM_POOLS_PER_ARENA];
	u8 sampled[PYM_POOLS_PER_ARENA];	/* the owner's (callers.c) */
};

static_assert(PYM_POOLS_PER_ARENA <= 64 && PYM_POOL_SIZE < PYM_NOBLOCK,
	      "struct pym_pool's position and offsets are too narrow");

/*
 * What a descriptor of size bytes costs its owner when it comes from a
 * slab cache of its own: its share of an order-3 slab, the largest SLUB
 * makes by default (slub_max_order), which SLUB fills with as many as
 * fit. Five fit: 6,554 bytes each, where kmalloc-8k takes 8,192.
 */
#define PYM_DESC_SLAB_BYTES	(8U << PYM_PAGE_SHIFT)

static inline unsigned int pym_desc_cost(unsigned int size)
{
	unsigned int n = PYM_DESC_SLAB_BYTES / size;

	return (PYM_DESC_SLAB_BYTES + n - 1) / n;
}

/* The arena whose pools[] holds pool. */
static __always_inline struct pym_arena *pym_pool_arena(const struct pym_pool *pool)
{
	return container_of(pool - pym_pool_pos(pool), struct pym_arena, pools[0]);
}

static __always_inline char *pym_pool_base(const struct pym_arena *a,
					   const struct pym_pool *pool)
{
	return a->base + (pym_pool_pos(pool) << PYM_POOL_SHIFT);
}

/* pool's part of its arena's bitmap. */
static __always_inline unsigned long *pym_pool_inuse(struct pym_arena *a,
						     const struct pym_pool *pool)
{
	return &a->inuse[pym_pool_pos(pool) * PYM_BITMAP_LONGS];
}

/*
 * lock is the owner's: the core never takes it, every function here runs
 * with it held (pym_core_assert_held()), and the per-CPU layer
 * (magazine.h) takes it for its batches.
 */
struct pym_core {
	pym_lock_t lock;
	unsigned long secret;		/* of the pools' free-list links */
	struct pym_link usedpools[PYM_NR_CLASSES];
	/* Sorted by ascending nfreepools: allocations drain the fullest. */
	struct pym_arena *usable_arenas;
	/* nfp2lasta[n]: last arena on usable_arenas with n free pools. */
	struct pym_arena *nfp2lasta[PYM_POOLS_PER_ARENA + 1];
	struct pym_link all_arenas;
	unsigned int keep_empty;	/* wholly empty arenas kept at least */
	unsigned int nkept;
	/*
	 * With keep_adaptive, more are kept: up to what brings the arenas
	 * in use back to peak, the most recently in use, which the owner
	 * ages (pym_core_age()); see keep_limit() in core.c.
	 */
	bool keep_adaptive;
	unsigned int peak;
	unsigned int arena_desc_bytes;	/* what a descriptor costs its owner */
	/*
	 * The owner's per-CPU caches, or NULL: opaque here but for where
	 * each class's begins, cache + cls * cache_stride, which every pool
	 * of every arena carries (pool_cache[]; pym_core_set_cache()).
	 */
	void __percpu *cache;
	unsigned int cache_stride;
	/* Figures counted as they happen; the rest are computed (stats.c). */
	u64 cnt[PYM_STAT_NR_KEPT];
};

enum pym_block_status {
	PYM_BLOCK_OK,
	PYM_BLOCK_INTERIOR,		/* points inside a block, not at its start */
	PYM_BLOCK_NOT_ALLOCATED,	/* already free, or never handed out */
};

/* The figure that counts a refused free of this status. */
static inline enum pym_stat pym_refusal_stat(enum pym_block_status st)
{
	return st == PYM_BLOCK_INTERIOR ? PYM_STAT_INTERIOR_FREES :
	       PYM_STAT_DOUBLE_FREES;
}

extern const u16 pym_class_capacity[PYM_NR_CLASSES];
extern const u32 pym_class_reciprocal[PYM_NR_CLASSES];

/*
 * Is off, below PYM_POOL_SIZE, a multiple of class cls's size s? With
 * r = pym_class_reciprocal[cls] = 2^32 / s + 1 and off = q * s + m,
 * off * r = q * 2^32 + q * (s * r - 2^32) + m * r, whose low 32 bits are
 * q * (s * r - 2^32) <= 4096 when m is 0 (q <= 4096 / s, and
 * s * r - 2^32 <= s), and at least r > 2^23 otherwise, with no carry into
 * bit 32. One multiply and one comparison where the quotient took two
 * multiplies; tools/testing/core checks every class and offset.
 */
static __always_inline bool pym_class_divides(unsigned int cls,
					      unsigned long off)
{
	u32 r = pym_class_reciprocal[cls];

	return (u32)(off * r) < r;
}

static __always_inline unsigned int pym_size_class(size_t size)
{
	return (unsigned int)((size - 1) >> PYM_ALIGN_SHIFT);
}

static __always_inline unsigned int pym_class_size(unsigned int cls)
{
	return (cls + 1) << PYM_ALIGN_SHIFT;
}

void *pym_zero_words(u64 *w, unsigned int n);

/* Largest block pym_block_zero() zeroes inline; see there. */
#define PYM_ZERO_INLINE_MAX	128U

/* Straight runs of stores: no loop, no rep stosq (see pym_block_zero()). */
static __always_inline void pym_zero2(u64 *w)
{
	w[0] = 0;
	w[1] = 0;
}

static __always_inline void pym_zero4(u64 *w)
{
	pym_zero2(w);
	pym_zero2(w + 2);
}

static __always_inline void pym_zero8(u64 *w)
{
	pym_zero4(w);
	pym_zero4(w + 4);
}

static __always_inline void pym_zero16(u64 *w)
{
	pym_zero8(w);
	pym_zero8(w + 8);
}

static __always_inline void pym_zero32(u64 *w)
{
	pym_zero16(w);
	pym_zero16(w + 16);
}

/* Zero the words from w to end, a block of class cls, 48 <= cls < 64. */
static __always_inline void pym_zero_top(u64 *w, u64 *end)
{
	pym_zero32(w);
	pym_zero32(end - 32);
}

/*
 * Zero the words from w to end, a block of class cls, 16 <= cls < 64, in
 * two straight runs of stores that may overlap, chosen by at most three
 * tests, with at most 15 words stored twice. The tests are on the class,
 * which the caller has in a register, not on the number of words.
 */
static __always_inline void pym_zero_large(u64 *w, u64 *end, unsigned int cls)
{
	if (cls >= 48) {
		pym_zero_top(w, end);
	} else if (cls >= 32) {
		pym_zero32(w);
		pym_zero16(end - 16);
	} else {
		pym_zero16(w);
		if (cls >= 24)
			pym_zero16(end - 16);
		else
			pym_zero8(end - 8);
	}
}

/*
 * Zero a block of class cls; returns it. A block of n words, n <= 16, is
 * zeroed by two runs of 2^k words, 2^k <= n <= 2^(k+1), one from each
 * end, overlapping: three tests and straight stores. A rep stosq needs
 * more set-up than an 8-byte block has stores, and costs three plain
 * stores a trip under QEMU's TCG. Larger blocks (pym_zero_large()) are
 * zeroed inline only where inline_large says so: the allocation's fast
 * path, where a call costs more instructions than its tests (its entry,
 * arguments and return; 8 of them on Debian's 6.12 kernel), and the
 * code is laid out once per exported function. There the largest
 * classes are tested for first: their pair is the closest to half of
 * kmalloc's, which zeroes 512 bytes for all of them, and every other
 * class has a test to spare. Elsewhere they take pym_zero_words(), out
 * of line.
 */
static __always_inline void *pym_block_zero_as(void *p, unsigned int cls,
					       bool inline_large)
{
	u64 *w = p, *end = w + cls + 1;

	if (inline_large && cls >= 48) {
		pym_zero_top(w, end);
	} else if (cls >= PYM_ZERO_INLINE_MAX / PYM_ALIGN) {
		if (!inline_large)
			return pym_zero_words(w, cls + 1);
		pym_zero_large(w, end, cls);
	} else if (cls < 2) {
		w[0] = 0;
		end[-1] = 0;
	} else if (cls < 4) {
		pym_zero2(w);
		pym_zero2(end - 2);
	} else if (cls < 8) {
		pym_zero4(w);
		pym_zero4(end - 4);
	} else {
		pym_zero8(w);
		pym_zero8(end - 8);
	}
	return p;
}

static __always_inline void *pym_block_zero(void *p, unsigned int cls)
{
	return pym_block_zero_as(p, cls, false);
}

/* The spare: the empty pool a size class keeps on usedpools[] (core.c). */
static __always_inline bool pym_pool_spare(const struct pym_pool *pool)
{
	return pym_pool_used(pool) && pool->ref == 0;
}

/* Arenas are naturally aligned: the pool index is in p's address bits. */
static __always_inline unsigned int pym_pool_index(const void *p)
{
	return ((unsigned long)p >> PYM_POOL_SHIFT) & (PYM_POOLS_PER_ARENA - 1);
}

static __always_inline struct pym_pool *pym_pool_of(struct pym_arena *a,
						    const void *p)
{
	return &a->pools[pym_pool_index(p)];
}

/* Arena of an address that is known to lie inside some arena. */
static __always_inline char *pym_arena_base(const void *p)
{
	return (char *)((unsigned long)p & ~(PYM_ARENA_SIZE - 1));
}

void pym_core_init(struct pym_core *core, unsigned int keep_empty,
		   unsigned int arena_desc_bytes);

void *pym_core_alloc_slow(struct pym_core *core, unsigned int cls);
void pym_core_free_slow(struct pym_core *core, struct pym_pool *pool,
			struct pym_arena **release);

static inline void pym_link_init(struct pym_link *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool pym_link_empty(const struct pym_link *head)
{
	return head->next == head;
}

static inline void pym_link_add_front(struct pym_link *head,
				      struct pym_link *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static inline void pym_link_add_tail(struct pym_link *head, struct pym_link *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static __always_inline void pym_link_del(struct pym_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static inline void pym_link_move_tail(struct pym_link *head, struct pym_link *n)
{
	pym_link_del(n);
	pym_link_add_tail(head, n);
}

/*
 * A freed block keeps the offset in its pool of the next in its first
 * word, as CPython keeps the address, but encoded as
 * SLAB_FREELIST_HARDENED encodes SLUB's links: next ^ the heap's secret ^
 * swab(the block's address). A write after free that changes it yields an
 * offset nobody chose, and one that reads it learns nothing it can use.
 */
static __always_inline unsigned long pym_pool_link_code(const struct pym_core *core,
							const void *b)
{
	return core->secret ^ swab((unsigned long)b);
}

/* The link in the free block b: an offset, PYM_NOBLOCK, or damage. */
static __always_inline unsigned long pym_pool_next(const struct pym_core *core,
						   const void *b)
{
	return *(const unsigned long *)b ^ pym_pool_link_code(core, b);
}

unsigned int pym_pool_relink(struct pym_core *core, struct pym_pool *pool,
			     char *b);
/* The owner's report of a damaged link, under the core's lock. */
void pym_core_report_link(struct pym_core *core, struct pym_pool *pool,
			  const void *b, unsigned long link);

/*
 * A decoded link is followed only to a free block of the pool: carved
 * already, at a block boundary, its bit clear. Anything else means the
 * link was overwritten; pym_pool_relink() rebuilds the list from the
 * bitmap, which pymalloc keeps apart from the blocks. inuse is the
 * pool's part of it, which the caller loaded (see pym_pool_take()).
 */
static __always_inline bool pym_pool_link_ok(const struct pym_pool *pool,
					     const unsigned long *inuse,
					     unsigned long next,
					     unsigned int cls)
{
	if (unlikely(next >= pool->nextoffset || next & (PYM_ALIGN - 1)))
		return false;
	return pym_class_divides(cls, next) &&
	       (!PYM_CHECKED || !test_bit(next >> PYM_ALIGN_SHIFT, inuse));
}

/*
 * Take the block at offset off, the head of pool's free list, or when off
 * is PYM_NOBLOCK carve one; returns the block taken, its bit set, and
 * leaves in *next the new head. The caller counts it in ref. base and
 * inuse are the pool's (pym_pool_base(), pym_pool_inuse()), worked out by
 * the caller once: a loop taking many blocks would load them again for
 * each, after every bit operation's memory clobber.
 */
static __always_inline char *pym_pool_take(struct pym_core *core,
					   struct pym_pool *pool, char *base,
					   unsigned long *inuse,
					   unsigned int cls, unsigned int off,
					   unsigned int *next)
{
	char *b;

	if (off != PYM_NOBLOCK) {
		unsigned long link;

		b = base + off;
		link = pym_pool_next(core, b);
		if (likely(link == PYM_NOBLOCK ||
			   pym_pool_link_ok(pool, inuse, link, cls)))
			*next = link;
		else
			*next = pym_pool_relink(core, pool, b);
	} else {
		off = pool->nextoffset;
		b = base + off;
		pool->nextoffset += pym_class_size(cls);
		*next = PYM_NOBLOCK;
	}
	if (PYM_CHECKED)
		__set_bit(off >> PYM_ALIGN_SHIFT, inuse);
	return b;
}

static __always_inline void *pym_pool_take_block(struct pym_core *core,
						 struct pym_pool *pool,
						 unsigned int cls)
{
	struct pym_arena *a = pym_pool_arena(pool);
	unsigned int next;
	char *b = pym_pool_take(core, pool, pym_pool_base(a, pool),
				pym_pool_inuse(a, pool), cls, pool->freeblock,
				&next);

	pool->freeblock = next;
	if (unlikely(++pool->ref == pym_class_capacity[cls])) {
		pym_link_del(&pool->link);
		pym_pool_set_state(pool, PYM_POOL_FULL);
	}
	return b;
}

/*
 * The fast path of pym_core_alloc(): the class has a pool on usedpools[cls]
 * with blocks in use, pop or carve. NULL, having changed nothing, when it
 * has not. It calls nothing, so that a caller whose slow path is a tail
 * call saves no registers.
 */
static __always_inline void *pym_core_alloc_fast(struct pym_core *core,
						 unsigned int cls)
{
	struct pym_link *first = core->usedpools[cls].next;
	struct pym_pool *pool = container_of(first, struct pym_pool, link);

	if (unlikely(first == &core->usedpools[cls] || !pool->ref))
		return NULL;
	return pym_pool_take_block(core, pool, cls);
}

/*
 * Allocate a block of class cls. Returns NULL only when every arena is
 * exhausted; the caller then adds an arena and calls again.
 */
static __always_inline void *pym_core_alloc(struct pym_core *core,
					    unsigned int cls)
{
	void *p = pym_core_alloc_fast(core, cls);

	return likely(p) ? p : pym_core_alloc_slow(core, cls);
}

unsigned int pym_core_alloc_bulk(struct pym_core *core, unsigned int cls,
				 unsigned int n, void **out);

/* Why pym_block_check() refused off; cold, it only names the problem. */
static inline enum pym_block_status
pym_block_refusal(const struct pym_pool *pool, unsigned int off)
{
	if (pool->ref == 0)
		return PYM_BLOCK_NOT_ALLOCATED;
	if (!pym_class_divides(pool->cls, off))
		return PYM_BLOCK_INTERIOR;
	return PYM_BLOCK_NOT_ALLOCATED;
}

/*
 * Is the block at offset off of the memory inuse covers (a pool, or the
 * whole arena) allocated? pool is the block's pool. Never reads the block.
 * inuse[] has a bit set exactly at the start of each allocated block of
 * the pool's current class, and none in an empty pool (pym_core_check()
 * verifies both), so an 8-aligned offset with its bit set is an allocated
 * block: one test, no division, on every free.
 */
static __always_inline enum pym_block_status
pym_bits_check(const unsigned long *inuse, unsigned long off,
	       const struct pym_pool *pool)
{
	if (!PYM_CHECKED)
		return PYM_BLOCK_OK;
	if (likely(!(off & (PYM_ALIGN - 1)) &&
		   test_bit(off >> PYM_ALIGN_SHIFT, inuse)))
		return PYM_BLOCK_OK;
	return pym_block_refusal(pool, off & (PYM_POOL_SIZE - 1));
}

/* The same for the block p of arena a. */
static __always_inline enum pym_block_status
pym_block_check(const struct pym_arena *a, const void *p)
{
	unsigned long off = (unsigned long)p & (PYM_ARENA_SIZE - 1);

	return pym_bits_check(a->inuse, off, &a->pools[off >> PYM_POOL_SHIFT]);
}

/*
 * Put the allocated block p, at offset off of its arena a, on its pool's
 * free list.
 */
static __always_inline void pym_pool_put_block(const struct pym_core *core,
					       struct pym_arena *a,
					       struct pym_pool *pool, void *p,
					       unsigned long off)
{
	if (PYM_CHECKED)
		__clear_bit(off >> PYM_ALIGN_SHIFT, a->inuse);
	/* The bit before the link, for pym_mag_claim() on other CPUs. */
	smp_wmb();
	*(unsigned long *)p = pool->freeblock ^ pym_pool_link_code(core, p);
	pool->freeblock = off & (PYM_POOL_SIZE - 1);
}

/*
 * Free a block of arena a (the caller found a from the address), zeroing
 * it first when wipe is set (init_on_free). A refused free is counted and
 * changes nothing else. On success, arenas that became releasable are
 * chained on *release through release_next; the caller returns their
 * memory after dropping the lock.
 */
static __always_inline enum pym_block_status
pym_core_free(struct pym_core *core, struct pym_arena *a, void *p, bool wipe,
	      struct pym_arena **release)
{
	struct pym_pool *pool = pym_pool_of(a, p);
	unsigned long off = (unsigned long)p & (PYM_ARENA_SIZE - 1);
	/* The arena's bitmap: no load of the pool's pointer into it. */
	enum pym_block_status st = pym_bits_check(a->inuse, off, pool);

	if (unlikely(st != PYM_BLOCK_OK)) {
		core->cnt[pym_refusal_stat(st)]++;
		return st;
	}
	if (unlikely(wipe))
		pym_block_zero(p, pool->cls);
	pym_pool_put_block(core, a, pool, p, off);
	if (likely(pym_pool_used(pool) && pool->ref > 1))
		pool->ref--;
	else
		pym_core_free_slow(core, pool, release);
	return PYM_BLOCK_OK;
}

/*
 * The common free, when p's pool keeps other blocks and stays on
 * usedpools: no list moves, nothing to release, no call. Returns false,
 * having changed nothing, for everything else, which pym_core_free()
 * takes: the last block of a pool, a full pool, a refused free.
 */
static __always_inline bool pym_core_free_fast(struct pym_core *core,
					       struct pym_arena *a, void *p)
{
	struct pym_pool *pool = pym_pool_of(a, p);
	unsigned long off = (unsigned long)p & (PYM_ARENA_SIZE - 1);

	if (unlikely(!pym_pool_used(pool) || pool->ref <= 1 ||
		     pym_bits_check(a->inuse, off, pool) != PYM_BLOCK_OK))
		return false;
	pym_pool_put_block(core, a, pool, p, off);
	pool->ref--;
	return true;
}

/*
 * Adopt the PYM_ARENA_SIZE bytes at base (naturally aligned, untouched) with
 * the descriptor a. The descriptor need not be initialised.
 */
void pym_core_add_arena(struct pym_core *core, struct pym_arena *a,
			void *base, int nid);

/* Where core caches blocks of class cls: NULL when it has no cache. */
static inline void __percpu *pym_core_class_cache(const struct pym_core *core,
						  unsigned int cls)
{
	return core->cache ?
	       (char __percpu *)core->cache + cls * core->cache_stride : NULL;
}

/* Set the cache every arena of core carries from now on (NULL: none). */
void pym_core_set_cache(struct pym_core *core, void __percpu *cache);

/* Usable size of an allocated block, or 0 with *status saying why not. */
unsigned int pym_core_block_size(struct pym_arena *a, const void *p,
				 enum pym_block_status *status);

/*
 * Time passed for the kept-arena policy: take an eighth off the distance
 * from the recent peak of arenas in use to the present (a half-life of
 * about five calls), or with forget all of it, and give back the kept
 * arenas the policy no longer covers. Returns how many. The owner calls
 * it every second or so while the core is busy, and with forget once it
 * has gone idle or is asked to shrink.
 */
unsigned int pym_core_age(struct pym_core *core, bool forget,
			  struct pym_arena **release);

/* Give back every wholly empty arena, including the kept ones. */
unsigned int pym_core_trim(struct pym_core *core, struct pym_arena **release);

/* A sink for text: seq_file in debugfs, the log, or stdio in user space. */
struct pym_out {
	__printf(2, 3) void (*print)(struct pym_out *out, const char *fmt, ...);
};

#define PYM_STATS_NODES		16

struct pym_class_stats {
	u64 pools;		/* pools holding blocks of this class */
	u64 blocks;		/* blocks allocated */
	u64 avail;		/* free blocks in those pools */
	u64 cached;		/* of those, held by the owner's caches */
	u64 requested;		/* the owner's estimate of bytes asked for */
	bool requested_known;	/* requested is an estimate, not a copy */
};

/*
 * A consistent snapshot, computed by walking the pools (stats.c). The
 * owner subtracts what its per-CPU layer caches: the core counts those
 * blocks allocated.
 */
struct pym_core_stats {
	u64 v[PYM_STAT_NR];
	u64 node_arenas[PYM_STATS_NODES];	/* last one: that node and up */
	struct pym_class_stats cls[PYM_NR_CLASSES];
	bool requested_known;	/* the owner estimated requested bytes */
};

void pym_core_collect(const struct pym_core *core, struct pym_core_stats *st);
void pym_core_stats_cached(struct pym_core_stats *st, const u64 *cached);
void pym_core_print_stats(const struct pym_core_stats *st, struct pym_out *out);
extern const char *const pym_stat_names[PYM_STAT_NR];
void pym_core_print_classes(const struct pym_core_stats *st,
			    struct pym_out *out);
void pym_core_print_arenas(const struct pym_core *core, struct pym_out *out);

/* Check every invariant; print each violation; return how many. */
unsigned int pym_core_check(const struct pym_core *core, struct pym_out *out);

#endif /* _PYM_CORE_H */
