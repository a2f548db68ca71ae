// SPDX-License-Identifier: GPL-2.0
/*
 * gc_test.c - the cycle collector (src/gc.c) in user space, under ASan and
 * UBSan: fixed graphs for each rule, then thousands of random graphs
 * checked against a brute-force reachability oracle. Nodes are malloc'ed
 * and freed by their reference counts, as pym objects are, so a node the
 * collector freed under anyone is a use after free ASan reports.
 */
#include <stdlib.h>

#include "../../../src/gc.h"
#include "test.h"

#define MAXREF		4
#define MAXNODES	64

struct node {
	struct pym_gc_head gc;
	long refcnt;
	struct node *ref[MAXREF];
	unsigned int id;
	unsigned int overreport;	/* extra visits of ref[0] */
	struct node **resurrect_into;	/* clear() stores a reference here */
};

static struct pym_gc gc;
static struct node *live[MAXNODES];	/* by id; NULL once freed */
static struct pym_gc_head *overcounted;

static struct node *node_of(struct pym_gc_head *h)
{
	return container_of(h, struct node, gc);
}

static void node_put(struct node *n)
{
	unsigned int i;

	EXPECT(n->refcnt > 0, "put of node %u at refcount %ld", n->id, n->refcnt);
	if (--n->refcnt)
		return;
	pym_gc_untrack(&gc, &n->gc);
	live[n->id] = NULL;
	for (i = 0; i < MAXREF; i++)
		if (n->ref[i])
			node_put(n->ref[i]);
	free(n);
}

static long op_refcount(struct pym_gc_head *h)
{
	return node_of(h)->refcnt;
}

static int op_traverse(struct pym_gc_head *h, pym_gc_visit_t visit, void *arg)
{
	struct node *n = node_of(h);
	unsigned int i;
	int ret;

	for (i = 0; i < MAXREF; i++) {
		if (!n->ref[i])
			continue;
		ret = visit(&n->ref[i]->gc, arg);
		if (ret)
			return ret;
	}
	for (i = 0; n->ref[0] && i < n->overreport; i++) {
		ret = visit(&n->ref[0]->gc, arg);
		if (ret)
			return ret;
	}
	return 0;
}

static void op_clear(struct pym_gc_head *h)
{
	struct node *n = node_of(h), *r;
	unsigned int i;

	for (i = 0; i < MAXREF; i++) {
		r = n->ref[i];
		n->ref[i] = NULL;
		if (r)
			node_put(r);
	}
	if (n->resurrect_into) {
		n->refcnt++;
		*n->resurrect_into = n;
		n->resurrect_into = NULL;
	}
}

static void op_get(struct pym_gc_head *h)
{
	node_of(h)->refcnt++;
}

static void op_put(struct pym_gc_head *h)
{
	node_put(node_of(h));
}

static void op_overcounted(struct pym_gc_head *h)
{
	overcounted = h;
}

static const struct pym_gc_ops ops = {
	.refcount = op_refcount,
	.traverse = op_traverse,
	.clear = op_clear,
	.get = op_get,
	.put = op_put,
	.overcounted = op_overcounted,
};

/* A node with one reference, its creator's. */
static struct node *node_new(unsigned int id)
{
	struct node *n = calloc(1, sizeof(*n));

	n->refcnt = 1;
	n->id = id;
	live[id] = n;
	pym_gc_track(&gc, &n->gc);
	return n;
}

/* from->ref[slot] = to, counted. */
static void link_nodes(struct node *from, unsigned int slot, struct node *to)
{
	from->ref[slot] = to;
	to->refcnt++;
}

static unsigned int nodes_alive(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < MAXNODES; i++)
		n += !!live[i];
	return n;
}

static void reset(void)
{
	pym_gc_init(&gc, &ops);
	memset(live, 0, sizeof(live));
	overcounted = NULL;
}

static void test_gc_cycles(void)
{
	struct node *a, *b, *c, *d;

	reset();
	/* a <-> b, and self-referencing c: garbage once their owners let go. */
	a = node_new(0);
	b = node_new(1);
	c = node_new(2);
	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	link_nodes(c, 0, c);
	node_put(a);
	node_put(b);
	node_put(c);
	EXPECT(nodes_alive() == 3, "cycles outlive their owners");
	EXPECT(pym_gc_collect_gen(&gc, 0) == 3, "both cycles found");
	EXPECT(nodes_alive() == 0, "and freed by their counts");
	EXPECT(gc.stats[0].collected == 3 && gc.stats[0].uncollectable == 0,
	       "figures");

	/* A cycle held from outside stays, intact, and moves up a generation. */
	a = node_new(0);
	b = node_new(1);
	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	node_put(b);
	EXPECT(pym_gc_collect_gen(&gc, 0) == 0, "nothing to find");
	EXPECT(live[0] && live[1] && a->ref[0] == b && b->ref[0] == a,
	       "kept, references intact");
	EXPECT(pym_gc_length(&gc, 0) == 0 && pym_gc_length(&gc, 1) == 2,
	       "promoted to generation 1");

	/* A chain into the cycle, and a node hanging off it: all garbage. */
	c = node_new(2);
	d = node_new(3);
	link_nodes(c, 0, a);
	link_nodes(b, 1, d);
	node_put(d);
	node_put(a);
	EXPECT(pym_gc_collect_gen(&gc, 1) == 0, "c still holds the cycle");
	node_put(c);	/* c dies by its count and lets go of a */
	EXPECT(nodes_alive() == 3, "a, b, d left, a cycle and what it holds");
	EXPECT(pym_gc_collect_gen(&gc, 2) == 3, "cycle and its tail found");
	EXPECT(nodes_alive() == 0, "all freed");
}

