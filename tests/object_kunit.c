// SPDX-License-Identifier: GPL-2.0
/*
 * object_kunit.c - KUnit tests of the refcounted object layer: reference
 * counting and release, free lists, registration, sizes, contexts.
 */
#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/rcupdate.h>

#include <pymalloc_object.h>

#include "kunit_util.h"

struct tobj {
	struct pym_object obj;
	struct rcu_head rcu;
	u32 payload[8];
};

static atomic_t releases;
static unsigned int release_refcount;

static void count_release(struct pym_object *obj)
{
	release_refcount = pym_obj_refcount(obj);
	atomic_inc(&releases);
}

#define TEST_TYPE(n, sz, max) {						\
	.name = n, .size = sz, .release = count_release,		\
	.freelist_max = max,						\
}

static void get_stats_default(struct kunit *test, struct pym_stats *st)
{
	KUNIT_ASSERT_EQ(test, 0, pym_heap_stats(NULL, st));
}

static void register_or_fail(struct kunit *test, struct pym_type *t)
{
	KUNIT_ASSERT_EQ(test, 0, pym_type_register(t));
}

static void get_put_release_ordering(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_order", sizeof(struct tobj), 0);
	struct pym_object *o;
	struct tobj *to;

	register_or_fail(test, &t);
	atomic_set(&releases, 0);
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	to = container_of(o, struct tobj, obj);
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(o), 1);
	KUNIT_EXPECT_TRUE(test, pym_obj_is(o, &t));
	KUNIT_EXPECT_STREQ(test, o->type->name, "kunit_order");
	KUNIT_EXPECT_NULL(test, memchr_inv(to->payload, 0, sizeof(to->payload)));
	KUNIT_EXPECT_PTR_EQ(test, pym_obj_get(o), o);
	KUNIT_EXPECT_TRUE(test, pym_obj_get_unless_zero(o));
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(o), 3);
	pym_obj_put(o);
	pym_obj_put(o);
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 0);
	pym_obj_put(o);
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 1);
	/* release() sees the object already dead. */
	KUNIT_EXPECT_EQ(test, release_refcount, 0);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
	KUNIT_EXPECT_NULL(test, t.state);
}

struct putter {
	struct pym_object **objs;
	unsigned int nobjs, puts;
	struct completion done;
};

static int putter_fn(void *arg)
{
	struct putter *p = arg;
	unsigned int i, j;

	for (i = 0; i < p->nobjs; i++)
		for (j = 0; j < p->puts; j++)
			pym_obj_put(p->objs[i]);
	complete(&p->done);
	return 0;
}

static void release_once_under_concurrent_puts(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_concurrent", 64, 16);
	unsigned int nobjs = 64, puts = 50, cpu, n = 0, i, j;
	struct pym_object **objs;
	struct putter *p;

	register_or_fail(test, &t);
	atomic_set(&releases, 0);
	objs = kunit_kcalloc(test, nobjs, sizeof(*objs), GFP_KERNEL);
	p = kunit_kcalloc(test, nr_cpu_ids, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < nobjs; i++) {
		objs[i] = pym_obj_new(&t, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		/* One reference per put that every CPU will drop. */
		for (j = 1; j < num_online_cpus() * puts; j++)
			pym_obj_get(objs[i]);
	}
	for_each_online_cpu(cpu) {
		struct task_struct *k;

		p[n] = (struct putter){ .objs = objs, .nobjs = nobjs, .puts = puts };
		init_completion(&p[n].done);
		k = kthread_create_on_cpu(putter_fn, &p[n], cpu, "pym_put/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(k));
		wake_up_process(k);
		n++;
	}
	for (i = 0; i < n; i++)
		wait_for_completion(&p[i].done);
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), nobjs);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

static void saturation_and_underflow(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_refcount", 32, 4);
	struct pym_object *o;

	register_or_fail(test, &t);
	atomic_set(&releases, 0);
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	/* Overflow saturates and warns. */
	refcount_set(&o->refcnt, INT_MAX);
	pr_info("PYM-EXPECT-REPORT-BEGIN refcount_t: saturated\n");
	pym_obj_get(o);
	pr_info("PYM-EXPECT-REPORT-END\n");
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(o), REFCOUNT_SATURATED);
	/* A saturated object leaks rather than dies: a put never releases. */
	pr_info("PYM-EXPECT-REPORT-BEGIN refcount_t: underflow\n");
	pym_obj_put(o);
	pr_info("PYM-EXPECT-REPORT-END\n");
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 0);
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(o), REFCOUNT_SATURATED);
	/* Back to one reference: it dies once; one put too many does nothing. */
	refcount_set(&o->refcnt, 1);
	pym_obj_put(o);
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 1);
	pym_obj_put(o);	/* the dead object sits on the free list: no UAF */
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 1);
	/* Taking a reference on a dead object warns and does not revive it. */
	refcount_set(&o->refcnt, 0);
	pr_info("PYM-EXPECT-REPORT-BEGIN refcount_t: addition on 0\n");
	pym_obj_get(o);
	pr_info("PYM-EXPECT-REPORT-END\n");
	KUNIT_EXPECT_NE(test, pym_obj_refcount(o), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 1);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

