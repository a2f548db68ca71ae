// SPDX-License-Identifier: GPL-2.0
/*
 * gc.c - CPython's generational cycle collector (Modules/gcmodule.c of
 * 3.12/3.13, not 3.14's reverted incremental one), over struct pym_gc_head.
 *
 * A collection of generation n takes generations 0..n together and
 *  1. copies every object's reference count to refs (update_refs());
 *  2. subtracts the references the objects of the set hold to each other
 *     (subtract_refs()): what is left in refs is held from outside;
 *  3. keeps what is held from outside and everything it reaches, and moves
 *     the rest to an unreachable list (move_unreachable());
 *  4. promotes the survivors to generation n + 1;
 *  5. clears each unreachable object, holding a reference to it meanwhile,
 *     so that the reference counts free the cycles (delete_garbage()).
 *
 * The collector frees nothing itself, so an object whose clearing made
 * another reachable again (a release() that stores a reference) is never
 * freed under anyone: it is merely left alive, and moves to the oldest
 * generation like any survivor. A traverse that reports more references
 * than an object's count holds (refs below zero after step 2) is a bug of
 * its type: the collection then keeps every object of the set alive and
 * names the type through ops->overcounted(), since no decision made with
 * wrong counts can be trusted.
 */
#include "gc.h"

