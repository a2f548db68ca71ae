// SPDX-License-Identifier: GPL-2.0
/*
 * debug_kunit.c - KUnit tests of debug heaps (suite pymalloc_debug): each
 * check is provoked the way a buggy caller would (an overflow by one byte,
 * an underflow, a write after free, a double free in quarantine, a leak at
 * destruction) and its report and counters checked. The bad writes are
 * made inside pym_bad_access_begin()/end(): on a KASAN kernel KASAN sees
 * most of them first, which the judge is told to allow.
 */
#include <kunit/test.h>
#include <linux/kasan.h>

#include "kunit_util.h"

#define DEBUG_FRONT	24	/* head and front guard, debug.c */

static u64 stat_of(struct kunit *test, struct pym_heap *heap,
		   enum pym_stat what)
{
	struct pym_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_EQ(test, 0, pym_heap_stats(heap, st));
	return st->v[what];
}

/* A call whose report the judge must find in the console. */
#define EXPECT_REPORT(text, call) do {					\
	struct kunit *__kt = pym_bad_access_begin(text, false);		\
	call;								\
	pym_bad_access_end(__kt);					\
} while (0)

/* A bad one-byte write, announced. */
static void bad_write(u8 *p, u8 value, const char *kasan_report)
{
	struct kunit *test = pym_bad_access_begin(kasan_report, true);

	WRITE_ONCE(*p, value);
	pym_bad_access_end(test);
}

/*
 * Debug blocks: the size asked for is what pym_size() says, new memory is
 * 0xCD unless zeroing was asked for, freed memory 0xDD while it waits in
 * quarantine, serial numbers count the allocations, and a clean workload
 * leaves nothing damaged.
 */
static void debug_blocks_are_dressed(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, PYM_HEAP_DEBUG);
	u8 *p, *z, *q;

	p = pym_heap_alloc(heap, 20, GFP_KERNEL);
	z = pym_heap_alloc(heap, 33, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, z);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p, 8));
	KUNIT_EXPECT_EQ(test, pym_size(p), 20);
	KUNIT_EXPECT_EQ(test, pym_size(z), 33);
	if (!want_init_on_alloc(GFP_KERNEL))
		KUNIT_EXPECT_NULL(test, memchr_inv(p, 0xcd, 20));
	KUNIT_EXPECT_NULL(test, memchr_inv(z, 0, 33));
	/* The serial number is the head's second word. */
	KUNIT_EXPECT_EQ(test, *(u32 *)(z - DEBUG_FRONT + 4),
			*(u32 *)(p - DEBUG_FRONT + 4) + 1);
	memset(p, 1, 20);
	q = pym_realloc(p, 10, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_PTR_NE(test, q, p);	/* debug blocks always move */
	KUNIT_EXPECT_EQ(test, pym_size(q), 10);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 1, 10));
	kasan_disable_current();	/* a look into quarantine, on purpose */
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0xdd, 20));
	kasan_enable_current();
	pym_free(q);
	pym_free(z);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_CORRUPTIONS), 0);
	KUNIT_EXPECT_EQ(test, pym_debug_leaks(heap, NULL), 0);
	pym_heap_destroy(heap);
}

/* One byte past the end, one before the start: caught at free, kept. */
static void overflow_and_underflow(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, PYM_HEAP_DEBUG);
	u8 *p, *q;

	p = pym_heap_alloc(heap, 20, GFP_KERNEL);
	q = pym_heap_alloc(heap, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	bad_write(p + 20, 0, "KASAN: slab-out-of-bounds");
	EXPECT_REPORT("found at free: overflow: guard after the block damaged",
		      pym_free(p));
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_CORRUPTIONS), 1);
	q[-1] = 0;	/* in the front guard, which KASAN lets through */
	EXPECT_REPORT("found at free: underflow: guard before the block damaged",
		      pym_free(q));
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_CORRUPTIONS), 2);
	/* Both kept out of use: still allocated, never handed out again. */
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_BLOCKS_IN_USE), 2);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));
	pym_heap_destroy(heap);
}

/*
 * A write after free is found when the block leaves quarantine, or by
 * check before that.
 */
