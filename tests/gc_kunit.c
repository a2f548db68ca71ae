// SPDX-License-Identifier: GPL-2.0
/*
 * gc_kunit.c - KUnit tests of the cycle collector on pym objects (suite
 * pymalloc_gc): cycles, self-cycles, cycles held from outside, chains and
 * tails, a release() that makes garbage reachable again, an over-reporting
 * traverse, automatic collections, and mutator kthreads changing edges
 * under pym_gc_lock() while collections run, under KASAN and lockdep.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/timer.h>

#include <pymalloc_object.h>

#include "../src/internal.h"
#include "../src/pym_trace.h"

#define NREFS	3

struct gnode {
	struct pym_object ob;
	struct pym_object *ref[NREFS];
	unsigned int overreport;		/* extra visits of ref[0] */
	struct pym_object *resurrect;		/* release() keeps this */
};

static atomic_t gnode_releases;
static struct pym_object *holder;

static struct gnode *gn(struct pym_object *obj)
{
	return container_of(obj, struct gnode, ob);
}

static int gnode_traverse(struct pym_object *obj, pym_visit_t visit, void *arg)
{
	struct gnode *n = gn(obj);
	unsigned int i;
	int ret;

	for (i = 0; i < NREFS; i++) {
		if (!n->ref[i])
			continue;
		ret = visit(n->ref[i], arg);
		if (ret)
			return ret;
	}
	for (i = 0; n->ref[0] && i < n->overreport; i++) {
		ret = visit(n->ref[0], arg);
		if (ret)
			return ret;
	}
	return 0;
}

static void gnode_clear(struct pym_object *obj)
{
	struct gnode *n = gn(obj);
	struct pym_object *r;
	unsigned int i;

	for (i = 0; i < NREFS; i++) {
		r = n->ref[i];
		n->ref[i] = NULL;
		if (r)
			pym_obj_put(r);
	}
}

/* Death by reference count drops the references too, then may resurrect. */
static void gnode_release(struct pym_object *obj)
{
	struct gnode *n = gn(obj);

	atomic_inc(&gnode_releases);
	gnode_clear(obj);
	if (n->resurrect)
		holder = pym_obj_get(n->resurrect);
}

/* What the collector cleared, in order; release() does not count. */
static struct pym_object *cleared[8];
static unsigned int ncleared;

static void gnode_clear_by_collector(struct pym_object *obj)
{
	if (ncleared < ARRAY_SIZE(cleared))
		cleared[ncleared++] = obj;
	gnode_clear(obj);
}

static struct pym_type gnode_type = {
	.name = "kunit_gnode",
	.size = sizeof(struct gnode),
	.release = gnode_release,
	.traverse = gnode_traverse,
	.clear = gnode_clear_by_collector,
};

static int gc_init(struct kunit *test)
{
	/* Leftovers of earlier tests, so that counts start from nothing. */
	KUNIT_ASSERT_GE(test, pym_gc_collect(2), 0);
	atomic_set(&gnode_releases, 0);
	holder = NULL;
	ncleared = 0;
	return pym_type_register(&gnode_type);
}

static void gc_exit(struct kunit *test)
{
	pym_gc_collect(2);
	KUNIT_EXPECT_EQ(test, 0, pym_type_unregister(&gnode_type));
}

static struct pym_object *node(struct kunit *test)
{
	struct pym_object *o = pym_obj_new(&gnode_type, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, o);
	return o;
}

/* from->ref[slot] = to, a counted reference, made under the GC lock. */
static void link_nodes(struct pym_object *from, unsigned int slot,
		       struct pym_object *to)
{
	pym_gc_lock();
	gn(from)->ref[slot] = pym_obj_get(to);
	pym_gc_unlock();
}

static void cycles_are_collected(struct kunit *test)
{
	struct pym_object *a = node(test), *b = node(test), *c = node(test);
	u64 tracked = pym_collector_tracked();

	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	link_nodes(c, 0, c);
	pym_obj_put(a);
	pym_obj_put(b);
	pym_obj_put(c);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 0);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(0), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 3);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked - 3);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 0);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(3), -EINVAL);
}