/* Append every entry of from to the tail of to; from ends empty. */
static void gc_list_splice(struct pym_link *from, struct pym_link *to)
{
	if (pym_link_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	pym_link_init(from);
}

static inline struct pym_gc_head *head_of(struct pym_link *l)
{
	return container_of(l, struct pym_gc_head, link);
}

void pym_gc_init(struct pym_gc *gc, const struct pym_gc_ops *ops)
{
	unsigned int g;

	memset(gc, 0, sizeof(*gc));
	for (g = 0; g <= PYM_GC_PERMANENT; g++)
		pym_link_init(&gc->gen[g]);
	gc->threshold[0] = 700;
	gc->threshold[1] = 10;
	gc->threshold[2] = 10;
	gc->ops = ops;
}

void pym_gc_track(struct pym_gc *gc, struct pym_gc_head *h)
{
	h->flags = 0;
	pym_link_add_tail(&gc->gen[0], &h->link);
	gc->count[0]++;
}

/*
 * h dies; it may sit in any generation, or in a running collection's
 * unreachable list, from which clearing an object freed it.
 */
void pym_gc_untrack(struct pym_gc *gc, struct pym_gc_head *h)
{
	pym_link_del(&h->link);
	if (gc->count[0] > 0)
		gc->count[0]--;
}

/* The oldest generation a collection is due for now, or -1. */
int pym_gc_due(const struct pym_gc *gc)
{
	int g;

	for (g = PYM_GC_GENERATIONS - 1; g >= 0; g--) {
		if (gc->count[g] <= gc->threshold[g] || !gc->threshold[g])
			continue;
		/*
		 * A full collection waits until the objects awaiting their
		 * first one exceed a quarter of those that survived the
		 * last: otherwise a growing heap of long-lived objects
		 * makes every full collection walk all of them.
		 */
		if (g == PYM_GC_GENERATIONS - 1 &&
		    gc->long_lived_pending < gc->long_lived_total / 4)
			continue;
		return g;
	}
	return -1;
}

static void update_refs(struct pym_gc *gc, struct pym_link *young)
{
	struct pym_link *l;

	for (l = young->next; l != young; l = l->next) {
		struct pym_gc_head *h = head_of(l);

		h->refs = gc->ops->refcount(h);
		h->flags = PYM_GC_COLLECTING;
	}
}

struct subtract_ctx {
	struct pym_gc_head *from;
	struct pym_gc_head *overcounted;	/* the first traverse that did */
};

static int visit_decref(struct pym_gc_head *ref, void *arg)
{
	struct subtract_ctx *sc = arg;

	if (!ref || !(ref->flags & PYM_GC_COLLECTING))
		return 0;
	if (--ref->refs < 0 && !sc->overcounted)
		sc->overcounted = sc->from;
	return 0;
}

/* NULL, or an object whose traverse reported too many references. */
static struct pym_gc_head *subtract_refs(struct pym_gc *gc,
					 struct pym_link *young)
{
	struct subtract_ctx sc = { };
	struct pym_link *l;

	for (l = young->next; l != young; l = l->next) {
		sc.from = head_of(l);
		gc->ops->traverse(sc.from, visit_decref, &sc);
	}
	return sc.overcounted;
}

struct reach_ctx {
	struct pym_link *young;
};

/*
 * ref is reachable: one with refs 0 either lies ahead in young, not yet
 * scanned, or was moved to unreachable for now; either way it gets refs
 * 1 and a place at young's tail, where the scan will reach it.
 */
static int visit_reachable(struct pym_gc_head *ref, void *arg)
{
	struct reach_ctx *rc = arg;

	if (!ref || !(ref->flags & PYM_GC_COLLECTING) || ref->refs > 0)
		return 0;
	ref->refs = 1;
	if (ref->flags & PYM_GC_UNREACHABLE) {
		ref->flags &= ~PYM_GC_UNREACHABLE;
		pym_link_move_tail(rc->young, &ref->link);
	}
	return 0;
}

/*
 * Split young: what refs says is held from outside, and all it reaches,
 * stays; the rest moves to unreachable. One pass: an object moved out
 * early comes back when a later one turns out to reach it.
 */
static void move_unreachable(struct pym_gc *gc, struct pym_link *young,
			     struct pym_link *unreachable)
{
	struct reach_ctx rc = { .young = young };
	struct pym_link *l = young->next;

	while (l != young) {
		struct pym_gc_head *h = head_of(l);
		struct pym_link *next = l->next;

		if (h->refs > 0) {
			gc->ops->traverse(h, visit_reachable, &rc);
			/* What the traverse appended lies after l: read next again. */
			next = l->next;
		} else {
			h->flags |= PYM_GC_UNREACHABLE;
			pym_link_move_tail(unreachable, l);
		}
		l = next;
	}
}

static u64 gc_list_length(const struct pym_link *head)
{
	const struct pym_link *l;
	u64 n = 0;

	for (l = head->next; l != head; l = l->next)
		n++;
	return n;
}

static void clear_flags(struct pym_link *head)
{
	struct pym_link *l;

	for (l = head->next; l != head; l = l->next)
		head_of(l)->flags = 0;
}

/*
 * Clear each unreachable object while holding a reference to it. The
 * puts free what nothing else holds, which untracks it from this list;
 * what is still at the front afterwards is alive, and goes to old.
 * Returns how many stayed alive.
 */
static u64 delete_garbage(struct pym_gc *gc, struct pym_link *unreachable,
			  struct pym_link *old)
{
	u64 alive = 0;

	while (!pym_link_empty(unreachable)) {
		struct pym_gc_head *h = head_of(unreachable->next);

		h->flags = 0;
		gc->ops->get(h);
		gc->ops->clear(h);
		gc->ops->put(h);
		if (unreachable->next == &h->link) {
			pym_link_move_tail(old, &h->link);
			alive++;
		}
	}
	return alive;
}

/*
 * Start a collection of generations 0..generation: move their objects to
 * the list young, which the caller owns until pym_gc_find() is done, and
 * count the collection. Returns the generation the survivors go to.
 */
unsigned int pym_gc_begin(struct pym_gc *gc, unsigned int generation,
			  struct pym_link *young)
{
	unsigned int g, older = generation + 1 < PYM_GC_GENERATIONS ?
				generation + 1 : generation;

	pym_link_init(young);
	for (g = 0; g <= generation; g++) {
		gc_list_splice(&gc->gen[g], young);
		gc->count[g] = 0;
	}
	if (older != generation)
		gc->count[older]++;
	gc->stats[generation].collections++;
	return older;
}

/*
 * Split young into what is reachable from outside it, which stays, and
 * the rest, moved to unreachable. Every object of young must stay alive
 * and in young meanwhile, and no reference between tracked objects may
 * change. Returns how many were unreachable, *survived how many stayed,
 * or -1 when a traverse over-reported: then nothing moved and
 * ops->overcounted() was told. Only the lists given and the statistics
 * change, so the owner may track and untrack other objects meanwhile.
 */
long pym_gc_find(struct pym_gc *gc, unsigned int generation,
		 struct pym_link *young, struct pym_link *unreachable,
		 u64 *survived)
{
	struct pym_gc_head *bad;
	u64 found;

	pym_link_init(unreachable);
	update_refs(gc, young);
	bad = subtract_refs(gc, young);
	if (bad) {
		gc->ops->overcounted(bad);
		clear_flags(young);
		return -1;
	}
	move_unreachable(gc, young, unreachable);
	clear_flags(young);
	found = gc_list_length(unreachable);
	*survived = gc_list_length(young);
	gc->stats[generation].collected += found;
	gc->stats[generation].survived += *survived;
	return (long)found;
}

/*
 * After the survivors moved up: count those that reached the oldest
 * generation, or after a full collection all it holds, for pym_gc_due().
 */
void pym_gc_finish(struct pym_gc *gc, unsigned int generation, u64 survived)
{
	if (generation == PYM_GC_GENERATIONS - 2) {
		gc->long_lived_pending += survived;
	} else if (generation == PYM_GC_GENERATIONS - 1) {
		gc->long_lived_total = gc_list_length(&gc->gen[generation]);
		gc->long_lived_pending = 0;
	}
}

/*
 * A whole collection, for an owner that runs alone (user space): returns
 * how many objects were found unreachable, or -1 as pym_gc_find().
 */
long pym_gc_collect_gen(struct pym_gc *gc, unsigned int generation)
{
	struct pym_link young, unreachable;
	unsigned int older = pym_gc_begin(gc, generation, &young);
	u64 survived;
	long found = pym_gc_find(gc, generation, &young, &unreachable,
				 &survived);

	if (found < 0) {
		gc_list_splice(&young, &gc->gen[generation]);
		return found;
	}
	gc_list_splice(&young, &gc->gen[older]);
	gc->stats[generation].uncollectable +=
		delete_garbage(gc, &unreachable, &gc->gen[older]);
	pym_gc_finish(gc, generation, survived);
	return found;
}

/* CPython's gc.freeze(): every tracked object out of the collector's way. */
void pym_gc_freeze(struct pym_gc *gc)
{
	unsigned int g;

	for (g = 0; g < PYM_GC_GENERATIONS; g++) {
		gc_list_splice(&gc->gen[g], &gc->gen[PYM_GC_PERMANENT]);
		gc->count[g] = 0;
	}
}

/* Frozen objects back, into the oldest generation, as CPython does. */
void pym_gc_unfreeze(struct pym_gc *gc)
{
	gc_list_splice(&gc->gen[PYM_GC_PERMANENT],
		       &gc->gen[PYM_GC_GENERATIONS - 1]);
}

/* Objects in a generation, or PYM_GC_PERMANENT; walks it. */
u64 pym_gc_length(const struct pym_gc *gc, unsigned int list)
{
	return gc_list_length(&gc->gen[list]);
}