/*
 * A put on an object whose memory already went back to pymalloc hits the
 * refcount it died with, not the free block's mark: it warns (once per
 * boot, refcount_t's rule), and a later free of the block is still a
 * double free, refused, so the block is never handed out twice.
 */
static void stale_put_after_memory_returned(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_stale", sizeof(struct tobj), 0);
	struct pym_stats before, after;
	struct pym_object *o;
	unsigned int count;
	struct kunit *kt;
	void *a, *b;

	register_or_fail(test, &t);
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	migrate_disable();	/* the block stays in this CPU's magazine */
	pym_obj_put(o);		/* dies; no free list: memory back to pymalloc */
	KUNIT_EXPECT_EQ(test, pym_size(o), 0);
	/* A use after free: KASAN reports it, refcount_t may warn. */
	kt = pym_bad_access_begin(IS_ENABLED(CONFIG_KASAN_GENERIC) ?
				  "KASAN: slab-use-after-free" :
				  "refcount_t: underflow", true);
	pym_obj_put(o);
	count = pym_obj_refcount(o);
	pym_bad_access_end(kt);
	KUNIT_EXPECT_EQ(test, count, REFCOUNT_SATURATED);
	get_stats_default(test, &before);
	pym_free(o);
	get_stats_default(test, &after);
	KUNIT_EXPECT_EQ(test, after.v[PYM_STAT_DOUBLE_FREES],
			before.v[PYM_STAT_DOUBLE_FREES] + 1);
	a = pym_alloc(sizeof(struct tobj), GFP_KERNEL);
	b = pym_alloc(sizeof(struct tobj), GFP_KERNEL);
	migrate_enable();
	KUNIT_EXPECT_PTR_NE(test, a, b);
	pym_free(a);
	pym_free(b);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_check(NULL));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