/* What the object and collector events carried. */
struct seen {
	unsigned int releases, collections;
	long collected;
	u64 uncollectable;
	unsigned int generation;
	size_t size;
	const struct pym_object *ours[3];
	bool stranger;
};

static void on_release(void *data, const struct pym_object *obj,
		       const char *type, size_t size)
{
	struct seen *s = data;

	/* Other objects may die meanwhile: count only this type's. */
	if (strcmp(type, gnode_type.name))
		return;
	s->releases++;
	s->size = size;
	s->stranger |= obj != s->ours[0] && obj != s->ours[1] &&
		       obj != s->ours[2];
}

static void on_collect(void *data, unsigned int generation, long collected,
		       u64 uncollectable, u64 ns)
{
	struct seen *s = data;

	s->collections++;
	s->generation = generation;
	s->collected = collected;
	s->uncollectable = uncollectable;
}

static void events_of_a_collection(struct kunit *test)
{
	struct pym_object *a = node(test), *b = node(test), *c = node(test);
	struct seen s = { .ours = { a, b, c } };

	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		kunit_skip(test, "a kernel without tracepoints");
	KUNIT_ASSERT_EQ(test, 0, register_trace_pym_obj_release(on_release, &s));
	KUNIT_ASSERT_EQ(test, 0, register_trace_pym_gc_collect(on_collect, &s));
	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	pym_obj_put(a);
	pym_obj_put(b);
	pym_obj_put(c);
	KUNIT_EXPECT_EQ(test, s.releases, 1);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(1), 2);
	unregister_trace_pym_gc_collect(on_collect, &s);
	unregister_trace_pym_obj_release(on_release, &s);
	tracepoint_synchronize_unregister();
	KUNIT_EXPECT_EQ(test, s.releases, 3);
	KUNIT_EXPECT_EQ(test, s.size, sizeof(struct gnode));
	KUNIT_EXPECT_FALSE(test, s.stranger);
	KUNIT_EXPECT_EQ(test, s.collections, 1);
	KUNIT_EXPECT_EQ(test, s.generation, 1);
	KUNIT_EXPECT_EQ(test, s.collected, 2);
	KUNIT_EXPECT_EQ(test, s.uncollectable, 0);
}

static void held_cycles_stay_intact(struct kunit *test)
{
	struct pym_object *a = node(test), *b = node(test), *c = node(test);
	struct pym_object *d = node(test);

	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	link_nodes(b, 1, c);
	pym_obj_put(b);
	pym_obj_put(c);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 0);
	KUNIT_EXPECT_PTR_EQ(test, gn(a)->ref[0], b);
	KUNIT_EXPECT_PTR_EQ(test, gn(b)->ref[0], a);
	KUNIT_EXPECT_PTR_EQ(test, gn(b)->ref[1], c);
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(a), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 0);
	/* d chains into the cycle: it holds it while d lives. */
	link_nodes(d, 0, a);
	pym_obj_put(a);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 0);
	pym_obj_put(d);		/* d dies by its count, the cycle and c remain */
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 1);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 4);
}

/*
 * a's release() takes a reference to b while the collector clears them:
 * b must stay alive and whole, tracked, until that reference goes.
 */
static void release_makes_garbage_reachable(struct kunit *test)
{
	struct pym_object *a = node(test), *b = node(test);
	u64 tracked = pym_collector_tracked();

	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	gn(a)->resurrect = b;
	pym_obj_put(a);
	pym_obj_put(b);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 2);
	KUNIT_ASSERT_PTR_EQ(test, holder, b);
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(b), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 1);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked - 1);
	pym_obj_put(holder);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 2);
}

static void overreporting_traverse_keeps_everything(struct kunit *test)
{
	struct pym_object *a = node(test), *b = node(test);

	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	pym_obj_put(a);
	pym_obj_put(b);
	gn(a)->overreport = 1;
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), -EUCLEAN);
	KUNIT_EXPECT_PTR_EQ(test, gn(a)->ref[0], b);
	KUNIT_EXPECT_PTR_EQ(test, gn(b)->ref[0], a);
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(a), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 0);
	gn(a)->overreport = 0;
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 2);
}

