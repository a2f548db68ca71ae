/* SPDX-License-Identifier: GPL-2.0 */
/*
 * freelist.h - a bounded list of dead objects: the object layer's free
 * list, CPython's per-type free lists.
 *
 * Portable like core.h: the kernel keeps one per type and CPU (object.c,
 * under a per-CPU lock), the user-space build one per type
 * (tools/testing/core), so both count the same instructions. Not locked:
 * its owner serialises access.
 */
#ifndef _PYM_FREELIST_H
#define _PYM_FREELIST_H

#include "pym_env.h"

/*
 * Dead objects are linked through their first word, where a live object
 * keeps its type pointer; the second word (the refcount) stays 0, so a late
 * pym_obj_get_unless_zero() on a dead object keeps failing.
 */
#define PYM_OBJ_LINK_WORD	0

/*
 * A list per item count for variable-size types, as CPython keeps one per
 * tuple length; fixed-size types use list 0. The bound is over all lists.
 */
#define PYM_FREELIST_LENGTHS	20

struct pym_freelist {
	void *head[PYM_FREELIST_LENGTHS];
	unsigned int count;	/* over all lists */
	unsigned int len[PYM_FREELIST_LENGTHS];	/* per list */
	unsigned int cap;
	u64 allocated;		/* objects made */
	u64 released;		/* objects that died */
	u64 freed;		/* dead objects whose memory came back */
	u64 hits;		/* objects made from the list */
};

static __always_inline void *pym_freelist_next(void *obj)
{
	return ((void **)obj)[PYM_OBJ_LINK_WORD];
}

/* A dead object of n items (n < PYM_FREELIST_LENGTHS), or NULL. */
static __always_inline void *pym_freelist_pop(struct pym_freelist *c,
					      unsigned int n)
{
	void *obj = c->head[n];

	if (likely(obj)) {
		c->head[n] = pym_freelist_next(obj);
		c->count--;
		c->len[n]--;
		c->hits++;
	}
	return obj;
}

/*
 * Keep obj, of n items, if there is room; false: the caller gives the
 * memory back. Counts it freed either way.
 */
static __always_inline bool pym_freelist_push(struct pym_freelist *c,
					      void *obj, unsigned int n)
{
	c->freed++;
	if (unlikely(c->count >= c->cap || n >= PYM_FREELIST_LENGTHS))
		return false;
	((void **)obj)[PYM_OBJ_LINK_WORD] = c->head[n];
	c->head[n] = obj;
	c->count++;
	c->len[n]++;
	return true;
}

/* Unlink every listed object, for draining; walk the chain with _next(). */
static inline void *pym_freelist_take(struct pym_freelist *c)
{
	void *list = NULL, **tail = &list;
	unsigned int n;

	for (n = 0; n < PYM_FREELIST_LENGTHS; n++) {
		*tail = c->head[n];
		c->head[n] = NULL;
		c->len[n] = 0;
		while (*tail)
			tail = (void **)*tail + PYM_OBJ_LINK_WORD;
	}
	c->count = 0;
	return list;
}

#endif /* _PYM_FREELIST_H */
