/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pymalloc_object.h - refcounted, typed objects on pymalloc: CPython's
 * PyObject_HEAD model for kernel code.
 *
 * Every object starts with a struct pym_object. pym_obj_new() returns it
 * zeroed with one reference; when the last reference is dropped the type's
 * release() runs at once, in the context of that final pym_obj_put(), and
 * the memory goes to the type's bounded per-CPU free lists (reused by the
 * next pym_obj_new() of the type) or back to the allocator.
 *
 * Contexts: pym_obj_new() as pymalloc's allocation functions (any context
 * the gfp flags allow); pym_obj_get(), pym_obj_get_unless_zero(),
 * pym_obj_put() and pym_obj_free() in any context, so a final put from
 * softirq or hardirq context runs release() there: a type whose release()
 * may sleep must only be put from process context. Registration and
 * unregistration sleep, as do pym_gc_lock() and pym_gc_collect(); the
 * cycle collector runs release() of the objects it frees in its own
 * context, a workqueue or pym_gc_collect()'s caller. A long chain of
 * container objects, each released by the release() of the one before,
 * never overflows the stack: a container put with less than half of the
 * stack left is released soon after from a work item instead (CPython's
 * trashcan), so a type whose objects hold references to other objects
 * should be a container even if they cannot form cycles.
 */
#ifndef _PYMALLOC_OBJECT_H
#define _PYMALLOC_OBJECT_H

#include <linux/bits.h>
#include <linux/module.h>
#include <linux/refcount.h>

#include <pymalloc.h>

/**
 * struct pym_object - header embedded first in every object
 * @type: the registered type; pymalloc-owned, valid while the object lives
 * @refcnt: references; the object dies when this drops to zero
 *
 * The refcount is kept out of the first word, which pymalloc uses in free
 * blocks: a late pym_obj_put() on an object whose memory went back then
 * finds the 0 it died with and warns (refcount_t underflow), instead of
 * changing the allocator's own mark and letting a later double free in.
 */
struct pym_object {
	const struct pym_type *type;
	refcount_t refcnt;
};

/* Objects come from a heap of the type's own ("type-<name>"). */
#define PYM_TYPE_OWN_HEAP	BIT(0)
/*
 * release() takes the object's memory over and returns it later with
 * pym_obj_free(), e.g. from an RCU callback so that lockless readers using
 * pym_obj_get_unless_zero() never see it reused too early.
 */
#define PYM_TYPE_DEFERRED_FREE	BIT(1)
/*
 * With PYM_TYPE_OWN_HEAP: the type's heap is PYM_HEAP_PINNED, so memory
 * that held its objects is never reused for anything else while the type
 * is registered. For fixed-size types of at most PYM_SMALL_MAX bytes.
 */
#define PYM_TYPE_PINNED		BIT(2)

struct pym_type_state;

/* Called by a traverse() for each reference; see struct pym_type. */
typedef int (*pym_visit_t)(struct pym_object *ref, void *arg);

/**
 * struct pym_type - description of a type of objects
 * @name: 1..31 characters of [A-Za-z0-9_.:-], not starting with '.';
 *        unique among registered types (orphans excepted)
 * @size: whole object, header included; larger than 512 bytes is fine
 * @release: optional; runs exactly once per object, at refcount zero
 * @freelist_max: dead objects kept for reuse, over all CPUs; 0 = none
 * @flags: PYM_TYPE_* flags
 * @state: pymalloc's, set by pym_type_register(); do not touch
 * @traverse: for a container type (one whose objects refer to other pym
 *            objects and may form cycles): call visit(ref, arg) once for
 *            every counted reference @obj holds to a pym object, NULL
 *            ones skipped; stop and return visit's value if it is not 0
 * @clear: with @traverse: drop every reference @obj holds to pym objects,
 *         setting the fields to NULL before putting what they held
 * @itemsize: for a variable-size type, the bytes of one item after the
 *            @size bytes of the fixed part (pym_obj_new_var()); 0 otherwise
 *
 * Set @traverse and @clear both, for a type whose objects the cycle
 * collector tracks, or neither. References stored in objects of such
 * types are created, changed, removed and followed (to take a reference
 * to the referent) only under pym_gc_lock(). A collection runs @traverse,
 * @clear and the @release of the objects it frees with pym_gc_lock()
 * held: they must not take it.
 *
 * pym_type_register() copies the description: obj->type points to
 * pymalloc's copy, which outlives the registering module, so a module
 * unloaded with live objects leaves no dangling pointer (its release() is
 * then no longer called; the event is reported). Such an orphan gives its
 * name up, so the module can be loaded and register the type again; it is
 * freed once its last object is. Use pym_obj_is() to test an object's
 * type.
 */
struct pym_type {
	const char *name;
	size_t size;
	void (*release)(struct pym_object *obj);
	unsigned int freelist_max;
	unsigned int flags;
	struct pym_type_state *state;
	int (*traverse)(struct pym_object *obj, pym_visit_t visit, void *arg);
	void (*clear)(struct pym_object *obj);
	size_t itemsize;
};

int __pym_type_register(struct pym_type *type, struct module *owner);
#define pym_type_register(type) __pym_type_register(type, THIS_MODULE)
int pym_type_unregister(struct pym_type *type);

struct pym_object *pym_obj_new(struct pym_type *type, gfp_t gfp);
struct pym_object *pym_obj_new_var(struct pym_type *type, size_t nitems,
				   gfp_t gfp);
struct pym_object *pym_obj_get(struct pym_object *obj);
bool pym_obj_get_unless_zero(struct pym_object *obj);
void pym_obj_put(struct pym_object *obj);
unsigned int pym_obj_refcount(const struct pym_object *obj);
void pym_obj_free(struct pym_object *obj);
bool pym_obj_is(const struct pym_object *obj, const struct pym_type *type);

void pym_gc_lock(void);
void pym_gc_unlock(void);
long pym_gc_collect(unsigned int generation);

#endif /* _PYMALLOC_OBJECT_H */