/* A clear() that stores a reference keeps its object alive, untouched. */
static void test_gc_resurrection(void)
{
	struct node *a, *b, *holder = NULL;

	reset();
	a = node_new(0);
	b = node_new(1);
	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	a->resurrect_into = &holder;
	node_put(a);
	node_put(b);
	EXPECT(pym_gc_collect_gen(&gc, 2) == 2, "both found");
	EXPECT(holder == a && live[0] == a && !live[1], "a came back, b died");
	EXPECT(a->refcnt == 1 && !a->ref[0], "a holds only the new reference");
	EXPECT(gc.stats[2].uncollectable == 1, "counted as alive after clearing");
	EXPECT(pym_gc_length(&gc, 2) == 1, "a tracked in the oldest generation");
	node_put(holder);
	EXPECT(nodes_alive() == 0 && pym_gc_length(&gc, 2) == 0, "then freed");
}

/* A traverse that reports too much: nothing is decided on wrong counts. */
static void test_gc_overreport(void)
{
	struct node *a, *b;

	reset();
	a = node_new(0);
	b = node_new(1);
	link_nodes(a, 0, b);
	link_nodes(b, 0, a);
	node_put(a);
	node_put(b);
	a->overreport = 1;
	EXPECT(pym_gc_collect_gen(&gc, 2) == -1, "refused");
	EXPECT(overcounted == &a->gc, "a's type named");
	EXPECT(live[0] && live[1] && a->ref[0] == b && b->ref[0] == a,
	       "everything kept, intact");
	a->overreport = 0;
	EXPECT(pym_gc_collect_gen(&gc, 2) == 2, "collected once traverse is right");
	EXPECT(nodes_alive() == 0, "freed");
}

static void test_gc_generations(void)
{
	struct node *n[MAXNODES];
	unsigned int i;

	reset();
	gc.threshold[0] = 10;
	gc.threshold[1] = 2;
	gc.threshold[2] = 2;
	for (i = 0; i < 10; i++)
		n[i] = node_new(i);
	EXPECT(pym_gc_due(&gc) == -1, "10 tracked: not due");
	n[10] = node_new(10);
	EXPECT(pym_gc_due(&gc) == 0, "11 tracked: generation 0 due");
	node_put(n[10]);
	EXPECT(pym_gc_due(&gc) == -1, "untracking counts down");
	n[10] = node_new(10);
	pym_gc_collect_gen(&gc, 0);
	EXPECT(gc.count[0] == 0 && gc.count[1] == 1, "counts after gen 0");
	pym_gc_collect_gen(&gc, 0);
	pym_gc_collect_gen(&gc, 0);
	EXPECT(pym_gc_due(&gc) == 1, "generation 1 due after 3 of 0");
	pym_gc_collect_gen(&gc, 1);
	EXPECT(pym_gc_length(&gc, 2) == 11 && gc.long_lived_pending == 11,
	       "promoted to generation 2, pending its first full collection");
	pym_gc_collect_gen(&gc, 1);
	pym_gc_collect_gen(&gc, 1);
	EXPECT(pym_gc_due(&gc) == 2, "pending 11 > total 0 / 4: full one due");
	pym_gc_collect_gen(&gc, 2);
	EXPECT(gc.long_lived_total == 11 && gc.long_lived_pending == 0,
	       "long-lived total after the full collection");
	gc.count[2] = 3;
	EXPECT(pym_gc_due(&gc) != 2, "nothing pending: the full one waits");

	/* Frozen objects are out of every collection's way. */
	link_nodes(n[0], 0, n[1]);
	link_nodes(n[1], 0, n[0]);
	pym_gc_freeze(&gc);
	EXPECT(pym_gc_length(&gc, PYM_GC_PERMANENT) == 11, "all frozen");
	node_put(n[0]);
	node_put(n[1]);
	EXPECT(pym_gc_collect_gen(&gc, 2) == 0 && live[0] && live[1],
	       "a frozen cycle is not collected");
	pym_gc_unfreeze(&gc);
	EXPECT(pym_gc_length(&gc, 2) == 11, "unfrozen into generation 2");
	EXPECT(pym_gc_collect_gen(&gc, 2) == 2, "then collected");
	for (i = 2; i <= 10; i++)
		node_put(n[i]);
	EXPECT(nodes_alive() == 0, "all freed");
}