/*
 * The unreachable are cleared once each, in the order they were tracked,
 * as CPython clears in list order, and all of them before any is freed:
 * the collector's pins keep them alive until every clear() ran.
 */
static void clear_order(struct kunit *test)
{
	struct pym_object *a = node(test), *b = node(test), *c = node(test);

	link_nodes(a, 0, b);
	link_nodes(b, 0, c);
	link_nodes(c, 0, a);
	pym_obj_put(a);
	pym_obj_put(b);
	pym_obj_put(c);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 3);
	KUNIT_ASSERT_EQ(test, ncleared, 3);
	KUNIT_EXPECT_PTR_EQ(test, cleared[0], a);
	KUNIT_EXPECT_PTR_EQ(test, cleared[1], b);
	KUNIT_EXPECT_PTR_EQ(test, cleared[2], c);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 3);
}

/*
 * Survivors move up a generation per collection of theirs; a collection
 * of generation g counts one for g + 1; the oldest keeps its own.
 */
static void survivors_are_promoted(struct kunit *test)
{
	struct pym_object *o[3] = { node(test), node(test), node(test) };
	u64 len[PYM_GC_GENERATIONS];
	long count[PYM_GC_GENERATIONS];
	unsigned int g, i;

	for (g = 0; g < PYM_GC_GENERATIONS; g++)
		len[g] = pym_collector_generation(g, &count[g]);
	KUNIT_EXPECT_EQ(test, len[0], 3);
	KUNIT_EXPECT_EQ(test, count[0], 3);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(0), 0);
	KUNIT_EXPECT_EQ(test, pym_collector_generation(0, &count[0]), 0);
	KUNIT_EXPECT_EQ(test, count[0], 0);
	KUNIT_EXPECT_EQ(test, pym_collector_generation(1, &count[1]), len[1] + 3);
	KUNIT_EXPECT_EQ(test, count[1], 1);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(1), 0);
	KUNIT_EXPECT_EQ(test, pym_collector_generation(1, &count[1]), 0);
	KUNIT_EXPECT_EQ(test, count[1], 0);
	KUNIT_EXPECT_EQ(test, pym_collector_generation(2, &count[2]), len[2] + 3);
	KUNIT_EXPECT_EQ(test, count[2], 1);
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 0);
	KUNIT_EXPECT_EQ(test, pym_collector_generation(2, NULL), len[2] + 3);
	for (i = 0; i < 3; i++)
		pym_obj_put(o[i]);
	KUNIT_EXPECT_EQ(test, pym_collector_generation(2, NULL), len[2]);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 3);
}

/*
 * A container type whose module is gone keeps no traverse() or clear():
 * its cycles are never cleared, only kept, until their counts drop.
 */
static void orphaned_cycles_are_kept(struct kunit *test)
{
	static struct module fake = { .name = "kunit_gc_owner" };
	struct pym_type t = gnode_type;
	u64 tracked = pym_collector_tracked();
	struct pym_object *a, *b, *ra, *rb;

	t.name = "kunit_gc_orphan";
	t.state = NULL;
	KUNIT_ASSERT_EQ(test, 0, __pym_type_register(&t, &fake));
	a = pym_obj_new(&t, GFP_KERNEL);
	b = pym_obj_new(&t, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	pym_types_module_gone(&fake);
	KUNIT_EXPECT_NULL(test, a->type->traverse);
	KUNIT_EXPECT_NULL(test, a->type->clear);
	pym_obj_put(b);
	/* a is held from here: the collection keeps both, untouched. */
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 0);
	pym_obj_put(a);
	/*
	 * Now garbage, but with no traverse() their references to each
	 * other count as outside ones: kept, untouched.
	 */
	KUNIT_EXPECT_EQ(test, pym_gc_collect(2), 0);
	KUNIT_EXPECT_PTR_EQ(test, gn(a)->ref[0], b);
	KUNIT_EXPECT_PTR_EQ(test, gn(b)->ref[0], a);
	KUNIT_EXPECT_EQ(test, pym_obj_refcount(a), 1);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked + 2);
	/*
	 * Break the cycle by hand, as the gone module's code would have; no
	 * release() runs for an orphan, so both references go here.
	 */
	pym_gc_lock();
	ra = gn(a)->ref[0];
	gn(a)->ref[0] = NULL;
	rb = gn(b)->ref[0];
	gn(b)->ref[0] = NULL;
	pym_gc_unlock();
	pym_obj_put(ra);
	pym_obj_put(rb);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 0);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked);
}