static void freelist_reuse_bound_and_drain(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_freelist", 48, 32);
	const unsigned int nobj = 40;
	unsigned int cap, i, hits = 0;
	struct pym_stats before, after;
	struct pym_object **o, **n;

	o = kunit_kcalloc(test, nobj, sizeof(*o), GFP_KERNEL);
	n = kunit_kcalloc(test, nobj, sizeof(*n), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_ASSERT_NOT_NULL(test, n);
	register_or_fail(test, &t);
	get_stats_default(test, &before);
	migrate_disable();
	cap = this_cpu_ptr(t.state->pcpu)->c.cap;
	for (i = 0; i < nobj; i++)
		o[i] = pym_obj_new(&t, GFP_KERNEL);
	for (i = 0; i < nobj; i++)
		pym_obj_put(o[i]);
	KUNIT_EXPECT_EQ(test, this_cpu_ptr(t.state->pcpu)->c.count, cap);
	/* The first cap puts filled the list; it gives them back LIFO. */
	for (i = 0; i < cap; i++) {
		n[i] = pym_obj_new(&t, GFP_KERNEL);
		hits += n[i] == o[cap - 1 - i];
	}
	KUNIT_EXPECT_EQ(test, this_cpu_ptr(t.state->pcpu)->c.hits, cap);
	KUNIT_EXPECT_EQ(test, hits, cap);
	for (i = 0; i < cap; i++)
		pym_obj_put(n[i]);
	migrate_enable();
	KUNIT_EXPECT_LE(test, cap, 32U / num_possible_cpus() + 1);
	/* Unregistering drains every CPU's list back to the allocator. */
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
	get_stats_default(test, &after);
	KUNIT_EXPECT_EQ(test, after.v[PYM_STAT_BLOCKS_IN_USE], before.v[PYM_STAT_BLOCKS_IN_USE]);
}

/*
 * Free-list links are stored encoded, and one that a write after free
 * damaged is never followed: here it is forged to point at freed kmalloc
 * memory, which KASAN would report if read. The damaged object is still
 * served; the rest of its list is dropped, counted and reported once.
 */
static void damaged_freelist_link_never_followed(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_damage", 48, 64);
	struct pym_object *o[3], *r;
	struct pym_freelist *c;
	unsigned long *link;
	struct kunit *kt;
	void *forged;
	int i;

	register_or_fail(test, &t);
	forged = kmalloc(48, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, forged);
	kfree(forged);
	migrate_disable();
	c = &this_cpu_ptr(t.state->pcpu)->c;
	for (i = 0; i < 3; i++)
		o[i] = pym_obj_new(&t, GFP_KERNEL);
	for (i = 0; i < 3; i++)
		pym_obj_put(o[i]);
	link = (unsigned long *)o[2];
	KUNIT_EXPECT_NE(test, *link, (unsigned long)o[1]);
	KUNIT_EXPECT_PTR_EQ(test, pym_freelist_next(c, o[2]), (void *)o[1]);
	*link = (unsigned long)forged ^ pym_freelist_code(c, o[2]);
	kt = pym_bad_access_begin("on a free list was written after its last put",
				  false);
	r = pym_obj_new(&t, GFP_KERNEL);
	pym_bad_access_end(kt);
	KUNIT_EXPECT_PTR_EQ(test, r, o[2]);
	KUNIT_EXPECT_EQ(test, c->dropped, 2);
	KUNIT_EXPECT_EQ(test, c->count, 0);
	KUNIT_EXPECT_EQ(test, c->len[0], 0);
	migrate_enable();
	pym_obj_put(r);
	/* The dropped objects leak by design; hand them back by hand. */
	pym_free(o[0]);
	pym_free(o[1]);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

static void unregister_with_live_objects(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_busy", 40, 0);
	struct pym_object *o;

	register_or_fail(test, &t);
	KUNIT_EXPECT_EQ(test, -EEXIST, pym_type_register(&t));
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, -EBUSY, pym_type_unregister(&t));
	/* Still registered and usable. */
	KUNIT_EXPECT_NOT_NULL(test, t.state);
	pym_obj_put(o);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_unregister(&t));
}

static void bad_types_refused(struct kunit *test)
{
	struct pym_type small = TEST_TYPE("kunit_small", 8, 0);
	struct pym_type noname = TEST_TYPE(NULL, 64, 0);
	struct pym_type spaced = TEST_TYPE("has space", 64, 0);
	struct pym_type flags = TEST_TYPE("kunit_flags", 64, 0);
	struct pym_type a = TEST_TYPE("kunit_dup", 64, 0);
	struct pym_type b = TEST_TYPE("kunit_dup", 64, 0);
	struct pym_type pin_shared = TEST_TYPE("kunit_pin_shared", 64, 0);
	struct pym_type pin_var = TEST_TYPE("kunit_pin_var", 64, 0);
	struct pym_type pin_big = TEST_TYPE("kunit_pin_big", 600, 0);

	pin_shared.flags = PYM_TYPE_PINNED;
	pin_var.flags = PYM_TYPE_PINNED | PYM_TYPE_OWN_HEAP;
	pin_var.itemsize = 8;
	pin_big.flags = PYM_TYPE_PINNED | PYM_TYPE_OWN_HEAP;
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&pin_shared));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&pin_var));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&pin_big));
	flags.flags = BIT(7);
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&small));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&noname));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&spaced));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&flags));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(NULL));
	register_or_fail(test, &a);
	KUNIT_EXPECT_EQ(test, -EEXIST, pym_type_register(&b));
	KUNIT_EXPECT_NULL(test, pym_obj_new(&b, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&a));
}

