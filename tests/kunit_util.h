/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kunit_util.h - helpers the pymalloc KUnit suites share.
 */
#ifndef _PYM_KUNIT_UTIL_H
#define _PYM_KUNIT_UTIL_H

#include <kunit/test.h>

#include "../src/internal.h"

/*
 * A heap named after the test. PYM_HEAP_NOCACHE where a test inspects the
 * core's exact state; with magazines elsewhere, so they get exercised too.
 */
static inline struct pym_heap *test_heap(struct kunit *test,
					 unsigned int flags)
{
	char name[PYM_HEAP_NAME_MAX];
	struct pym_heap *heap;

	snprintf(name, sizeof(name), "kunit-%.20s", test->name);
	heap = pym_heap_create(name, flags);
	KUNIT_ASSERT_FALSE(test, IS_ERR(heap));
	return heap;
}

/*
 * A window in which the test acts as a buggy caller. The console reports
 * it provokes (a refcount_t warning, KASAN's report of a bad access) are
 * announced to the judge (scripts/judge.py), which then requires report
 * to show up, or with allow only tolerates it; and a KASAN report does not
 * fail the KUnit test, which checks what happened once the window closes.
 * No KUNIT_EXPECT inside.
 */
static inline struct kunit *pym_bad_access_begin(const char *report,
						 bool allow)
{
	struct kunit *test = current->kunit_test;

	pr_info("PYM-%s-REPORT-BEGIN %s\n", allow ? "ALLOW" : "EXPECT", report);
	current->kunit_test = NULL;
	return test;
}

static inline void pym_bad_access_end(struct kunit *test)
{
	current->kunit_test = test;
	pr_info("PYM-EXPECT-REPORT-END\n");
}

/* The pool descriptor of a pymalloc block, or NULL for other memory. */
static inline struct pym_pool *pool_of(const void *p)
{
	struct pym_arena *a;

	rcu_read_lock();
	a = pym_arena_lookup(p);
	rcu_read_unlock();
	return a ? pym_pool_of(a, p) : NULL;
}

#endif /* _PYM_KUNIT_UTIL_H */