/* Nodes reachable from those with an outside reference (held[]). */
static void oracle(const bool *held, bool *reach)
{
	unsigned int stack[MAXNODES * MAXREF + MAXNODES], sp = 0, i, j;

	memset(reach, 0, MAXNODES * sizeof(*reach));
	for (i = 0; i < MAXNODES; i++)
		if (held[i] && live[i] && !reach[i]) {
			reach[i] = true;
			stack[sp++] = i;
		}
	while (sp) {
		struct node *n = live[stack[--sp]];

		for (j = 0; j < MAXREF; j++) {
			struct node *r = n->ref[j];

			if (r && !reach[r->id]) {
				reach[r->id] = true;
				stack[sp++] = r->id;
			}
		}
	}
}

/* Every node alive is reachable, and every reachable one is alive, intact. */
static void expect_matches(const bool *reach, struct node *(*refs)[MAXREF],
			   const char *when)
{
	unsigned int i, j;

	for (i = 0; i < MAXNODES; i++) {
		EXPECT(!!live[i] == reach[i], "%s: node %u %s", when, i,
		       reach[i] ? "freed though reachable" : "left alive");
		for (j = 0; live[i] && j < MAXREF; j++)
			EXPECT(live[i]->ref[j] == refs[i][j],
			       "%s: node %u lost a reference", when, i);
	}
}

/*
 * Random graphs: nodes, random references, random owners letting go, a
 * young collection (which may find only part of the garbage: references
 * from older generations count as outside ones) and then a full one,
 * which must free exactly what the oracle says is unreachable.
 */
static void test_gc_random_graphs(void)
{
	static struct node *refs[MAXNODES][MAXREF];
	bool held[MAXNODES], reach[MAXNODES];
	unsigned int round, i, j, n, garbage;
	long found;

	for (round = 0; round < 3000; round++) {
		reset();
		n = 1 + rnd() % MAXNODES;
		for (i = 0; i < n; i++) {
			node_new(i);
			held[i] = true;
		}
		for (; i < MAXNODES; i++)
			held[i] = false;
		for (i = 0; i < n; i++)
			for (j = 0; j < MAXREF; j++)
				if (rnd() % 3 == 0)
					link_nodes(live[i], j, live[rnd() % n]);
		/* Some collections early, so that the graph spans generations. */
		if (rnd() % 2)
			pym_gc_collect_gen(&gc, rnd() % 2);
		for (i = 0; i < n; i++)
			if (rnd() % 3) {
				held[i] = false;
				node_put(live[i]);
			}
		oracle(held, reach);
		garbage = 0;
		for (i = 0; i < MAXNODES; i++) {
			garbage += live[i] && !reach[i];
			for (j = 0; j < MAXREF; j++)
				refs[i][j] = live[i] ? live[i]->ref[j] : NULL;
		}
		found = pym_gc_collect_gen(&gc, 0);
		EXPECT(found >= 0 && (unsigned int)found <= garbage,
		       "round %u: young collection found %ld of %u", round,
		       found, garbage);
		for (i = 0; i < MAXNODES; i++)
			EXPECT(!reach[i] || live[i], "round %u: node %u freed", round, i);
		for (i = 0; i < MAXNODES; i++)
			for (j = 0; live[i] && j < MAXREF; j++)
				refs[i][j] = live[i]->ref[j];
		garbage = 0;
		for (i = 0; i < MAXNODES; i++)
			garbage += live[i] && !reach[i];
		found = pym_gc_collect_gen(&gc, 2);
		EXPECT(found == garbage, "round %u: full collection found %ld of %u",
		       round, found, garbage);
		expect_matches(reach, refs, "after a full collection");
		for (i = 0; i < MAXNODES; i++)
			if (held[i])
				node_put(live[i]);
		EXPECT(pym_gc_collect_gen(&gc, 2) >= 0 && nodes_alive() == 0,
		       "round %u: everything freed at the end", round);
		if (test_failed)
			return;
	}
}

const struct test gc_tests[] = {
	{ "gc_cycles", test_gc_cycles },
	{ "gc_resurrection", test_gc_resurrection },
	{ "gc_overreport", test_gc_overreport },
	{ "gc_generations", test_gc_generations },
	{ "gc_random_graphs", test_gc_random_graphs },
};

const unsigned int gc_ntests = ARRAY_SIZE(gc_tests);