static void every_size_class_and_large(struct kunit *test)
{
	static const size_t large[] = { 513, 600, 1024, 4096, 10000 };
	struct pym_type t = TEST_TYPE("kunit_sizes", 16, 2);
	struct pym_object *o;
	size_t size;
	unsigned int i;

	for (i = 0; i < 64 + ARRAY_SIZE(large); i++) {
		size = i < 64 ? max_t(size_t, 16, (i + 1) * 8) : large[i - 64];
		t.size = size;
		t.state = NULL;
		register_or_fail(test, &t);
		o = pym_obj_new(&t, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o);
		KUNIT_EXPECT_GE(test, pym_size(o), size);
		KUNIT_EXPECT_NULL(test, memchr_inv((char *)o + sizeof(*o), 0,
						   size - sizeof(*o)));
		memset((char *)o + sizeof(*o), 0x5a, size - sizeof(*o));
		pym_obj_put(o);
		/* Reused from the free list: zeroed again. */
		o = pym_obj_new(&t, GFP_KERNEL);
		KUNIT_EXPECT_NULL(test, memchr_inv((char *)o + sizeof(*o), 0,
						   size - sizeof(*o)));
		pym_obj_put(o);
		KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
	}
}

static void own_heap(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_own", 100, 0);
	struct pym_object *o;
	struct pym_stats st;

	t.flags = PYM_TYPE_OWN_HEAP;
	register_or_fail(test, &t);
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(t.state->heap, &st));
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BLOCKS_IN_USE], 1);
	KUNIT_EXPECT_EQ(test, st.v[PYM_STAT_BYTES_IN_USE], 104);
	pym_obj_put(o);
	KUNIT_EXPECT_FALSE(test, t.state->heap->flags & PYM_HEAP_PINNED);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

/*
 * A pinned type's heap keeps its arenas while the type is registered:
 * the memory of dead objects, once back in the pools, still serves only
 * this type after reclaim.
 */
