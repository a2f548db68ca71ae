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
 *
 * The link is stored encoded, as SLAB_FREELIST_HARDENED stores SLUB's:
 * next ^ secret ^ swab(where it is stored), with a random secret per list
 * owner. A use after free that writes the first word of a dead object then
 * yields a pointer nobody chose, and one that reads it learns neither the
 * next object's address nor, without it, the secret. A decoded link that
 * is not 8-byte aligned is damaged: the rest of the list is dropped (its
 * objects leak, rather than one be handed out twice or a forged address be
 * followed) and counted, and pym_freelist_damaged() reports it. So is
 * one that points where no dead object of the list can lie: the kernel's
 * pym_freelist_valid() asks the arena map for the block's heap, pool,
 * class and boundary before the pointer is ever followed.
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
	unsigned long secret;	/* of the encoded links */
	void *owner;		/* for pym_freelist_damaged() */
	u64 allocated;		/* objects made */
	u64 released;		/* objects that died */
	u64 freed;		/* dead objects whose memory came back */
	u64 hits;		/* objects made from the list */
	u64 dropped;		/* objects lost with a damaged list */
};

/*
 * The owner's side. pym_freelist_valid(): could p be a dead object of n
 * items on c, by where it lies? pym_freelist_damaged(): report a link that
 * was not; the list is dropped, not followed.
 */
bool pym_freelist_valid(const struct pym_freelist *c, const void *p,
			unsigned int n);
void pym_freelist_damaged(struct pym_freelist *c, void *obj, unsigned int n,
			  unsigned long link);

static __always_inline unsigned long pym_freelist_code(const struct pym_freelist *c,
						       void *obj)
{
	return c->secret ^ swab((unsigned long)((void **)obj + PYM_OBJ_LINK_WORD));
}

static __always_inline void *pym_freelist_next(const struct pym_freelist *c,
					       void *obj)
{
	return (void *)(((unsigned long *)obj)[PYM_OBJ_LINK_WORD] ^
			pym_freelist_code(c, obj));
}

static __always_inline void pym_freelist_link(const struct pym_freelist *c,
					      void *obj, void *next)
{
	((unsigned long *)obj)[PYM_OBJ_LINK_WORD] =
		(unsigned long)next ^ pym_freelist_code(c, obj);
}

/*
 * obj, the head of list n, has a damaged link: the rest of the list is
 * lost, obj itself is still good. Everything else stays exact.
 */
static inline void pym_freelist_drop_rest(struct pym_freelist *c, void *obj,
					  unsigned int n)
{
	unsigned long link = ((unsigned long *)obj)[PYM_OBJ_LINK_WORD];

	c->count -= c->len[n] - 1;
	c->dropped += c->len[n] - 1;
	c->len[n] = 1;
	pym_freelist_damaged(c, obj, n, link);
}

/* A dead object of n items (n < PYM_FREELIST_LENGTHS), or NULL. */
static __always_inline void *pym_freelist_pop(struct pym_freelist *c,
					      unsigned int n)
{
	void *obj = c->head[n], *next;

	if (likely(obj)) {
		next = pym_freelist_next(c, obj);
		if (unlikely(next && !pym_freelist_valid(c, next, n))) {
			pym_freelist_drop_rest(c, obj, n);
			next = NULL;
		}
		c->head[n] = next;
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
	pym_freelist_link(c, obj, c->head[n]);
	c->head[n] = obj;
	c->count++;
	c->len[n]++;
	return true;
}

/*
 * Unlink every listed object, for draining: one chain of plain pointers in
 * the same word, walked with pym_freelist_chain_next() once the owner
 * lets go. A damaged list ends where its damage starts.
 */
static inline void *pym_freelist_take(struct pym_freelist *c)
{
	void *list = NULL, **tail = &list, *obj, *next;
	unsigned int n, i;

	for (n = 0; n < PYM_FREELIST_LENGTHS; n++) {
		for (obj = c->head[n], i = 1; obj; obj = next, i++) {
			unsigned long link = ((unsigned long *)obj)[PYM_OBJ_LINK_WORD];

			next = pym_freelist_next(c, obj);
			*tail = obj;
			tail = (void **)obj + PYM_OBJ_LINK_WORD;
			if (unlikely(next && !pym_freelist_valid(c, next, n))) {
				c->dropped += c->len[n] - i;
				pym_freelist_damaged(c, obj, n, link);
				break;
			}
		}
		c->head[n] = NULL;
		c->len[n] = 0;
	}
	*tail = NULL;
	c->count = 0;
	return list;
}

static __always_inline void *pym_freelist_chain_next(void *obj)
{
	return ((void **)obj)[PYM_OBJ_LINK_WORD];
}

#endif /* _PYM_FREELIST_H */