/* Past generation 0's threshold a collection runs by itself, elsewhere. */
static void automatic_collection(struct kunit *test)
{
	u64 tracked = pym_collector_tracked();
	unsigned int i, waited;

	for (i = 0; i < 400; i++) {
		struct pym_object *a = node(test), *b = node(test);

		link_nodes(a, 0, b);
		link_nodes(b, 0, a);
		pym_obj_put(a);
		pym_obj_put(b);
	}
	for (waited = 0; waited < 20000; waited += 20) {
		if (atomic_read(&gnode_releases) >= 700)
			break;
		msleep(20);
	}
	KUNIT_EXPECT_GE(test, atomic_read(&gnode_releases), 700);
	KUNIT_EXPECT_GE(test, pym_gc_collect(2), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), 800);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked);
}

#define MUTATOR_NODES	32

struct mutator {
	struct completion done;
	atomic_t *stop;
	unsigned long rounds;
};

/*
 * Outside references to a few nodes; edges made, followed and dropped
 * under the lock; outside references dropped and taken again from edges.
 */
static int mutator_fn(void *arg)
{
	struct mutator *m = arg;
	struct pym_object *own[MUTATOR_NODES] = { };
	unsigned int i, j;

	while (!atomic_read(m->stop)) {
		for (i = 0; i < MUTATOR_NODES; i++)
			if (!own[i])
				own[i] = pym_obj_new(&gnode_type, GFP_KERNEL);
		pym_gc_lock();
		for (i = 0; i < MUTATOR_NODES; i++) {
			struct gnode *n = own[i] ? gn(own[i]) : NULL;
			struct pym_object *old;

			j = get_random_u32_below(NREFS);
			if (!n)
				continue;
			old = n->ref[j];
			n->ref[j] = own[get_random_u32_below(MUTATOR_NODES)];
			if (n->ref[j])
				pym_obj_get(n->ref[j]);
			if (old)
				pym_obj_put(old);
		}
		/* Follow an edge to a new outside reference, let the old go. */
		for (i = 0; i < MUTATOR_NODES; i++) {
			struct pym_object *next;

			if (!own[i] || get_random_u32_below(2))
				continue;
			next = gn(own[i])->ref[get_random_u32_below(NREFS)];
			if (next)
				pym_obj_get(next);
			pym_obj_put(own[i]);
			own[i] = next;
		}
		pym_gc_unlock();
		for (i = 0; i < MUTATOR_NODES; i++)
			if (own[i] && get_random_u32_below(4) == 0) {
				pym_obj_put(own[i]);
				own[i] = NULL;
			}
		m->rounds++;
		cond_resched();
	}
	for (i = 0; i < MUTATOR_NODES; i++)
		if (own[i])
			pym_obj_put(own[i]);
	complete(&m->done);
	return 0;
}