static void pinned_type(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_pinned", 100, 0);
	struct pym_object *o;
	struct pym_stats *st;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	t.flags = PYM_TYPE_OWN_HEAP | PYM_TYPE_PINNED;
	register_or_fail(test, &t);
	KUNIT_EXPECT_TRUE(test, t.state->heap->flags & PYM_HEAP_PINNED);
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	pym_obj_put(o);
	pym_types_drain();
	pym_heaps_trim();
	KUNIT_EXPECT_EQ(test, 0, pym_heap_stats(t.state->heap, st));
	KUNIT_EXPECT_EQ(test, st->v[PYM_STAT_BLOCKS_IN_USE], 0);
	KUNIT_EXPECT_EQ(test, st->v[PYM_STAT_ARENAS_CURRENT], 1);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

static void free_after_grace_period(struct rcu_head *rcu)
{
	pym_obj_free(&container_of(rcu, struct tobj, rcu)->obj);
}

static void deferred_release(struct pym_object *obj)
{
	atomic_inc(&releases);
	call_rcu(&container_of(obj, struct tobj, obj)->rcu,
		 free_after_grace_period);
}

static void deferred_free_after_rcu(struct kunit *test)
{
	struct pym_type t = {
		.name = "kunit_rcu", .size = sizeof(struct tobj),
		.release = deferred_release, .freelist_max = 8,
		.flags = PYM_TYPE_DEFERRED_FREE,
	};
	struct pym_object *o;
	int i;

	register_or_fail(test, &t);
	atomic_set(&releases, 0);
	for (i = 0; i < 100; i++) {
		o = pym_obj_new(&t, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o);
		pym_obj_put(o);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 100);
	/* Unregistering before the callbacks ran would count them live. */
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

static void owner_module_gone_with_live_objects(struct kunit *test)
{
	static struct module fake = { .name = "kunit_fake_owner" };
	struct pym_type t = TEST_TYPE("kunit_orphan", 64, 4);
	struct pym_object *o;

	KUNIT_ASSERT_EQ(test, 0, __pym_type_register(&t, &fake));
	atomic_set(&releases, 0);
	o = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	/* What the module notifier does once the owner's exit has run. */
	pym_types_module_gone(&fake);
	KUNIT_EXPECT_TRUE(test, o->type->state->orphaned);
	KUNIT_EXPECT_NULL(test, o->type->release);
	KUNIT_EXPECT_STREQ(test, o->type->name, "kunit_orphan");
	/* The object still works; its release() is not called any more. */
	pym_obj_get(o);
	pym_obj_put(o);
	pym_obj_put(o);
	KUNIT_EXPECT_EQ(test, atomic_read(&releases), 0);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

/* Long names keep their own heaps apart; ':' is a name character. */
static void type_names(struct kunit *test)
{
	struct pym_type a = TEST_TYPE("kunit_a_very_long_type_name_001", 64, 0);
	struct pym_type b = TEST_TYPE("kunit_a_very_long_type_name_002", 64, 0);
	struct pym_type colon = TEST_TYPE("kunit:colon", 64, 0);
	struct pym_type latin = TEST_TYPE("kunit\xff", 64, 0);
	struct pym_type slash = TEST_TYPE("kunit/slash", 64, 0);

	a.flags = PYM_TYPE_OWN_HEAP;
	b.flags = PYM_TYPE_OWN_HEAP;
	register_or_fail(test, &a);
	register_or_fail(test, &b);
	KUNIT_EXPECT_PTR_NE(test, a.state->heap, b.state->heap);
	KUNIT_EXPECT_STREQ(test, a.state->heap->name,
			   "type-kunit_a_very_long_type_name_001");
	KUNIT_EXPECT_STREQ(test, b.state->heap->name,
			   "type-kunit_a_very_long_type_name_002");
	register_or_fail(test, &colon);
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&latin));
	KUNIT_EXPECT_EQ(test, -EINVAL, pym_type_register(&slash));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&a));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&b));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&colon));
}

/*
 * A module unloaded with live objects, then loaded again: it registers
 * its type anew while the orphan's objects live on, own heap included.
 */
static void reload_after_orphaning(struct kunit *test)
{
	static struct module fake = { .name = "kunit_fake_reloaded" };
	struct pym_type old = TEST_TYPE("kunit_reload", 64, 0);
	struct pym_type again = TEST_TYPE("kunit_reload", 64, 0);
	struct pym_object *o, *n;

	old.flags = PYM_TYPE_OWN_HEAP;
	again.flags = PYM_TYPE_OWN_HEAP;
	KUNIT_ASSERT_EQ(test, 0, __pym_type_register(&old, &fake));
	o = pym_obj_new(&old, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	pym_types_module_gone(&fake);
	KUNIT_ASSERT_TRUE(test, o->type->state->orphaned);
	KUNIT_ASSERT_EQ(test, 0, __pym_type_register(&again, &fake));
	KUNIT_EXPECT_STREQ(test, again.state->heap->name, "type-kunit_reload-2");
	n = pym_obj_new(&again, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_TRUE(test, pym_obj_is(n, &again));
	KUNIT_EXPECT_FALSE(test, pym_obj_is(o, &again));
	pym_obj_put(n);
	pym_obj_put(o);		/* the orphan's last object */
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&again));
	/* The next registration reaps the orphan; its name is free again. */
	again.state = NULL;
	KUNIT_ASSERT_EQ(test, 0, __pym_type_register(&again, &fake));
	KUNIT_EXPECT_STREQ(test, again.state->heap->name, "type-kunit_reload");
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&again));
}