static void write_after_free(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, PYM_HEAP_DEBUG);
	struct kunit *kt;
	unsigned int i;
	int ret;
	u8 *p, *q;

	p = pym_heap_alloc(heap, 40, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	pym_free(p);
	bad_write(p + 5, 0, "KASAN: slab-use-after-free");
	/* Enough frees to push p out of the quarantine. */
	kt = pym_bad_access_begin("found leaving quarantine: write after free damaged",
				  false);
	for (i = 0; i < 300; i++) {
		q = pym_heap_alloc(heap, 40, GFP_KERNEL);
		if (!q || q == p)
			break;
		pym_free(q);
	}
	pym_bad_access_end(kt);
	KUNIT_EXPECT_EQ(test, i, 300);
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_CORRUPTIONS), 1);
	/* Caught by check while still in quarantine. */
	q = pym_heap_alloc(heap, 40, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	pym_free(q);
	bad_write(q + 39, 7, "KASAN: slab-use-after-free");
	EXPECT_REPORT("found by check: write after free damaged",
		      ret = pym_heap_check(heap));
	KUNIT_EXPECT_EQ(test, -EUCLEAN, ret);
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_CORRUPTIONS), 2);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));	/* reported once */
	pym_heap_destroy(heap);
}

/* A second free of a quarantined block is refused, with both stacks. */
static void double_free_in_quarantine(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, PYM_HEAP_DEBUG);
	u64 before = stat_of(test, heap, PYM_STAT_DOUBLE_FREES);
	u8 *p;

	p = pym_heap_alloc(heap, 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	pym_free(p);
	EXPECT_REPORT("freed twice", pym_free(p));
	pym_free(p + 8);	/* interior */
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_DOUBLE_FREES),
			before + 1);
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_INTERIOR_FREES), 1);
	KUNIT_EXPECT_EQ(test, stat_of(test, heap, PYM_STAT_CORRUPTIONS), 0);
	KUNIT_EXPECT_EQ(test, pym_size(p), 0);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(heap));
	pym_heap_destroy(heap);
}

static noinline void *leak_here(struct pym_heap *heap)
{
	return pym_heap_alloc(heap, 48, GFP_KERNEL);
}

/* Live blocks are listed by allocation stack, at destruction too. */
static void leaks_by_stack(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, PYM_HEAP_DEBUG);
	void *p[4];
	int i;

	for (i = 0; i < 3; i++)
		p[i] = leak_here(heap);
	p[3] = pym_heap_alloc(heap, 200, GFP_KERNEL);
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	KUNIT_EXPECT_EQ(test, pym_debug_leaks(heap, NULL), 4);
	pym_free(p[3]);
	KUNIT_EXPECT_EQ(test, pym_debug_leaks(heap, NULL), 3);
	EXPECT_REPORT("destroyed with the live blocks above",
		      pym_heap_destroy(heap));
	for (i = 0; i < 3; i++)
		pym_free(p[i]);
}

/* Requests that do not fit a pool with the guards go to kmalloc. */
static void large_requests(struct kunit *test)
{
	struct pym_heap *heap = test_heap(test, PYM_HEAP_DEBUG);
	void *p = pym_heap_alloc(heap, PYM_SMALL_MAX - PYM_DEBUG_OVERHEAD, GFP_KERNEL);
	void *q = pym_heap_alloc(heap, PYM_SMALL_MAX - PYM_DEBUG_OVERHEAD + 1,
				 GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_NOT_NULL(test, pool_of(p));
	KUNIT_EXPECT_NULL(test, pool_of(q));
	KUNIT_EXPECT_EQ(test, pym_size(p), PYM_SMALL_MAX - PYM_DEBUG_OVERHEAD);
	pym_free(p);
	pym_free(q);
	pym_heap_destroy(heap);
}

static struct kunit_case pymalloc_debug_cases[] = {
	KUNIT_CASE(debug_blocks_are_dressed),
	KUNIT_CASE(overflow_and_underflow),
	KUNIT_CASE(write_after_free),
	KUNIT_CASE(double_free_in_quarantine),
	KUNIT_CASE(leaks_by_stack),
	KUNIT_CASE(large_requests),
	{}
};

static struct kunit_suite pymalloc_debug_suite = {
	.name = "pymalloc_debug",
	.test_cases = pymalloc_debug_cases,
};

kunit_test_suites(&pymalloc_debug_suite);