static void mutators_race_collections(struct kunit *test)
{
	unsigned int nr = min(num_online_cpus(), 4U), i, collections = 0;
	u64 tracked = pym_collector_tracked();
	struct task_struct *t;
	struct mutator *m;
	atomic_t stop;

	m = kunit_kcalloc(test, nr, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	atomic_set(&stop, 0);
	for (i = 0; i < nr; i++) {
		init_completion(&m[i].done);
		m[i].stop = &stop;
		t = kthread_run(mutator_fn, &m[i], "pym_mutator/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	while (collections < 200) {
		KUNIT_EXPECT_GE(test, pym_gc_collect(collections % 3), 0);
		collections++;
		usleep_range(100, 200);
	}
	atomic_set(&stop, 1);
	for (i = 0; i < nr; i++)
		wait_for_completion(&m[i].done);
	KUNIT_EXPECT_GE(test, pym_gc_collect(2), 0);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked);
	for (i = 0; i < nr; i++)
		kunit_info(test, "mutator %u: %lu rounds", i, m[i].rounds);
}

/*
 * A chain of containers, each holding the next: its head's last put nests
 * one release per node, far past any kernel stack, unless the trashcan
 * defers the deep ones. Returns the head.
 */
static struct pym_object *chain(struct kunit *test, unsigned int n)
{
	struct pym_object *head = node(test), *next;

	while (--n) {
		next = node(test);
		pym_gc_lock();
		gn(next)->ref[0] = head;	/* our reference moves in */
		pym_gc_unlock();
		head = next;
	}
	return head;
}

#define CHAIN_NODES	50000

static void long_chains_never_overflow_the_stack(struct kunit *test)
{
	u64 deposited = pym_trash_deposited();
	u64 tracked = pym_collector_tracked();
	struct pym_object *head = chain(test, CHAIN_NODES);

	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked + CHAIN_NODES);
	/*
	 * The 50,000 new objects make an automatic collection due, and a
	 * collection pins what it examines: a pinned node would stop the
	 * chain of releases until the collection ends. Holding the lock
	 * keeps collections out (and waits for one under way).
	 */
	pym_gc_lock();
	pym_obj_put(head);
	pym_trash_flush();
	pym_gc_unlock();
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), CHAIN_NODES);
	KUNIT_EXPECT_EQ(test, pym_collector_tracked(), tracked);
	/* Half a stack holds hundreds of levels, not tens of thousands. */
	KUNIT_EXPECT_GT(test, pym_trash_deposited() - deposited, 10);
	KUNIT_EXPECT_LT(test, pym_trash_deposited() - deposited, CHAIN_NODES);
}

struct chain_timer {
	struct timer_list timer;
	struct pym_object *head;
	struct completion done;
};

static void put_chain_from_timer(struct timer_list *t)
{
	struct chain_timer *ct = from_timer(ct, t, timer);

	pym_obj_put(ct->head);
	complete(&ct->done);
}

/*
 * The same from a timer, in softirq context, which runs on an interrupt
 * stack of its own on x86-64: nesting is counted per CPU there.
 */
static void long_chains_put_from_softirq(struct kunit *test)
{
	struct chain_timer ct = { .head = chain(test, CHAIN_NODES / 10) };
	u64 deposited = pym_trash_deposited();

	init_completion(&ct.done);
	timer_setup_on_stack(&ct.timer, put_chain_from_timer, 0);
	/* No collection pins a node meanwhile, as above. */
	pym_gc_lock();
	mod_timer(&ct.timer, jiffies + 1);
	wait_for_completion(&ct.done);
	del_timer_sync(&ct.timer);
	destroy_timer_on_stack(&ct.timer);
	pym_trash_flush();
	pym_gc_unlock();
	KUNIT_EXPECT_EQ(test, atomic_read(&gnode_releases), CHAIN_NODES / 10);
	KUNIT_EXPECT_GT(test, pym_trash_deposited() - deposited, 0);
}

static struct kunit_case pymalloc_gc_cases[] = {
	KUNIT_CASE(cycles_are_collected),
	KUNIT_CASE(events_of_a_collection),
	KUNIT_CASE(held_cycles_stay_intact),
	KUNIT_CASE(release_makes_garbage_reachable),
	KUNIT_CASE(overreporting_traverse_keeps_everything),
	KUNIT_CASE(clear_order),
	KUNIT_CASE(survivors_are_promoted),
	KUNIT_CASE(orphaned_cycles_are_kept),
	KUNIT_CASE_SLOW(long_chains_never_overflow_the_stack),
	KUNIT_CASE_SLOW(long_chains_put_from_softirq),
	KUNIT_CASE_SLOW(automatic_collection),
	KUNIT_CASE_SLOW(mutators_race_collections),
	{}
};

static struct kunit_suite pymalloc_gc_suite = {
	.name = "pymalloc_gc",
	.init = gc_init,
	.exit = gc_exit,
	.test_cases = pymalloc_gc_cases,
};

kunit_test_suites(&pymalloc_gc_suite);