/*
 * Variable sizes: size + n * itemsize zeroed bytes (KASAN checks every one
 * is the caller's), free lists per item count with one bound over all of
 * them, overflow and fixed-size types refused.
 */
static void variable_size_objects(struct kunit *test)
{
	struct pym_type t = TEST_TYPE("kunit_var", sizeof(struct pym_object), 0);
	struct pym_type fixed = TEST_TYPE("kunit_fixed", 48, 0);
	struct pym_object *o[PYM_FREELIST_LENGTHS + 2], *r, *r2;
	u64 len[PYM_FREELIST_LENGTHS];
	struct pym_freelist *c;
	unsigned int n, cap;
	u8 *items;

	t.itemsize = 24;
	t.freelist_max = 8 * num_possible_cpus();
	register_or_fail(test, &t);
	register_or_fail(test, &fixed);
	for (n = 0; n < ARRAY_SIZE(o); n++) {
		o[n] = pym_obj_new_var(&t, n, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o[n]);
		items = (u8 *)(o[n] + 1);
		KUNIT_EXPECT_NULL(test, memchr_inv(items, 0, n * 24));
		memset(items, 0xa5, n * 24);
	}
	migrate_disable();
	c = &this_cpu_ptr(t.state->pcpu)->c;
	cap = c->cap;
	KUNIT_EXPECT_EQ(test, cap, 8);
	/* Lengths 0..cap-1 are kept, each on its own list; the rest go back. */
	for (n = 0; n < ARRAY_SIZE(o); n++)
		pym_obj_put(o[n]);
	KUNIT_EXPECT_EQ(test, c->count, cap);
	pym_type_lengths(t.state, len);
	for (n = 0; n < PYM_FREELIST_LENGTHS; n++)
		KUNIT_EXPECT_EQ_MSG(test, len[n], n < cap, "%u items", n);
	r = pym_obj_new_var(&t, 5, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, r, o[5]);
	KUNIT_EXPECT_NULL(test, memchr_inv(r + 1, 0, 5 * 24));
	r2 = pym_obj_new_var(&t, 5, GFP_KERNEL);
	KUNIT_EXPECT_PTR_NE(test, r2, o[5]);
	KUNIT_EXPECT_EQ(test, c->hits, 1);
	pym_type_lengths(t.state, len);
	KUNIT_EXPECT_EQ(test, len[5], 0);
	KUNIT_EXPECT_EQ(test, len[4], 1);
	migrate_enable();
	pym_obj_put(r);
	if (r2)
		pym_obj_put(r2);
	/* pym_obj_new() is 0 items. */
	r = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, r);
	pym_obj_put(r);
	KUNIT_EXPECT_NULL(test, pym_obj_new_var(&t, SIZE_MAX / 24 + 1, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, pym_obj_new_var(&t, SIZE_MAX / 48, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, pym_obj_new_var(&fixed, 1, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, pym_obj_new_var(NULL, 1, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&fixed));
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&t));
}

static struct kunit_case pymalloc_object_cases[] = {
	KUNIT_CASE(get_put_release_ordering),
	KUNIT_CASE(release_once_under_concurrent_puts),
	KUNIT_CASE(saturation_and_underflow),
	KUNIT_CASE(stale_put_after_memory_returned),
	KUNIT_CASE(freelist_reuse_bound_and_drain),
	KUNIT_CASE(damaged_freelist_link_never_followed),
	KUNIT_CASE(unregister_with_live_objects),
	KUNIT_CASE(bad_types_refused),
	KUNIT_CASE(every_size_class_and_large),
	KUNIT_CASE(own_heap),
	KUNIT_CASE(pinned_type),
	KUNIT_CASE(deferred_free_after_rcu),
	KUNIT_CASE(owner_module_gone_with_live_objects),
	KUNIT_CASE(type_names),
	KUNIT_CASE(reload_after_orphaning),
	KUNIT_CASE(variable_size_objects),
	{}
};

static struct kunit_suite pymalloc_object_suite = {
	.name = "pymalloc_object",
	.test_cases = pymalloc_object_cases,
};

kunit_test_suites(&pymalloc_object_suite);
