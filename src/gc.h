/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gc.h - CPython's cycle collector over the tracked objects of a graph:
 * generations, and the mark-sweep that finds garbage reference counts
 * alone never free (objects that refer to each other in a cycle).
 *
 * Portable like core.h. The collector knows an object only by its header,
 * struct pym_gc_head, and asks its owner, through struct pym_gc_ops, for
 * an object's reference count, its references (traverse) and to drop them
 * (clear). It never frees memory: clearing the unreachable objects lets
 * their reference counts reach zero, and their owner frees them and
 * untracks them (pym_gc_untrack()) as it frees any object. Not locked:
 * the owner serialises every call on a struct pym_gc and every change of
 * a reference stored in a tracked object.
 */
#ifndef _PYM_GC_H
#define _PYM_GC_H

#include "core.h"

#define PYM_GC_GENERATIONS	3
/* A list past the generations: frozen objects, which no collection sees. */
#define PYM_GC_PERMANENT	PYM_GC_GENERATIONS

/*
 * What a tracked object carries for the collector. refs is CPython's
 * gc_refs: during a collection, the object's references from outside the
 * generations being collected.
 */
struct pym_gc_head {
	struct pym_link link;	/* its generation's list, or a collection's */
	long refs;
	unsigned int flags;	/* PYM_GC_* below, during a collection */
};

/* In the generations being collected. */
#define PYM_GC_COLLECTING	BIT(0)
/* Moved to the unreachable list, perhaps only for now. */
#define PYM_GC_UNREACHABLE	BIT(1)

typedef int (*pym_gc_visit_t)(struct pym_gc_head *ref, void *arg);

struct pym_gc_ops {
	/* The object's reference count, every reference included. */
	long (*refcount)(struct pym_gc_head *h);
	/*
	 * Call visit on the header of every tracked object h refers to
	 * (untracked referents are skipped), once per counted reference;
	 * stop and return what visit returned if that is not 0.
	 */
	int (*traverse)(struct pym_gc_head *h, pym_gc_visit_t visit, void *arg);
	/* Drop h's references, or leave h alone if its type cannot. */
	void (*clear)(struct pym_gc_head *h);
	void (*get)(struct pym_gc_head *h);
	void (*put)(struct pym_gc_head *h);
	/*
	 * h's traverse reported more references to another object than
	 * that object's reference count holds: a bug of h's type.
	 */
	void (*overcounted)(struct pym_gc_head *h);
};

struct pym_gc_gen_stats {
	u64 collections;
	u64 collected;		/* found unreachable */
	u64 survived;		/* reachable, promoted */
	u64 uncollectable;	/* unreachable, but still alive after clearing */
};

struct pym_gc {
	struct pym_link gen[PYM_GC_GENERATIONS + 1];	/* and permanent */
	/*
	 * count[0]: tracked minus untracked since the last collection of
	 * generation 0; count[g]: collections of generation g - 1 since
	 * the last of generation g.
	 */
	long count[PYM_GC_GENERATIONS];
	long threshold[PYM_GC_GENERATIONS];
	/* CPython's guard against quadratic full collections. */
	u64 long_lived_total;	/* objects in generation 2 after the last full one */
	u64 long_lived_pending;	/* promoted to generation 2 since */
	struct pym_gc_gen_stats stats[PYM_GC_GENERATIONS];
	const struct pym_gc_ops *ops;
};

void pym_gc_init(struct pym_gc *gc, const struct pym_gc_ops *ops);
void pym_gc_track(struct pym_gc *gc, struct pym_gc_head *h);
void pym_gc_untrack(struct pym_gc *gc, struct pym_gc_head *h);
int pym_gc_due(const struct pym_gc *gc);
unsigned int pym_gc_begin(struct pym_gc *gc, unsigned int generation,
			  struct pym_link *young);
long pym_gc_find(struct pym_gc *gc, unsigned int generation,
		 struct pym_link *young, struct pym_link *unreachable,
		 u64 *survived);
void pym_gc_finish(struct pym_gc *gc, unsigned int generation, u64 survived);
long pym_gc_collect_gen(struct pym_gc *gc, unsigned int generation);
void pym_gc_freeze(struct pym_gc *gc);
void pym_gc_unfreeze(struct pym_gc *gc);
u64 pym_gc_length(const struct pym_gc *gc, unsigned int list);

#endif /* _PYM_GC_H */
