// SPDX-License-Identifier: GPL-2.0
/*
 * obj_bench.c - the object layer's new+put in user space, for callgrind.
 *
 *   obj_bench cache N     pym_obj_new + pym_obj_put with free-list hits
 *   obj_bench nocache N   the same with freelist_max 0
 *   obj_bench kref N      malloc + atomic refcount + free (kmalloc + kref)
 *
 * The sequence is object.c's: the real free list (freelist.h) and the real
 * allocator core. What the kernel adds is left out: the free list's
 * ownership (interrupts off, or a lock on PREEMPT_RT) and refcount_t's
 * checks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../../src/freelist.h"
#include "uheap.h"

#define OBJ_SIZE	64

struct obj {
	const void *type;
	int refcnt;
	char data[OBJ_SIZE - 16];
};

static struct uheap heap;
static struct pym_freelist cache;
static const char type_name[] = "bench";

/* As the kernel's (object.c): a block of the right class in an arena. */
bool pym_freelist_valid(const struct pym_freelist *c, const void *p,
			unsigned int n)
{
	struct pym_arena *a;

	if ((unsigned long)p & (PYM_ALIGN - 1))
		return false;
	a = uheap_arena_of(p);
	if (!a)
		return false;
	return pym_pool_of(a, (void *)p)->cls == pym_size_class(OBJ_SIZE) &&
	       pym_block_check(a, p) == PYM_BLOCK_OK;
}

void pym_freelist_damaged(struct pym_freelist *c, void *obj, unsigned int n,
			  unsigned long link)
{
	fprintf(stderr, "obj_bench: damaged free list\n");
	exit(1);
}

static noinline struct obj *obj_new(void)
{
	struct obj *o = pym_freelist_pop(&cache, 0);

	if (!o) {
		o = uheap_alloc(&heap, OBJ_SIZE);
		if (!o)
			return NULL;
	}
	memset(o, 0, OBJ_SIZE);
	__atomic_store_n(&o->refcnt, 1, __ATOMIC_RELAXED);
	o->type = type_name;
	cache.allocated++;
	return o;
}

static noinline void obj_put(struct obj *o)
{
	if (__atomic_sub_fetch(&o->refcnt, 1, __ATOMIC_ACQ_REL))
		return;
	cache.released++;
	if (!pym_freelist_push(&cache, o, 0))
		uheap_free(&heap, o);
}

static noinline struct obj *kref_new(void)
{
	struct obj *o = calloc(1, OBJ_SIZE);

	__atomic_store_n(&o->refcnt, 1, __ATOMIC_RELAXED);
	return o;
}

static noinline void kref_put(struct obj *o)
{
	if (!__atomic_sub_fetch(&o->refcnt, 1, __ATOMIC_ACQ_REL))
		free(o);
}

int main(int argc, char **argv)
{
	unsigned long i, n;

	if (argc < 3)
		return 2;
	n = strtoul(argv[2], NULL, 0);
	uheap_init(&heap, 1);
	cache.cap = argv[1][0] == 'c' ? 256 : 0;
	for (i = 0; i < n + 1; i++) {
		if (argv[1][0] == 'k')
			kref_put(kref_new());
		else
			obj_put(obj_new());
	}
	while (cache.head[0])
		uheap_free(&heap, pym_freelist_pop(&cache, 0));
	uheap_destroy(&heap);
	return 0;
}
